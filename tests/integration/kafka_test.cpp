// KafkaLog against a real Apache Kafka broker (KRaft, single node), which
// this binary starts once with ops/kafka-broker on a free port and a
// temporary directory, and stops at the end. A broker that cannot start
// fails every test: these tests never skip.

#include <gtest/gtest.h>

#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include <librdkafka/rdkafka.h>

#include "events/kafka/kafka_log.h"
#include "tests/integration/kafka_broker.h"
#include "tests/integration/process.h"
#include "tests/unit/kafka_support.h"
#include "tests/unit/temp_dir.h"

namespace migops::events::kafka {
namespace {

using testing_support::broker;
using testing_support::broker_environment;
using testing_support::open_local;
using testing_support::open_store;
using testing_support::read_file;
using testing_support::run;
using testing_support::sealed_events;
using testing_support::temp_dir;

constexpr std::uint32_t partitions = 4;

// A data directory and the KafkaLog over it.
struct node {
    temp_dir dir;
    std::unique_ptr<rocks_store> store;
    std::unique_ptr<kafka_log> log;

    result<void> open(const kafka_log_options& options) {
        log.reset();
        store.reset();
        store = open_store(dir.path());
        auto opened = kafka_log::open(open_local(*store, partitions), options);
        if (!opened) return failure(opened.error());
        log = std::move(opened).value();
        return success();
    }
    void close() {
        log.reset();
        store.reset();
    }
};

class KafkaBrokerTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(broker::get().started()); }

    // Each test its own topic, created by the first KafkaLog that opens it
    // (the broker does not create topics by itself).
    kafka_log_options options() const {
        kafka_log_options o;
        o.brokers = broker::get().address();
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        o.topic = std::string("migops.test.") + info->name() + "." + random_id().substr(0, 8);
        o.replication = 1;
        o.on_log = [](int, std::string_view) {};
        return o;
    }

    static std::vector<envelope> all_events(const event_log& log, partition_id p) {
        auto events = log.read(p, 1, 1'000'000);
        EXPECT_TRUE(events) << events.error().message;
        return events ? std::move(events).value() : std::vector<envelope>{};
    }

    // Appends rounds groups, each with a batch for every partition.
    static std::vector<chain_head> append_rounds(kafka_log& log, std::vector<chain_head> heads,
                                                 int rounds) {
        for (int round = 0; round < rounds; ++round) {
            std::vector<std::vector<envelope>> batches;
            for (partition_id p = 0; p < partitions; ++p)
                batches.push_back(sealed_events(p, partitions, heads[p], round % 3 + 1));
            std::vector<partition_batch> group;
            for (partition_id p = 0; p < partitions; ++p) group.push_back({p, batches[p]});
            auto appended = log.append_group(group);
            EXPECT_TRUE(appended) << appended.error().message;
        }
        return heads;
    }
};

TEST_F(KafkaBrokerTest, CreatesTheTopicAppendsAndReadsBack) {
    const auto o = options();
    node a;
    auto opened = a.open(o);
    ASSERT_TRUE(opened) << opened.error().message;
    // 1 + 2 + 3 + 1 + 2 + 3 events in each partition.
    const auto heads = append_rounds(*a.log, std::vector<chain_head>(partitions), 6);
    for (partition_id p = 0; p < partitions; ++p) {
        EXPECT_EQ(a.log->head(p), heads[p]);
        const auto events = all_events(*a.log, p);
        ASSERT_EQ(events.size(), 12u);
        for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].pos, i + 1);
        // One record per event, from offset 0 on.
        EXPECT_EQ(a.log->offset(p), 11);
    }
    // A second KafkaLog on the existing topic opens without creating it.
    node b;
    opened = b.open(o);
    ASSERT_TRUE(opened) << opened.error().message;
}

// Creates a topic as an operator might, with the broker's defaults but for
// the given settings.
void create_topic(const std::string& name, int partition_count,
                  const std::vector<std::pair<std::string, std::string>>& settings) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker::get().address().c_str(), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ASSERT_NE(rk, nullptr) << errstr;
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(name.c_str(), partition_count, 1, errstr, sizeof errstr);
    for (const auto& [key, value] : settings)
        rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str());
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 60'000);
    ASSERT_NE(ev, nullptr);
    std::size_t n = 0;
    const auto** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(rd_kafka_topic_result_error(results[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(topic);
    rd_kafka_destroy(rk);
}

TEST_F(KafkaBrokerTest, RefusesATopicThatCouldLoseRecords) {
    // The broker's default retention (seven days), compaction by key, a
    // size limit, an out-of-sync replica allowed to lead: each would lose
    // events of the log of record. The message names what is wrong, and the
    // command that fixes only that.
    const std::vector<std::pair<std::string, std::string>> cases[] = {
        {},
        {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}},
        {{"retention.ms", "-1"}, {"retention.bytes", "1073741824"}},
        {{"retention.ms", "-1"},
         {"retention.bytes", "-1"},
         {"unclean.leader.election.enable", "true"}}};
    const std::string named[] = {"retention.ms=604800000", "cleanup.policy=compact",
                                 "retention.bytes=1073741824",
                                 "unclean.leader.election.enable=true"};
    const std::string fixes[] = {"retention.ms=-1", "cleanup.policy=delete", "retention.bytes=-1",
                                 "unclean.leader.election.enable=false"};
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        auto o = options();
        o.topic += "." + std::to_string(i);
        ASSERT_NO_FATAL_FAILURE(create_topic(o.topic, partitions, cases[i]));
        node a;
        auto opened = a.open(o);
        ASSERT_FALSE(opened) << o.topic;
        EXPECT_EQ(opened.error().code, errc::invalid_argument);
        EXPECT_NE(opened.error().message.find(named[i]), std::string::npos)
            << opened.error().message;
        EXPECT_TRUE(opened.error().message.ends_with(" --add-config " + fixes[i] + ")"))
            << opened.error().message;
    }

    // Set as the log needs them, the same topic opens.
    auto o = options();
    ASSERT_NO_FATAL_FAILURE(create_topic(
        o.topic, partitions,
        {{"cleanup.policy", "delete"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}}));
    node a;
    auto opened = a.open(o);
    ASSERT_TRUE(opened) << opened.error().message;
}

TEST_F(KafkaBrokerTest, RestartAndAnEmptyDataDirectoryCatchUpToTheSameChainHeads) {
    const auto o = options();
    node a;
    ASSERT_TRUE(a.open(o));
    auto heads = append_rounds(*a.log, std::vector<chain_head>(partitions), 6);
    a.close();

    // A restart: nothing to append, the offsets were stored with the events.
    ASSERT_TRUE(a.open(o));
    auto again = a.log->catch_up();
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again.value().appended, 0u);

    // A fresh engine rebuilds the identical chains from the topic alone.
    node b;
    ASSERT_TRUE(b.open(o));
    auto caught = b.log->catch_up();
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, partitions * 12u);
    EXPECT_EQ(caught.value().duplicates, 0u);
    for (partition_id p = 0; p < partitions; ++p) {
        EXPECT_EQ(b.log->head(p), heads[p]);
        EXPECT_EQ(b.log->offset(p), a.log->offset(p));
        EXPECT_EQ(all_events(*b.log, p), all_events(*a.log, p));
    }

    // It writes on, and the first engine, restarted, catches up with it.
    heads = append_rounds(*b.log, heads, 2);
    a.close();
    ASSERT_TRUE(a.open(o));
    caught = a.log->catch_up();
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, partitions * 3u);
    for (partition_id p = 0; p < partitions; ++p) EXPECT_EQ(a.log->head(p), heads[p]);
}

TEST_F(KafkaBrokerTest, KcatReadsTheCloudEventsHeaders) {
    const auto o = options();
    node a;
    ASSERT_TRUE(a.open(o));
    chain_head h{};
    const auto events = sealed_events(3, partitions, h, 2);
    ASSERT_TRUE(a.log->append(3, events));

    temp_dir out;
    const auto output = out.path() / "kcat.out";
    ASSERT_EQ(run({"kcat", "-b", broker::get().address(), "-t", o.topic, "-p", "3", "-C", "-e",
                   "-q", "-f", "%k %h %s\\n"},
                  output),
              0)
        << read_file(output);
    const std::string text = read_file(output);
    const std::vector<std::string> wanted = {events[0].space.value + " ",
                                             "ce_specversion=1.0",
                                             "ce_id=" + events[1].event_id,
                                             "ce_source=/spaces/" + events[0].space.value,
                                             "ce_type=io.migops.space.renamed.v1",
                                             "ce_time=" + format_rfc3339(events[1].time),
                                             "ce_subject=" + events[0].space.value,
                                             "content-type=application/json",
                                             "ce_sequence=00000000000000000002",
                                             "ce_partitionkey=" + events[0].space.value,
                                             "migops_position=2",
                                             "migops_prev_hash=" + to_hex(events[1].prev_hash),
                                             "migops_hash=" + to_hex(events[1].hash),
                                             R"({"name":"name 2"})"};
    for (const auto& expected : wanted)
        EXPECT_NE(text.find(expected), std::string::npos) << expected << " not in:\n" << text;
    // Each record as the log produced it is to_record()'s: every header, in
    // order, then the value.
    for (const auto& e : events) {
        const auto r = to_record(e);
        std::string line = r.key + " ";
        for (const auto& [name, value] : r.headers)
            line += (&name == &r.headers.front().first ? "" : ",") + name + "=" + value;
        line += " " + r.value + "\n";
        EXPECT_NE(text.find(line), std::string::npos) << line << " not in:\n" << text;
    }
}

TEST_F(KafkaBrokerTest, AStoppedBrokerFailsAppendsAsUnavailableAndTheLogGoesOnAfterIt) {
    auto o = options();
    o.delivery_timeout = std::chrono::seconds(3);
    node a;
    ASSERT_TRUE(a.open(o));
    chain_head h{};
    ASSERT_TRUE(a.log->append(1, sealed_events(1, partitions, h, 2)));

    ASSERT_TRUE(broker::get().stop());
    chain_head next = h;
    const auto batch = sealed_events(1, partitions, next, 2);
    auto failed = a.log->append(1, batch);
    ASSERT_TRUE(broker::get().start());
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::unavailable) << failed.error().message;
    EXPECT_EQ(a.log->head(1), h);

    // Whether the broker took some of it before it went away (the
    // partition is then stopped) or none of it, restore() learns what
    // landed, and the log goes on from there with the same events.
    auto restored = testing_support::restore_within(*a.log, 1, std::chrono::seconds(60));
    ASSERT_TRUE(restored) << restored.error().message;
    ASSERT_FALSE(a.log->stopped(1));
    if (a.log->head(1) == h) {
        auto appended = a.log->append(1, batch);
        ASSERT_TRUE(appended) << appended.error().message;
    }
    EXPECT_EQ(a.log->head(1), next);
    node b;
    ASSERT_TRUE(b.open(o));
    auto caught = b.log->catch_up();
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(b.log->head(1), next);
}

}  // namespace
}  // namespace migops::events::kafka

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new migops::events::kafka::broker_environment);
    return RUN_ALL_TESTS();
}
