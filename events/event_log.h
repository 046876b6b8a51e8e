#pragma once
// The log of record: per partition, an append-only, hash-chained sequence
// of events. RocksLog (embedded) and KafkaLog implement it; the engine and
// everything above see only this interface.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "events/envelope.h"
#include "events/result.h"

namespace migops::events {

struct appended {
    position first = 0;
    position last = 0;
};

// One partition's share of a group append.
struct partition_batch {
    partition_id partition = 0;
    std::span<const envelope> events;
};

class event_log {
  public:
    // Called after a batch is durable, on the appending thread, in log
    // order per partition. Must be quick and must not call back into append.
    using listener = std::function<void(partition_id, std::span<const envelope>)>;

    virtual ~event_log() = default;

    virtual std::uint32_t partitions() const = 0;
    virtual chain_head head(partition_id p) const = 0;

    // Makes a batch of one partition's events durable as one unit (one sync):
    // all of it or none of it. The events are sealed (see codec.h) and must
    // continue the partition's chain.
    result<appended> append(partition_id p, std::span<const envelope> batch) {
        const partition_batch one{p, batch};
        if (auto r = append_group({&one, 1}); !r) return failure(r.error());
        return appended{batch.front().pos, batch.back().pos};
    }

    // Group commit: the batches of several partitions (a partition may
    // appear more than once, in chain order) made durable as one unit, with
    // one sync.
    virtual result<void> append_group(std::span<const partition_batch> group) = 0;

    // Whether the log can hold e, a sealed event, at all: a log whose
    // records have a size limit (KafkaLog) refuses a larger one as
    // errc::limit_exceeded, so that its writer refuses that command alone
    // instead of failing the group it would have joined.
    virtual result<void> admits(const envelope& /*e*/) const { return success(); }

    // Makes partition p writable again after a failed append, before its
    // writer re-reads it: a log whose failed append may have reached its
    // store anyway (KafkaLog) learns here what really landed and adds it to
    // what read() returns. Fails (errc::unavailable) while that cannot be
    // known yet; the writer tries again later. A log that never writes half
    // has nothing to do.
    virtual result<void> restore(partition_id /*p*/) { return success(); }

    // Up to max events of partition p from position `from` on.
    virtual result<std::vector<envelope>> read(partition_id p, position from,
                                               std::size_t max) const = 0;

    virtual std::uint64_t subscribe(listener l) = 0;
    virtual void unsubscribe(std::uint64_t token) = 0;
};

// The event at position pos of partition p; errc::corruption when the log
// does not hold it (the caller learnt of it from an index).
result<envelope> read_event(const event_log& log, partition_id p, position pos);

// The partition of a space: FNV-1a 64 of the id, modulo the partition count.
// Persisted meaning: changing it re-partitions every data directory.
partition_id partition_of(const space_id& space, std::uint32_t partitions);

}  // namespace migops::events
