#pragma once
// The board read model: what the API shows of spaces, journeys and tasks.
//
// It folds durable events into the engine's own state (engine::apply, one
// fold for the write and the read side) and, after each batch, renders what
// the batch changed into rows, written with the checkpoint:
//   "space/<space>"                 the space overview (members, teams, journeys with progress)
//   "journey/<journey>"             the journey board (the whole tree with progress)
//   "task/<task>"                   a task with its details
//   "assigned/u/<user>/<task>"      a task summary per direct assignee
//   "assigned/t/<team>/<task>"      a task summary per assigned team
//   "team_of/<user>/<team>"         the teams a user belongs to
//   "reader/<user>/<space>"         the spaces a user may read
//   "template/<id>/<version>"       a published template
//   "snapshot/…", "snapshot_time/…" the space as it was, now and then (as_of.h)
// The fold is rebuilt in memory on start from the log (restore); who may
// read which space is answered from it, under a shared lock, by any thread.
// Rows and lookups are read by the HTTP threads; apply, flush and the
// listeners run on the runner's thread.

#include <functional>
#include <map>
#include <set>
#include <shared_mutex>
#include <span>

#include "engine/state.h"
#include "projections/as_of.h"
#include "projections/listeners.h"
#include "projections/runner.h"
#include "projections/views.h"

namespace migops::projections {

class board final : public projection {
  public:
    std::string name() const override { return "board"; }
    // Format 2: snapshots after snapshot_due events of their space (as_of.h);
    // format 1 took one every 1,000.
    std::uint32_t format() const override { return 2; }
    result<void> apply(const events::envelope& e, rows& r) override;
    // Rendered from the fold in memory, never read back while applying.
    bool reads_own_writes() const override { return false; }
    result<void> flush(rows& r) override;
    void committed(std::span<const events::envelope> batch) override;
    bool keeps_memory() const override { return true; }
    // Its rows are written again and again: each key is a run.
    std::shared_ptr<const rocksdb::SliceTransform> row_runs() const override;
    void restore(const events::envelope& e) override;
    void restored() override;
    void reset() override;

    // True when the user holds a role on the space, on one of its journeys,
    // directly or through a team.
    bool may_read(const user_id& user, const space_id& space) const;
    // The strongest role the user holds on the journey (space roles
    // included), or role::none.
    events::role role_in_journey(const user_id& user, const journey_id& journey) const;

    // Who holds which role in the space now (views.h members_view), or
    // nothing when there is no such space.
    std::optional<boost::json::object> members_of(const space_id& space) const;

    // Called on the runner's thread with every committed batch, in log
    // order, after the rows were written; for live subscribers.
    using listener = std::function<void(std::span<const events::envelope>)>;
    std::uint64_t listen(listener l);
    void unlisten(std::uint64_t token);

    // Row readers for the API (any thread).
    static result<std::optional<std::string>> get(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                  std::string_view key);
    // Values of the rows whose keys start with prefix, in key order; at
    // most limit of them, starting after the key `after` when given.
    struct row {
        std::string key;
        std::string value;
    };
    static result<std::vector<row>> scan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                         std::string_view prefix, std::size_t limit,
                                         std::string_view after = {});

  private:
    // Per space, for its snapshots: its events since the last snapshot
    // (0 right after the event that takes one), how many of them the next
    // one waits for (snapshot_due, set at the snapshot_interval-th), and
    // the latest time of its events.
    struct space_tally {
        std::uint64_t since = 0;
        std::uint64_t due = snapshot_interval;
        timestamp latest;
    };
    // Returns the event's space's tally (null for an event without one).
    const space_tally* fold(const events::envelope& e, bool track);
    void mark_task_tree(const engine::journey_state& j, const node_id& id);
    void mark_task_tree(const engine::journey_state& j, const engine::node_state& n);
    void mark_ancestors(const engine::journey_state& j, const node_id& id);
    void mark_ancestors(const engine::journey_state& j, const engine::node_state& n);
    void mark_dependents(const engine::journey_state& j, const node_id& id);
    void mark_subtree_dependents(const engine::journey_state& j, const node_id& id);
    // Drops the module text the node shows in: its module's (the node's own
    // for a module), every module's of a phase.
    void drop_module_text(const engine::journey_state& j, const node_id& id);
    void write_snapshot(const events::envelope& e, const space_tally& tally, rows& r) const;
    static std::set<user_id> readers_of(const engine::partition_state& s,
                                        const engine::space_state& sp);

    mutable std::shared_mutex mutex_;  // guards states_ and readers_ against lookups
    std::map<partition_id, engine::partition_state> states_;
    std::map<space_id, std::set<user_id>> readers_;
    // What the rows hold of each task's assignment: (user, team).
    std::map<node_id, std::pair<user_id, team_id>> assigned_;
    // Each journey's entry in its space's overview (views.h
    // journey_entry_json) as last rendered; a changed journey's is rendered
    // again with the journey.
    std::map<journey_id, std::string> journey_entry_;
    // The module tasks' text in the journey rows as last rendered (views.h
    // journey_json); a changed task's is dropped and rendered again.
    std::map<node_id, std::string> task_text_;
    // Each module's progress and text in the journey rows as last rendered
    // (views.h append_module_json), dropped when one of its tasks, the
    // module or what it holds changes.
    struct rendered_module {
        progress p;
        std::string text;
    };
    std::map<node_id, rendered_module> module_text_;
    // The journey row being rendered (its capacity kept from row to row).
    std::string journey_text_;
    // Where each space is between its snapshots: kept on restore too, so
    // that a restart and a rebuild write the same snapshots.
    std::map<space_id, space_tally> tallies_;
    // Per journey, the tasks that depend on each node: made from the fold
    // when first asked, dropped by an event that may change dependencies
    // (a status change then finds the tasks waiting on it without a scan).
    std::map<journey_id, std::map<node_id, std::vector<node_id>>> dependents_;

    // Changed by the batch being applied.
    std::set<space_id> dirty_spaces_;
    std::set<journey_id> dirty_journeys_;
    std::set<node_id> dirty_tasks_;

    listener_list<std::span<const events::envelope>> listeners_;
};

}  // namespace migops::projections
