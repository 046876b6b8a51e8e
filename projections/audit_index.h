#pragma once
// The audit index: small keys per event so that history can be asked by
// space, journey, task (any node), actor, event type and time without
// scanning the log. The index holds no event content: a query answers
// (partition, position) pairs and the caller reads the events from the log.
//
// Rows (persisted format 2; ids are written as a BE32 length and the
// bytes, so that no id is a prefix of another's key; times are BE64
// microseconds with the sign bit flipped, so that bytewise order is time
// order):
//   s/<space><BE64 position>       every event of the space
//   j/<journey><BE64 position>     every event about the journey or a node in it
//   n/<node><BE64 position>        every event about the node (task, subtask,
//                                  module or phase)
//   a/<actor><BE32 partition><BE64 time><BE64 position>
//   y/<BE32 type id><BE32 partition><BE64 time><BE64 position>
//   m/<BE32 partition><BE64 time><BE64 position>
//   h/<help request>               → the request's target, so that a help
//                                  request's later events find its task
//   t/<BE32 partition>             → the partition's index time (below)
// A space and everything in it lives in one partition, so s/, j/ and n/
// are ordered by position (log order). a/, y/ and m/ span partitions: each
// holds one run per partition, ordered by time and position, and a query
// merges the runs into time order, then partition and position.
//
// The time a/, y/ and m/ hold is the event's index time: the latest time
// of its partition's events up to it. It is the event's own time unless a
// clock went back; such an event is found, and ordered, at the time of the
// earlier event. This keeps each partition's run in position order.
//
// Every index entry is the same small record (version byte 1, partition,
// position, type id, time, space, actor; in a/, y/ and m/ the time is the
// index time), so that a query filters on the conditions its index does
// not cover without reading the event.
//
// Every index keeps the entries one batch adds to an id (and, for a/, y/
// and m/, a partition) in blocks of up to audit_block_entries: one row
// keyed by its last entry, whose value is version byte 2 then each entry as
// a BE32 length and its record (a lone entry is a row of its own, as
// above). Keyed by their last entry, the blocks of a run never overlap, and
// a seek to an entry's key lands on the block that holds it. A rebuild,
// which applies thousands of events per batch, writes a few rows where it
// wrote one per event; which entries a block holds depends on the batches,
// so two builds of the index are compared entry by entry
// (audit_index_entries).
//
// Format 1 had one row per event in a/, y/ and m/, keyed by time before
// partition; an index of format 1 is replayed from the log.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "events/rocks_store.h"
#include "projections/runner.h"

namespace migops::projections {

// The ids an event names by itself, without what earlier events said: the
// nodes its task, node and parent fields name, every node a new journey
// creates, a help request's target (a journey, module or task), and the
// journeys its journey fields name. The audit index and the stream's
// filters read events through it.
void for_each_named_id(const events::payload& data,
                       const std::function<void(std::string_view node)>& on_node,
                       const std::function<void(std::string_view journey)>& on_journey);

class audit_index final : public projection {
  public:
    std::string name() const override { return "audit_index"; }
    std::uint32_t format() const override { return 2; }
    result<void> apply(const events::envelope& e, rows& r) override;
    // Its reads (a help request's target, a partition's index time) are
    // answered for what the batch wrote from memory.
    bool reads_own_writes() const override { return false; }
    // A run is an id's entries (and, in a/, y/ and m/, one partition's):
    // their key without the time and position. Any other row is a run of
    // its own.
    std::shared_ptr<const rocksdb::SliceTransform> row_runs() const override;
    result<void> flush(rows&) override;
    void discard() override;
    void reset() override { discard(); }

  private:
    // An entry of the batch, for its block.
    struct pending {
        std::uint64_t time_bits = 0;  // the index time; a/, y/, m/ only
        position pos = 0;
        std::uint32_t record = 0;  // in records_
    };
    // The index time of e, which it advances.
    result<std::uint64_t> index_time(const events::envelope& e, rows& r);
    void add(std::uint64_t time_bits, position pos, std::uint32_t record);

    // The help requests of the batch being applied → their targets.
    std::map<std::string, std::string, std::less<>> help_targets_;
    // The batch's entries, by the key prefix of their run (id, and
    // partition for a timed index), in log order; written as blocks by
    // flush().
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::vector<pending>, string_hash, std::equal_to<>> blocks_;
    std::vector<std::string> records_;  // the batch's entry records
    std::string key_;                   // the prefix being looked up
    // Each partition's index time as far as this batch has applied, for the
    // partitions seen since the last discard; the batch's changes are
    // written by flush().
    std::map<partition_id, std::uint64_t> index_times_;
    std::set<partition_id> index_times_changed_;
};

// At most this many entries in one row of an index.
inline constexpr std::size_t audit_block_entries = 128;

// At most this many events per page.
inline constexpr std::size_t audit_max_limit = 1000;
// A page stops after visiting this many index entries, even when it holds
// fewer than `limit` events (it then has a cursor), so that a query whose
// filters reject most of what its index holds cannot scan without bound.
inline constexpr std::size_t audit_default_scan_budget = 50'000;

struct audit_query {
    // Conditions; an empty id or an absent value is no condition. All given
    // conditions must hold.
    space_id space;
    journey_id journey;
    node_id task;  // any node: task, subtask, module or phase
    user_id actor;
    std::optional<std::uint32_t> type_id;
    // time >= since, time < until: the index time when the query is
    // answered from a/, y/ or m/ (no space, journey or task named).
    std::optional<timestamp> since;
    std::optional<timestamp> until;
    // Only events of spaces for which this holds (when set).
    std::function<bool(const space_id&)> space_allowed;

    std::string after_cursor;  // the next_cursor of the previous page, or ""
    std::size_t limit = 100;   // 1 … audit_max_limit
    std::size_t scan_budget = audit_default_scan_budget;
};

struct audit_hit {
    partition_id partition = 0;
    position pos = 0;
    friend bool operator==(const audit_hit&, const audit_hit&) = default;
};

struct audit_page {
    std::vector<audit_hit> hits;
    // Set when there may be more; pass it as after_cursor for the next page.
    std::optional<std::string> next_cursor;
    // Index entries read to answer the page (instrumentation for tests).
    std::uint64_t visited = 0;
};

// Answers one page from the most selective index the query names
// (task > journey > space > actor > type > time), filtering the other
// conditions. A cursor that is not one of this query's index keys is
// errc::invalid_argument, as are a limit outside 1 … audit_max_limit and
// since after until.
result<audit_page> query_audit_index(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                     const audit_query& q);

// One event of a space, as its index holds it.
struct space_event {
    position pos = 0;
    timestamp time;
    friend bool operator==(const space_event&, const space_event&) = default;
};

// The events of a space with positions in (after, up_to], in log order, at
// most limit of them (the as-of reads replay a space's tail from these).
result<std::vector<space_event>> space_events(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                              const space_id& space, position after, position up_to,
                                              std::size_t limit);

// Every row of the index, with each block opened into its entries, each
// under its own key (the key a row of that entry alone has): what the
// index holds, whatever batches wrote it.
result<std::map<std::string, std::string>> audit_index_entries(rocksdb::DB& db,
                                                               rocksdb::ColumnFamilyHandle* cf);

// The type id of an event type named by its CloudEvents type
// ("io.migops.task.status_changed.v1") or its short name
// ("task.status_changed").
std::optional<std::uint32_t> event_type_id(std::string_view name);

}  // namespace migops::projections
