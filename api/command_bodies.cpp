#include "api/command_bodies.h"

#include <functional>

#include "api/json_body.h"
#include "engine/template_catalog.h"
#include "events/fields.h"

namespace migops::api {

namespace {

namespace ev = events;
using boost::json::object;

constexpr std::size_t max_name_bytes = 1024;
constexpr std::uint32_t max_rank = 100'000;
constexpr std::uint32_t max_minutes = 10'000'000;
constexpr std::size_t max_disabled_alerts = 5;

}  // namespace

result<engine::create_space> create_space_body(const object& o, const space_id& id) {
    if (auto r = only_fields(o, {"name", "description"}); !r) return failure(r.error());
    auto name = string_field(o, "name", true, max_name_bytes);
    if (!name) return failure(name.error());
    auto description = string_field(o, "description", false, max_text_bytes);
    if (!description) return failure(description.error());
    return engine::create_space{id, *name.value(), description.value().value_or("")};
}

result<engine::command> edit_space_body(const object& o, const space_id& space) {
    if (auto r = only_fields(o, {"name", "description"}); !r) return failure(r.error());
    auto name = string_field(o, "name", false, max_name_bytes);
    if (!name) return failure(name.error());
    auto description = string_field(o, "description", false, max_text_bytes);
    if (!description) return failure(description.error());
    if (name.value().has_value() == description.value().has_value())
        return failure(errc::invalid_argument,
                       "send either name or description (one change a request)");
    if (name.value()) return engine::command{engine::rename_space{space, *name.value()}};
    return engine::command{engine::describe_space{space, *description.value()}};
}

result<ev::role> role_body(const object& o) {
    if (auto r = only_fields(o, {"role"}); !r) return failure(r.error());
    auto name = string_field(o, "role", true, max_name_bytes);
    if (!name) return failure(name.error());
    ev::role r = ev::role::none;
    if (!ev::parse(*name.value(), r) || r == ev::role::none)
        return failure(errc::invalid_argument,
                       "role must be space_admin, space_contributor, journey_admin, "
                       "journey_contributor or team_contributor");
    return r;
}

result<std::string> name_body(const object& o) {
    if (auto r = only_fields(o, {"name"}); !r) return failure(r.error());
    auto name = string_field(o, "name", true, max_name_bytes);
    if (!name) return failure(name.error());
    return *name.value();
}

result<journey_body> create_journey_body(const object& o, const space_id& space) {
    if (auto r = only_fields(
            o, {"name", "description", "template_id", "template_version", "target_date"});
        !r)
        return failure(r.error());
    auto name = string_field(o, "name", true, max_name_bytes);
    if (!name) return failure(name.error());
    auto description = string_field(o, "description", false, max_text_bytes);
    if (!description) return failure(description.error());
    auto template_id = string_field(o, "template_id", false, max_name_bytes);
    if (!template_id) return failure(template_id.error());
    auto template_version = string_field(o, "template_version", false, max_name_bytes);
    if (!template_version) return failure(template_version.error());
    auto target = time_field(o, "target_date");
    if (!target) return failure(target.error());
    if (!template_id.value() && template_version.value())
        return failure(errc::invalid_argument, "template_version needs template_id");
    return journey_body{
        engine::create_journey{space, *name.value(), description.value().value_or(""),
                               target.value().value_or(std::nullopt), std::nullopt, ""},
        template_id.value(), template_version.value().value_or("")};
}

result<engine::command> edit_journey_body(const object& o, const journey_id& journey) {
    if (auto r = only_fields(o, {"name", "description", "target_date", "status"}); !r)
        return failure(r.error());
    auto status = string_field(o, "status", false, max_name_bytes);
    if (!status) return failure(status.error());
    if (status.value()) {
        if (o.size() != 1)
            return failure(errc::invalid_argument, "change the status in a request of its own");
        ev::journey_status s{};
        if (!ev::parse(*status.value(), s))
            return failure(errc::invalid_argument,
                           "status must be not_started, in_progress, completed or archived");
        return engine::command{engine::change_journey_status{journey, s}};
    }
    auto name = string_field(o, "name", false, max_name_bytes);
    if (!name) return failure(name.error());
    auto description = string_field(o, "description", false, max_text_bytes);
    if (!description) return failure(description.error());
    auto target = time_field(o, "target_date");
    if (!target) return failure(target.error());
    return engine::command{
        engine::edit_journey{journey, name.value(), description.value(), target.value()}};
}

result<engine::command> add_node_body(const object& o, const std::string& parent, bool phase) {
    if (auto r = only_fields(o, {"title", "description", "rank"}); !r) return failure(r.error());
    auto title = string_field(o, "title", true, max_name_bytes);
    if (!title) return failure(title.error());
    auto description = string_field(o, "description", false, max_text_bytes);
    if (!description) return failure(description.error());
    auto rank = uint_field(o, "rank", max_rank);
    if (!rank) return failure(rank.error());
    if (phase)
        return engine::command{engine::add_phase{journey_id{parent}, *title.value(),
                                                 description.value().value_or(""), rank.value()}};
    return engine::command{engine::add_module{node_id{parent}, *title.value(),
                                              description.value().value_or(""), rank.value()}};
}

result<engine::add_task> add_task_body(const object& o, const node_id& parent,
                                       events::node_kind under) {
    auto spec = task_body(o);
    if (!spec) return failure(spec.error());
    auto rank = uint_field(o, "rank", max_rank);
    if (!rank) return failure(rank.error());
    return engine::add_task{parent, std::move(spec).value(), rank.value(), under};
}

result<engine::command> edit_node_body(const object& o, const node_id& node) {
    if (auto r = only_fields(o, {"title", "description", "tools", "links", "acceptance_criteria",
                                 "in_scope", "rank", "due", "estimated_minutes", "spent_minutes"});
        !r)
        return failure(r.error());
    const bool details = o.contains("title") || o.contains("description") || o.contains("tools") ||
                         o.contains("links") || o.contains("acceptance_criteria");
    const bool effort = o.contains("estimated_minutes") || o.contains("spent_minutes");
    const int groups = int{details} + int{effort} + int{o.contains("in_scope")} +
                       int{o.contains("rank")} + int{o.contains("due")};
    if (groups != 1)
        return failure(errc::invalid_argument,
                       "send one kind of change a request: details (title, description, "
                       "tools, links, acceptance_criteria), in_scope, rank, due, or "
                       "effort (estimated_minutes, spent_minutes)");
    if (details) {
        engine::edit_node cmd{node,         std::nullopt, std::nullopt,
                              std::nullopt, std::nullopt, std::nullopt};
        auto title = string_field(o, "title", false, max_short_bytes);
        if (!title) return failure(title.error());
        cmd.title = title.value();
        auto description = string_field(o, "description", false, max_text_bytes);
        if (!description) return failure(description.error());
        cmd.description = description.value();
        auto tools = string_list_field(o, "tools", max_list_items, max_short_bytes);
        if (!tools) return failure(tools.error());
        cmd.tools = tools.value();
        if (const auto* links = o.if_contains("links")) {
            auto l = links_body(*links);
            if (!l) return failure(l.error());
            cmd.links = std::move(l).value();
        }
        if (const auto* criteria = o.if_contains("acceptance_criteria")) {
            auto c = criteria_body(*criteria);
            if (!c) return failure(c.error());
            cmd.criteria = std::move(c).value();
        }
        return engine::command{std::move(cmd)};
    }
    if (o.contains("in_scope")) {
        auto in_scope = bool_field(o, "in_scope");
        if (!in_scope) return failure(in_scope.error());
        if (!in_scope.value())
            return failure(errc::invalid_argument, "in_scope must be true or false");
        return engine::command{engine::scope_node{node, *in_scope.value()}};
    }
    if (o.contains("rank")) {
        auto rank = uint_field(o, "rank", max_rank);
        if (!rank) return failure(rank.error());
        if (!rank.value()) return failure(errc::invalid_argument, "rank must be an integer");
        return engine::command{engine::move_node{node, *rank.value()}};
    }
    if (o.contains("due")) {
        auto due = time_field(o, "due");
        if (!due) return failure(due.error());
        return engine::command{engine::set_due_date{node, *due.value()}};
    }
    auto estimated = uint_field(o, "estimated_minutes", max_minutes);
    if (!estimated) return failure(estimated.error());
    auto spent = uint_field(o, "spent_minutes", max_minutes);
    if (!spent) return failure(spent.error());
    return engine::command{engine::set_effort{node, estimated.value(), spent.value()}};
}

result<engine::assign_task> assign_body(const object& o, const node_id& task) {
    if (auto r = only_fields(o, {"user", "team"}); !r) return failure(r.error());
    auto user = string_field(o, "user", false, max_id_bytes);
    if (!user) return failure(user.error());
    auto team = string_field(o, "team", false, max_id_bytes);
    if (!team) return failure(team.error());
    return engine::assign_task{task, user_id{user.value().value_or("")},
                               team_id{team.value().value_or("")}};
}

result<engine::change_task_status> status_body(const object& o, const node_id& task) {
    if (auto r = only_fields(o, {"status", "reason", "acknowledged"}); !r)
        return failure(r.error());
    auto status = string_field(o, "status", true, max_name_bytes);
    if (!status) return failure(status.error());
    ev::task_status s{};
    if (!ev::parse(*status.value(), s))
        return failure(errc::invalid_argument,
                       "status must be planned, in_progress, blocked, completed or out_of_scope");
    auto reason = string_field(o, "reason", false, max_text_bytes);
    if (!reason) return failure(reason.error());
    auto acknowledged = string_list_field(o, "acknowledged", max_list_items, max_id_bytes);
    if (!acknowledged) return failure(acknowledged.error());
    return engine::change_task_status{task, s, reason.value().value_or(""),
                                      acknowledged.value().value_or(std::vector<std::string>{})};
}

result<node_id> dependency_body(const object& o) {
    if (auto r = only_fields(o, {"depends_on"}); !r) return failure(r.error());
    auto other = string_field(o, "depends_on", true, max_id_bytes);
    if (!other) return failure(other.error());
    return node_id{*other.value()};
}

result<std::string> text_body(const object& o) {
    if (auto r = only_fields(o, {"text"}); !r) return failure(r.error());
    auto text = string_field(o, "text", true, max_text_bytes);
    if (!text) return failure(text.error());
    return *text.value();
}

result<engine::command> edit_step_body(const object& o, const node_id& task,
                                       const std::string& step) {
    if (auto r = only_fields(o, {"text", "checked"}); !r) return failure(r.error());
    if (o.size() != 1)
        return failure(errc::invalid_argument,
                       "send either text or checked (one change a request)");
    if (o.contains("checked")) {
        auto checked = bool_field(o, "checked");
        if (!checked) return failure(checked.error());
        if (!checked.value())
            return failure(errc::invalid_argument, "checked must be true or false");
        return engine::command{engine::check_step{task, step, *checked.value()}};
    }
    auto text = string_field(o, "text", true, max_text_bytes);
    if (!text) return failure(text.error());
    return engine::command{engine::edit_step{task, step, *text.value()}};
}

result<engine::request_help> help_body(const object& o, const journey_id& journey,
                                       const std::string& target) {
    if (auto r = only_fields(o, {"kind", "description", "target"}); !r) return failure(r.error());
    auto kind_name = string_field(o, "kind", true, max_name_bytes);
    if (!kind_name) return failure(kind_name.error());
    ev::help_kind kind{};
    if (!ev::parse(*kind_name.value(), kind))
        return failure(errc::invalid_argument,
                       "kind must be task_assistance, advice or full_service");
    auto description = string_field(o, "description", true, max_text_bytes);
    if (!description) return failure(description.error());
    auto explicit_target = string_field(o, "target", false, max_id_bytes);
    if (!explicit_target) return failure(explicit_target.error());
    return engine::request_help{journey, explicit_target.value().value_or(target), kind,
                                *description.value()};
}

result<std::string> help_note_body(const object& o) {
    if (auto r = only_fields(o, {"note"}); !r) return failure(r.error());
    auto note = string_field(o, "note", false, max_text_bytes);
    if (!note) return failure(note.error());
    return note.value().value_or("");
}

result<ev::alert_rules> alert_rules_body(const object& o) {
    if (auto r = only_fields(o, {"due_soon_minutes", "blocked_too_long_minutes",
                                 "escalate_to_journey_admins_minutes",
                                 "escalate_to_space_admins_minutes", "disabled"});
        !r)
        return failure(r.error());
    ev::alert_rules rules;
    const std::pair<const char*, std::uint32_t*> times[] = {
        {"due_soon_minutes", &rules.due_soon_minutes},
        {"blocked_too_long_minutes", &rules.blocked_too_long_minutes},
        {"escalate_to_journey_admins_minutes", &rules.escalate_to_journey_admins_minutes},
        {"escalate_to_space_admins_minutes", &rules.escalate_to_space_admins_minutes}};
    for (const auto& [name, target] : times) {
        auto v = uint_field(o, name, max_minutes);
        if (!v) return failure(v.error());
        if (v.value()) *target = *v.value();
    }
    auto disabled = string_list_field(o, "disabled", max_disabled_alerts, max_name_bytes);
    if (!disabled) return failure(disabled.error());
    for (const auto& name : disabled.value().value_or(std::vector<std::string>{})) {
        ev::alert_kind k{};
        if (!ev::parse(name, k))
            return failure(errc::invalid_argument,
                           "disabled lists overdue, due_soon, blocked, blocked_too_long or "
                           "dependency_late");
        rules.disabled.push_back(k);
    }
    return rules;
}

result<events::template_spec> template_body(std::string_view json, const engine::limits& bounds) {
    auto spec = engine::parse_template(json, "the request body", bounds);
    if (!spec) return failure(spec.error());
    bool clean = true;
    const std::function<void(const boost::json::value&)> check = [&](const boost::json::value& v) {
        if (const auto* str = v.if_string()) {
            clean = clean && !has_control_character(*str);
        } else if (const auto* a = v.if_array()) {
            for (const auto& e : *a) check(e);
        } else if (const auto* o = v.if_object()) {
            for (const auto& kv : *o) check(kv.value());
        }
    };
    check(events::to_json_value(spec.value()));
    if (!clean)
        return failure(errc::invalid_argument,
                       "the request body: a text of the template holds a control character other "
                       "than a tab or a line break");
    return spec;
}

}  // namespace migops::api
