#pragma once
// As-of reads: a space as it was after a position of its partition, or at
// a time, from the board's snapshots of the space plus a replay of the
// space's events after the snapshot (found through the audit index, read
// from the log, folded with the engine's apply).
//
// The board writes a snapshot of a space after some of its events
// (snapshot_due; board rows, persisted format):
//   "snapshot/<space>/<BE64 position>"                 engine::space_snapshot
//   "snapshot_time/<space>/<BE64 time><BE64 position>" "" — by the latest
//                                                      event time up to there
// A time here is the running maximum of the space's event times, so both
// keys are in the same order, and "the space at time t" is the space after
// its longest run of events whose times are all at most t.

#include <algorithm>
#include <optional>
#include <string>

#include <rocksdb/db.h>

#include "engine/state.h"
#include "events/event_log.h"

namespace migops::projections {

// Events of a space between two snapshots: snapshot_due(n) for a space
// of n nodes (phases, modules, tasks and subtasks of all its journeys, as
// counted at the snapshot_interval-th event after the last snapshot). A
// snapshot is about as large as the space's nodes, so a space takes one
// every snapshot_events_per_node events per node: what snapshots write
// stays a small, bounded share of what the space's events cost, whatever
// its size. At least snapshot_interval events apart, so that a small
// space does not write one at every few events; at most
// snapshot_max_interval, so that an as-of read replays at most that many
// events after its snapshot.
inline constexpr std::uint64_t snapshot_interval = 1000;
inline constexpr std::uint64_t snapshot_events_per_node = 8;
inline constexpr std::uint64_t snapshot_max_interval = 10'000;
constexpr std::uint64_t snapshot_due(std::uint64_t nodes) {
    return std::clamp(nodes * snapshot_events_per_node, snapshot_interval, snapshot_max_interval);
}

std::string snapshot_key(const space_id& space, position pos);
std::string snapshot_time_key(const space_id& space, timestamp latest, position pos);

// The moment to show: after a position of the space's partition, or at a
// time.
struct as_of_point {
    std::optional<position> pos;
    std::optional<timestamp> time;
};

struct past_space {
    engine::partition_state state;  // the space and its journeys as they were
    position pos = 0;               // the last event of the space folded in (0: none)
    std::optional<timestamp> time;  // the latest time of the space's events up to pos
    std::uint64_t replayed = 0;     // events folded after the snapshot
};

// The audit index must hold the partition up to the moment asked for; a
// snapshot that does not decode is passed over for an older one.
result<past_space> space_as_of(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* board_cf,
                               rocksdb::ColumnFamilyHandle* audit_cf, const events::event_log& log,
                               const space_id& space, const as_of_point& at);

}  // namespace migops::projections
