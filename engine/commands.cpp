#include "engine/commands.h"

namespace migops::engine {

namespace {

template <class T>
constexpr std::string_view command_name = "";
#define MIGOPS_COMMAND_NAME(T) \
    template <>                \
    constexpr std::string_view command_name<T> = #T;
MIGOPS_COMMAND_NAME(create_space)
MIGOPS_COMMAND_NAME(rename_space)
MIGOPS_COMMAND_NAME(describe_space)
MIGOPS_COMMAND_NAME(delete_space)
MIGOPS_COMMAND_NAME(create_team)
MIGOPS_COMMAND_NAME(delete_team)
MIGOPS_COMMAND_NAME(add_team_member)
MIGOPS_COMMAND_NAME(remove_team_member)
MIGOPS_COMMAND_NAME(grant_role)
MIGOPS_COMMAND_NAME(revoke_role)
MIGOPS_COMMAND_NAME(publish_template)
MIGOPS_COMMAND_NAME(create_journey)
MIGOPS_COMMAND_NAME(copy_journey)
MIGOPS_COMMAND_NAME(edit_journey)
MIGOPS_COMMAND_NAME(change_journey_status)
MIGOPS_COMMAND_NAME(delete_journey)
MIGOPS_COMMAND_NAME(add_phase)
MIGOPS_COMMAND_NAME(add_module)
MIGOPS_COMMAND_NAME(add_task)
MIGOPS_COMMAND_NAME(edit_node)
MIGOPS_COMMAND_NAME(move_node)
MIGOPS_COMMAND_NAME(scope_node)
MIGOPS_COMMAND_NAME(delete_node)
MIGOPS_COMMAND_NAME(assign_task)
MIGOPS_COMMAND_NAME(change_task_status)
MIGOPS_COMMAND_NAME(set_due_date)
MIGOPS_COMMAND_NAME(set_effort)
MIGOPS_COMMAND_NAME(add_dependency)
MIGOPS_COMMAND_NAME(remove_dependency)
MIGOPS_COMMAND_NAME(add_step)
MIGOPS_COMMAND_NAME(edit_step)
MIGOPS_COMMAND_NAME(check_step)
MIGOPS_COMMAND_NAME(remove_step)
MIGOPS_COMMAND_NAME(approve_task)
MIGOPS_COMMAND_NAME(upload_artifact)
MIGOPS_COMMAND_NAME(remove_artifact)
MIGOPS_COMMAND_NAME(add_comment)
MIGOPS_COMMAND_NAME(edit_comment)
MIGOPS_COMMAND_NAME(delete_comment)
MIGOPS_COMMAND_NAME(request_help)
MIGOPS_COMMAND_NAME(accept_help)
MIGOPS_COMMAND_NAME(resolve_help)
MIGOPS_COMMAND_NAME(cancel_help)
MIGOPS_COMMAND_NAME(review_alerts)
MIGOPS_COMMAND_NAME(set_alert_rules)
MIGOPS_COMMAND_NAME(record_notification)
#undef MIGOPS_COMMAND_NAME

// The id a command names first: its space is the command's space.
template <class C>
std::string_view routing_id(const C& c) {
    if constexpr (requires { c.space; })
        return c.space.value;
    else if constexpr (requires { c.source; })
        return c.source.value;
    else if constexpr (requires { c.journey; })
        return c.journey.value;
    else if constexpr (requires { c.task; })
        return c.task.value;
    else if constexpr (requires { c.node; })
        return c.node.value;
    else if constexpr (requires { c.phase; })
        return c.phase.value;
    else if constexpr (requires { c.parent; })
        return c.parent.value;
    else if constexpr (requires { c.team; })
        return c.team.value;
    else
        return template_space_id.value;  // publish_template
}

}  // namespace

space_id space_of_id(std::string_view id) {
    return space_id{std::string(id.substr(0, id.find('.')))};
}

space_id space_of(const command& c) {
    return std::visit([](const auto& v) { return space_of_id(routing_id(v)); }, c);
}

std::string_view name_of(const command& c) {
    return std::visit([](const auto& v) { return command_name<std::decay_t<decltype(v)>>; }, c);
}

}  // namespace migops::engine
