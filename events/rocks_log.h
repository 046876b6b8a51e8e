#pragma once
// RocksLog: the embedded log of record. Events live in the "events" column
// family, keyed by big-endian (partition u32, position u64), valued by the
// binary codec. One append is one WriteBatch, then one WAL sync. read()
// returns events up to the head, which moves once the append is synced:
// nothing is read before it is durable.
//
// Thread-safety: append() of one partition is called by one thread at a
// time (its partition processor); different partitions append
// concurrently. read() and head() may be called from any thread.

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/rocks_store.h"

namespace migops::events {

inline constexpr const char* events_column_family = "events";
inline constexpr const char* meta_column_family = "meta";

struct rocks_log_options {
    std::uint32_t partitions = 8;
    // On open, how many events at the tail of each partition are re-hashed
    // and linked; verify_all checks every event.
    std::size_t verify_tail = 1024;
    bool verify_all = false;
    // Sync the WAL for every append. Off when the store is the local copy
    // of Kafka (the broker's acks=all confirmation is the durability, and
    // the stored offsets, written with the events, make catch-up re-read
    // whatever a machine crash took), and in tests that prove the crash
    // tests can fail.
    bool sync = true;
};

// A key and value written to the "meta" column family in the same
// WriteBatch as a group's events (KafkaLog's offsets), so that the two are
// durable together or not at all.
struct meta_put {
    std::string key;
    std::string value;
};

class rocks_log final : public event_log {
  public:
    // Opens the log in store, checks the stored partition count and verifies
    // the chain tails. A broken chain is an error naming the position.
    static result<std::unique_ptr<rocks_log>> open(rocks_store& store,
                                                   const rocks_log_options& options);

    // Opens the log of a store opened with rocks_store::open_reader(): the
    // partition count is the directory's own, nothing is verified (that is
    // the reader's job) and appends are refused.
    static result<std::unique_ptr<rocks_log>> open_reader(rocks_store& store);

    std::uint32_t partitions() const override { return partitions_; }
    chain_head head(partition_id p) const override;
    result<void> append_group(std::span<const partition_batch> group) override;
    // The same, with meta puts in the same WriteBatch (one sync for both).
    result<void> append_group(std::span<const partition_batch> group,
                              std::span<const meta_put> meta);
    // Checks that a group is not empty and continues every chain, without
    // writing (an adapter that must ship the events elsewhere first).
    result<void> check_group(std::span<const partition_batch> group) const;

    // A value of the "meta" column family; nullopt when the key is absent.
    result<std::optional<std::string>> get_meta(std::string_view key) const;
    // Writes meta values alone, synced.
    result<void> put_meta(std::span<const meta_put> meta);
    result<std::vector<envelope>> read(partition_id p, position from,
                                       std::size_t max) const override;
    // After a failed write RocksDB refuses every write (its background
    // error) until it resumes; this asks it to (DB::Resume()). It fails
    // while RocksDB recovers by itself (a full disk: its SstFileManager
    // retries every few seconds) and after an I/O error, which only a
    // reopen clears (see README.md, "When a write fails").
    result<void> restore(partition_id p) override;
    std::uint64_t subscribe(listener l) override;
    void unsubscribe(std::uint64_t token) override;

    // Verifies positions [from, head] of partition p (the whole chain by
    // default); on_progress(p, pos) is called every few thousand events.
    result<void> verify(partition_id p, position from = 1,
                        const std::function<void(partition_id, position)>& on_progress = {}) const;

    static std::array<char, 12> key(partition_id p, position pos);

  private:
    rocks_log(rocks_store& store, const rocks_log_options& options);
    result<chain_head> load_head(partition_id p) const;
    result<void> write_durably(rocksdb::WriteBatch& wb);

    rocks_store& store_;
    rocksdb::ColumnFamilyHandle* events_;
    rocksdb::ColumnFamilyHandle* meta_;
    rocks_log_options options_;
    std::uint32_t partitions_;
    bool reader_ = false;
    std::atomic<bool> write_failed_{false};  // since the last successful restore()

    mutable std::mutex heads_mutex_;
    std::vector<chain_head> heads_;

    mutable std::mutex listeners_mutex_;
    std::map<std::uint64_t, std::shared_ptr<listener>> listeners_;
    std::uint64_t next_token_ = 1;
};

}  // namespace migops::events
