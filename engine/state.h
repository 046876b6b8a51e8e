#pragma once
// The in-memory state of one partition: a fold of its events (DESIGN.md
// invariant 1). Owned and mutated only by the partition's thread. Ordered
// maps keep iteration (and so decisions and comparisons) deterministic.
//
// Each struct lists its fields (events/fields.h) for the state snapshots
// behind as-of reads (snapshot.h): a field added to a struct is added to
// its fields() too, with the rules of fields.h (append only, bump version).

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/content.h"
#include "events/envelope.h"
#include "events/fields.h"
#include "events/types.h"
#include "events/vocabulary.h"

namespace migops::engine {

using events::field;
using events::node_kind;
using events::role;

// Who holds which role on a space or a journey.
struct grants {
    std::map<user_id, role> users;
    std::map<team_id, role> teams;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("users", &grants::users), field("teams", &grants::teams)};
    }
    friend bool operator==(const grants&, const grants&) = default;
};

struct team_state {
    team_id id;
    std::string name;
    std::set<user_id> members;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &team_state::id), field("name", &team_state::name),
                          field("members", &team_state::members)};
    }
    friend bool operator==(const team_state&, const team_state&) = default;
};

struct artifact_state {
    std::string name;
    std::string media_type;
    std::uint64_t size = 0;
    std::string sha256;
    user_id uploader;
    timestamp uploaded_at;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("name", &artifact_state::name),
                          field("media_type", &artifact_state::media_type),
                          field("size", &artifact_state::size),
                          field("sha256", &artifact_state::sha256),
                          field("uploader", &artifact_state::uploader),
                          field("uploaded_at", &artifact_state::uploaded_at)};
    }
    friend bool operator==(const artifact_state&, const artifact_state&) = default;
};

struct comment_state {
    std::string id;
    user_id author;
    std::string text;
    timestamp at;
    bool edited = false;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &comment_state::id), field("author", &comment_state::author),
                          field("text", &comment_state::text), field("at", &comment_state::at),
                          field("edited", &comment_state::edited)};
    }
    friend bool operator==(const comment_state&, const comment_state&) = default;
};

struct step_state {
    std::string id;
    std::string text;
    bool checked = false;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &step_state::id), field("text", &step_state::text),
                          field("checked", &step_state::checked)};
    }
    friend bool operator==(const step_state&, const step_state&) = default;
};

struct alert_state {
    std::string id;           // "<task>/<kind>/<episode>"
    std::uint32_t level = 0;  // 0 the assignee, 1 the journey admins, 2 the space admins
    timestamp raised_at;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &alert_state::id), field("level", &alert_state::level),
                          field("raised_at", &alert_state::raised_at)};
    }
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
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &node_state::id),
                          field("kind", &node_state::kind),
                          field("parent", &node_state::parent),
                          field("title", &node_state::title),
                          field("description", &node_state::description),
                          field("tools", &node_state::tools),
                          field("links", &node_state::links),
                          field("in_scope", &node_state::in_scope),
                          field("children", &node_state::children),
                          field("status", &node_state::status),
                          field("blocked_reason", &node_state::blocked_reason),
                          field("assignee_user", &node_state::assignee_user),
                          field("assignee_team", &node_state::assignee_team),
                          field("due", &node_state::due),
                          field("estimated_minutes", &node_state::estimated_minutes),
                          field("spent_minutes", &node_state::spent_minutes),
                          field("dependencies", &node_state::dependencies),
                          field("criteria", &node_state::criteria),
                          field("steps", &node_state::steps),
                          field("artifacts", &node_state::artifacts),
                          field("comments", &node_state::comments),
                          field("approvals", &node_state::approvals),
                          field("evidence", &node_state::evidence),
                          field("next_step", &node_state::next_step),
                          field("next_comment", &node_state::next_comment),
                          field("blocked_since", &node_state::blocked_since),
                          field("alerts", &node_state::alerts),
                          field("alert_episodes", &node_state::alert_episodes),
                          field("notified", &node_state::notified),
                          field("failed_notifications", &node_state::failed_notifications),
                          field("version", &node_state::version)};
    }
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
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &help_state::id),
                          field("target", &help_state::target),
                          field("kind", &help_state::kind),
                          field("description", &help_state::description),
                          field("requested_by", &help_state::requested_by),
                          field("accepted_by", &help_state::accepted_by),
                          field("at", &help_state::at),
                          field("note", &help_state::note),
                          field("opened_at", &help_state::opened_at),
                          field("closed_at", &help_state::closed_at)};
    }
    friend bool operator==(const help_state&, const help_state&) = default;
};

// A journey's nodes by id. They are kept in a std::map, so that they are
// iterated (and so stored, compared and decided on) in id order, with a hash
// index beside it for lookups: a lookup in the map compares ids down about
// log2(n) tree nodes, each a cache miss once a partition's journeys outgrow
// the cache, where the index reaches the node in two or three reads of
// memory. The index
// holds each node's map iterator under a view of its key, which lives in
// the map's node and so stays put until the node is erased.
class node_map {
  public:
    using map_type = std::map<node_id, node_state>;
    using key_type = node_id;
    using mapped_type = node_state;
    using value_type = map_type::value_type;
    using iterator = map_type::iterator;
    using const_iterator = map_type::const_iterator;

    node_map() = default;
    node_map(const node_map& other) : nodes_(other.nodes_) { reindex(); }
    node_map(node_map&& other) noexcept
        : nodes_(std::move(other.nodes_)), index_(std::move(other.index_)) {
        other.clear();
    }
    node_map& operator=(const node_map& other) {
        if (this != &other) {
            nodes_ = other.nodes_;
            reindex();
        }
        return *this;
    }
    node_map& operator=(node_map&& other) noexcept {
        if (this != &other) {
            nodes_ = std::move(other.nodes_);
            index_ = std::move(other.index_);
            other.clear();
        }
        return *this;
    }
    ~node_map() = default;

    iterator begin() { return nodes_.begin(); }
    iterator end() { return nodes_.end(); }
    const_iterator begin() const { return nodes_.begin(); }
    const_iterator end() const { return nodes_.end(); }
    std::size_t size() const { return nodes_.size(); }
    bool empty() const { return nodes_.empty(); }

    iterator find(const node_id& id) {
        const auto it = index_.find(std::string_view(id.value));
        return it == index_.end() ? nodes_.end() : it->second;
    }
    const_iterator find(const node_id& id) const {
        const auto it = index_.find(std::string_view(id.value));
        return it == index_.end() ? nodes_.end() : const_iterator(it->second);
    }
    bool contains(const node_id& id) const { return index_.contains(std::string_view(id.value)); }
    node_state& at(const node_id& id) { return found(find(id), id)->second; }
    const node_state& at(const node_id& id) const { return found(find(id), id)->second; }
    node_state& operator[](const node_id& id) {
        if (const auto it = find(id); it != end()) return it->second;
        return add(end(), id, node_state{})->second;
    }
    // As std::map's (the hint too); the stored form of the state loads
    // through it.
    iterator insert_or_assign(const_iterator hint, node_id id, node_state n) {
        if (const auto it = find(id); it != end()) {
            it->second = std::move(n);
            return it;
        }
        return add(hint, std::move(id), std::move(n));
    }
    std::size_t erase(const node_id& id) {
        const auto at = index_.find(std::string_view(id.value));
        if (at == index_.end()) return 0;
        const auto it = at->second;
        index_.erase(at);  // before the key it views goes
        nodes_.erase(it);
        return 1;
    }
    void clear() {
        index_.clear();
        nodes_.clear();
    }

    friend bool operator==(const node_map& a, const node_map& b) { return a.nodes_ == b.nodes_; }

  private:
    // A node whose id the map does not hold yet.
    iterator add(const_iterator hint, node_id id, node_state n) {
        const auto it = nodes_.emplace_hint(hint, std::move(id), std::move(n));
        index_.emplace(std::string_view(it->first.value), it);
        return it;
    }
    template <class It>
    It found(It it, const node_id& id) const {
        if (it == nodes_.end()) throw std::out_of_range("no node " + id.value);
        return it;
    }
    void reindex() {
        index_.clear();
        index_.reserve(nodes_.size());
        for (auto it = nodes_.begin(); it != nodes_.end(); ++it)
            index_.emplace(std::string_view(it->first.value), it);
    }

    map_type nodes_;
    std::unordered_map<std::string_view, iterator> index_;
};

// The stages of a help request by name ("open", "accepted", …).
std::string_view to_string(help_state::stage s);
bool parse(std::string_view name, help_state::stage& out);

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
    node_map nodes;
    std::map<std::string, help_state> help;
    std::uint32_t next_node = 1;
    std::uint32_t next_help = 1;
    std::uint32_t task_count = 0;  // tasks + subtasks
    events::alert_rules rules;
    position version = 0;
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &journey_state::id),
                          field("name", &journey_state::name),
                          field("description", &journey_state::description),
                          field("target_date", &journey_state::target_date),
                          field("template_id", &journey_state::template_id),
                          field("template_version", &journey_state::template_version),
                          field("template_hash", &journey_state::template_hash),
                          field("copied_from", &journey_state::copied_from),
                          field("status", &journey_state::status),
                          field("members", &journey_state::members),
                          field("phases", &journey_state::phases),
                          field("nodes", &journey_state::nodes),
                          field("help", &journey_state::help),
                          field("next_node", &journey_state::next_node),
                          field("next_help", &journey_state::next_help),
                          field("task_count", &journey_state::task_count),
                          field("rules", &journey_state::rules),
                          field("version", &journey_state::version)};
    }
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
    static constexpr std::uint32_t format_version = 1;
    static constexpr auto fields() {
        return std::tuple{field("id", &space_state::id),
                          field("name", &space_state::name),
                          field("description", &space_state::description),
                          field("created_by", &space_state::created_by),
                          field("created_at", &space_state::created_at),
                          field("deleted", &space_state::deleted),
                          field("members", &space_state::members),
                          field("teams", &space_state::teams),
                          field("journeys", &space_state::journeys),
                          field("next_team", &space_state::next_team),
                          field("next_journey", &space_state::next_journey),
                          field("version", &space_state::version)};
    }
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

// Whether a task in this status is still to be done: any status but
// completed and out of scope. An in-scope task that is keeps the tasks that
// depend on it waiting, and its parent from completing.
bool is_open(events::task_status s);
// A task is waiting while one of its in-scope dependencies is open.
bool is_waiting(const journey_state& j, const node_state& task);

}  // namespace migops::engine

namespace migops::events {
// Stored as the std::map it keeps (fields.h).
template <>
struct is_map<engine::node_map> : std::true_type {};
}  // namespace migops::events
