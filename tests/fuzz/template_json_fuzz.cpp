// Our template format: a POST /v1/templates body through template_body
// (api/command_bodies.h), which is engine::parse_template (as a templates
// directory also meets it) plus the API's rule on text.
//
// Properties: a template that is accepted holds only text the API takes
// (valid UTF-8, no control characters but tabs and line breaks), and
// template_to_json writes it as JSON that is accepted as the same template
// and prints the same text again; a refusal is a 400.

#include <cstdint>
#include <string>

#include "api/command_bodies.h"
#include "engine/template_catalog.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace migops;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const engine::limits bounds;
    auto t = api::template_body(fuzz::text_of(data, size), bounds);
    if (!t) {
        MIGOPS_FUZZ_CHECK(t.error().code == errc::invalid_argument);
        return 0;
    }
    fuzz::each_text(t.value(), [](std::string_view s) { MIGOPS_FUZZ_CHECK(fuzz::clean_text(s)); });
    const auto json = engine::template_to_json(t.value());
    MIGOPS_FUZZ_CHECK(events::valid_utf8(json));
    auto again = api::template_body(json, bounds);
    MIGOPS_FUZZ_CHECK(again && again.value() == t.value());
    MIGOPS_FUZZ_CHECK(engine::template_to_json(again.value()) == json);
    return 0;
}
