#pragma once
// Test helpers for the Kafka adapter: sealed events of a given partition, a
// data directory's store and local log, and librdkafka's in-process mock
// cluster.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "events/codec.h"
#include "events/kafka/kafka_log.h"
#include "events/kafka/produce.h"
#include "events/rocks_log.h"

namespace migops::testing_support {

// Asks log to restore partition p until it succeeds or `within` has
// passed (restore() fails while the tail cannot be read, and tries at most
// once a second); the last answer.
inline result<void> restore_within(events::event_log& log, partition_id p,
                                   std::chrono::seconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    result<void> restored = log.restore(p);
    while (!restored && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        restored = log.restore(p);
    }
    return restored;
}

// A space whose events fall in partition p of n.
inline space_id space_in(partition_id p, std::uint32_t n) {
    for (int i = 0;; ++i) {
        space_id s{"space-" + std::to_string(i)};
        if (events::partition_of(s, n) == p) return s;
    }
}

// n sealed events continuing head in partition p (of partitions).
inline std::vector<events::envelope> sealed_events(partition_id p, std::uint32_t partitions,
                                                   events::chain_head& head, int n) {
    std::vector<events::envelope> out;
    const space_id space = space_in(p, partitions);
    for (int i = 0; i < n; ++i) {
        events::envelope e;
        e.event_id = random_id();
        e.partition = p;
        e.space = space;
        e.time = timestamp{1'000'000 * (static_cast<std::int64_t>(head.pos) + 1)};
        e.actor = user_id{"alice"};
        e.actor_role = "space_admin";
        e.correlation_id = "request-" + std::to_string(head.pos + 1);
        e.causation_id = "command-" + std::to_string(head.pos + 1);
        e.data = events::space_renamed{"name " + std::to_string(head.pos + 1)};
        head = events::seal(e, head);
        out.push_back(std::move(e));
    }
    return out;
}

// A data directory's store with the local log's column families.
inline std::unique_ptr<events::rocks_store> open_store(const std::filesystem::path& dir) {
    auto store = events::rocks_store::open(
        {dir, {events::events_column_family, events::meta_column_family}, nullptr});
    if (!store) throw std::runtime_error(store.error().message);
    return std::move(store).value();
}

inline std::unique_ptr<events::rocks_log> open_local(events::rocks_store& store,
                                                     std::uint32_t partitions) {
    auto log = events::rocks_log::open(store, {.partitions = partitions});
    if (!log) throw std::runtime_error(log.error().message);
    return std::move(log).value();
}

// librdkafka's mock cluster, living inside this process. It needs a client
// handle to run on; this one does nothing else.
class mock_cluster {
  public:
    explicit mock_cluster(int brokers = 1) {
        char errstr[256];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
        owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!owner_) throw std::runtime_error(errstr);
        cluster_ = rd_kafka_mock_cluster_new(owner_, brokers);
        if (!cluster_) throw std::runtime_error("no mock cluster");
    }
    ~mock_cluster() {
        rd_kafka_mock_cluster_destroy(cluster_);
        rd_kafka_destroy(owner_);
    }
    mock_cluster(const mock_cluster&) = delete;
    mock_cluster& operator=(const mock_cluster&) = delete;

    std::string brokers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
    rd_kafka_mock_cluster_t* get() const { return cluster_; }

  private:
    rd_kafka_t* owner_ = nullptr;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

// Produces records as they are, without KafkaLog: what another writer, or a
// producer retrying after a lost answer, leaves in the topic.
inline void produce_raw(const std::string& brokers, const std::string& topic, partition_id p,
                        const std::vector<events::kafka::record>& records) {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    int failed = 0;
    rd_kafka_conf_set_opaque(conf, &failed);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        if (m->err) ++*static_cast<int*>(opaque);
    });
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) throw std::runtime_error(errstr);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    for (const auto& r : records) {
        const auto err = events::kafka::produce(rk, rkt, static_cast<std::int32_t>(p), r, nullptr);
        if (err) throw std::runtime_error(rd_kafka_err2str(err));
    }
    const auto flushed = rd_kafka_flush(rk, 30'000);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (flushed) throw std::runtime_error(rd_kafka_err2str(flushed));
    if (failed) throw std::runtime_error(std::to_string(failed) + " records were not delivered");
}

}  // namespace migops::testing_support
