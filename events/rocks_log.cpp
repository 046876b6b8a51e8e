#include "events/rocks_log.h"

#include <charconv>

#include <rocksdb/write_batch.h>

#include "events/big_endian.h"
#include "events/codec.h"

namespace migops::events {

namespace {

constexpr std::string_view partitions_key = "partitions";
constexpr std::size_t progress_every = 4096;
// A read of this many events or more is a scan (a rebuild, a catch-up, an
// export, a verification): it reads the table files ahead in steps of
// scan_readahead, and leaves the block cache to the reads that come back to
// the same blocks (it would push them out, and fill the cache for nothing).
constexpr std::uint64_t scan_events = 1024;
constexpr std::size_t scan_readahead = std::size_t{512} * 1024;

}  // namespace

std::array<char, 12> rocks_log::key(partition_id p, position pos) {
    std::array<char, 12> k{};
    put_big_endian(k.data(), p, 4);
    put_big_endian(k.data() + 4, pos, 8);
    return k;
}

rocks_log::rocks_log(rocks_store& store, const rocks_log_options& options)
    : store_(store),
      events_(store.column_family(events_column_family)),
      meta_(store.column_family(meta_column_family)),
      options_(options),
      partitions_(options.partitions),
      heads_(options.partitions) {}

result<std::unique_ptr<rocks_log>> rocks_log::open(rocks_store& store,
                                                   const rocks_log_options& options) {
    if (!store.column_family(events_column_family) || !store.column_family(meta_column_family))
        return failure(errc::invalid_argument,
                       "the store was opened without the log's column families");
    if (options.partitions == 0 || options.partitions > 4096)
        return failure(errc::invalid_argument, "partitions must be between 1 and 4096");

    // The partition count is fixed when the directory is created.
    std::string stored;
    auto s = store.db().Get({}, store.column_family(meta_column_family),
                            rocksdb::Slice(partitions_key.data(), partitions_key.size()), &stored);
    if (s.ok()) {
        const auto n = static_cast<std::uint32_t>(std::stoul(stored));
        if (n != options.partitions)
            return failure(errc::invalid_argument,
                           "data directory " + store.dir().string() + " was created with " +
                               stored + " partitions, not " + std::to_string(options.partitions));
    } else if (s.IsNotFound()) {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        s = store.db().Put(wo, store.column_family(meta_column_family),
                           rocksdb::Slice(partitions_key.data(), partitions_key.size()),
                           std::to_string(options.partitions));
        if (!s.ok()) return failure(from_status(s, "cannot record the partition count"));
    } else {
        return failure(from_status(s, "cannot read the partition count"));
    }

    std::unique_ptr<rocks_log> log(new rocks_log(store, options));
    for (partition_id p = 0; p < options.partitions; ++p) {
        auto head = log->load_head(p);
        if (!head) return failure(head.error());
        log->heads_[p] = head.value();
        position from = 1;
        if (!options.verify_all && head.value().pos > options.verify_tail)
            from = head.value().pos - options.verify_tail + 1;
        if (auto v = log->verify(p, from); !v) return failure(v.error());
    }
    return log;
}

result<std::unique_ptr<rocks_log>> rocks_log::open_reader(rocks_store& store) {
    auto* meta = store.column_family(meta_column_family);
    if (!store.column_family(events_column_family) || !meta)
        return failure(errc::invalid_argument,
                       "the store was opened without the log's column families");
    std::string stored;
    auto s = store.db().Get({}, meta, rocksdb::Slice(partitions_key.data(), partitions_key.size()),
                            &stored);
    if (s.IsNotFound())
        return failure(errc::not_found, store.dir().string() +
                                            " is not a migops data directory (no partition count)");
    if (!s.ok()) return failure(from_status(s, "cannot read the partition count"));
    std::uint32_t partitions = 0;
    const auto [end, ec] =
        std::from_chars(stored.data(), stored.data() + stored.size(), partitions);
    if (ec != std::errc{} || end != stored.data() + stored.size() || partitions == 0)
        return failure(errc::corruption,
                       "the stored partition count \"" + stored + "\" is not a number");
    rocks_log_options options;
    options.partitions = partitions;
    std::unique_ptr<rocks_log> log(new rocks_log(store, options));
    log->reader_ = true;
    for (partition_id p = 0; p < partitions; ++p) {
        auto head = log->load_head(p);
        if (!head) return failure(head.error());
        log->heads_[p] = head.value();
    }
    return log;
}

result<chain_head> rocks_log::load_head(partition_id p) const {
    std::unique_ptr<rocksdb::Iterator> it(store_.db().NewIterator({}, events_));
    const auto upper = key(p + 1, 0);
    it->SeekForPrev(rocksdb::Slice(upper.data(), upper.size()));
    if (it->Valid() && it->key().size() == 12 && it->key().compare({upper.data(), 12}) == 0)
        it->Prev();
    if (!it->status().ok()) return failure(from_status(it->status(), "cannot read the log"));
    if (!it->Valid() || get_big_endian(it->key().data(), 4) != p) return chain_head{};
    auto e = decode_binary({it->value().data(), it->value().size()});
    if (!e)
        return failure(errc::corruption,
                       "partition " + std::to_string(p) + " position " +
                           std::to_string(get_big_endian(it->key().data() + 4, 8)) + ": " +
                           e.error().message);
    return chain_head{e.value().pos, e.value().hash};
}

result<void> rocks_log::verify(
    partition_id p, position from,
    const std::function<void(partition_id, position)>& on_progress) const {
    const chain_head head = this->head(p);
    if (head.pos == 0) return success();
    chain_head prev{};
    if (from > 1) {
        std::string value;
        const auto k = key(p, from - 1);
        auto s = store_.db().Get({}, events_, rocksdb::Slice(k.data(), k.size()), &value);
        if (!s.ok())
            return failure(errc::corruption, "partition " + std::to_string(p) + " position " +
                                                 std::to_string(from - 1) + " is missing");
        auto e = decode_binary(value);
        if (!e) return failure(e.error());
        prev = chain_head{e.value().pos, e.value().hash};
    }
    rocksdb::ReadOptions ro;
    const auto upper = key(p + 1, 0);
    rocksdb::Slice upper_slice(upper.data(), upper.size());
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(store_.db().NewIterator(ro, events_));
    const auto start = key(p, from);
    std::size_t n = 0;
    for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
        const position at = get_big_endian(it->key().data() + 4, 8);
        auto e = decode_binary({it->value().data(), it->value().size()});
        if (!e)
            return failure(errc::corruption, "partition " + std::to_string(p) + " position " +
                                                 std::to_string(at) + ": " + e.error().message);
        if (e.value().pos != at || e.value().partition != p)
            return failure(errc::corruption, "partition " + std::to_string(p) + " position " +
                                                 std::to_string(at) +
                                                 ": the stored event names another place");
        if (auto v = verify_link(e.value(), prev); !v) return failure(v.error());
        prev = chain_head{e.value().pos, e.value().hash};
        if (on_progress && ++n % progress_every == 0) on_progress(p, at);
    }
    if (!it->status().ok()) return failure(from_status(it->status(), "cannot read the log"));
    if (prev.pos != head.pos)
        return failure(errc::corruption, "partition " + std::to_string(p) + " ends at position " +
                                             std::to_string(prev.pos) + ", expected " +
                                             std::to_string(head.pos));
    return success();
}

chain_head rocks_log::head(partition_id p) const {
    std::lock_guard lock(heads_mutex_);
    return heads_.at(p);
}

result<void> rocks_log::check_group(std::span<const partition_batch> group) const {
    if (group.empty()) return failure(errc::invalid_argument, "empty group");
    for (const auto& b : group) {
        if (b.partition >= partitions_) return failure(errc::invalid_argument, "no such partition");
        if (b.events.empty()) return failure(errc::invalid_argument, "empty batch");
    }
    std::vector<std::pair<partition_id, chain_head>> heads;  // new heads, in group order
    for (const auto& b : group) {
        chain_head expect = head(b.partition);
        for (auto it = heads.rbegin(); it != heads.rend(); ++it)
            if (it->first == b.partition) {
                expect = it->second;
                break;
            }
        for (const auto& e : b.events) {
            if (e.partition != b.partition || e.pos != expect.pos + 1 || e.prev_hash != expect.hash)
                return failure(errc::invalid_argument,
                               "batch does not continue partition " + std::to_string(b.partition) +
                                   " at position " + std::to_string(expect.pos + 1));
            expect = chain_head{e.pos, e.hash};
        }
        heads.emplace_back(b.partition, expect);
    }
    return success();
}

result<std::optional<std::string>> rocks_log::get_meta(std::string_view key) const {
    std::string value;
    auto s = store_.db().Get({}, meta_, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return failure(from_status(s, "cannot read " + std::string(key)));
    return std::optional<std::string>{std::move(value)};
}

result<void> rocks_log::put_meta(std::span<const meta_put> meta) {
    if (reader_) return failure(errc::unavailable, "the log is open for reading only");
    rocksdb::WriteBatch wb;
    for (const auto& m : meta)
        if (auto s = wb.Put(meta_, m.key, m.value); !s.ok())
            return failure(from_status(s, "cannot build the batch"));
    if (auto written = write_durably(wb); !written) {
        write_failed_.store(true);
        return failure(written.error().code, "cannot write " + std::to_string(meta.size()) +
                                                 " values: " + written.error().message);
    }
    return success();
}

// The write, then (when the log syncs) the sync of the write-ahead log.
// Synced apart from the write, the wait for the disk holds no place in
// RocksDB's write queue: the read models' unlogged writes go on meanwhile
// (a synced write would hold them behind it). What is written before the
// sync is not read before it: read() stops at the head, which moves after.
result<void> rocks_log::write_durably(rocksdb::WriteBatch& wb) {
    if (auto s = store_.db().Write(rocksdb::WriteOptions{}, &wb); !s.ok())
        return failure(from_status(s, "the write failed"));
    // A failed sync leaves RocksDB with a background error, as a failed
    // synced write does (events/README.md, "When a write fails").
    if (options_.sync)
        if (auto s = store_.db().SyncWAL(); !s.ok())
            return failure(from_status(s, "the sync failed"));
    return success();
}

result<void> rocks_log::restore(partition_id /*p*/) {
    if (!write_failed_.load()) return success();
    const auto s = store_.db().Resume();
    if (s.IsBusy()) return failure(errc::unavailable, "RocksDB is recovering from a failed write");
    if (!s.ok())
        return failure(errc::unavailable,
                       "RocksDB stopped after a failed write and does not resume (" + s.ToString() +
                           "); a restart reopens it");
    write_failed_.store(false);
    return success();
}

result<void> rocks_log::append_group(std::span<const partition_batch> group) {
    return append_group(group, {});
}

result<void> rocks_log::append_group(std::span<const partition_batch> group,
                                     std::span<const meta_put> meta) {
    if (reader_) return failure(errc::unavailable, "the log is open for reading only");
    if (auto checked = check_group(group); !checked) return checked;
    std::vector<std::pair<partition_id, chain_head>> heads;  // new heads, in group order
    rocksdb::WriteBatch wb;
    std::string value;
    for (const auto& b : group) {
        for (const auto& e : b.events) {
            const auto k = key(b.partition, e.pos);
            value = encode_binary(e);
            auto s = wb.Put(events_, rocksdb::Slice(k.data(), k.size()), value);
            if (!s.ok()) return failure(from_status(s, "cannot build the batch"));
        }
        heads.emplace_back(b.partition, chain_head{b.events.back().pos, b.events.back().hash});
    }
    for (const auto& m : meta)
        if (auto s = wb.Put(meta_, m.key, m.value); !s.ok())
            return failure(from_status(s, "cannot build the batch"));
    if (auto written = write_durably(wb); !written) {
        write_failed_.store(true);
        return failure(written.error().code,
                       "cannot append to the log: " + written.error().message);
    }
    {
        std::lock_guard lock(heads_mutex_);
        for (const auto& [p, h] : heads) heads_[p] = h;
    }
    std::vector<std::shared_ptr<listener>> targets;
    {
        std::lock_guard lock(listeners_mutex_);
        targets.reserve(listeners_.size());
        for (const auto& [token, l] : listeners_) targets.push_back(l);
    }
    for (const auto& b : group)
        for (const auto& l : targets) (*l)(b.partition, b.events);
    return success();
}

result<std::vector<envelope>> rocks_log::read(partition_id p, position from,
                                              std::size_t max) const {
    if (p >= partitions_) return failure(errc::invalid_argument, "no such partition");
    std::vector<envelope> out;
    const auto last = head(p).pos;
    const auto first = std::max<position>(from, 1);
    const std::uint64_t wanted = first <= last ? std::min<std::uint64_t>(max, last - first + 1) : 0;
    out.reserve(wanted);
    rocksdb::ReadOptions ro;
    if (wanted >= scan_events) {
        ro.fill_cache = false;
        ro.readahead_size = scan_readahead;
    }
    // Up to the head: an append is read once it is synced.
    const auto upper = key(p, last + 1);
    rocksdb::Slice upper_slice(upper.data(), upper.size());
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(store_.db().NewIterator(ro, events_));
    const auto start = key(p, first);
    for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid() && out.size() < max;
         it->Next()) {
        // Decoded in place: no envelope is moved.
        auto e = decode_binary({it->value().data(), it->value().size()}, out.emplace_back());
        if (!e)
            return failure(errc::corruption,
                           "partition " + std::to_string(p) + " position " +
                               std::to_string(get_big_endian(it->key().data() + 4, 8)) + ": " +
                               e.error().message);
    }
    if (!it->status().ok()) return failure(from_status(it->status(), "cannot read the log"));
    return out;
}

std::uint64_t rocks_log::subscribe(listener l) {
    std::lock_guard lock(listeners_mutex_);
    const auto token = next_token_++;
    listeners_[token] = std::make_shared<listener>(std::move(l));
    return token;
}

void rocks_log::unsubscribe(std::uint64_t token) {
    std::lock_guard lock(listeners_mutex_);
    listeners_.erase(token);
}

}  // namespace migops::events
