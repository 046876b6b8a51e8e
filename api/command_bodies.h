#pragma once
// What the /v1 routes make of their JSON bodies: one decoder per route that
// turns the body (already parsed by json_object_body) and the ids of the
// path into the command it submits. Pure — no I/O, no clock, no random
// ids — so that the routes stay a matter of decode, submit, show, and the
// decoders can be tested and fuzzed on their own (tests/fuzz). Every
// refusal is errc::invalid_argument (HTTP 400) naming the field; unknown
// fields are refused first.

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "engine/commands.h"
#include "engine/domain.h"
#include "events/result.h"

namespace migops::api {

// POST /v1/spaces {"name", "description"}; the caller picks the id.
result<engine::create_space> create_space_body(const boost::json::object& o, const space_id& id);
// PATCH /v1/spaces/{space}: a new name or a new description.
result<engine::command> edit_space_body(const boost::json::object& o, const space_id& space);
// PUT …/members/{user}, …/teams/{team}, /v1/teams/{team}/role {"role"}.
result<events::role> role_body(const boost::json::object& o);
// {"name"}: a team (POST /v1/spaces/{space}/teams) or a journey's copy.
result<std::string> name_body(const boost::json::object& o);

// POST /v1/spaces/{space}/journeys. A journey from a template names it
// (and maybe its version); the route looks the template up and fills in
// cmd.from_template and cmd.template_hash.
struct journey_body {
    engine::create_journey cmd;
    std::optional<std::string> template_id;
    std::string template_version;  // empty: the latest
};
result<journey_body> create_journey_body(const boost::json::object& o, const space_id& space);
// PATCH /v1/journeys/{journey}: a status of its own, or name, description,
// target_date.
result<engine::command> edit_journey_body(const boost::json::object& o, const journey_id& journey);

// POST /v1/journeys/{journey}/phases (phase) or /v1/phases/{phase}/modules.
result<engine::command> add_node_body(const boost::json::object& o, const std::string& parent,
                                      bool phase);
// POST /v1/modules/{module}/tasks and /v1/tasks/{task}/subtasks.
result<engine::add_task> add_task_body(const boost::json::object& o, const node_id& parent,
                                       events::node_kind under);
// PATCH /v1/nodes/{node} and /v1/tasks/{task}: one kind of change.
result<engine::command> edit_node_body(const boost::json::object& o, const node_id& node);

// PUT /v1/tasks/{task}/assignee {"user", "team"}.
result<engine::assign_task> assign_body(const boost::json::object& o, const node_id& task);
// POST /v1/tasks/{task}/status {"status", "reason", "acknowledged"}.
result<engine::change_task_status> status_body(const boost::json::object& o, const node_id& task);
// POST /v1/tasks/{task}/dependencies {"depends_on"}.
result<node_id> dependency_body(const boost::json::object& o);
// {"text"}: a step or a comment, new or edited.
result<std::string> text_body(const boost::json::object& o);
// PATCH /v1/tasks/{task}/steps/{step}: new text, or checked.
result<engine::command> edit_step_body(const boost::json::object& o, const node_id& task,
                                       const std::string& step);

// POST …/help-requests {"kind", "description", "target"}; target defaults
// to the node of the path.
result<engine::request_help> help_body(const boost::json::object& o, const journey_id& journey,
                                       const std::string& target);
// POST /v1/help-requests/{request}/resolve {"note"}.
result<std::string> help_note_body(const boost::json::object& o);
// PUT /v1/journeys/{journey}/alert-rules.
result<events::alert_rules> alert_rules_body(const boost::json::object& o);

// POST /v1/templates: our template format (engine::parse_template) from the
// raw body, whose text, like that of every other body, holds no control
// character other than a tab or a line break.
result<events::template_spec> template_body(std::string_view json, const engine::limits& bounds);

}  // namespace migops::api
