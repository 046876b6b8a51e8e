#pragma once
// The log read once for several runners that replay it together: a rebuild
// replays every read model from position 1, each on a thread of its own,
// and without this each of them would read and decode every event.
//
// The first reader to ask for a chunk (partition, from) reads it from the
// log; the others get the same decoded events. A chunk is let go once every
// reader has asked for one after it (readers go through the partitions in
// order, and through each from its start). A reader that asks for a chunk
// no one has read yet while it is ahead of the slowest reader and `ahead`
// chunks are held waits, so memory stays bounded; the slowest reader never
// waits. A reader that finishes, or fails, says so with done(), so that no
// one waits for it.

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "events/event_log.h"
#include "projections/runner.h"

namespace migops::projections {

class shared_reads {
  public:
    shared_reads(const events::event_log& log, std::size_t readers, std::size_t ahead = 8);
    shared_reads(const shared_reads&) = delete;
    shared_reads& operator=(const shared_reads&) = delete;

    // Reader `reader`'s catch-up reads through this.
    chunk_reader reader(std::size_t reader);
    // Reader `reader` reads no more.
    void done(std::size_t reader);

    // Chunks read from the log so far, chunks held now, and the most ever
    // held at once (for tests).
    std::size_t log_reads() const;
    std::size_t held() const;
    std::size_t most_held() const;

  private:
    using key = std::pair<partition_id, position>;
    // A chunk, or nothing while its reader reads it.
    using entry = std::optional<result<chunk>>;
    result<chunk> read(std::size_t reader, partition_id p, position from, std::size_t max);
    // Whether reader i is ahead of some other reader still reading.
    bool ahead_of_slowest(std::size_t i) const;
    // Drops the chunks every reader has gone past.
    void let_go();

    const events::event_log& log_;
    const std::size_t ahead_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<key, entry> chunks_;
    // Each reader's last request; nullopt once done.
    std::vector<std::optional<key>> at_;
    std::size_t log_reads_ = 0;
    std::size_t most_held_ = 0;
};

}  // namespace migops::projections
