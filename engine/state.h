#pragma once
// The in-memory state of one partition: a fold of its events (DESIGN.md
// invariant 1). Owned and mutated only by the partition's thread. Ordered
// maps keep iteration (and so decisions and comparisons) deterministic.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/content.h"
#include "events/envelope.h"
#include "events/types.h"
#include "events/vocabulary.h"

namespace migops::engine {

using events::node_kind;
using events::role;

// Who holds which role on a space or a journey.
struct grants {
    std::map<user_id, role> users;
    std::map<team_id, role> teams;
    friend bool operator==(const grants&, const grants&) = default;
};

struct team_state {
    team_id id;
    std::string name;
    std::set<user_id> members;
    friend bool operator==(const team_state&, const team_state&) = default;
};

struct artifact_state {
    std::string name;
    std::string media_type;
    std::uint64_t size = 0;
    std::string sha256;
    user_id uploader;
    timestamp uploaded_at;
    friend bool operator==(const artifact_state&, const artifact_state&) = default;
};

struct comment_state {
    std::string id;
    user_id author;
    std::string text;
    timestamp at;
    bool edited = false;
    friend bool operator==(const comment_state&, const comment_state&) = default;
};

struct step_state {
    std::string id;
    std::string text;
    bool checked = false;
    friend bool operator==(const step_state&, const step_state&) = default;
};

struct alert_state {
    std::string id;           // "<task>/<kind>/<episode>"
    std::uint32_t level = 0;  // 0 the assignee, 1 the journey admins, 2 the space admins
    timestamp raised_at;
    friend bool operator==(const alert_state&, const alert_state&) = default;
};

// A phase, module, task or subtask.
struct node_state {
    node_id id;
    node_kind kind = node_kind::task;
    node_id parent;  // empty for phases
    std::string title;
    std::string description;
    std::vector<std::string> tools;
    std::vector<events::guidance_link> links;
    bool in_scope = true;
    std::vector<node_id> children;  // in rank order
    // tasks and subtasks
    events::task_status status = events::task_status::planned;
    std::string blocked_reason;
    user_id assignee_user;
    team_id assignee_team;
    std::optional<timestamp> due;
    std::uint32_t estimated_minutes = 0;
    std::uint32_t spent_minutes = 0;
    std::set<node_id> dependencies;
    std::vector<events::criterion_spec> criteria;
    std::vector<step_state> steps;
    std::map<std::string, artifact_state> artifacts;
    std::vector<comment_state> comments;
    std::set<user_id> approvals;  // journey admins who signed off since the last change
    events::completion_evidence evidence;
    std::uint32_t next_step = 1;
    std::uint32_t next_comment = 1;
    std::optional<timestamp> blocked_since;
    std::map<events::alert_kind, alert_state> alerts;  // active ones
    std::uint32_t alert_episodes = 0;
    std::set<std::string> notified;                           // message ids delivered
    std::map<std::string, std::string> failed_notifications;  // message id → why
    position version = 0;

    bool is_task() const { return kind == node_kind::task || kind == node_kind::subtask; }
    friend bool operator==(const node_state&, const node_state&) = default;
};

struct help_state {
    std::string id;
    std::string target;
    events::help_kind kind = events::help_kind::task_assistance;
    std::string description;
    user_id requested_by;
    user_id accepted_by;
    enum class stage : std::uint8_t { open, accepted, resolved, cancelled } at = stage::open;
    std::string note;
    timestamp opened_at;
    std::optional<timestamp> closed_at;
    bool active() const { return at == stage::open || at == stage::accepted; }
    friend bool operator==(const help_state&, const help_state&) = default;
};

struct journey_state {
    journey_id id;
    std::string name;
    std::string description;
    std::optional<timestamp> target_date;
    std::string template_id;
    std::string template_version;
    std::string template_hash;
    journey_id copied_from;
    events::journey_status status = events::journey_status::not_started;
    grants members;
    std::vector<node_id> phases;  // in rank order
    std::map<node_id, node_state> nodes;
    std::map<std::string, help_state> help;
    std::uint32_t next_node = 1;
    std::uint32_t next_help = 1;
    std::uint32_t task_count = 0;  // tasks + subtasks
    events::alert_rules rules;
    position version = 0;
    friend bool operator==(const journey_state&, const journey_state&) = default;
};

struct space_state {
    space_id id;
    std::string name;
    std::string description;
    user_id created_by;
    timestamp created_at;
    bool deleted = false;
    grants members;
    std::map<team_id, team_state> teams;
    std::set<journey_id> journeys;
    std::uint32_t next_team = 1;
    std::uint32_t next_journey = 1;
    position version = 0;  // position of the last event that changed it
    friend bool operator==(const space_state&, const space_state&) = default;
};

struct published_template {
    events::template_spec content;
    std::string content_hash;
    friend bool operator==(const published_template&, const published_template&) = default;
};

struct partition_state {
    std::map<space_id, space_state> spaces;
    std::map<journey_id, journey_state> journeys;
    // (template id, version) → content; only in the partition of
    // template_space_id.
    std::map<std::pair<std::string, std::string>, published_template> templates;
    events::chain_head head;
    position last_checkpoint = 0;  // of the last chain.checkpoint event

    const space_state* space(const space_id& id) const;
    const journey_state* journey(const journey_id& id) const;
    const node_state* node(const node_id& id) const;
    friend bool operator==(const partition_state&, const partition_state&) = default;
};

// The journey an id inside it belongs to ("<space>.j3.n17" → "<space>.j3").
journey_id journey_of_id(std::string_view id);

// A task is waiting while one of its in-scope dependencies is not completed.
bool is_waiting(const journey_state& j, const node_state& task);

}  // namespace migops::engine
