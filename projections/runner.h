#pragma once
// Feeds read models (projections) with durable events, in log order per
// partition, and keeps each one's checkpoint in the same WriteBatch as its
// rows (DESIGN.md invariant 4): after a crash a projection resumes exactly
// after the last event whose rows it wrote, with no loss and no double
// counting.
//
// Lifecycle: construct → start() (subscribes to the log first, then catches
// up from the checkpoint, then applies what arrived meanwhile, skipping what
// the catch-up already covered) → stop(). Live events are handed over by
// the log's listener and applied on the runner's own thread, so a slow
// projection never slows the log writer.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/utilities/write_batch_with_index.h>

#include "events/event_log.h"
#include "events/rocks_store.h"
#include "projections/checkpoint.h"

namespace migops::projections {

// The rows of one projection while a batch of events is applied. With an
// indexed batch, reads see the batch's own writes; with a plain one (a
// projection that does not read what it writes), what earlier batches wrote.
class rows {
  public:
    rows(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatchWithIndex& batch)
        : db_(db), cf_(cf), batch_(*batch.GetWriteBatch()), indexed_(&batch) {}
    rows(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch& batch)
        : db_(db), cf_(cf), batch_(batch) {}
    result<std::optional<std::string>> get(std::string_view key) const;
    void put(std::string_view key, std::string_view value);
    void remove(std::string_view key);

  private:
    rocksdb::DB& db_;
    rocksdb::ColumnFamilyHandle* cf_;
    rocksdb::WriteBatch& batch_;
    rocksdb::WriteBatchWithIndex* indexed_ = nullptr;
};

class projection {
  public:
    virtual ~projection() = default;
    // Its column family is "projection.<name>"; persisted: never rename.
    virtual std::string name() const = 0;
    // The format of its rows, recorded with its checkpoint: a projection
    // whose rows change format raises it, and rows of another format are
    // replayed from the log rather than read (read_models::open).
    virtual std::uint32_t format() const { return 1; }
    virtual result<void> apply(const events::envelope& e, rows& r) = 0;
    // Whether apply() or flush() reads rows its own batch wrote. Without,
    // the batch is a plain WriteBatch (cheaper per row) and rows::get sees
    // only what earlier batches wrote.
    virtual bool reads_own_writes() const { return true; }
    // After a batch's events were applied, before its rows are written.
    virtual result<void> flush(rows&) { return success(); }
    // After apply() or flush() failed: drops what the batch left in memory
    // for its rows, which are not written.
    virtual void discard() {}
    // After a batch's rows and checkpoint were written (runner's thread).
    virtual void committed(std::span<const events::envelope>) {}
    // How its rows are written, so that RocksDB puts a row into the
    // memtable beside the last one written of its run instead of searching
    // for its place from the top: keys of one run have the same prefix
    // under this transform and are written one after another in key order
    // (a row written again is a run of its own: its new version goes just
    // before the last). Null when the rows follow no runs.
    virtual std::shared_ptr<const rocksdb::SliceTransform> row_runs() const { return nullptr; }

    // A projection that also keeps a fold in memory gets, on start, every
    // event up to its checkpoint (restore), then restored(); reset() drops
    // the fold before a rebuild.
    virtual bool keeps_memory() const { return false; }
    virtual void restore(const events::envelope&) {}
    virtual void restored() {}
    virtual void reset() {}
};

// The format of the rows a projection's column family holds: nothing for
// a family with no checkpoint yet, 1 for one written before formats were
// recorded. A format that does not decode is errc::corruption.
result<std::optional<std::uint32_t>> stored_format(rocksdb::DB& db,
                                                   rocksdb::ColumnFamilyHandle* cf);

// The column family a projection's rows and checkpoint live in, in a
// generation of the read models (read_models.h): "projection.<name>" for
// the first, "projection.<name>.g<n>" for the ones rebuilt after it.
std::string column_family_of(const projection& p, std::uint64_t generation = 0);

// The log's events past checkpoint c, over every partition (every event of
// the log for a checkpoint at 0).
std::uint64_t events_past(const checkpoint& c, const events::event_log& log);

// Progress of a catch-up or rebuild: events applied, events in the log when
// it began. Returning false stops it (errc::shutting_down).
using progress_fn = std::function<bool(std::uint64_t done, std::uint64_t total)>;

// Events read from the log for a catch-up, shared by the runners that read
// them (shared_reads.h).
using chunk = std::shared_ptr<const std::vector<events::envelope>>;
// Reads up to max events of partition p from position `from` on.
using chunk_reader = std::function<result<chunk>(partition_id p, position from, std::size_t max)>;
// The chunk_reader that reads the log itself.
result<chunk> read_chunk(const events::event_log& log, partition_id p, position from,
                         std::size_t max);

struct runner_options {
    // Events applied per WriteBatch when following the log, by the appended
    // batches that queued while the last one was applied.
    std::size_t batch_events = 1024;
    // Events applied per WriteBatch during a catch-up or rebuild: larger,
    // since a batch renders each row it touches once (a journey with a
    // hundred changes in a batch is rendered once).
    std::size_t catch_up_events = 4096;
    // A batch that writes no row (events the projection does not show) is
    // not written: its checkpoint goes with the next batch that writes
    // rows, or alone once this many such events have passed, or on stop.
    // A crash before then replays them, which writes nothing.
    std::size_t unsaved_events = 10'000;
    std::string column_family{};  // default: column_family_of(p)
};

class runner {
  public:
    // The store must have been opened with column_family_of(p).
    runner(events::rocks_store& store, events::event_log& log, projection& p,
           runner_options o = {});
    ~runner();
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    // Catches up from the checkpoint (reporting to progress, if given;
    // reading through read, if given, else from the log), then follows the
    // log on the runner's thread.
    result<void> start(const progress_fn& progress = {}, const chunk_reader& read = {});
    void stop();

    // Blocks until every partition's checkpoint is at least the log's head
    // (or the deadline); for tests and for read-your-writes.
    bool wait_caught_up(std::chrono::milliseconds timeout);
    // Blocks until every partition's checkpoint is at least to's (or the
    // deadline, or a failure: false then).
    bool wait_applied(const checkpoint& to, std::chrono::milliseconds timeout);

    // Drops every row and the checkpoint, then replays from position 1.
    // Only while stopped.
    result<void> rebuild(const progress_fn& progress = {});

    checkpoint position_now() const;
    // Runs f on the runner's thread once the projection has applied
    // partition p up to pos (at once, on this thread, when it already
    // has); when the runner stops or fails first, f runs then.
    void when_applied(partition_id p, position pos, std::function<void()> f);
    // The first error that stopped the runner, if any.
    std::optional<error> failed() const;

  private:
    // Blocks until every partition's checkpoint is at least target(p), asked
    // again at each wake (or the deadline, or a failure: false then).
    bool wait_for(std::chrono::milliseconds timeout,
                  const std::function<position(partition_id)>& target);
    result<void> catch_up(const progress_fn& progress = {}, const chunk_reader& read = {});
    result<void> restore_memory();
    void run_ready_waiters(bool all);
    result<void> apply_batch(std::span<const events::envelope> batch);
    // Applies the events past next (advancing it) and flushes the
    // projection; how many were applied (none: no flush).
    result<std::uint64_t> apply_events(std::span<const events::envelope> batch, rows& r,
                                       checkpoint& next);
    // Makes next the checkpoint, then tells the projection and the waiters.
    result<void> advanced(checkpoint next, std::span<const events::envelope> batch);
    // Adds the checkpoint, and the format of the rows, to a batch.
    result<void> put_checkpoint(const checkpoint& c, rocksdb::WriteBatch& wb);
    // Writes a batch of rows and checkpoint (unlogged; in key order when the
    // rows follow no runs).
    result<void> write(rocksdb::WriteBatch& wb);
    result<void> save_checkpoint();
    void run();

    events::rocks_store& store_;
    events::event_log& log_;
    projection& projection_;
    runner_options options_;
    rocksdb::ColumnFamilyHandle* cf_;
    // Whether a batch's rows are written in key order (in_key_order): when
    // they follow no runs.
    bool sorts_rows_;
    // The batch apply_batch() fills (indexed when the projection reads its
    // own writes), kept from one batch to the next so that its buffer is
    // not allocated, and its pages faulted in, again each time; a batch
    // larger than kept_batch_bytes is not reused.
    static constexpr std::size_t kept_batch_bytes = std::size_t{64} << 20;
    rocksdb::WriteBatch plain_batch_;
    std::unique_ptr<rocksdb::WriteBatchWithIndex> indexed_batch_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::vector<events::envelope>> pending_;
    checkpoint checkpoint_;
    std::optional<error> failed_;
    struct waiter {
        partition_id partition;
        position pos;
        std::function<void()> f;
    };
    std::vector<waiter> waiters_;
    // Events applied since the checkpoint was last written (runner's
    // thread, or the caller's during a catch-up).
    std::uint64_t unsaved_ = 0;
    bool stopping_ = false;
    std::uint64_t token_ = 0;
    std::thread thread_;
};

}  // namespace migops::projections
