#include "engine/template_importer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <span>
#include <system_error>
#include <tuple>
#include <utility>

#include "events/utf8.h"

namespace migops::engine {

namespace {

namespace fs = std::filesystem;
using events::criterion_kind;
using events::criterion_spec;
using events::guidance_link;

// ---- text helpers ---------------------------------------------------------

constexpr std::string_view nbsp = "\xC2\xA0";  // U+00A0, common in the cp1252 files

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_ascii_alnum(char c) {
    return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower(c);
    return out;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == lower(prefix);
}

// Trims ASCII white space and no-break spaces, which the corpus uses as
// padding around bullets and headings.
std::string_view trim(std::string_view s) {
    for (;;) {
        if (!s.empty() && is_ascii_space(s.front()))
            s.remove_prefix(1);
        else if (s.starts_with(nbsp))
            s.remove_prefix(nbsp.size());
        else
            break;
    }
    for (;;) {
        if (!s.empty() && is_ascii_space(s.back()))
            s.remove_suffix(1);
        else if (s.ends_with(nbsp))
            s.remove_suffix(nbsp.size());
        else
            break;
    }
    return s;
}

// One-line values (titles, tool names) are compared and shown with single
// spaces: the corpus pads them irregularly ("AWS Config  Rules").
std::string collapse_spaces(std::string_view s) {
    std::string out;
    bool pending_space = false;
    for (std::size_t i = 0; i < s.size();) {
        if (is_ascii_space(s[i])) {
            pending_space = true;
            ++i;
        } else if (s.substr(i).starts_with(nbsp)) {
            pending_space = true;
            i += nbsp.size();
        } else {
            if (pending_space && !out.empty()) out += ' ';
            pending_space = false;
            out += s[i++];
        }
    }
    return out;
}

// The key under which folder names, readme entries and tool names match.
std::string match_key(std::string_view s) {
    return lower(collapse_spaces(s));
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (;;) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            lines.emplace_back(text.substr(start));
            return lines;
        }
        lines.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += separator;
        out += p;
    }
    return out;
}

// Markdown text as written, without the blank lines around it.
std::string join_block(const std::vector<std::string>& lines) {
    return std::string(trim(join(lines, "\n")));
}

// ---- warnings -------------------------------------------------------------

// Collects warnings about one file, prefixed with its path relative to the
// corpus so that an operator can find it.
struct notes {
    std::string file;
    std::vector<std::string>* out;
    void warn(const std::string& what) const {
        out->push_back(file.empty() ? what : file + ": " + what);
    }
};

// ---- reading and decoding -------------------------------------------------

result<std::string> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return failure(errc::io_error, "cannot open " + p.string());
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return failure(errc::io_error, "cannot read " + p.string());
    return bytes;
}

// Windows-1252 0x80..0x9F; 0 marks the five bytes it leaves undefined.
constexpr std::array<char32_t, 32> cp1252_80_9f = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_utf8(std::string& out, char32_t cp) {
    auto put = [&](unsigned v) { out += static_cast<char>(static_cast<unsigned char>(v)); };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    }
}

// ---- Markdown structure ---------------------------------------------------

enum class section_kind { description, tools, criteria, other };

struct md_section {
    section_kind kind = section_kind::other;
    std::string heading;  // the heading line as written
    std::vector<std::string> lines;
};

// A "## Task N:" or "## Task N: Subtask M:" heading and what follows it.
struct md_block {
    int task = 0;
    int subtask = 0;  // 0: the task itself
    std::string title;
    std::size_t line = 0;            // 1-based, for warnings
    std::vector<std::string> loose;  // text before the first "####" heading
    std::vector<md_section> sections;
};

struct md_module {
    std::string title;                  // empty without a "# Module:" heading
    std::vector<std::string> preamble;  // text before the first task
    std::vector<md_block> blocks;
};

// Number of leading '#' when they form an ATX heading, else 0.
int heading_level(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && line[n] == '#') ++n;
    if (n == 0 || n > 6) return 0;
    if (n < line.size() && !is_ascii_space(line[n])) return 0;
    return static_cast<int>(n);
}

std::optional<int> take_number(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && n < 6 && is_ascii_digit(s[n])) ++n;
    if (n == 0) return std::nullopt;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[i] - '0');
    s.remove_prefix(n);
    return v;
}

struct task_heading {
    int task = 0;
    int subtask = 0;
    std::string title;
};

std::optional<task_heading> parse_task_heading(std::string_view line) {
    if (heading_level(line) != 2) return std::nullopt;
    auto rest = trim(line.substr(2));
    if (!istarts_with(rest, "task")) return std::nullopt;
    rest = trim(rest.substr(4));
    auto number = take_number(rest);
    rest = trim(rest);
    if (!number || rest.empty() || rest.front() != ':') return std::nullopt;
    rest = trim(rest.substr(1));
    task_heading h{*number, 0, {}};
    if (istarts_with(rest, "subtask")) {
        auto sub = trim(rest.substr(7));
        auto sub_number = take_number(sub);
        sub = trim(sub);
        if (sub_number && !sub.empty() && sub.front() == ':') {
            h.subtask = *sub_number;
            rest = trim(sub.substr(1));
        }
    }
    h.title = collapse_spaces(rest);
    return h;
}

section_kind classify_section(std::string_view name) {
    auto key = match_key(name);
    while (!key.empty() && key.back() == ':') key.pop_back();
    if (key == "description") return section_kind::description;
    if (key == "tools" || key == "tool") return section_kind::tools;
    if (key == "acceptance criteria" || key == "acceptance criterion")
        return section_kind::criteria;
    return section_kind::other;
}

// Splits a tasks.md into its module heading, task blocks and their
// sections. Only the headings of the format are structure; every other
// line is content of whatever precedes it.
md_module split_markdown(std::string_view text, const notes& n) {
    md_module doc;
    bool seen_module = false;
    bool warned_before_module = false;
    const auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        const std::string where = "line " + std::to_string(i + 1);
        const int level = heading_level(line);
        if (level == 1 && istarts_with(trim(line.substr(1)), "module:")) {
            if (seen_module)
                n.warn(where + ": second '# Module:' heading ignored");
            else
                doc.title = collapse_spaces(trim(trim(line.substr(1)).substr(7)));
            seen_module = true;
            continue;
        }
        if (auto h = parse_task_heading(line)) {
            doc.blocks.push_back(md_block{h->task, h->subtask, std::move(h->title), i + 1, {}, {}});
            continue;
        }
        if (level == 4 && !doc.blocks.empty()) {
            auto name = trim(line.substr(4));
            auto kind = classify_section(name);
            if (kind == section_kind::other)
                n.warn(where + ": unknown section '" + std::string(line) +
                       "' kept in the description");
            doc.blocks.back().sections.push_back(md_section{kind, std::string(line), {}});
            continue;
        }
        if (level == 2)
            n.warn(where + ": '" + std::string(line) +
                   "' is not a '## Task N:' heading; kept as text");
        else if (level != 0 && doc.blocks.empty())
            n.warn(where + ": heading '" + std::string(line) +
                   "' before the first '## Task N:' kept in the module description");
        else if (level == 3 || level > 4)
            n.warn(where + ": heading '" + std::string(line) +
                   "' is not a '#### ' section heading; kept as text");
        if (doc.blocks.empty()) {
            if (!seen_module && !trim(line).empty() && !warned_before_module) {
                n.warn(where + ": text before the '# Module:' heading kept as module description");
                warned_before_module = true;
            }
            doc.preamble.emplace_back(line);
        } else if (doc.blocks.back().sections.empty()) {
            doc.blocks.back().loose.emplace_back(line);
        } else {
            doc.blocks.back().sections.back().lines.emplace_back(line);
        }
    }
    return doc;
}

// ---- list items -----------------------------------------------------------

// Drops a leading bullet: "•" (also from cp1252 0x95), "·", "▪", "◦", "●",
// or "*", "-", "+" followed by a space.
std::string_view strip_bullet(std::string_view s) {
    s = trim(s);
    for (std::string_view b :
         {"\xE2\x80\xA2", "\xC2\xB7", "\xE2\x96\xAA", "\xE2\x97\xA6", "\xE2\x97\x8F"})
        if (s.starts_with(b)) return trim(s.substr(b.size()));
    if (s.size() >= 2 && (s[0] == '*' || s[0] == '-' || s[0] == '+') && is_ascii_space(s[1]))
        return trim(s.substr(1));
    return s;
}

// Drops a leading "1." or "12)" enumerator; "3.5 upgrade" stays.
std::string_view strip_enumerator(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && i < 3 && is_ascii_digit(s[i])) ++i;
    if (i == 0 || i >= s.size() || (s[i] != '.' && s[i] != ')')) return s;
    if (i + 1 < s.size() && !is_ascii_space(s[i + 1])) return s;
    return trim(s.substr(i + 1));
}

std::string_view strip_list_marker(std::string_view s) {
    return strip_enumerator(strip_bullet(s));
}

// "a) Current state overview": in the corpus these always detail the
// criterion on the line before ("Documented ... which includes: a) ... b) ...").
bool is_lettered_item(std::string_view s) {
    return s.size() >= 3 && s[0] >= 'a' && s[0] <= 'z' && s[1] == ')' && is_ascii_space(s[2]);
}

// Removes a label that repeats the section heading ("Tools: x" under
// "#### Tools"); true when there was one.
bool strip_label(std::string_view& s, std::string_view label) {
    if (!istarts_with(s, label)) return false;
    auto rest = s.substr(label.size());
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) rest.remove_prefix(1);
    s = trim(rest);
    return true;
}

// ---- links ----------------------------------------------------------------

struct link_scan {
    std::vector<guidance_link> links;   // distinct, in order of appearance
    std::vector<std::string> problems;  // malformed links, for warnings
};

// Finds Markdown links [title](url "optional title"). Brackets and
// parentheses nest, because the corpus has "[[Slides]](...)" and addresses
// with parentheses ("sap(bD1lbiZjPTAwMQ==)/..."). Images are not guidance.
link_scan scan_links(std::string_view text) {
    link_scan out;
    std::set<std::pair<std::string, std::string>> seen;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '[') continue;
        const bool image = i > 0 && text[i - 1] == '!';
        int depth = 0;
        std::size_t close = i;
        for (; close < text.size(); ++close) {
            if (text[close] == '[') ++depth;
            if (text[close] == ']' && --depth == 0) break;
            if (text.substr(close).starts_with("\n\n")) break;  // links do not span paragraphs
        }
        if (close >= text.size() || text[close] != ']') continue;
        if (close + 1 >= text.size() || text[close + 1] != '(') continue;
        std::size_t end = close + 1;
        depth = 0;
        for (; end < text.size(); ++end) {
            if (text[end] == '(') ++depth;
            if (text[end] == ')' && --depth == 0) break;
            if (text[end] == '\n') break;
        }
        auto raw_title = trim(text.substr(i + 1, close - i - 1));
        if (end >= text.size() || text[end] != ')') {
            out.problems.push_back("unclosed link '[" + std::string(raw_title) + "](' dropped");
            i = close;
            continue;
        }
        auto target = trim(text.substr(close + 2, end - close - 2));
        auto url = target.substr(0, std::min(target.size(), target.find_first_of(" \t")));
        if (url.size() >= 2 && url.front() == '<' && url.back() == '>')
            url = url.substr(1, url.size() - 2);
        i = end;
        if (image) continue;
        if (raw_title.size() >= 2 && raw_title.front() == '[' && raw_title.back() == ']')
            raw_title = trim(raw_title.substr(1, raw_title.size() - 2));
        auto title = collapse_spaces(raw_title);
        if (url.empty()) {
            out.problems.push_back("link '[" + title + "]()' has no address; dropped");
            continue;
        }
        if (title.empty()) title = std::string(url);
        if (seen.emplace(title, std::string(url)).second)
            out.links.push_back(guidance_link{title, std::string(url)});
    }
    return out;
}

// ---- criteria -------------------------------------------------------------

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// Position of the first word starting with stem, or npos.
std::size_t find_word_start(std::string_view lowered, std::string_view stem) {
    for (auto pos = lowered.find(stem); pos != std::string_view::npos;
         pos = lowered.find(stem, pos + 1))
        if (pos == 0 || !is_ascii_alnum(lowered[pos - 1])) return pos;
    return std::string_view::npos;
}

bool contains_word(std::string_view lowered, std::string_view word) {
    for (auto pos = lowered.find(word); pos != std::string_view::npos;
         pos = lowered.find(word, pos + 1)) {
        const auto after = pos + word.size();
        if ((pos == 0 || !is_ascii_alnum(lowered[pos - 1])) &&
            (after >= lowered.size() || !is_ascii_alnum(lowered[after])))
            return true;
    }
    return false;
}

// Uploads of raw data go into a discovery or assessment tool, not the task.
constexpr std::string_view uploads_of_data[] = {"upload the data", "upload the collected data",
                                                "uploaded the data", "upload data",
                                                "uploading data"};

// What a criterion names when it wants a file on the task: the platform's
// own words, the task as destination, or a document-like thing.
constexpr std::string_view attach_words[] = {"attachment", "attach file"};
constexpr std::string_view destinations[] = {"to this task", "to the task", "to the journey",
                                             "to the platform"};
constexpr std::string_view documents[] = {
    "document",           "report",   "record",      "deck",     "slide",    "playbook",
    "architecture",       "matrix",   "spreadsheet", "outcomes", "template", "statement of work",
    "statements of work", "artifact", "artefact"};

}  // namespace

// The corpus asks for files in one way: "upload ... (as an attachment)",
// "attach ... (under the 'attach file' section)". An artifact criterion
// blocks completion until a file is there, so it is only chosen when a
// file is really required on this task:
//   - "attach the database" is SQL Server's attach, not a file;
//   - "as comments ... or ... attachment" can be met by a comment;
//   - "If decisions change ...", "as needed", "if applicable" are conditional;
//   - uploads into a tool ("into a project management tool", "upload the
//     collected data") do not reach the task;
//   - and something to attach must be named: an attachment, the task or
//     journey, or a document-like thing (report, deck, playbook, record ...),
//     so that "Successful Upload." (a backup sent to S3) stays text.
criterion_kind classify_criterion(std::string_view text) {
    const auto t = lower(collapse_spaces(text));
    const auto upload = find_word_start(t, "upload");
    const auto attach = find_word_start(t, "attach");
    const auto verb = std::min(upload, attach);
    if (verb == std::string_view::npos) return criterion_kind::text;
    if (contains(t, "attach the database") || contains(t, "attach database"))
        return criterion_kind::text;
    if (contains(t, "comment") && contains_word(t, "or")) return criterion_kind::text;
    if (t.starts_with("if ") || contains(t, "as needed") || contains(t, "if needed") ||
        contains(t, "if applicable"))
        return criterion_kind::text;
    const std::string_view from_verb = std::string_view(t).substr(verb);
    if (contains_word(from_verb, "tool") || contains_word(from_verb, "tools"))
        return criterion_kind::text;
    for (auto data : uploads_of_data)
        if (contains(t, data)) return criterion_kind::text;
    using words = std::span<const std::string_view>;
    for (words list : {words(attach_words), words(destinations), words(documents)})
        for (auto word : list)
            if (contains(t, word)) return criterion_kind::artifact;
    return criterion_kind::text;
}

namespace {

// ---- one task or subtask --------------------------------------------------

struct node_content {
    std::string description;
    std::vector<std::string> tools;
    std::vector<guidance_link> links;
    std::vector<criterion_spec> criteria;
};

std::string block_name(const md_block& b) {
    std::string name = "line " + std::to_string(b.line) + " (Task " + std::to_string(b.task);
    if (b.subtask != 0) name += " Subtask " + std::to_string(b.subtask);
    return name + ")";
}

std::string build_description(const md_block& b, const notes& n) {
    std::vector<std::string> parts;
    if (auto loose = join_block(b.loose); !loose.empty()) {
        n.warn(block_name(b) + ": text before '#### Description' kept at its start");
        parts.push_back(std::move(loose));
    }
    int description_sections = 0;
    for (const auto& s : b.sections) {
        if (s.kind == section_kind::description) {
            ++description_sections;
            if (auto body = join_block(s.lines); !body.empty()) parts.push_back(std::move(body));
        } else if (s.kind == section_kind::other) {
            parts.push_back(std::string(trim(s.heading + "\n" + join_block(s.lines))));
        }
    }
    if (description_sections > 1)
        n.warn(block_name(b) + ": " + std::to_string(description_sections) +
               " '#### Description' sections joined");
    const auto joined = join(parts, "\n\n");
    std::string_view text = trim(joined);
    if (strip_label(text, "Description"))
        n.warn(block_name(b) + ": redundant 'Description:' label removed");
    return std::string(text);
}

std::vector<std::string> parse_tools(const md_block& b, const notes& n) {
    std::vector<std::string> tools;
    std::set<std::string> seen;
    for (const auto& s : b.sections) {
        if (s.kind != section_kind::tools) continue;
        for (const auto& line : s.lines) {
            auto item = strip_list_marker(line);
            if (strip_label(item, "Tools")) {
                n.warn(block_name(b) + ": redundant 'Tools:' label removed");
                item = strip_list_marker(item);
            }
            if (item.empty()) continue;
            auto tool = collapse_spaces(item);
            if (seen.insert(match_key(tool)).second) tools.push_back(std::move(tool));
        }
    }
    return tools;
}

std::vector<criterion_spec> parse_criteria(const md_block& b, const notes& n) {
    std::vector<std::string> items;
    for (const auto& s : b.sections) {
        if (s.kind != section_kind::criteria) continue;
        for (const auto& line : s.lines) {
            auto t = trim(line);
            if (t.empty()) continue;
            if (is_lettered_item(t) && !items.empty()) {
                items.back() += "\n" + std::string(t);
                continue;
            }
            auto item = strip_list_marker(t);
            if (strip_label(item, "Acceptance Criteria")) {
                n.warn(block_name(b) + ": redundant 'Acceptance Criteria:' label removed");
                item = strip_list_marker(item);
            }
            if (!item.empty()) items.emplace_back(item);
        }
    }
    std::vector<criterion_spec> criteria;
    std::set<std::string> seen;
    for (auto& text : items) {
        if (!seen.insert(text).second) {
            n.warn(block_name(b) + ": duplicate acceptance criterion dropped: " + text);
            continue;
        }
        criterion_spec c;
        c.kind = classify_criterion(text);
        if (c.kind == criterion_kind::artifact) c.pattern = "*";
        c.description = std::move(text);
        criteria.push_back(std::move(c));
    }
    return criteria;
}

// Steps stay empty: the corpus has no step lists of its own, and its
// numbered lists mix run-book steps with questionnaires, deliverables and
// feature lists, so turning them into checkable steps would invent
// obligations. They stay readable in the description.
node_content build_content(const md_block& b, const notes& n) {
    node_content c;
    c.description = build_description(b, n);
    auto scan = scan_links(c.description);
    for (const auto& p : scan.problems) n.warn(block_name(b) + ": " + p);
    c.links = std::move(scan.links);
    c.tools = parse_tools(b, n);
    c.criteria = parse_criteria(b, n);
    return c;
}

// ---- one module (tasks.md) ------------------------------------------------

struct task_build {
    int number = 0;
    events::task_spec spec;
    std::vector<std::pair<int, events::subtask_spec>> subtasks;
};

events::subtask_spec make_subtask(const md_block& b, node_content c) {
    events::subtask_spec s;
    s.title = b.title;
    s.description = std::move(c.description);
    s.tools = std::move(c.tools);
    s.links = std::move(c.links);
    s.criteria = std::move(c.criteria);
    return s;
}

events::task_spec make_task(const md_block& b, node_content c) {
    events::task_spec t;
    t.title = b.title;
    t.description = std::move(c.description);
    t.tools = std::move(c.tools);
    t.links = std::move(c.links);
    t.criteria = std::move(c.criteria);
    return t;
}

// Tasks in the order of their number, subtasks under the task with their
// task number, in the order of theirs. A subtask normally follows its task;
// one that does not is attached to the first task with its number.
std::vector<events::task_spec> assemble_tasks(md_module& doc, const notes& n) {
    std::vector<task_build> tasks;
    std::vector<std::pair<const md_block*, events::subtask_spec>> strays;
    std::set<int> numbers;
    for (auto& b : doc.blocks) {
        if (b.title.empty()) {
            b.title = b.subtask == 0 ? "Task " + std::to_string(b.task)
                                     : "Subtask " + std::to_string(b.subtask);
            n.warn(block_name(b) + ": empty title replaced by '" + b.title + "'");
        }
        auto content = build_content(b, n);
        if (b.subtask == 0) {
            if (!numbers.insert(b.task).second)
                n.warn(block_name(b) + ": task number " + std::to_string(b.task) +
                       " used twice; both kept");
            tasks.push_back(task_build{b.task, make_task(b, std::move(content)), {}});
        } else if (!tasks.empty() && tasks.back().number == b.task) {
            tasks.back().subtasks.emplace_back(b.subtask, make_subtask(b, std::move(content)));
        } else {
            strays.emplace_back(&b, make_subtask(b, std::move(content)));
        }
    }
    for (auto& [b, sub] : strays) {
        const auto wanted = b->task;
        auto it = std::find_if(tasks.begin(), tasks.end(),
                               [wanted](const task_build& t) { return t.number == wanted; });
        if (it == tasks.end()) {
            n.warn(block_name(*b) + ": no Task " + std::to_string(b->task) +
                   " in this file; subtask dropped");
            continue;
        }
        n.warn(block_name(*b) + ": subtask does not follow its task; attached to it");
        it->subtasks.emplace_back(b->subtask, std::move(sub));
    }
    auto by_number = [](const auto& a, const auto& b) { return a.first < b.first; };
    auto task_by_number = [](const task_build& a, const task_build& b) {
        return a.number < b.number;
    };
    if (!std::is_sorted(tasks.begin(), tasks.end(), task_by_number))
        n.warn("tasks are not in number order; sorted by number");
    std::stable_sort(tasks.begin(), tasks.end(), task_by_number);
    std::vector<events::task_spec> out;
    for (auto& t : tasks) {
        if (!std::is_sorted(t.subtasks.begin(), t.subtasks.end(), by_number))
            n.warn("subtasks of Task " + std::to_string(t.number) +
                   " are not in number order; sorted by number");
        std::stable_sort(t.subtasks.begin(), t.subtasks.end(), by_number);
        for (auto& sub : t.subtasks) t.spec.subtasks.push_back(std::move(sub.second));
        out.push_back(std::move(t.spec));
    }
    return out;
}

// Reads the file and adds what import_module_text warns about to its notes.
result<events::module_spec> import_module(const fs::path& file, const std::string& folder_name,
                                          const notes& n) {
    auto bytes = read_file(file);
    if (!bytes) return failure(bytes.error());
    auto imported = import_module_text(bytes.value(), folder_name);
    for (const auto& w : imported.warnings) n.warn(w);
    return std::move(imported.module);
}

// ---- readme ---------------------------------------------------------------

struct readme_phase {
    std::string name;
    std::vector<std::string> modules;
};

struct readme_info {
    fs::path path;
    std::string title;
    std::string description;
    std::vector<readme_phase> phases;  // in the readme's order
    std::set<std::string> versions;    // the v<N> folders its links point into
};

bool is_readme(const fs::path& p) {
    auto name = lower(p.filename().string());
    return name.find("readme") != std::string::npos && name.ends_with(".md");
}

bool is_version_name(std::string_view name) {
    if (name.size() < 2 || (name[0] != 'v' && name[0] != 'V') || !is_ascii_digit(name[1]))
        return false;
    for (std::size_t i = 1; i < name.size(); ++i)
        if (!is_ascii_digit(name[i]) &&
            !(name[i] == '.' && i + 1 < name.size() && is_ascii_digit(name[i + 1])))
            return false;
    return true;
}

std::string percent_decode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (is_ascii_digit(c)) return c - '0';
        c = ascii_lower(c);
        return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    };
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// "v1.0/Name/Assess/" -> {"v1.0", "Name", "Assess"}, each part trimmed (one
// readme link ends in "%20").
std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> parts;
    for (;;) {
        const auto slash = path.find('/');
        auto piece = trim(path.substr(0, slash));
        if (!piece.empty() && piece != ".") parts.emplace_back(piece);
        if (slash == std::string_view::npos) return parts;
        path.remove_prefix(slash + 1);
    }
}

// "AWSAuditManager- Migration Template" -> "AWSAuditManager Migration Template":
// the readmes are generated as "<Name>- Migration Template".
std::string clean_readme_title(std::string_view heading) {
    auto title = collapse_spaces(heading);
    auto pos = title.find("- ");
    if (pos != std::string::npos && pos > 0 && title[pos - 1] != ' ') title.erase(pos, 1);
    return title;
}

// The readme lists phases as "#### [1. Assess](v1.0/<Name>/Assess)" and
// modules as "+ [Module](v1.0/<Name>/Assess/Module)". The link targets are
// used rather than the texts, which are "&nbsp;"-joined; the <Name> part is
// ignored because one readme names another folder than the one on disk.
readme_info parse_readme(const fs::path& path, std::string_view text) {
    readme_info r;
    r.path = path;
    bool in_intro = false;
    std::vector<std::string> intro;
    for (const auto& line : split_lines(text)) {
        auto t = trim(line);
        if (r.title.empty() && heading_level(t) == 1) {
            r.title = clean_readme_title(trim(t.substr(1)));
            in_intro = true;
            continue;
        }
        if (in_intro) {
            if (t.empty() || heading_level(t) != 0 || t.starts_with("+ ") || t.starts_with("- ") ||
                t.starts_with("* ")) {
                if (!intro.empty() || !t.empty()) in_intro = false;
            } else {
                intro.emplace_back(t);
            }
        }
        const auto scan = scan_links(line);
        for (const auto& link : scan.links) {
            const auto parts = split_path(percent_decode(link.url));
            if (parts.size() < 3 || !is_version_name(parts[0])) continue;
            r.versions.insert(parts[0]);
            auto phase = std::find_if(r.phases.begin(), r.phases.end(), [&](const auto& p) {
                return match_key(p.name) == match_key(parts[2]);
            });
            if (phase == r.phases.end()) {
                r.phases.push_back(readme_phase{parts[2], {}});
                phase = std::prev(r.phases.end());
            }
            if (parts.size() >= 4) phase->modules.push_back(parts[3]);
        }
    }
    r.description = join(intro, "\n");
    return r;
}

// The readme for one version: the one whose links point into it (the
// Rehost template has one readme per version side by side), else one in
// the version folder, else an unversioned one in the template folder.
std::optional<readme_info> choose_readme(const fs::path& template_dir,
                                         const std::vector<fs::path>& version_files,
                                         const std::vector<fs::path>& template_files,
                                         const std::string& version_folder, const notes& n) {
    std::vector<std::pair<readme_info, bool>> candidates;  // bool: in the version folder
    auto consider = [&](const fs::path& p, bool in_version) {
        if (!is_readme(p)) return;
        auto bytes = read_file(p);
        if (!bytes) {
            n.warn(bytes.error().message + "; readme ignored");
            return;
        }
        candidates.emplace_back(parse_readme(p, decode_markdown_bytes(bytes.value()).text),
                                in_version);
    };
    for (const auto& p : version_files) consider(p, true);
    for (const auto& p : template_files) consider(p, false);
    for (auto& [r, in_version] : candidates)
        if (r.versions.contains(version_folder)) return std::move(r);
    for (auto& [r, in_version] : candidates)
        if (in_version || r.versions.empty()) return std::move(r);
    n.warn("no readme in " + template_dir.filename().string() + " lists " + version_folder +
           ": phases in the usual migration order, modules alphabetically");
    return std::nullopt;
}

// ---- ordering -------------------------------------------------------------

// The usual order of migration phases, for phases a readme does not list.
// Prefixes, because the templates spell them many ways ("Migrate or
// Transform", "Operate-Run", "Monitor Operate and Optimize").
int known_phase_rank(std::string_view phase) {
    static constexpr std::pair<std::string_view, int> ranks[] = {
        {"general", 0},
        {"executive alignment", 1},
        {"assess", 1},
        {"readiness", 2},
        {"mobilize", 2},
        {"mobilise", 2},
        {"accelerat", 3},
        {"migrate", 3},
        {"modernize", 4},
        {"modernise", 4},
        {"transform at scale", 4},
        {"monitor", 5},
        {"operate", 5},
    };
    const auto key = match_key(phase);
    for (const auto& [prefix, rank] : ranks)
        if (key.starts_with(prefix)) return rank;
    return -1;
}

struct module_build {
    std::string folder;
    events::module_spec spec;
};

struct phase_build {
    std::string folder;
    std::vector<module_build> modules;
};

int position_in(const std::vector<std::string>& names, const std::string& name) {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (match_key(names[i]) == match_key(name)) return static_cast<int>(i);
    return -1;
}

// Phases: the readme's order; then phases it does not list in the usual
// migration order; then unknown ones alphabetically. Modules: the readme's
// order within the phase, then alphabetically.
void order_tree(std::vector<phase_build>& phases, const readme_info* readme, const notes& n) {
    std::vector<std::string> readme_phases;
    if (readme)
        for (const auto& p : readme->phases) readme_phases.push_back(p.name);
    auto phase_key = [&](const phase_build& p) {
        const int listed = position_in(readme_phases, p.folder);
        const int known = known_phase_rank(p.folder);
        return std::tuple{listed < 0 ? INT_MAX : listed, known < 0 ? INT_MAX : known,
                          match_key(p.folder)};
    };
    for (const auto& p : phases) {
        if (readme && position_in(readme_phases, p.folder) < 0)
            n.warn("phase '" + p.folder + "' is not listed in " + readme->path.filename().string() +
                   "; placed after the listed ones");
        if (!readme && known_phase_rank(p.folder) < 0)
            n.warn("phase '" + p.folder +
                   "' is not a known migration phase; placed after the known ones");
    }
    std::stable_sort(phases.begin(), phases.end(),
                     [&](const auto& a, const auto& b) { return phase_key(a) < phase_key(b); });
    for (auto& p : phases) {
        std::vector<std::string> listed;
        if (readme) {
            auto it = std::find_if(
                readme->phases.begin(), readme->phases.end(),
                [&](const readme_phase& r) { return match_key(r.name) == match_key(p.folder); });
            if (it != readme->phases.end()) listed = it->modules;
        }
        for (const auto& m : p.modules)
            if (readme && !listed.empty() && position_in(listed, m.folder) < 0)
                n.warn("module '" + p.folder + "/" + m.folder + "' is not listed in " +
                       readme->path.filename().string() + "; placed after the listed ones");
        auto module_key = [&](const module_build& m) {
            const int at = position_in(listed, m.folder);
            return std::pair{at < 0 ? INT_MAX : at, match_key(m.folder)};
        };
        std::stable_sort(p.modules.begin(), p.modules.end(), [&](const auto& a, const auto& b) {
            return module_key(a) < module_key(b);
        });
    }
}

// ---- folders --------------------------------------------------------------

struct listing {
    std::vector<fs::path> dirs;
    std::vector<fs::path> files;
};

result<listing> list_dir(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    auto unreadable = [&] {
        return failure(errc::invalid_argument,
                       "cannot read directory " + dir.string() + ": " + ec.message());
    };
    if (ec) return unreadable();
    listing out;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) return unreadable();
        std::error_code type_ec;
        if (it->is_directory(type_ec))
            out.dirs.push_back(it->path());
        else
            out.files.push_back(it->path());
    }
    if (ec) return unreadable();
    auto by_name = [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); };
    std::sort(out.dirs.begin(), out.dirs.end(), by_name);
    std::sort(out.files.begin(), out.files.end(), by_name);
    return out;
}

std::vector<int> version_key(std::string_view folder) {
    std::vector<int> key;
    std::string_view rest = folder.substr(1);
    while (auto n = take_number(rest)) {
        key.push_back(*n);
        if (rest.empty() || rest.front() != '.') break;
        rest.remove_prefix(1);
    }
    return key;
}

class version_importer {
  public:
    version_importer(fs::path template_dir, fs::path version_dir)
        : template_dir_(std::move(template_dir)), version_dir_(std::move(version_dir)) {}

    result<imported_template> run() {
        out_.source = version_dir_;
        const auto version_folder = version_dir_.filename().string();
        out_.spec.template_id = to_template_id(template_dir_.filename().string());
        out_.spec.template_version = version_folder.substr(1);

        auto top = list_dir(version_dir_);
        if (!top) return failure(top.error());
        auto template_level = list_dir(template_dir_);
        if (!template_level) return failure(template_level.error());
        warn_unexpected_files(top.value().files);
        warn_unexpected_files(template_level.value().files);
        const auto& names = top.value().dirs;
        if (names.empty()) return failure(no_tasks_file());
        for (std::size_t i = 1; i < names.size(); ++i)
            at(names[i]).warn("second template folder in " + version_folder + " ignored (using " +
                              names[0].filename().string() + ")");

        auto readme = choose_readme(template_dir_, top.value().files, template_level.value().files,
                                    version_folder, at(version_dir_));
        auto phases = read_phases(names[0]);
        if (!phases) return failure(phases.error());
        if (tasks_files_ == 0) return failure(no_tasks_file());
        if (phases.value().empty())
            return failure(errc::invalid_argument,
                           shown(version_dir_) +
                               ": no '## Task N:' heading in any tasks.md; nothing to import");

        order_tree(phases.value(), readme ? &*readme : nullptr, at(version_dir_));
        out_.spec.name =
            readme && !readme->title.empty() ? readme->title : names[0].filename().string();
        if (readme) out_.spec.description = readme->description;
        for (auto& p : phases.value()) {
            events::phase_spec phase;
            phase.title = p.folder;
            for (auto& m : p.modules) phase.modules.push_back(std::move(m.spec));
            out_.spec.phases.push_back(std::move(phase));
        }
        count();
        return std::move(out_);
    }

  private:
    // Paths in warnings are relative to the folder holding the template.
    std::string shown(const fs::path& p) const {
        auto rel = p.lexically_relative(template_dir_.parent_path());
        return (rel.empty() ? p : rel).generic_string();
    }
    notes at(const fs::path& p) { return notes{shown(p), &out_.warnings}; }

    void warn_unexpected_files(const std::vector<fs::path>& files) {
        for (const auto& f : files)
            if (!is_readme(f)) at(f).warn("unexpected file ignored");
    }

    error no_tasks_file() const {
        return make_error(errc::invalid_argument,
                          shown(version_dir_) +
                              ": no tasks.md found (expected <Name>/<Phase>/<Module>/tasks.md)");
    }

    result<std::vector<phase_build>> read_phases(const fs::path& name_dir) {
        auto phase_dirs = list_dir(name_dir);
        if (!phase_dirs) return failure(phase_dirs.error());
        warn_unexpected_files(phase_dirs.value().files);
        std::vector<phase_build> phases;
        for (const auto& phase_dir : phase_dirs.value().dirs) {
            phase_build phase{phase_dir.filename().string(), {}};
            auto module_dirs = list_dir(phase_dir);
            if (!module_dirs) return failure(module_dirs.error());
            warn_unexpected_files(module_dirs.value().files);
            for (const auto& module_dir : module_dirs.value().dirs) {
                auto module = read_module(module_dir);
                if (!module) return failure(module.error());
                if (module.value()) phase.modules.push_back(std::move(*module.value()));
            }
            if (phase.modules.empty()) {
                at(phase_dir).warn("no module with tasks; phase skipped");
                continue;
            }
            phases.push_back(std::move(phase));
        }
        return phases;
    }

    // nullopt: the folder holds no usable module (warned).
    result<std::optional<module_build>> read_module(const fs::path& module_dir) {
        auto entries = list_dir(module_dir);
        if (!entries) return failure(entries.error());
        std::optional<fs::path> tasks_file;
        for (const auto& f : entries.value().files) {
            if (lower(f.filename().string()) == "tasks.md" && !tasks_file)
                tasks_file = f;
            else
                at(f).warn("unexpected file ignored");
        }
        for (const auto& d : entries.value().dirs) at(d).warn("unexpected folder ignored");
        if (!tasks_file) {
            at(module_dir).warn("no tasks.md; module skipped");
            return std::optional<module_build>{};
        }
        ++tasks_files_;
        const auto folder = module_dir.filename().string();
        const auto n = at(*tasks_file);
        auto module = import_module(*tasks_file, folder, n);
        if (!module) return failure(module.error());
        if (module.value().tasks.empty()) {
            n.warn("no '## Task N:' heading; module skipped");
            return std::optional<module_build>{};
        }
        return std::optional<module_build>{module_build{folder, std::move(module.value())}};
    }

    void count() {
        out_.phases = out_.spec.phases.size();
        for (const auto& p : out_.spec.phases) {
            out_.modules += p.modules.size();
            for (const auto& m : p.modules) {
                out_.tasks += m.tasks.size();
                for (const auto& t : m.tasks) out_.subtasks += t.subtasks.size();
            }
        }
    }

    fs::path template_dir_;
    fs::path version_dir_;
    imported_template out_;
    std::size_t tasks_files_ = 0;
};

result<void> import_template(const fs::path& template_dir, const listing& entries,
                             std::vector<imported_template>& out) {
    std::vector<fs::path> versions;
    for (const auto& d : entries.dirs)
        if (is_version_name(d.filename().string())) versions.push_back(d);
    std::stable_sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
        return version_key(a.filename().string()) < version_key(b.filename().string());
    });
    for (const auto& v : versions) {
        auto imported = version_importer(template_dir, v).run();
        if (!imported) return failure(imported.error());
        out.push_back(std::move(imported.value()));
    }
    return success();
}

bool has_version_folder(const listing& entries) {
    return std::any_of(entries.dirs.begin(), entries.dirs.end(),
                       [](const auto& d) { return is_version_name(d.filename().string()); });
}

}  // namespace

decoded_text decode_markdown_bytes(std::string_view bytes) {
    decoded_text out;
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    out.text.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '\r') {  // CRLF and lone CR both end a line
            out.text += '\n';
            i += (i + 1 < bytes.size() && bytes[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        if (auto n = events::utf8_sequence_length(bytes, i); n != 0) {
            out.text.append(bytes.substr(i, n));
            i += n;
            continue;
        }
        ++out.cp1252_bytes;
        char32_t cp = c;
        if (c < 0xA0) {
            cp = cp1252_80_9f[c - 0x80];
            if (cp == 0) {
                cp = 0xFFFD;
                ++out.unmapped_bytes;
            }
        }
        append_utf8(out.text, cp);
        ++i;
    }
    return out;
}

imported_module import_module_text(std::string_view bytes, const std::string& folder_name) {
    imported_module out;
    const notes n{"", &out.warnings};
    auto decoded = decode_markdown_bytes(bytes);
    if (decoded.cp1252_bytes != 0)
        n.warn(std::to_string(decoded.cp1252_bytes) +
               " bytes are not UTF-8; read as Windows-1252 and converted to UTF-8");
    if (decoded.unmapped_bytes != 0)
        n.warn(std::to_string(decoded.unmapped_bytes) +
               " bytes have no Windows-1252 character; replaced by U+FFFD");
    auto doc = split_markdown(decoded.text, n);
    auto& m = out.module;
    m.title = doc.title;
    if (m.title.empty()) {
        m.title = folder_name;
        n.warn("no '# Module:' heading; title taken from the folder name");
    }
    m.description = join_block(doc.preamble);
    m.tasks = assemble_tasks(doc, n);
    return out;
}

std::string to_template_id(std::string_view folder_name) {
    std::string id;
    for (char c : folder_name) {
        if (is_ascii_alnum(c))
            id += ascii_lower(c);
        else if (!id.empty() && id.back() != '-')
            id += '-';
    }
    while (!id.empty() && id.back() == '-') id.pop_back();
    return id;
}

result<std::vector<imported_template>> import_migops_templates(const std::filesystem::path& dir) {
    if (dir.empty()) return failure(errc::invalid_argument, "no template directory given");
    std::error_code ec;
    auto root = fs::absolute(dir, ec).lexically_normal();
    if (ec) return failure(errc::invalid_argument, "cannot resolve " + dir.string());
    if (!root.has_filename()) root = root.parent_path();  // "templates/" -> "templates"
    const auto status = fs::status(root, ec);
    if (!fs::exists(status))
        return failure(errc::invalid_argument,
                       "template directory " + dir.string() + " does not exist");
    if (!fs::is_directory(status))
        return failure(errc::invalid_argument, dir.string() + " is not a directory");

    std::vector<imported_template> out;
    if (is_version_name(root.filename().string())) {
        auto imported = version_importer(root.parent_path(), root).run();
        if (!imported) return failure(imported.error());
        out.push_back(std::move(imported.value()));
        return out;
    }
    auto entries = list_dir(root);
    if (!entries) return failure(entries.error());
    if (has_version_folder(entries.value())) {
        if (auto r = import_template(root, entries.value(), out); !r) return failure(r.error());
        return out;
    }
    // A corpus: every folder holding v<N> folders is a template; the rest
    // (NOTICE.md, LICENSE, other folders) is not part of any template.
    for (const auto& d : entries.value().dirs) {
        auto template_entries = list_dir(d);
        if (!template_entries) return failure(template_entries.error());
        if (!has_version_folder(template_entries.value())) continue;
        if (auto r = import_template(d, template_entries.value(), out); !r)
            return failure(r.error());
    }
    if (out.empty())
        return failure(errc::invalid_argument,
                       dir.string() +
                           " holds no MigOps template: expected "
                           "<Template>/v<N>/<Name>/<Phase>/<Module>/tasks.md, one <Template> "
                           "folder or one v<N> folder");
    return out;
}

}  // namespace migops::engine
