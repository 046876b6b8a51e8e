#include "api/json_body.h"

#include <algorithm>

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/trim.hpp>

#include "events/json_parse.h"

namespace migops::api {

namespace {
bool is_control(char c) {
    constexpr char del = 0x7f;
    return static_cast<unsigned char>(c) < 0x20 || c == del;
}
}  // namespace

// Text may hold tabs and line breaks; other control characters (NUL, ESC,
// DEL, …) are never text and would reach events, logs and emails as they are.
bool has_control_character(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return is_control(c) && c != '\t' && c != '\n' && c != '\r'; });
}

bool has_any_control_character(std::string_view s) {
    return std::any_of(s.begin(), s.end(), is_control);
}

std::string media_type_of(const http_request& req) {
    const auto* type = req.header("content-type");
    if (!type) return {};
    auto media = boost::algorithm::trim_copy(type->substr(0, type->find(';')));
    boost::algorithm::to_lower(media);
    return media;
}

std::variant<boost::json::object, problem> json_object_body(const http_request& req) {
    if (media_type_of(req) != "application/json")
        return make_problem(415, "/problems/unsupported-media-type", "Send application/json",
                            "the body must be application/json");
    auto parsed = events::parse_json(req.body, max_json_depth);
    if (parsed.twice) return problem_for(make_error(errc::invalid_argument, parsed.twice_detail()));
    if (parsed.error)
        return make_problem(400, "/problems/invalid-json", "The body is not valid JSON",
                            parsed.error.message());
    if (!parsed.value.is_object())
        return make_problem(400, "/problems/invalid-json", "The body is not valid JSON",
                            "the body must be a JSON object");
    return std::move(parsed.value.as_object());
}

result<std::optional<std::string>> string_field(const boost::json::object& o, std::string_view name,
                                                bool required, std::size_t max_bytes) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) {
        if (required) return failure(errc::invalid_argument, std::string(name) + " is required");
        return std::optional<std::string>{};
    }
    if (!v->is_string())
        return failure(errc::invalid_argument, std::string(name) + " must be a string");
    const auto& s = v->get_string();
    if (s.size() > max_bytes)
        return failure(errc::invalid_argument, std::string(name) + " is longer than " +
                                                   std::to_string(max_bytes) + " bytes");
    if (has_control_character(s))
        return failure(errc::invalid_argument,
                       std::string(name) +
                           " holds a control character other than a tab or a "
                           "line break");
    return std::optional<std::string>{std::string(s)};
}

namespace {

result<std::string> string_of(const boost::json::value& v, const std::string& path,
                              std::size_t max_bytes) {
    if (!v.is_string()) return failure(errc::invalid_argument, path + " must be a string");
    if (v.get_string().size() > max_bytes)
        return failure(errc::invalid_argument,
                       path + " is longer than " + std::to_string(max_bytes) + " bytes");
    if (has_control_character(v.get_string()))
        return failure(errc::invalid_argument,
                       path + " holds a control character other than a tab or a line break");
    return std::string(v.get_string());
}

const boost::json::array* array_of(const boost::json::value& v, const std::string& path,
                                   result<void>& error) {
    if (!v.is_array()) {
        error = failure(errc::invalid_argument, path + " must be an array");
        return nullptr;
    }
    if (v.get_array().size() > max_list_items) {
        error = failure(errc::invalid_argument,
                        path + " has more than " + std::to_string(max_list_items) + " items");
        return nullptr;
    }
    return &v.get_array();
}

result<std::vector<events::step_spec>> steps_body(const boost::json::value& v) {
    result<void> bad = success();
    const auto* a = array_of(v, "steps", bad);
    if (!a) return failure(bad.error());
    std::vector<events::step_spec> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto& item = (*a)[i];
        const std::string path = "steps[" + std::to_string(i) + "]";
        const auto* text = item.is_object() ? item.get_object().if_contains("text") : &item;
        if (!text) return failure(errc::invalid_argument, path + ".text is required");
        auto t = string_of(*text, path, max_text_bytes);
        if (!t) return failure(t.error());
        out.push_back(events::step_spec{"", std::move(t).value()});
    }
    return out;
}

// The fields a task and a subtask share.
template <class Spec>
result<void> common_task_fields(const boost::json::object& o, Spec& spec) {
    auto title = string_field(o, "title", true, max_short_bytes);
    if (!title) return failure(title.error());
    spec.title = *title.value();
    auto description = string_field(o, "description", false, max_text_bytes);
    if (!description) return failure(description.error());
    spec.description = description.value().value_or("");
    auto tools = string_list_field(o, "tools", max_list_items, max_short_bytes);
    if (!tools) return failure(tools.error());
    spec.tools = tools.value().value_or(std::vector<std::string>{});
    if (const auto* links = o.if_contains("links")) {
        auto l = links_body(*links);
        if (!l) return failure(l.error());
        spec.links = std::move(l).value();
    }
    if (const auto* criteria = o.if_contains("acceptance_criteria")) {
        auto c = criteria_body(*criteria);
        if (!c) return failure(c.error());
        spec.criteria = std::move(c).value();
    }
    if (const auto* steps = o.if_contains("steps")) {
        auto st = steps_body(*steps);
        if (!st) return failure(st.error());
        spec.steps = std::move(st).value();
    }
    return success();
}

}  // namespace

result<void> only_fields(const boost::json::object& o,
                         std::initializer_list<std::string_view> known) {
    for (const auto& [k, v] : o)
        if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end())
            return failure(errc::invalid_argument, "unknown field " + std::string(k));
    return success();
}

result<std::optional<bool>> bool_field(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) return std::optional<bool>{};
    if (!v->is_bool())
        return failure(errc::invalid_argument, std::string(name) + " must be true or false");
    return std::optional<bool>{v->get_bool()};
}

result<std::optional<std::uint32_t>> uint_field(const boost::json::object& o, std::string_view name,
                                                std::uint32_t max) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) return std::optional<std::uint32_t>{};
    boost::system::error_code ec;
    auto n = v->to_number<std::uint64_t>(ec);
    if (ec || v->is_double() || n > max)
        return failure(errc::invalid_argument,
                       std::string(name) + " must be an integer from 0 to " + std::to_string(max));
    return std::optional<std::uint32_t>{static_cast<std::uint32_t>(n)};
}

result<std::optional<std::optional<timestamp>>> time_field(const boost::json::object& o,
                                                           std::string_view name) {
    using out = std::optional<std::optional<timestamp>>;
    const auto* v = o.if_contains(name);
    if (!v) return out{};
    if (v->is_null()) return out{std::optional<timestamp>{}};
    auto t = v->is_string() ? parse_rfc3339(v->get_string()) : std::nullopt;
    if (!t)
        return failure(errc::invalid_argument,
                       std::string(name) + " must be an RFC 3339 date-time or null");
    return out{t};
}

result<std::optional<std::vector<std::string>>> string_list_field(const boost::json::object& o,
                                                                  std::string_view name,
                                                                  std::size_t max_items,
                                                                  std::size_t max_bytes) {
    using out = std::optional<std::vector<std::string>>;
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) return out{};
    if (!v->is_array() || v->get_array().size() > max_items)
        return failure(errc::invalid_argument, std::string(name) + " must be an array of at most " +
                                                   std::to_string(max_items) + " strings");
    std::vector<std::string> items;
    for (const auto& item : v->get_array()) {
        auto s = string_of(item, std::string(name) + "[]", max_bytes);
        if (!s) return failure(s.error());
        items.push_back(std::move(s).value());
    }
    return out{std::move(items)};
}

result<std::vector<events::guidance_link>> links_body(const boost::json::value& v) {
    result<void> bad = success();
    const auto* a = array_of(v, "links", bad);
    if (!a) return failure(bad.error());
    std::vector<events::guidance_link> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string path = "links[" + std::to_string(i) + "]";
        if (!(*a)[i].is_object())
            return failure(errc::invalid_argument, path + " must be an object");
        const auto& o = (*a)[i].get_object();
        auto title = string_field(o, "title", false, max_short_bytes);
        if (!title) return failure(errc::invalid_argument, path + "." + title.error().message);
        auto url = string_field(o, "url", true, max_short_bytes);
        if (!url) return failure(errc::invalid_argument, path + "." + url.error().message);
        out.push_back(events::guidance_link{title.value().value_or(""), *url.value()});
    }
    return out;
}

result<std::vector<events::criterion_spec>> criteria_body(const boost::json::value& v) {
    result<void> bad = success();
    const auto* a = array_of(v, "acceptance_criteria", bad);
    if (!a) return failure(bad.error());
    std::vector<events::criterion_spec> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string path = "acceptance_criteria[" + std::to_string(i) + "]";
        if (!(*a)[i].is_object())
            return failure(errc::invalid_argument, path + " must be an object");
        const auto& o = (*a)[i].get_object();
        if (auto r = only_fields(o, {"id", "type", "description", "pattern", "media_types", "met"});
            !r)
            return failure(errc::invalid_argument, path + ": " + r.error().message);
        events::criterion_spec c;
        auto type = string_field(o, "type", true, max_short_bytes);
        if (!type) return failure(errc::invalid_argument, path + "." + type.error().message);
        if (!events::parse(*type.value(), c.kind))
            return failure(errc::invalid_argument,
                           path + ".type must be artifact, subtasks, steps, approval or text");
        auto description = string_field(o, "description", false, max_text_bytes);
        if (!description)
            return failure(errc::invalid_argument, path + "." + description.error().message);
        c.description = description.value().value_or("");
        auto pattern = string_field(o, "pattern", false, max_short_bytes);
        if (!pattern) return failure(errc::invalid_argument, path + "." + pattern.error().message);
        c.pattern = pattern.value().value_or("");
        auto types = string_list_field(o, "media_types", max_list_items, max_short_bytes);
        if (!types) return failure(errc::invalid_argument, path + "." + types.error().message);
        c.media_types = types.value().value_or(std::vector<std::string>{});
        out.push_back(std::move(c));
    }
    return out;
}

result<events::task_spec> task_body(const boost::json::object& o) {
    if (auto r = only_fields(o, {"title", "description", "tools", "links", "acceptance_criteria",
                                 "steps", "subtasks", "rank"});
        !r)
        return failure(errc::invalid_argument,
                       r.error().message +
                           " (assignee, due date, effort and dependencies have their own routes)");
    events::task_spec spec;
    if (auto r = common_task_fields(o, spec); !r) return failure(r.error());
    if (const auto* subtasks = o.if_contains("subtasks")) {
        result<void> bad = success();
        const auto* a = array_of(*subtasks, "subtasks", bad);
        if (!a) return failure(bad.error());
        for (std::size_t i = 0; i < a->size(); ++i) {
            const std::string path = "subtasks[" + std::to_string(i) + "]";
            if (!(*a)[i].is_object())
                return failure(errc::invalid_argument, path + " must be an object");
            const auto& so = (*a)[i].get_object();
            if (auto r = only_fields(
                    so, {"title", "description", "tools", "links", "acceptance_criteria", "steps"});
                !r)
                return failure(errc::invalid_argument, path + ": " + r.error().message);
            events::subtask_spec sub;
            if (auto r = common_task_fields(so, sub); !r)
                return failure(errc::invalid_argument, path + "." + r.error().message);
            spec.subtasks.push_back(std::move(sub));
        }
    }
    return spec;
}

}  // namespace migops::api
