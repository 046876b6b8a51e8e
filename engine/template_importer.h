#pragma once
// Importer for the public MigOps migration templates
// (aws-samples/aws-migops-templates): a folder tree
//     <Template>/v<N>/<Name>/<Phase>/<Module>/tasks.md
// with one Markdown file per module ("# Module:", "## Task N:",
// "## Task N: Subtask M:", "#### Description", "#### Tools",
// "#### Acceptance Criteria") and a readme per template that lists the
// phases and modules in order. The result is our own template_spec, ready
// to be published; nothing here touches the log.
//
// The corpus is hand-written: repeated section headings, Windows-1252
// bytes in otherwise UTF-8 files, "•" bullets, lettered sub-items, stray
// files. The importer keeps everything it can and reports everything it
// changes or drops as a warning naming the file, so that an operator can
// review an import before publishing it.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "events/content.h"
#include "events/result.h"

namespace migops::engine {

struct imported_template {
    events::template_spec spec;
    std::vector<std::string> warnings;  // "<file>: <what was changed or dropped>"
    std::size_t phases = 0, modules = 0, tasks = 0, subtasks = 0;
    std::filesystem::path source;  // the v<N> folder
};

// dir may be a whole corpus (folders of templates), one template folder
// (containing v<N> folders) or one v<N> folder. Templates come sorted by
// folder name, versions of one template in version order. A missing or
// unreadable directory, a tree without any tasks.md where the layout
// expects it, or a version without a single task is errc::invalid_argument.
result<std::vector<imported_template>> import_migops_templates(const std::filesystem::path& dir);

// ---- building blocks, public so that tests can pin them -----------------

struct decoded_text {
    std::string text;                // valid UTF-8, "\n" line ends, no byte-order mark
    std::size_t cp1252_bytes = 0;    // bytes that were not UTF-8, read as Windows-1252
    std::size_t unmapped_bytes = 0;  // of those, bytes Windows-1252 leaves undefined (now U+FFFD)
};

// Keeps every well-formed UTF-8 sequence and reads each remaining byte as
// Windows-1252 (Latin-1 above 0x9F): the corpus mixes both in one file, so
// a whole-file guess would garble one or the other.
decoded_text decode_markdown_bytes(std::string_view bytes);

// One module's tasks.md: its bytes decoded as decode_markdown_bytes does,
// then its tasks, subtasks, descriptions, tools and criteria. The title is
// the "# Module:" heading's, else folder_name. Warnings say what was
// changed or dropped, without the file's name.
struct imported_module {
    events::module_spec module;
    std::vector<std::string> warnings;
};
imported_module import_module_text(std::string_view bytes, const std::string& folder_name);

// artifact when the criterion asks for a file to be uploaded to or attached
// on the task; text otherwise (see the .cpp for the rules and why).
events::criterion_kind classify_criterion(std::string_view text);

// "Rehost-Migration" -> "rehost-migration": lower case, runs of anything
// but ASCII letters and digits become one '-'.
std::string to_template_id(std::string_view folder_name);

}  // namespace migops::engine
