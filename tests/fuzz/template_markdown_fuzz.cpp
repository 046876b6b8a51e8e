// The importer of the public MigOps templates (engine/template_importer.h):
// one module's tasks.md as any bytes.
//
// Properties: the decoded text is valid UTF-8 without carriage returns and
// is the input itself when that was clean UTF-8; every text of the
// imported module is valid UTF-8; the module has a title; a template made
// of it that validates is written out by template_to_json as JSON that
// parses to the same template.

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/template_catalog.h"
#include "engine/template_importer.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace migops;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = fuzz::text_of(data, size);

    const auto decoded = engine::decode_markdown_bytes(bytes);
    MIGOPS_FUZZ_CHECK(events::valid_utf8(decoded.text));
    MIGOPS_FUZZ_CHECK(decoded.text.find('\r') == std::string::npos);
    MIGOPS_FUZZ_CHECK(decoded.unmapped_bytes <= decoded.cp1252_bytes);
    if (events::valid_utf8(bytes) && bytes.find('\r') == std::string_view::npos &&
        !bytes.starts_with("\xEF\xBB\xBF")) {
        MIGOPS_FUZZ_CHECK(decoded.text == bytes && decoded.cp1252_bytes == 0);
    }

    auto imported = engine::import_module_text(bytes, "Fuzz Module");
    MIGOPS_FUZZ_CHECK(!imported.module.title.empty());
    fuzz::each_text(imported.module,
                    [](std::string_view s) { MIGOPS_FUZZ_CHECK(events::valid_utf8(s)); });
    for (const auto& w : imported.warnings) MIGOPS_FUZZ_CHECK(events::valid_utf8(w));

    events::template_spec t;
    t.template_id = "fuzz";
    t.template_version = "1.0";
    t.name = "Fuzz";
    t.phases.push_back(events::phase_spec{"", "Assess", "", {imported.module}});
    if (!engine::validate_template(t)) return 0;
    auto again = engine::parse_template(engine::template_to_json(t), "imported");
    MIGOPS_FUZZ_CHECK(again && again.value() == t);
    return 0;
}
