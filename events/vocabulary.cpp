#include "events/vocabulary.h"

#include <array>
#include <utility>

namespace migops::events {

namespace {

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
    for (const auto& [value, name] : table)
        if (value == v) return name;
    return "";
}

template <class E, std::size_t N>
bool value_of(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s,
              E& v) {
    for (const auto& [value, name] : table)
        if (name == s) {
            v = value;
            return true;
        }
    return false;
}

constexpr std::array<std::pair<role, std::string_view>, 6> roles{{
    {role::none, "none"},
    {role::space_admin, "space_admin"},
    {role::space_contributor, "space_contributor"},
    {role::journey_admin, "journey_admin"},
    {role::journey_contributor, "journey_contributor"},
    {role::team_contributor, "team_contributor"},
}};
constexpr std::array<std::pair<journey_status, std::string_view>, 4> journey_statuses{{
    {journey_status::not_started, "not_started"},
    {journey_status::in_progress, "in_progress"},
    {journey_status::completed, "completed"},
    {journey_status::archived, "archived"},
}};
constexpr std::array<std::pair<node_kind, std::string_view>, 4> node_kinds{{
    {node_kind::phase, "phase"},
    {node_kind::module, "module"},
    {node_kind::task, "task"},
    {node_kind::subtask, "subtask"},
}};
constexpr std::array<std::pair<task_status, std::string_view>, 5> task_statuses{{
    {task_status::planned, "planned"},
    {task_status::in_progress, "in_progress"},
    {task_status::blocked, "blocked"},
    {task_status::completed, "completed"},
    {task_status::out_of_scope, "out_of_scope"},
}};
constexpr std::array<std::pair<help_kind, std::string_view>, 3> help_kinds{{
    {help_kind::task_assistance, "task_assistance"},
    {help_kind::advice, "advice"},
    {help_kind::full_service, "full_service"},
}};
constexpr std::array<std::pair<alert_kind, std::string_view>, 5> alert_kinds{{
    {alert_kind::overdue, "overdue"},
    {alert_kind::due_soon, "due_soon"},
    {alert_kind::blocked, "blocked"},
    {alert_kind::blocked_too_long, "blocked_too_long"},
    {alert_kind::dependency_late, "dependency_late"},
}};

}  // namespace

std::string_view to_string(role v) {
    return name_of(roles, v);
}
bool parse(std::string_view s, role& v) {
    return value_of(roles, s, v);
}
std::string_view to_string(journey_status v) {
    return name_of(journey_statuses, v);
}
bool parse(std::string_view s, journey_status& v) {
    return value_of(journey_statuses, s, v);
}
std::string_view to_string(node_kind v) {
    return name_of(node_kinds, v);
}
bool parse(std::string_view s, node_kind& v) {
    return value_of(node_kinds, s, v);
}
std::string_view to_string(task_status v) {
    return name_of(task_statuses, v);
}
bool parse(std::string_view s, task_status& v) {
    return value_of(task_statuses, s, v);
}
std::string_view to_string(help_kind v) {
    return name_of(help_kinds, v);
}
bool parse(std::string_view s, help_kind& v) {
    return value_of(help_kinds, s, v);
}
std::string_view to_string(alert_kind v) {
    return name_of(alert_kinds, v);
}
bool parse(std::string_view s, alert_kind& v) {
    return value_of(alert_kinds, s, v);
}

}  // namespace migops::events
