#pragma once
// The domain's named values, as persisted in events. The numbers are
// persisted: never change or reuse one; names are what JSON shows.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "events/fields.h"
#include "events/types.h"

namespace migops::events {

enum class role : std::uint8_t {
    none = 0,  // "no role" in role_revoked and in lookups; never granted
    space_admin = 1,
    space_contributor = 2,
    journey_admin = 3,
    journey_contributor = 4,
    team_contributor = 5,
};

enum class journey_status : std::uint8_t {
    not_started = 1,
    in_progress = 2,
    completed = 3,
    archived = 4,
};

enum class node_kind : std::uint8_t {
    phase = 1,
    module = 2,
    task = 3,
    subtask = 4,
};

enum class task_status : std::uint8_t {
    planned = 1,
    in_progress = 2,
    blocked = 3,
    completed = 4,
    out_of_scope = 5,
};

enum class help_kind : std::uint8_t {
    task_assistance = 1,
    advice = 2,
    full_service = 3,
};

// What an alert is about (DESIGN.md section 3, "Alerts").
enum class alert_kind : std::uint8_t {
    overdue = 1,           // the due date passed, the task is not completed
    due_soon = 2,          // the due date is within the journey's window
    blocked = 3,           // the task is blocked
    blocked_too_long = 4,  // blocked for longer than the journey's threshold
    dependency_late = 5,   // a task this one waits on is overdue
};

std::string_view to_string(role v);
bool parse(std::string_view s, role& v);
std::string_view to_string(journey_status v);
bool parse(std::string_view s, journey_status& v);
std::string_view to_string(node_kind v);
bool parse(std::string_view s, node_kind& v);
std::string_view to_string(task_status v);
bool parse(std::string_view s, task_status& v);
std::string_view to_string(help_kind v);
bool parse(std::string_view s, help_kind& v);
std::string_view to_string(alert_kind v);
bool parse(std::string_view s, alert_kind& v);

// A journey's alert rules; times in minutes, 0 turns a rule or a rung of the
// escalation ladder off. The defaults hold until a journey sets its own.
struct alert_rules {
    static constexpr std::uint32_t version = 1;
    std::uint32_t due_soon_minutes = 2 * 24 * 60;
    std::uint32_t blocked_too_long_minutes = 3 * 24 * 60;
    // After an alert is raised (to the assignee): to the journey admins,
    // then to the space admins.
    std::uint32_t escalate_to_journey_admins_minutes = 24 * 60;
    std::uint32_t escalate_to_space_admins_minutes = 3 * 24 * 60;
    std::vector<alert_kind> disabled;
    static constexpr auto fields() {
        return std::tuple{field("due_soon_minutes", &alert_rules::due_soon_minutes),
                          field("blocked_too_long_minutes", &alert_rules::blocked_too_long_minutes),
                          field("escalate_to_journey_admins_minutes",
                                &alert_rules::escalate_to_journey_admins_minutes),
                          field("escalate_to_space_admins_minutes",
                                &alert_rules::escalate_to_space_admins_minutes),
                          field("disabled", &alert_rules::disabled)};
    }
    friend bool operator==(const alert_rules&, const alert_rules&) = default;
};

// "task depends on depends_on", inside one journey.
struct dependency_spec {
    static constexpr std::uint32_t version = 1;
    node_id task;
    node_id depends_on;
    static constexpr auto fields() {
        return std::tuple{field("task", &dependency_spec::task),
                          field("depends_on", &dependency_spec::depends_on)};
    }
    friend bool operator==(const dependency_spec&, const dependency_spec&) = default;
};

struct evidence_artifact {
    static constexpr std::uint32_t version = 1;
    std::string name;
    std::string sha256;
    static constexpr auto fields() {
        return std::tuple{field("name", &evidence_artifact::name),
                          field("sha256", &evidence_artifact::sha256)};
    }
    friend bool operator==(const evidence_artifact&, const evidence_artifact&) = default;
};

// What a completion rested on: the files that met artifact criteria, the
// approver, and the text criteria the completer acknowledged.
struct completion_evidence {
    static constexpr std::uint32_t version = 1;
    std::vector<evidence_artifact> artifacts;
    user_id approver;
    std::vector<std::string> acknowledged;
    static constexpr auto fields() {
        return std::tuple{field("artifacts", &completion_evidence::artifacts),
                          field("approver", &completion_evidence::approver),
                          field("acknowledged", &completion_evidence::acknowledged)};
    }
    friend bool operator==(const completion_evidence&, const completion_evidence&) = default;
};

}  // namespace migops::events
