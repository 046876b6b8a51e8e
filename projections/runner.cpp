#include "projections/runner.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>

#include <rocksdb/comparator.h>
#include <spdlog/spdlog.h>

#include "events/thread_name.h"

namespace migops::projections {

namespace {

// A batch's puts and deletes of one column family, in key order (stable:
// writes of one key keep their order), for a projection whose rows follow
// no runs (projection::row_runs). The memtable's skip list inserts a run
// of ascending keys next to each other from the last insert's place, where
// keys in the order the events made them (an event's index keys are far
// apart) each cost a search from the top. Rows that follow runs are put
// beside the last row of their own run whatever came between, so their
// batch is written as it is, without this copy.
class in_key_order final : public rocksdb::WriteBatch::Handler {
  public:
    explicit in_key_order(std::uint32_t cf) : cf_(cf) {}

    rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
        return add(cf, key, value, false);
    }
    rocksdb::Status DeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        return add(cf, key, {}, true);
    }

    // Writes what was read into out, sorted; the slices point into the
    // batch that was read, which must outlive this.
    void write(rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch& out) {
        std::stable_sort(entries_.begin(), entries_.end(),
                         [](const entry& a, const entry& b) { return a.key.compare(b.key) < 0; });
        for (const auto& e : entries_) {
            if (e.removed)
                out.Delete(cf, e.key);
            else
                out.Put(cf, e.key, e.value);
        }
    }

  private:
    struct entry {
        rocksdb::Slice key;
        rocksdb::Slice value;
        bool removed = false;
    };
    rocksdb::Status add(std::uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value,
                        bool removed) {
        if (cf != cf_) return rocksdb::Status::InvalidArgument("a row of another column family");
        entries_.push_back(entry{key, value, removed});
        return rocksdb::Status::OK();
    }
    std::uint32_t cf_;
    std::vector<entry> entries_;
};

}  // namespace

std::uint64_t events_past(const checkpoint& c, const events::event_log& log) {
    std::uint64_t n = 0;
    for (partition_id p = 0; p < log.partitions(); ++p) {
        const position head = log.head(p).pos;
        if (head > c.at(p)) n += head - c.at(p);
    }
    return n;
}

result<chunk> read_chunk(const events::event_log& log, partition_id p, position from,
                         std::size_t max) {
    auto events = log.read(p, from, max);
    if (!events) return failure(events.error());
    return std::make_shared<const std::vector<events::envelope>>(std::move(events).value());
}

namespace {

// In a projection's column family, beside its checkpoint: the format of
// its rows, in decimal (persisted).
constexpr std::string_view format_key = "format";

}  // namespace

result<std::optional<std::uint32_t>> stored_format(rocksdb::DB& db,
                                                   rocksdb::ColumnFamilyHandle* cf) {
    std::string value;
    auto s = db.Get({}, cf, rocksdb::Slice(format_key.data(), format_key.size()), &value);
    if (s.IsNotFound()) {
        auto held = checkpoint::stored(db, cf);
        if (!held) return failure(held.error());
        return held.value() ? std::optional<std::uint32_t>{1} : std::nullopt;
    }
    if (!s.ok()) return failure(events::from_status(s, "cannot read a projection's format"));
    std::uint32_t n = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (value.empty() || ec != std::errc{} || ptr != end || n == 0)
        return failure(errc::corruption,
                       "a projection's format is not a number: " + value.substr(0, 32));
    return std::optional<std::uint32_t>{n};
}

std::string column_family_of(const projection& p, std::uint64_t generation) {
    return "projection." + p.name() + (generation == 0 ? "" : ".g" + std::to_string(generation));
}

result<std::optional<std::string>> rows::get(std::string_view key) const {
    std::string value;
    const rocksdb::Slice k(key.data(), key.size());
    auto s = indexed_ ? indexed_->GetFromBatchAndDB(&db_, rocksdb::ReadOptions{}, cf_, k, &value)
                      : db_.Get(rocksdb::ReadOptions{}, cf_, k, &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return failure(events::from_status(s, "cannot read a projection row"));
    return std::optional<std::string>{std::move(value)};
}

void rows::put(std::string_view key, std::string_view value) {
    const rocksdb::Slice k(key.data(), key.size());
    const rocksdb::Slice v(value.data(), value.size());
    if (indexed_)
        indexed_->Put(cf_, k, v);
    else
        batch_.Put(cf_, k, v);
}

void rows::remove(std::string_view key) {
    const rocksdb::Slice k(key.data(), key.size());
    if (indexed_)
        indexed_->Delete(cf_, k);
    else
        batch_.Delete(cf_, k);
}

runner::runner(events::rocks_store& store, events::event_log& log, projection& p, runner_options o)
    : store_(store),
      log_(log),
      projection_(p),
      options_(std::move(o)),
      cf_(store.column_family(options_.column_family.empty() ? column_family_of(p)
                                                             : options_.column_family)),
      sorts_rows_(p.row_runs() == nullptr),
      checkpoint_(log.partitions()) {}

runner::~runner() {
    stop();
}

result<void> runner::apply_batch(std::span<const events::envelope> batch) {
    // The last batch's buffer is kept for this one, unless it grew far
    // larger than usual.
    std::optional<rows> r;
    rocksdb::WriteBatch* filled = nullptr;
    if (projection_.reads_own_writes()) {
        if (indexed_batch_ && indexed_batch_->GetWriteBatch()->GetDataSize() <= kept_batch_bytes)
            indexed_batch_->Clear();
        else
            indexed_batch_ = std::make_unique<rocksdb::WriteBatchWithIndex>(
                rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
        r.emplace(store_.db(), cf_, *indexed_batch_);
        filled = indexed_batch_->GetWriteBatch();
    } else {
        if (plain_batch_.GetDataSize() <= kept_batch_bytes)
            plain_batch_.Clear();
        else
            plain_batch_ = rocksdb::WriteBatch();
        r.emplace(store_.db(), cf_, plain_batch_);
        filled = &plain_batch_;
    }
    rocksdb::WriteBatch& wb = *filled;
    checkpoint next = position_now();
    auto done = apply_events(batch, *r, next);
    if (!done) {
        projection_.discard();
        return failure(done.error());
    }
    const auto applied = done.value();
    if (applied == 0) return success();
    if (wb.Count() == 0 && unsaved_ + applied < options_.unsaved_events) {
        unsaved_ += applied;
        return advanced(std::move(next), batch);
    }
    if (auto c = put_checkpoint(next, wb); !c) return c;
    if (auto w = write(wb); !w) {
        projection_.discard();
        return w;
    }
    unsaved_ = 0;
    return advanced(std::move(next), batch);
}

result<std::uint64_t> runner::apply_events(std::span<const events::envelope> batch, rows& r,
                                           checkpoint& next) {
    std::uint64_t applied = 0;
    for (const auto& e : batch) {
        if (e.pos <= next.at(e.partition)) continue;  // already applied
        if (e.pos != next.at(e.partition) + 1)
            return failure(errc::corruption, "projection " + projection_.name() + ": partition " +
                                                 std::to_string(e.partition) + " jumps from " +
                                                 std::to_string(next.at(e.partition)) + " to " +
                                                 std::to_string(e.pos));
        if (auto a = projection_.apply(e, r); !a) return failure(a.error());
        next.advance(e.partition, e.pos);
        ++applied;
    }
    if (applied == 0) return applied;
    if (auto f = projection_.flush(r); !f) return failure(f.error());
    return applied;
}

result<void> runner::put_checkpoint(const checkpoint& c, rocksdb::WriteBatch& wb) {
    if (auto put = c.put(wb, cf_); !put) return put;
    const auto format = std::to_string(projection_.format());
    auto s = wb.Put(cf_, rocksdb::Slice(format_key.data(), format_key.size()), format);
    if (!s.ok()) return failure(events::from_status(s, "cannot add a projection's format"));
    return success();
}

// Not logged: the rows and their checkpoint live in one column family, so
// they reach the disk together in its flushes; what a crash takes before a
// flush is replayed from the log of record. This keeps read models out of
// the log's synced write-ahead log.
result<void> runner::write(rocksdb::WriteBatch& wb) {
    rocksdb::WriteOptions unlogged;
    unlogged.disableWAL = true;
    unlogged.memtable_insert_hint_per_batch = true;
    rocksdb::WriteBatch ordered;
    rocksdb::WriteBatch* out = &wb;
    if (sorts_rows_) {
        in_key_order sorted(cf_->GetID());
        ordered = rocksdb::WriteBatch(wb.GetDataSize());  // one allocation for the sorted copy
        if (wb.Iterate(&sorted).ok()) {
            sorted.write(cf_, ordered);
            out = &ordered;
        }
    }
    auto s = store_.db().Write(unlogged, out);
    if (!s.ok())
        return failure(events::from_status(s, "cannot write projection " + projection_.name()));
    return success();
}

result<void> runner::advanced(checkpoint next, std::span<const events::envelope> batch) {
    {
        std::lock_guard lock(mutex_);
        checkpoint_ = std::move(next);
    }
    wake_.notify_all();
    projection_.committed(batch);
    run_ready_waiters(false);
    return success();
}

// The checkpoint alone, when batches that wrote no row moved it.
result<void> runner::save_checkpoint() {
    if (unsaved_ == 0) return success();
    rocksdb::WriteBatch wb;
    if (auto c = put_checkpoint(position_now(), wb); !c) return c;
    if (auto w = write(wb); !w) return w;
    unsaved_ = 0;
    return success();
}

void runner::when_applied(partition_id p, position pos, std::function<void()> f) {
    {
        std::lock_guard lock(mutex_);
        const bool done = checkpoint_.at(p) >= pos;
        if (!done && !stopping_) {
            waiters_.push_back(waiter{p, pos, std::move(f)});
            return;
        }
    }
    f();
}

void runner::run_ready_waiters(bool all) {
    std::vector<waiter> ready;
    {
        std::lock_guard lock(mutex_);
        auto keep = std::partition(waiters_.begin(), waiters_.end(), [&](const waiter& w) {
            return !all && checkpoint_.at(w.partition) < w.pos;
        });
        std::move(keep, waiters_.end(), std::back_inserter(ready));
        waiters_.erase(keep, waiters_.end());
    }
    for (auto& w : ready) w.f();
}

// Folds every event up to the checkpoint into the projection's memory.
result<void> runner::restore_memory() {
    const auto upto = position_now();
    for (partition_id p = 0; p < log_.partitions(); ++p) {
        position next = 1;
        while (next <= upto.at(p)) {
            const auto want =
                std::min<std::uint64_t>(options_.catch_up_events, upto.at(p) - next + 1);
            auto events = log_.read(p, next, want);
            if (!events) return failure(events.error());
            if (events.value().empty())
                return failure(errc::corruption, "projection " + projection_.name() +
                                                     " is past the log in partition " +
                                                     std::to_string(p));
            for (const auto& e : events.value()) projection_.restore(e);
            next += events.value().size();
        }
    }
    projection_.restored();
    return success();
}

// Reads what the log holds beyond the checkpoint, partition by partition.
// Live batches that arrive meanwhile and that the catch-up covers are let
// go as it goes, so a long catch-up under load does not hold them all.
result<void> runner::catch_up(const progress_fn& progress, const chunk_reader& read) {
    const std::uint64_t total = events_past(position_now(), log_);
    std::uint64_t done = 0;
    for (partition_id p = 0; p < log_.partitions(); ++p) {
        for (;;) {
            const position next = position_now().at(p) + 1;
            auto events = read ? read(p, next, options_.catch_up_events)
                               : read_chunk(log_, p, next, options_.catch_up_events);
            if (!events) return failure(events.error());
            const auto& batch = *events.value();
            if (batch.empty()) break;
            if (auto r = apply_batch(batch); !r) return r;
            done += batch.size();
            if (progress && !progress(done, std::max(done, total)))
                return failure(errc::shutting_down,
                               "projection " + projection_.name() + ": catch-up stopped");
            {
                std::lock_guard lock(mutex_);
                while (!pending_.empty() && !pending_.front().empty() &&
                       pending_.front().back().pos <=
                           checkpoint_.at(pending_.front().back().partition))
                    pending_.pop_front();
            }
            if (batch.size() < options_.catch_up_events) break;
        }
    }
    if (progress && !progress(done, std::max(done, total)))
        return failure(errc::shutting_down,
                       "projection " + projection_.name() + ": catch-up stopped");
    return success();
}

result<void> runner::start(const progress_fn& progress, const chunk_reader& read) {
    if (!cf_)
        return failure(errc::invalid_argument,
                       "the store has no column family " + column_family_of(projection_));
    auto held = stored_format(store_.db(), cf_);
    if (!held) return failure(held.error());
    if (held.value() && *held.value() != projection_.format())
        return failure(errc::invalid_argument,
                       "projection " + projection_.name() + " holds rows of format " +
                           std::to_string(*held.value()) + "; this build reads format " +
                           std::to_string(projection_.format()) + ": rebuild it from the log");
    auto loaded = checkpoint::load(store_.db(), cf_, log_.partitions());
    if (!loaded) return failure(loaded.error());
    {
        std::lock_guard lock(mutex_);
        checkpoint_ = std::move(loaded).value();
        stopping_ = false;
    }
    if (projection_.keeps_memory()) {
        projection_.reset();
        if (auto r = restore_memory(); !r) return r;
    }
    // Subscribe before catching up: nothing appended in between is missed,
    // and what both see is skipped by position.
    token_ = log_.subscribe([this](partition_id, std::span<const events::envelope> batch) {
        {
            std::lock_guard lock(mutex_);
            pending_.emplace_back(batch.begin(), batch.end());
        }
        wake_.notify_all();
    });
    if (auto r = catch_up(progress, read); !r) {
        log_.unsubscribe(token_);
        token_ = 0;
        return r;
    }
    thread_ = named_thread(projection_.name(), [this] { run(); });
    return success();
}

void runner::run() {
    for (;;) {
        std::vector<events::envelope> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (stopping_) return;
            batch = std::move(pending_.front());
            pending_.pop_front();
            // What was appended while the last batch was applied goes in one
            // write with it: a busy log costs one flush per such run, not
            // one per appended group.
            while (!pending_.empty() &&
                   batch.size() + pending_.front().size() <= options_.batch_events) {
                batch.insert(batch.end(), std::make_move_iterator(pending_.front().begin()),
                             std::make_move_iterator(pending_.front().end()));
                pending_.pop_front();
            }
        }
        // A batch that goes past what a partition has next (it cannot, but
        // the log is the truth): read the gap from the log first.
        result<void> r = success();
        auto next = position_now();
        const bool gap = std::any_of(batch.begin(), batch.end(), [&](const events::envelope& e) {
            if (e.pos > next.at(e.partition) + 1) return true;
            next.advance(e.partition, std::max(e.pos, next.at(e.partition)));
            return false;
        });
        if (gap) r = catch_up();
        if (r) r = apply_batch(batch);
        if (!r) {
            std::lock_guard lock(mutex_);
            failed_ = r.error();
            stopping_ = true;
            wake_.notify_all();
        }
        if (!r) {
            run_ready_waiters(true);
            return;
        }
    }
}

void runner::stop() {
    if (token_ != 0) {
        log_.unsubscribe(token_);
        token_ = 0;
    }
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    run_ready_waiters(true);
    if (!failed())
        if (auto saved = save_checkpoint(); !saved)
            spdlog::warn("projection {}: {}", projection_.name(), saved.error().message);
    std::lock_guard lock(mutex_);
    pending_.clear();
}

bool runner::wait_caught_up(std::chrono::milliseconds timeout) {
    return wait_for(timeout, [this](partition_id p) { return log_.head(p).pos; });
}

bool runner::wait_applied(const checkpoint& to, std::chrono::milliseconds timeout) {
    return wait_for(timeout, [&to](partition_id p) { return to.at(p); });
}

bool runner::wait_for(std::chrono::milliseconds timeout,
                      const std::function<position(partition_id)>& target) {
    std::unique_lock lock(mutex_);
    return wake_.wait_for(lock, timeout, [&] {
        if (failed_) return true;
        for (partition_id p = 0; p < log_.partitions(); ++p)
            if (checkpoint_.at(p) < target(p)) return false;
        return true;
    }) && !failed_;
}

result<void> runner::rebuild(const progress_fn& progress) {
    if (thread_.joinable())
        return failure(errc::invalid_argument, "stop the runner before rebuilding");
    // Drop every row and the checkpoint.
    std::unique_ptr<rocksdb::Iterator> it(store_.db().NewIterator({}, cf_));
    rocksdb::WriteBatch drop;
    for (it->SeekToFirst(); it->Valid(); it->Next()) drop.Delete(cf_, it->key());
    if (!it->status().ok())
        return failure(events::from_status(it->status(), "cannot read projection"));
    auto s = store_.db().Write(rocksdb::WriteOptions{}, &drop);
    if (!s.ok())
        return failure(events::from_status(s, "cannot clear projection " + projection_.name()));
    {
        std::lock_guard lock(mutex_);
        checkpoint_ = checkpoint(log_.partitions());
        failed_.reset();
    }
    unsaved_ = 0;
    projection_.reset();
    return catch_up(progress);
}

checkpoint runner::position_now() const {
    std::lock_guard lock(mutex_);
    return checkpoint_;
}

std::optional<error> runner::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

}  // namespace migops::projections
