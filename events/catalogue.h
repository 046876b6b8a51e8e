#pragma once
// The event catalogue: every event type migops has ever written.
//
// Persisted forever (DESIGN.md invariant 5):
//   - type_id numbers are never reused; a retired type stays listed below as
//     a comment with its number;
//   - a field is only appended (see fields.h), with version bumped;
//   - a change of meaning is a new type with a new number, its type_name
//     suffixed by the new major (`.v2` in the CloudEvents type).
// Numbers are grouped by area: 100 spaces, teams and roles; 200 templates;
// 300 journeys; 400 the journey tree; 500 tasks; 600 artifacts; 700
// comments; 800 expert help; 900 alerts and their notifications; 1000 the
// chain itself (signed checkpoints).
//
// Every type has golden files in tests/golden/, decoded by every build.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>

#include "events/content.h"
#include "events/fields.h"
#include "events/types.h"
#include "events/vocabulary.h"

namespace migops::events {

// ---- spaces (100..199) ---------------------------------------------------

struct space_created {
    static constexpr std::uint32_t type_id = 100;
    static constexpr std::string_view type_name = "space.created";
    static constexpr std::uint32_t version = 1;

    std::string name;
    std::string description;

    static constexpr auto fields() {
        return std::tuple{field("name", &space_created::name),
                          field("description", &space_created::description)};
    }
    friend bool operator==(const space_created&, const space_created&) = default;
};

struct space_renamed {
    static constexpr std::uint32_t type_id = 101;
    static constexpr std::string_view type_name = "space.renamed";
    static constexpr std::uint32_t version = 1;

    std::string name;

    static constexpr auto fields() { return std::tuple{field("name", &space_renamed::name)}; }
    friend bool operator==(const space_renamed&, const space_renamed&) = default;
};

struct space_described {
    static constexpr std::uint32_t type_id = 102;
    static constexpr std::string_view type_name = "space.described";
    static constexpr std::uint32_t version = 1;

    std::string description;

    static constexpr auto fields() {
        return std::tuple{field("description", &space_described::description)};
    }
    friend bool operator==(const space_described&, const space_described&) = default;
};

struct space_deleted {
    static constexpr std::uint32_t type_id = 103;
    static constexpr std::string_view type_name = "space.deleted";
    static constexpr std::uint32_t version = 1;

    static constexpr auto fields() { return std::tuple{}; }
    friend bool operator==(const space_deleted&, const space_deleted&) = default;
};

// ---- teams and roles (110..129) ------------------------------------------
// A role is granted on the space (journey empty) or on one journey, to a
// user or to a team (exactly one of the two is set).

struct team_created {
    static constexpr std::uint32_t type_id = 110;
    static constexpr std::string_view type_name = "team.created";
    static constexpr std::uint32_t version = 1;

    team_id team;
    std::string name;

    static constexpr auto fields() {
        return std::tuple{field("team", &team_created::team), field("name", &team_created::name)};
    }
    friend bool operator==(const team_created&, const team_created&) = default;
};

struct team_deleted {
    static constexpr std::uint32_t type_id = 111;
    static constexpr std::string_view type_name = "team.deleted";
    static constexpr std::uint32_t version = 1;

    team_id team;

    static constexpr auto fields() { return std::tuple{field("team", &team_deleted::team)}; }
    friend bool operator==(const team_deleted&, const team_deleted&) = default;
};

struct team_member_added {
    static constexpr std::uint32_t type_id = 112;
    static constexpr std::string_view type_name = "team.member_added";
    static constexpr std::uint32_t version = 1;

    team_id team;
    user_id user;

    static constexpr auto fields() {
        return std::tuple{field("team", &team_member_added::team),
                          field("user", &team_member_added::user)};
    }
    friend bool operator==(const team_member_added&, const team_member_added&) = default;
};

struct team_member_removed {
    static constexpr std::uint32_t type_id = 113;
    static constexpr std::string_view type_name = "team.member_removed";
    static constexpr std::uint32_t version = 1;

    team_id team;
    user_id user;

    static constexpr auto fields() {
        return std::tuple{field("team", &team_member_removed::team),
                          field("user", &team_member_removed::user)};
    }
    friend bool operator==(const team_member_removed&, const team_member_removed&) = default;
};

struct role_granted {
    static constexpr std::uint32_t type_id = 120;
    static constexpr std::string_view type_name = "role.granted";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    user_id user;
    team_id team;
    events::role granted = events::role::none;

    static constexpr auto fields() {
        return std::tuple{field("journey", &role_granted::journey),
                          field("user", &role_granted::user), field("team", &role_granted::team),
                          field("role", &role_granted::granted)};
    }
    friend bool operator==(const role_granted&, const role_granted&) = default;
};

struct role_revoked {
    static constexpr std::uint32_t type_id = 121;
    static constexpr std::string_view type_name = "role.revoked";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    user_id user;
    team_id team;

    static constexpr auto fields() {
        return std::tuple{field("journey", &role_revoked::journey),
                          field("user", &role_revoked::user), field("team", &role_revoked::team)};
    }
    friend bool operator==(const role_revoked&, const role_revoked&) = default;
};

// ---- templates (200..299) -------------------------------------------------
// A template's whole content and its hash (SHA-256 of its canonical JSON),
// so that replay never reads a template file.

struct template_published {
    static constexpr std::uint32_t type_id = 200;
    static constexpr std::string_view type_name = "template.published";
    static constexpr std::uint32_t version = 1;

    template_spec content;
    std::string content_hash;

    static constexpr auto fields() {
        return std::tuple{field("content", &template_published::content),
                          field("content_hash", &template_published::content_hash)};
    }
    friend bool operator==(const template_published&, const template_published&) = default;
};

// ---- journeys (300..399) --------------------------------------------------
// journey_created carries the whole instantiated tree (ids assigned) and its
// dependencies, whether from a template, a copy or empty.

struct journey_created {
    static constexpr std::uint32_t type_id = 300;
    static constexpr std::string_view type_name = "journey.created";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    std::string name;
    std::string description;
    std::optional<timestamp> target_date;
    std::string template_id;
    std::string template_version;
    std::string template_hash;
    journey_id copied_from;
    std::vector<phase_spec> phases;
    std::vector<dependency_spec> dependencies;

    static constexpr auto fields() {
        return std::tuple{field("journey", &journey_created::journey),
                          field("name", &journey_created::name),
                          field("description", &journey_created::description),
                          field("target_date", &journey_created::target_date),
                          field("template_id", &journey_created::template_id),
                          field("template_version", &journey_created::template_version),
                          field("template_hash", &journey_created::template_hash),
                          field("copied_from", &journey_created::copied_from),
                          field("phases", &journey_created::phases),
                          field("dependencies", &journey_created::dependencies)};
    }
    friend bool operator==(const journey_created&, const journey_created&) = default;
};

struct journey_edited {
    static constexpr std::uint32_t type_id = 301;
    static constexpr std::string_view type_name = "journey.edited";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    std::string name;
    std::string description;
    std::optional<timestamp> target_date;

    static constexpr auto fields() {
        return std::tuple{field("journey", &journey_edited::journey),
                          field("name", &journey_edited::name),
                          field("description", &journey_edited::description),
                          field("target_date", &journey_edited::target_date)};
    }
    friend bool operator==(const journey_edited&, const journey_edited&) = default;
};

struct journey_status_changed {
    static constexpr std::uint32_t type_id = 302;
    static constexpr std::string_view type_name = "journey.status_changed";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    journey_status status;

    static constexpr auto fields() {
        return std::tuple{field("journey", &journey_status_changed::journey),
                          field("status", &journey_status_changed::status)};
    }
    friend bool operator==(const journey_status_changed&, const journey_status_changed&) = default;
};

struct journey_deleted {
    static constexpr std::uint32_t type_id = 303;
    static constexpr std::string_view type_name = "journey.deleted";
    static constexpr std::uint32_t version = 1;

    journey_id journey;

    static constexpr auto fields() {
        return std::tuple{field("journey", &journey_deleted::journey)};
    }
    friend bool operator==(const journey_deleted&, const journey_deleted&) = default;
};

// ---- the journey tree (400..499) ------------------------------------------
// A node is a phase, module, task or subtask; for phases and modules only
// title and description of the content are used.

struct node_added {
    static constexpr std::uint32_t type_id = 400;
    static constexpr std::string_view type_name = "node.added";
    static constexpr std::uint32_t version = 1;

    node_id parent;
    node_id node;
    node_kind kind;
    std::uint32_t rank{};
    task_spec content;

    static constexpr auto fields() {
        return std::tuple{field("parent", &node_added::parent), field("node", &node_added::node),
                          field("kind", &node_added::kind), field("rank", &node_added::rank),
                          field("content", &node_added::content)};
    }
    friend bool operator==(const node_added&, const node_added&) = default;
};

struct node_edited {
    static constexpr std::uint32_t type_id = 401;
    static constexpr std::string_view type_name = "node.edited";
    static constexpr std::uint32_t version = 1;

    node_id node;
    std::string title;
    std::string description;
    std::vector<std::string> tools;
    std::vector<guidance_link> links;
    std::vector<criterion_spec> criteria;

    static constexpr auto fields() {
        return std::tuple{field("node", &node_edited::node),
                          field("title", &node_edited::title),
                          field("description", &node_edited::description),
                          field("tools", &node_edited::tools),
                          field("links", &node_edited::links),
                          field("criteria", &node_edited::criteria)};
    }
    friend bool operator==(const node_edited&, const node_edited&) = default;
};

struct node_moved {
    static constexpr std::uint32_t type_id = 402;
    static constexpr std::string_view type_name = "node.moved";
    static constexpr std::uint32_t version = 1;

    node_id node;
    std::uint32_t rank{};

    static constexpr auto fields() {
        return std::tuple{field("node", &node_moved::node), field("rank", &node_moved::rank)};
    }
    friend bool operator==(const node_moved&, const node_moved&) = default;
};

struct node_scoped {
    static constexpr std::uint32_t type_id = 403;
    static constexpr std::string_view type_name = "node.scoped";
    static constexpr std::uint32_t version = 1;

    node_id node;
    bool in_scope{};

    static constexpr auto fields() {
        return std::tuple{field("node", &node_scoped::node),
                          field("in_scope", &node_scoped::in_scope)};
    }
    friend bool operator==(const node_scoped&, const node_scoped&) = default;
};

struct node_deleted {
    static constexpr std::uint32_t type_id = 404;
    static constexpr std::string_view type_name = "node.deleted";
    static constexpr std::uint32_t version = 1;

    node_id node;

    static constexpr auto fields() { return std::tuple{field("node", &node_deleted::node)}; }
    friend bool operator==(const node_deleted&, const node_deleted&) = default;
};

// ---- tasks and subtasks (500..599) -----------------------------------------

struct task_assigned {
    static constexpr std::uint32_t type_id = 500;
    static constexpr std::string_view type_name = "task.assigned";
    static constexpr std::uint32_t version = 1;

    node_id task;
    user_id user;
    team_id team;

    static constexpr auto fields() {
        return std::tuple{field("task", &task_assigned::task), field("user", &task_assigned::user),
                          field("team", &task_assigned::team)};
    }
    friend bool operator==(const task_assigned&, const task_assigned&) = default;
};

struct task_status_changed {
    static constexpr std::uint32_t type_id = 501;
    static constexpr std::string_view type_name = "task.status_changed";
    static constexpr std::uint32_t version = 1;

    node_id task;
    task_status from;
    task_status to;
    std::string reason;
    completion_evidence evidence;

    static constexpr auto fields() {
        return std::tuple{
            field("task", &task_status_changed::task), field("from", &task_status_changed::from),
            field("to", &task_status_changed::to), field("reason", &task_status_changed::reason),
            field("evidence", &task_status_changed::evidence)};
    }
    friend bool operator==(const task_status_changed&, const task_status_changed&) = default;
};

struct due_date_set {
    static constexpr std::uint32_t type_id = 502;
    static constexpr std::string_view type_name = "task.due_date_set";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::optional<timestamp> due;

    static constexpr auto fields() {
        return std::tuple{field("task", &due_date_set::task), field("due", &due_date_set::due)};
    }
    friend bool operator==(const due_date_set&, const due_date_set&) = default;
};

struct effort_set {
    static constexpr std::uint32_t type_id = 503;
    static constexpr std::string_view type_name = "task.effort_set";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::uint32_t estimated_minutes{};
    std::uint32_t spent_minutes{};

    static constexpr auto fields() {
        return std::tuple{field("task", &effort_set::task),
                          field("estimated_minutes", &effort_set::estimated_minutes),
                          field("spent_minutes", &effort_set::spent_minutes)};
    }
    friend bool operator==(const effort_set&, const effort_set&) = default;
};

struct dependency_added {
    static constexpr std::uint32_t type_id = 504;
    static constexpr std::string_view type_name = "task.dependency_added";
    static constexpr std::uint32_t version = 1;

    node_id task;
    node_id depends_on;

    static constexpr auto fields() {
        return std::tuple{field("task", &dependency_added::task),
                          field("depends_on", &dependency_added::depends_on)};
    }
    friend bool operator==(const dependency_added&, const dependency_added&) = default;
};

struct dependency_removed {
    static constexpr std::uint32_t type_id = 505;
    static constexpr std::string_view type_name = "task.dependency_removed";
    static constexpr std::uint32_t version = 1;

    node_id task;
    node_id depends_on;

    static constexpr auto fields() {
        return std::tuple{field("task", &dependency_removed::task),
                          field("depends_on", &dependency_removed::depends_on)};
    }
    friend bool operator==(const dependency_removed&, const dependency_removed&) = default;
};

struct step_added {
    static constexpr std::uint32_t type_id = 506;
    static constexpr std::string_view type_name = "task.step_added";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string step;
    std::string text;

    static constexpr auto fields() {
        return std::tuple{field("task", &step_added::task), field("step", &step_added::step),
                          field("text", &step_added::text)};
    }
    friend bool operator==(const step_added&, const step_added&) = default;
};

struct step_edited {
    static constexpr std::uint32_t type_id = 507;
    static constexpr std::string_view type_name = "task.step_edited";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string step;
    std::string text;

    static constexpr auto fields() {
        return std::tuple{field("task", &step_edited::task), field("step", &step_edited::step),
                          field("text", &step_edited::text)};
    }
    friend bool operator==(const step_edited&, const step_edited&) = default;
};

struct step_checked {
    static constexpr std::uint32_t type_id = 508;
    static constexpr std::string_view type_name = "task.step_checked";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string step;
    bool checked{};

    static constexpr auto fields() {
        return std::tuple{field("task", &step_checked::task), field("step", &step_checked::step),
                          field("checked", &step_checked::checked)};
    }
    friend bool operator==(const step_checked&, const step_checked&) = default;
};

struct step_removed {
    static constexpr std::uint32_t type_id = 509;
    static constexpr std::string_view type_name = "task.step_removed";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string step;

    static constexpr auto fields() {
        return std::tuple{field("task", &step_removed::task), field("step", &step_removed::step)};
    }
    friend bool operator==(const step_removed&, const step_removed&) = default;
};

struct task_approved {
    static constexpr std::uint32_t type_id = 510;
    static constexpr std::string_view type_name = "task.approved";
    static constexpr std::uint32_t version = 1;

    node_id task;

    static constexpr auto fields() { return std::tuple{field("task", &task_approved::task)}; }
    friend bool operator==(const task_approved&, const task_approved&) = default;
};

// ---- artifacts (600..699) ---------------------------------------------------
// The blob (content-addressed by sha256) is durable before the event.

struct artifact_uploaded {
    static constexpr std::uint32_t type_id = 600;
    static constexpr std::string_view type_name = "artifact.uploaded";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string name;
    std::string media_type;
    std::uint64_t size{};
    std::string sha256;

    static constexpr auto fields() {
        return std::tuple{
            field("task", &artifact_uploaded::task), field("name", &artifact_uploaded::name),
            field("media_type", &artifact_uploaded::media_type),
            field("size", &artifact_uploaded::size), field("sha256", &artifact_uploaded::sha256)};
    }
    friend bool operator==(const artifact_uploaded&, const artifact_uploaded&) = default;
};

struct artifact_removed {
    static constexpr std::uint32_t type_id = 601;
    static constexpr std::string_view type_name = "artifact.removed";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string name;

    static constexpr auto fields() {
        return std::tuple{field("task", &artifact_removed::task),
                          field("name", &artifact_removed::name)};
    }
    friend bool operator==(const artifact_removed&, const artifact_removed&) = default;
};

// ---- comments (700..799) ----------------------------------------------------

struct comment_added {
    static constexpr std::uint32_t type_id = 700;
    static constexpr std::string_view type_name = "comment.added";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string comment;
    std::string text;

    static constexpr auto fields() {
        return std::tuple{field("task", &comment_added::task),
                          field("comment", &comment_added::comment),
                          field("text", &comment_added::text)};
    }
    friend bool operator==(const comment_added&, const comment_added&) = default;
};

struct comment_edited {
    static constexpr std::uint32_t type_id = 701;
    static constexpr std::string_view type_name = "comment.edited";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string comment;
    std::string text;

    static constexpr auto fields() {
        return std::tuple{field("task", &comment_edited::task),
                          field("comment", &comment_edited::comment),
                          field("text", &comment_edited::text)};
    }
    friend bool operator==(const comment_edited&, const comment_edited&) = default;
};

struct comment_deleted {
    static constexpr std::uint32_t type_id = 702;
    static constexpr std::string_view type_name = "comment.deleted";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string comment;

    static constexpr auto fields() {
        return std::tuple{field("task", &comment_deleted::task),
                          field("comment", &comment_deleted::comment)};
    }
    friend bool operator==(const comment_deleted&, const comment_deleted&) = default;
};

// ---- expert help (800..899) -------------------------------------------------
// target is the journey, module or task the request is about.

struct help_requested {
    static constexpr std::uint32_t type_id = 800;
    static constexpr std::string_view type_name = "help.requested";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    std::string request;
    std::string target;
    help_kind kind;
    std::string description;

    static constexpr auto fields() {
        return std::tuple{
            field("journey", &help_requested::journey), field("request", &help_requested::request),
            field("target", &help_requested::target), field("kind", &help_requested::kind),
            field("description", &help_requested::description)};
    }
    friend bool operator==(const help_requested&, const help_requested&) = default;
};

struct help_accepted {
    static constexpr std::uint32_t type_id = 801;
    static constexpr std::string_view type_name = "help.accepted";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    std::string request;

    static constexpr auto fields() {
        return std::tuple{field("journey", &help_accepted::journey),
                          field("request", &help_accepted::request)};
    }
    friend bool operator==(const help_accepted&, const help_accepted&) = default;
};

struct help_resolved {
    static constexpr std::uint32_t type_id = 802;
    static constexpr std::string_view type_name = "help.resolved";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    std::string request;
    std::string note;

    static constexpr auto fields() {
        return std::tuple{field("journey", &help_resolved::journey),
                          field("request", &help_resolved::request),
                          field("note", &help_resolved::note)};
    }
    friend bool operator==(const help_resolved&, const help_resolved&) = default;
};

struct help_cancelled {
    static constexpr std::uint32_t type_id = 803;
    static constexpr std::string_view type_name = "help.cancelled";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    std::string request;

    static constexpr auto fields() {
        return std::tuple{field("journey", &help_cancelled::journey),
                          field("request", &help_cancelled::request)};
    }
    friend bool operator==(const help_cancelled&, const help_cancelled&) = default;
};
// ---- alerts and notifications (900..999) -------------------------------------
// Raised, escalated and cleared by the scheduler's review of a task, once
// per episode; an alert's id names its task, kind and episode.

struct alert_raised {
    static constexpr std::uint32_t type_id = 900;
    static constexpr std::string_view type_name = "alert.raised";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string alert;  // "<task>/<kind>/<episode>"
    alert_kind kind{};
    std::string reason;

    static constexpr auto fields() {
        return std::tuple{field("task", &alert_raised::task), field("alert", &alert_raised::alert),
                          field("kind", &alert_raised::kind),
                          field("reason", &alert_raised::reason)};
    }
    friend bool operator==(const alert_raised&, const alert_raised&) = default;
};

// Up the ladder: 1 = the journey admins, 2 = the space admins.
struct alert_escalated {
    static constexpr std::uint32_t type_id = 901;
    static constexpr std::string_view type_name = "alert.escalated";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string alert;
    std::uint32_t level{};

    static constexpr auto fields() {
        return std::tuple{field("task", &alert_escalated::task),
                          field("alert", &alert_escalated::alert),
                          field("level", &alert_escalated::level)};
    }
    friend bool operator==(const alert_escalated&, const alert_escalated&) = default;
};

struct alert_cleared {
    static constexpr std::uint32_t type_id = 902;
    static constexpr std::string_view type_name = "alert.cleared";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string alert;
    std::string reason;

    static constexpr auto fields() {
        return std::tuple{field("task", &alert_cleared::task),
                          field("alert", &alert_cleared::alert),
                          field("reason", &alert_cleared::reason)};
    }
    friend bool operator==(const alert_cleared&, const alert_cleared&) = default;
};

struct alert_rules_set {
    static constexpr std::uint32_t type_id = 903;
    static constexpr std::string_view type_name = "alert.rules_set";
    static constexpr std::uint32_t version = 1;

    journey_id journey;
    alert_rules rules;

    static constexpr auto fields() {
        return std::tuple{field("journey", &alert_rules_set::journey),
                          field("rules", &alert_rules_set::rules)};
    }
    friend bool operator==(const alert_rules_set&, const alert_rules_set&) = default;
};

// A notification of an alert at one level, to one recipient on one channel
// ("email", "webhook"), delivered or given up on. message_id is stable for
// (alert, level, channel, recipient): receivers deduplicate by it.
struct notification_sent {
    static constexpr std::uint32_t type_id = 910;
    static constexpr std::string_view type_name = "notification.sent";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string alert;
    std::uint32_t level{};
    std::string channel;
    std::string recipient;
    std::string message_id;

    static constexpr auto fields() {
        return std::tuple{field("task", &notification_sent::task),
                          field("alert", &notification_sent::alert),
                          field("level", &notification_sent::level),
                          field("channel", &notification_sent::channel),
                          field("recipient", &notification_sent::recipient),
                          field("message_id", &notification_sent::message_id)};
    }
    friend bool operator==(const notification_sent&, const notification_sent&) = default;
};

struct notification_failed {
    static constexpr std::uint32_t type_id = 911;
    static constexpr std::string_view type_name = "notification.failed";
    static constexpr std::uint32_t version = 1;

    node_id task;
    std::string alert;
    std::uint32_t level{};
    std::string channel;
    std::string recipient;
    std::string message_id;
    std::string reason;
    std::uint32_t attempts{};

    static constexpr auto fields() {
        return std::tuple{field("task", &notification_failed::task),
                          field("alert", &notification_failed::alert),
                          field("level", &notification_failed::level),
                          field("channel", &notification_failed::channel),
                          field("recipient", &notification_failed::recipient),
                          field("message_id", &notification_failed::message_id),
                          field("reason", &notification_failed::reason),
                          field("attempts", &notification_failed::attempts)};
    }
    friend bool operator==(const notification_failed&, const notification_failed&) = default;
};

// ---- the chain itself (1000..1099) -------------------------------------------
// A signed statement of one partition's chain head: "at signed_at, partition
// `partition` of this log ended at `position` with hash `head_hash`". The
// event is appended right after that head, so head_hash is also its own
// prev_hash; a later rewrite of anything up to `position` needs the private
// key to sign again. Its envelope has no space (it is about the partition)
// and no actor. key_id is the SHA-256 of the public key's DER
// SubjectPublicKeyInfo; signature is the Ed25519 signature of
// checkpoint_message() (signing.h). Both as lower-case hex.
struct chain_checkpoint {
    static constexpr std::uint32_t type_id = 1000;
    static constexpr std::string_view type_name = "chain.checkpoint";
    static constexpr std::uint32_t version = 1;

    std::uint32_t partition{};
    std::uint64_t position{};
    hash_bytes head_hash{};
    timestamp signed_at;
    std::string algorithm;  // "ed25519"
    std::string key_id;
    std::string signature;

    static constexpr auto fields() {
        return std::tuple{field("partition", &chain_checkpoint::partition),
                          field("position", &chain_checkpoint::position),
                          field("head_hash", &chain_checkpoint::head_hash),
                          field("signed_at", &chain_checkpoint::signed_at),
                          field("algorithm", &chain_checkpoint::algorithm),
                          field("key_id", &chain_checkpoint::key_id),
                          field("signature", &chain_checkpoint::signature)};
    }
    friend bool operator==(const chain_checkpoint&, const chain_checkpoint&) = default;
};

// In memory only: the payload of an envelope. Never persisted as a variant;
// the codec writes the alternative's type_id.
using payload =
    std::variant<space_created, space_renamed, space_described, space_deleted, team_created,
                 team_deleted, team_member_added, team_member_removed, role_granted, role_revoked,
                 template_published, journey_created, journey_edited, journey_status_changed,
                 journey_deleted, node_added, node_edited, node_moved, node_scoped, node_deleted,
                 task_assigned, task_status_changed, due_date_set, effort_set, dependency_added,
                 dependency_removed, step_added, step_edited, step_checked, step_removed,
                 task_approved, artifact_uploaded, artifact_removed, comment_added, comment_edited,
                 comment_deleted, help_requested, help_accepted, help_resolved, help_cancelled,
                 alert_raised, alert_escalated, alert_cleared, alert_rules_set, notification_sent,
                 notification_failed, chain_checkpoint>;

// The CloudEvents major of each type; a new major is a new type_id.
inline constexpr std::uint32_t type_major = 1;

std::uint32_t type_id_of(const payload& p);
std::string_view type_name_of(const payload& p);
std::uint32_t version_of(const payload& p);
// "io.migops.space.created.v1"
const std::string& cloudevents_type_of(const payload& p);

// Visits every type in the catalogue: f(std::type_identity<E>{}).
template <class F>
void for_each_event_type(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::type_identity<std::variant_alternative_t<I, payload>>{}), ...);
    }
    (std::make_index_sequence<std::variant_size_v<payload>>{});
}

}  // namespace migops::events
