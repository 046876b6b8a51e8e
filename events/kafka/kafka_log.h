#pragma once
// KafkaLog: Kafka as the log of record, the data directory's RocksDB as its
// local copy (DESIGN.md sections 2 and 4, "Kafka").
//
// One topic (migops.events by default) with one Kafka partition per migops
// partition: an event is produced to the Kafka partition of the same number
// (partition_of() decides it), keyed by its space id, as a CloudEvent in
// binary content mode (record.h). The producer is idempotent with acks=all
// and one request in flight, so that no record overtakes a retried one.
//
// append_group() produces every record of the group, waits until the broker
// confirmed each of them, then appends the group to the local rocks_log
// together with each partition's new Kafka offset (one WriteBatch, one
// sync), and only then returns success and calls the listeners. A record
// that is not confirmed within delivery_timeout, that fails, or whose
// confirmation does not place it past its partition's last offset fails the
// whole group with errc::unavailable. Any record of a failed group may
// have reached the topic, whatever librdkafka reports of it, so every
// partition of the group is stopped: every later append to it fails until
// restore() or catch_up() has re-read the partition's tail, so that two
// different events never share a position in the topic. restore() (the
// partition processor calls it before it re-reads a partition whose write
// failed) lets the old producer finish or give up on what it holds, makes a
// new one, and appends what the topic holds beyond the stored offsets to
// the local store; while the broker is away it fails at once, at most one
// attempt a second.
//
// catch_up() consumes each partition from its stored offset + 1 to the end
// and appends what the local store lacks: a record at a position already
// held is a duplicate (dropped when its hash matches, corruption when it
// does not), a record beyond the next position is a gap (corruption).
//
// read(), head() and the listeners are the local rocks_log's.
//
// Threading: append_group(), restore() and catch_up() may be called from
// any thread and run one at a time; a background thread serves librdkafka's
// delivery reports. read() and head() may be called from any thread.
//
// The topic is the log of record: open() creates it keeping every record
// (cleanup.policy=delete, retention.ms=-1, retention.bytes=-1, no unclean
// leader election), and refuses an existing one that could lose records.
//
// Lifecycle: rocks_store → rocks_log::open → kafka_log::open (connects,
// creates the topic when missing) → catch_up() → the partition processor →
// … → the processor stopped → kafka_log destroyed (flushes) → rocks_store.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/rocks_log.h"

namespace migops::events::kafka {

inline constexpr const char* default_topic = "migops.events";

struct kafka_log_options {
    std::string brokers;  // bootstrap servers: "host:port[,host:port…]"
    std::string topic = default_topic;
    // Replication factor of the topic when this creates it; -1 leaves it to
    // the broker's default.replication.factor. Its partition count is always
    // the data directory's.
    int replication = -1;
    // A group append fails (errc::unavailable) when the broker has not
    // confirmed every record by then.
    std::chrono::milliseconds delivery_timeout{10'000};
    // Metadata, topic creation and each step of catch_up() give up after
    // this long without progress.
    std::chrono::milliseconds request_timeout{30'000};
    std::string client_id = "migops";
    // Whether open() checks that the topic keeps every record (its
    // cleanup.policy and retention settings, read with DescribeConfigs).
    // Off only for a broker that cannot answer that, such as librdkafka's
    // mock cluster.
    bool check_topic_settings = true;
    // More librdkafka properties (a test's debug flags, security settings),
    // applied before ours, which they cannot change.
    std::vector<std::pair<std::string, std::string>> settings;
    // librdkafka's log lines (syslog levels); unset, librdkafka prints them
    // to stderr.
    std::function<void(int level, std::string_view line)> on_log;
};

struct catch_up_report {
    std::size_t appended = 0;    // records appended to the local store
    std::size_t duplicates = 0;  // records the local store already held, dropped
};

class kafka_log final : public event_log {
  public:
    // Takes over the local log, connects to the brokers, creates the topic
    // when it is missing and checks its partition count against the data
    // directory's. A data directory whose events were not written through
    // this topic (no stored offset) is refused.
    static result<std::unique_ptr<kafka_log>> open(std::unique_ptr<rocks_log> local,
                                                   const kafka_log_options& options);
    ~kafka_log() override;
    kafka_log(const kafka_log&) = delete;
    kafka_log& operator=(const kafka_log&) = delete;

    // Appends what the topic holds beyond the stored offsets; restarts the
    // stopped partitions. The composition root calls it before the engine
    // takes commands.
    result<catch_up_report> catch_up();

    std::uint32_t partitions() const override { return local_->partitions(); }
    chain_head head(partition_id p) const override { return local_->head(p); }
    result<void> append_group(std::span<const partition_batch> group) override;
    result<void> restore(partition_id p) override;
    // Refuses an event whose record is larger than the producer takes
    // (message.max.bytes, 1,000,000 bytes unless the settings change it).
    result<void> admits(const envelope& e) const override;
    result<std::vector<envelope>> read(partition_id p, position from,
                                       std::size_t max) const override {
        return local_->read(p, from, max);
    }
    std::uint64_t subscribe(listener l) override { return local_->subscribe(std::move(l)); }
    void unsubscribe(std::uint64_t token) override { local_->unsubscribe(token); }

    // The Kafka offset of the last record of partition p the local store
    // holds; -1 when none.
    std::int64_t offset(partition_id p) const;
    // Whether partition p refuses appends until catch_up().
    bool stopped(partition_id p) const;
    const std::string& topic() const { return options_.topic; }

    // The meta key of a partition's offset (persisted: never changes).
    static std::string offset_key(std::string_view topic, partition_id p);

  private:
    struct producer;

    kafka_log(std::unique_ptr<rocks_log> local, const kafka_log_options& options);
    result<void> ensure_topic();
    result<void> create_topic();
    result<void> check_topic_settings();
    result<void> load_offsets();
    result<void> make_producer();
    result<void> append_locked(std::span<const partition_batch> group);
    result<catch_up_report> catch_up_locked(std::chrono::milliseconds patience);

    std::unique_ptr<rocks_log> local_;
    kafka_log_options options_;
    std::mutex write_mutex_;  // one append, restore or catch-up at a time
    std::chrono::steady_clock::time_point next_restore_{};
    std::unique_ptr<producer> producer_;
    std::vector<std::atomic<std::int64_t>> offsets_;
    std::vector<std::atomic<bool>> stopped_;
    std::atomic<std::size_t> max_record_size_{0};  // the producer's message.max.bytes
};

}  // namespace migops::events::kafka
