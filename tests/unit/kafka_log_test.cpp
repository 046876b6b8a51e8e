// KafkaLog against librdkafka's in-process mock cluster: the fast adapter
// tests. The real broker's tests are in tests/integration/kafka_test.cpp.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include <boost/json/serialize.hpp>

#include "events/kafka/kafka_log.h"
#include "events/kafka/record.h"
#include "tests/unit/kafka_support.h"
#include "tests/unit/sample_events.h"
#include "tests/unit/temp_dir.h"

namespace migops::events::kafka {
namespace {

using testing_support::mock_cluster;
using testing_support::open_local;
using testing_support::open_store;
using testing_support::restore_within;
using testing_support::sealed_events;
using testing_support::temp_dir;

constexpr std::uint32_t partitions = 4;
constexpr const char* topic_name = "migops.events";
// Short, so that the failure tests take seconds; the mock answers in
// microseconds otherwise.
constexpr std::chrono::milliseconds short_delivery_timeout{1500};
// The Kafka protocol's ApiKey of Produce requests (librdkafka keeps its
// name in a private header).
constexpr std::int16_t produce_api_key = 0;

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
    // Opens this node on the topic and catches it up from it.
    result<catch_up_report> open_and_catch_up(const kafka_log_options& options) {
        if (auto opened = open(options); !opened) return failure(opened.error());
        return log->catch_up();
    }
};

class KafkaLogMockTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(rd_kafka_mock_topic_create(cluster_.get(), topic_name, partitions, 1),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
    }

    kafka_log_options options() const {
        kafka_log_options o;
        o.brokers = cluster_.brokers();
        o.topic = topic_name;
        o.request_timeout = std::chrono::seconds(10);
        o.check_topic_settings = false;  // the mock does not answer DescribeConfigs
        o.on_log = [](int, std::string_view) {};
        return o;
    }

    std::vector<envelope> all_events(const event_log& log, partition_id p) {
        auto events = log.read(p, 1, 1'000'000);
        EXPECT_TRUE(events) << events.error().message;
        return events ? std::move(events).value() : std::vector<envelope>{};
    }

    mock_cluster cluster_;
};

// Whether head is where a batch whose confirmation came too late may have
// left its partition: the producer sends one request at a time, so the
// broker took the batch's first records, up to all of them.
bool landed_prefix(const chain_head& head, const std::vector<envelope>& batch) {
    return std::any_of(batch.begin(), batch.end(), [&](const envelope& e) {
        return head == chain_head{e.pos, e.hash};
    });
}

TEST_F(KafkaLogMockTest, AppendsAGroupAndReadsItBack) {
    node a;
    ASSERT_TRUE(a.open(options()));
    chain_head h1{};
    chain_head h3{};
    const auto first = sealed_events(1, partitions, h1, 3);
    const auto third = sealed_events(3, partitions, h3, 2);
    const auto more = sealed_events(1, partitions, h1, 2);
    const partition_batch group[] = {{1, first}, {3, third}, {1, more}};
    auto appended = a.log->append_group(group);
    ASSERT_TRUE(appended) << appended.error().message;

    EXPECT_EQ(a.log->head(1), h1);
    EXPECT_EQ(a.log->head(3), h3);
    EXPECT_EQ(a.log->head(0), chain_head{});
    EXPECT_EQ(a.log->offset(1), 4);
    EXPECT_EQ(a.log->offset(3), 1);
    EXPECT_EQ(a.log->offset(0), -1);
    const auto read = all_events(*a.log, 1);
    ASSERT_EQ(read.size(), 5u);
    EXPECT_EQ(read[2], first[2]);
    EXPECT_EQ(read[4], more[1]);
}

TEST_F(KafkaLogMockTest, RefusesABatchThatDoesNotContinueTheChainAndProducesNothing) {
    node a;
    ASSERT_TRUE(a.open(options()));
    chain_head h{};
    ASSERT_TRUE(a.log->append(0, sealed_events(0, partitions, h, 2)));
    chain_head wrong{};
    auto refused = a.log->append(0, sealed_events(0, partitions, wrong, 1));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::invalid_argument);
    EXPECT_FALSE(a.log->stopped(0));

    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, 2u);
    EXPECT_EQ(b.log->head(0), h);
}

TEST_F(KafkaLogMockTest, ListenersHearOnlyDurableEvents) {
    auto o = options();
    o.delivery_timeout = short_delivery_timeout;
    node a;
    ASSERT_TRUE(a.open(o));
    std::vector<position> heard;
    a.log->subscribe([&](partition_id, std::span<const envelope> events) {
        for (const auto& e : events) heard.push_back(e.pos);
    });
    chain_head h{};
    ASSERT_TRUE(a.log->append(2, sealed_events(2, partitions, h, 2)));
    EXPECT_EQ(heard, (std::vector<position>{1, 2}));

    rd_kafka_mock_broker_set_down(cluster_.get(), 1);
    EXPECT_FALSE(a.log->append(2, sealed_events(2, partitions, h, 1)));
    EXPECT_EQ(heard, (std::vector<position>{1, 2}));
}

TEST_F(KafkaLogMockTest, OpenFailsAsUnavailableWhenNoBrokerAnswers) {
    rd_kafka_mock_broker_set_down(cluster_.get(), 1);
    auto o = options();
    o.request_timeout = std::chrono::milliseconds(1500);
    node a;
    auto opened = a.open(o);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, errc::unavailable) << opened.error().message;
}

TEST_F(KafkaLogMockTest, RestartKeepsOffsetsAndAnEmptyDataDirectoryRebuildsTheChains) {
    node a;
    ASSERT_TRUE(a.open(options()));
    std::vector<chain_head> heads(partitions);
    for (int round = 0; round < 3; ++round) {
        std::vector<std::vector<envelope>> batches;
        for (partition_id p = 0; p < partitions; ++p)
            batches.push_back(sealed_events(p, partitions, heads[p], round + 1));
        std::vector<partition_batch> group;
        for (partition_id p = 0; p < partitions; ++p) group.push_back({p, batches[p]});
        ASSERT_TRUE(a.log->append_group(group));
    }
    const auto offset2 = a.log->offset(2);
    a.close();

    ASSERT_TRUE(a.open(options()));
    EXPECT_EQ(a.log->offset(2), offset2);
    auto again = a.log->catch_up();
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again.value().appended, 0u);
    EXPECT_EQ(again.value().duplicates, 0u);

    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, 4u * 6u);
    for (partition_id p = 0; p < partitions; ++p) {
        EXPECT_EQ(b.log->head(p), heads[p]);
        EXPECT_EQ(b.log->offset(p), a.log->offset(p));
        EXPECT_EQ(all_events(*b.log, p), all_events(*a.log, p));
    }

    // The rebuilt node writes on, and the first one catches up with it.
    ASSERT_TRUE(b.log->append(1, sealed_events(1, partitions, heads[1], 2)));
    auto followed = a.log->catch_up();
    ASSERT_TRUE(followed) << followed.error().message;
    EXPECT_EQ(followed.value().appended, 2u);
    EXPECT_EQ(a.log->head(1), heads[1]);
}

TEST_F(KafkaLogMockTest, DuplicateRecordsAreDroppedOnCatchUp) {
    chain_head h{};
    const auto events = sealed_events(2, partitions, h, 3);
    // What an idempotent producer can still leave behind after a timeout,
    // or a second writer resending: 1 2 2 1 3 3.
    std::vector<record> records;
    for (const int i : {0, 1, 1, 0, 2, 2}) records.push_back(to_record(events[i]));
    testing_support::produce_raw(cluster_.brokers(), topic_name, 2, records);

    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, 3u);
    EXPECT_EQ(caught.value().duplicates, 3u);
    EXPECT_EQ(b.log->head(2), h);
    EXPECT_EQ(all_events(*b.log, 2), events);
    EXPECT_EQ(b.log->offset(2), 5);

    // Duplicates after a restart, against what is stored, are dropped too.
    testing_support::produce_raw(cluster_.brokers(), topic_name, 2, {to_record(events[1])});
    b.close();
    ASSERT_TRUE(b.open(options()));
    caught = b.log->catch_up();
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().duplicates, 1u);
    EXPECT_EQ(b.log->offset(2), 6);
    EXPECT_EQ(b.log->head(2), h);
}

TEST_F(KafkaLogMockTest, TwoEventsAtOnePositionAreCorruption) {
    chain_head h{};
    const auto events = sealed_events(0, partitions, h, 2);
    testing_support::produce_raw(cluster_.brokers(), topic_name, 0,
                                 {to_record(events[0]), to_record(events[1])});
    node b;
    ASSERT_TRUE(b.open(options()));
    ASSERT_TRUE(b.log->catch_up());
    chain_head forged = h;
    forged.pos = 1;
    forged.hash = events[0].hash;
    auto second = sealed_events(0, partitions, forged, 1);  // position 2 again, another event
    ASSERT_NE(second[0].hash, events[1].hash);
    testing_support::produce_raw(cluster_.brokers(), topic_name, 0, {to_record(second[0])});
    auto caught = b.log->catch_up();
    ASSERT_FALSE(caught);
    EXPECT_EQ(caught.error().code, errc::corruption);
    EXPECT_NE(caught.error().message.find("two different events at position 2"), std::string::npos)
        << caught.error().message;
    EXPECT_EQ(b.log->head(0), h);
}

TEST_F(KafkaLogMockTest, AGapOrATamperedRecordIsCorruption) {
    chain_head h{};
    const auto events = sealed_events(3, partitions, h, 3);
    testing_support::produce_raw(cluster_.brokers(), topic_name, 3,
                                 {to_record(events[0]), to_record(events[2])});
    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_FALSE(caught);
    EXPECT_EQ(caught.error().code, errc::corruption);
    EXPECT_NE(caught.error().message.find("records are missing"), std::string::npos)
        << caught.error().message;
    EXPECT_EQ(b.log->head(3).pos, 0u);  // nothing of the failed catch-up is kept

    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_.get(), "tampered", partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    auto tampered = to_record(events[0]);
    tampered.value = R"({"name":"someone else"})";
    testing_support::produce_raw(cluster_.brokers(), "tampered", 3, {tampered});
    auto o = options();
    o.topic = "tampered";
    node c;
    ASSERT_TRUE(c.open(o));
    caught = c.log->catch_up();
    ASSERT_FALSE(caught);
    EXPECT_EQ(caught.error().code, errc::corruption);
    EXPECT_NE(caught.error().message.find("hash does not match"), std::string::npos)
        << caught.error().message;
}

TEST_F(KafkaLogMockTest, ARecordInTheWrongPartitionIsCorruption) {
    chain_head h{};
    const auto events = sealed_events(1, partitions, h, 1);
    testing_support::produce_raw(cluster_.brokers(), topic_name, 2, {to_record(events[0])});
    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_FALSE(caught);
    EXPECT_EQ(caught.error().code, errc::corruption);
}

TEST_F(KafkaLogMockTest, ABrokerThatIsDownFailsTheAppendAsUnavailable) {
    auto o = options();
    // Longer than usual here: the retry below must not fail while the
    // producer reconnects on a busy machine.
    o.delivery_timeout = std::chrono::seconds(3);
    // Reconnects soon after the broker is back (librdkafka's backoff grows
    // to 10 s otherwise, longer than the delivery timeout).
    o.settings = {{"reconnect.backoff.max.ms", "100"}};
    node a;
    ASSERT_TRUE(a.open(o));
    chain_head h{};
    ASSERT_TRUE(a.log->append(0, sealed_events(0, partitions, h, 1)));

    rd_kafka_mock_broker_set_down(cluster_.get(), 1);
    chain_head next = h;
    const auto batch = sealed_events(0, partitions, next, 2);
    auto failed = a.log->append(0, batch);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::unavailable) << failed.error().message;
    EXPECT_EQ(a.log->head(0), h);  // nothing acknowledged, nothing stored
    EXPECT_EQ(all_events(*a.log, 0).size(), 1u);

    // The partition waits for its tail to be re-read, which finds nothing
    // new once the broker is back; the same events then go on.
    EXPECT_TRUE(a.log->stopped(0));
    rd_kafka_mock_broker_set_up(cluster_.get(), 1);
    auto restored = restore_within(*a.log, 0, std::chrono::seconds(30));
    ASSERT_TRUE(restored) << restored.error().message;
    EXPECT_EQ(a.log->head(0), h);
    auto retried = a.log->append(0, batch);
    ASSERT_TRUE(retried) << retried.error().message;
    EXPECT_EQ(a.log->head(0), next);
}

TEST_F(KafkaLogMockTest, ARefusedProduceIsUnavailableAndStopsItsPartition) {
    node a;
    ASSERT_TRUE(a.open(options()));
    rd_kafka_mock_push_request_errors(cluster_.get(), produce_api_key, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    chain_head h{};
    const auto batch = sealed_events(1, partitions, h, 1);
    auto failed = a.log->append(1, batch);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::unavailable);
    EXPECT_NE(failed.error().message.find("MSG_SIZE_TOO_LARGE"), std::string::npos)
        << failed.error().message;
    EXPECT_EQ(a.log->head(1).pos, 0u);
    // Even a record librdkafka reports as never written stops its partition
    // (its report is not proof), and an event at the same position is
    // refused until the tail is re-read.
    EXPECT_TRUE(a.log->stopped(1));
    chain_head other{};
    auto refused = a.log->append(1, sealed_events(1, partitions, other, 1));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("stopped"), std::string::npos)
        << refused.error().message;
    ASSERT_TRUE(a.log->restore(1));
    EXPECT_FALSE(a.log->stopped(1));
    EXPECT_EQ(a.log->head(1).pos, 0u);
    ASSERT_TRUE(a.log->append(1, batch));
}

TEST_F(KafkaLogMockTest, AFailedGroupStopsEveryPartitionItWroteToAndNoOther) {
    node a;
    ASSERT_TRUE(a.open(options()));
    chain_head h0{};
    ASSERT_TRUE(a.log->append(0, sealed_events(0, partitions, h0, 1)));

    // The broker refuses the first request: whether the two records went in
    // one request or in two, the group fails with a record reported as
    // never written.
    rd_kafka_mock_push_request_errors(cluster_.get(), produce_api_key, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    chain_head h1{};
    chain_head h3{};
    const auto first = sealed_events(1, partitions, h1, 1);
    const auto third = sealed_events(3, partitions, h3, 1);
    const partition_batch group[] = {{1, first}, {3, third}};
    auto failed = a.log->append_group(group);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::unavailable) << failed.error().message;
    EXPECT_TRUE(a.log->stopped(1));
    EXPECT_TRUE(a.log->stopped(3));
    EXPECT_FALSE(a.log->stopped(0));
    EXPECT_FALSE(a.log->stopped(2));
    // A partition the group did not write to goes on.
    ASSERT_TRUE(a.log->append(0, sealed_events(0, partitions, h0, 1)));
    EXPECT_EQ(a.log->head(0), h0);

    // Once the tails are re-read, each goes on after what landed of it.
    ASSERT_TRUE(a.log->restore(1));
    EXPECT_FALSE(a.log->stopped(1));
    EXPECT_FALSE(a.log->stopped(3));
    for (const auto& [p, sent] :
         {std::pair{partition_id{1}, first[0]}, std::pair{partition_id{3}, third[0]}}) {
        chain_head landed = a.log->head(p);
        const chain_head written{sent.pos, sent.hash};
        EXPECT_TRUE(landed == chain_head{} || landed == written)
            << "partition " << p << " at " << landed.pos;
        auto appended = a.log->append(p, sealed_events(p, partitions, landed, 1));
        ASSERT_TRUE(appended) << appended.error().message;
    }
}

TEST_F(KafkaLogMockTest, AdmitsAnEventWhoseRecordTheProducerTakesAndRefusesALargerOne) {
    auto o = options();
    o.settings = {{"message.max.bytes", "4000"}};
    node a;
    ASSERT_TRUE(a.open(o));
    const chain_head start{};
    // The next event of partition 2, renamed to a name of n letters.
    auto renamed = [&](std::size_t n) {
        chain_head h = start;
        auto e = sealed_events(2, partitions, h, 1).front();
        e.data = space_renamed{std::string(n, 'x')};
        seal(e, start);
        return e;
    };
    const auto empty_size = kafka::record_size(renamed(0));
    ASSERT_LT(empty_size, 4000u);
    const std::size_t most = 4000 - empty_size;  // a letter adds one byte to the record
    ASSERT_EQ(kafka::record_size(renamed(most)), 4000u);

    auto over = a.log->admits(renamed(most + 1));
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, errc::limit_exceeded);
    EXPECT_NE(over.error().message.find("message.max.bytes"), std::string::npos)
        << over.error().message;
    EXPECT_TRUE(a.log->admits(renamed(10)));

    // The largest event admitted is one the producer takes: the measure is
    // never smaller than librdkafka's.
    const auto largest = renamed(most);
    ASSERT_TRUE(a.log->admits(largest));
    const envelope batch[] = {largest};
    auto appended = a.log->append(2, batch);
    ASSERT_TRUE(appended) << appended.error().message;
    EXPECT_EQ(a.log->head(2), (chain_head{largest.pos, largest.hash}));
}

TEST_F(KafkaLogMockTest, ARetriedFirstRecordIsNotOvertakenByTheNextOne) {
    // Each record in a request of its own, answered slowly enough that a
    // producer free to pipeline would have both on the wire at once.
    auto o = options();
    o.settings = {{"batch.num.messages", "1"}};
    node a;
    ASSERT_TRUE(a.open(o));
    rd_kafka_mock_broker_set_rtt(cluster_.get(), 1, 100);
    // The partition's first write is refused as a broker that does not lead
    // it yet (a topic just created, a leader just moved) refuses it. A
    // broker takes any sequence number from a producer it does not know, so
    // a second record already on the wire would land first, and the
    // producer would count the first as written (implicitly acked).
    rd_kafka_mock_push_request_errors(cluster_.get(), produce_api_key, 1,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    chain_head h{};
    const auto batch = sealed_events(1, partitions, h, 2);
    auto appended = a.log->append(1, batch);
    ASSERT_TRUE(appended) << appended.error().message;
    EXPECT_EQ(a.log->offset(1), 1);

    // The topic holds both, in order, at offsets 0 and 1.
    rd_kafka_mock_broker_set_rtt(cluster_.get(), 1, 0);
    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, 2u);
    EXPECT_EQ(b.log->head(1), h);
    EXPECT_EQ(b.log->offset(1), 1);
}

TEST_F(KafkaLogMockTest, AConfirmationWithoutAnOffsetStopsThePartitionUntilItsTailIsReRead) {
    node a;
    ASSERT_TRUE(a.open(options()));
    chain_head h{};
    ASSERT_TRUE(a.log->append(0, sealed_events(0, partitions, h, 1)));

    // The broker answers that it holds the record already (as it does for a
    // retry of a written one); librdkafka reports it delivered, without an
    // offset. Here the broker does not hold it: acknowledging it would lose it.
    rd_kafka_mock_push_request_errors(cluster_.get(), produce_api_key, 1,
                                      RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER);
    chain_head next = h;
    const auto batch = sealed_events(0, partitions, next, 1);
    auto failed = a.log->append(0, batch);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::unavailable);
    EXPECT_NE(failed.error().message.find("not past offset 0"), std::string::npos)
        << failed.error().message;
    EXPECT_TRUE(a.log->stopped(0));
    EXPECT_EQ(a.log->head(0), h);

    // The tail holds nothing more; the same event then goes to offset 1.
    auto caught = a.log->catch_up();
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, 0u);
    EXPECT_EQ(a.log->head(0), h);
    auto appended = a.log->append(0, batch);
    ASSERT_TRUE(appended) << appended.error().message;
    EXPECT_EQ(a.log->head(0), next);
    EXPECT_EQ(a.log->offset(0), 1);
}

TEST_F(KafkaLogMockTest, AnUnconfirmedWriteStopsThePartitionUntilItsTailIsReRead) {
    auto o = options();
    o.delivery_timeout = short_delivery_timeout;
    node a;
    ASSERT_TRUE(a.open(o));
    chain_head h{};
    ASSERT_TRUE(a.log->append(2, sealed_events(2, partitions, h, 1)));

    // The broker takes the records but its answers come too late.
    rd_kafka_mock_broker_set_rtt(cluster_.get(), 1, 4000);
    chain_head sent = h;
    const auto batch = sealed_events(2, partitions, sent, 2);
    auto failed = a.log->append(2, batch);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, errc::unavailable) << failed.error().message;
    EXPECT_TRUE(a.log->stopped(2));
    EXPECT_EQ(a.log->head(2), h);

    // Another event at the same position is refused: no fork in the topic.
    rd_kafka_mock_broker_set_rtt(cluster_.get(), 1, 0);
    chain_head other = h;
    auto refused = a.log->append(2, sealed_events(2, partitions, other, 1));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::unavailable);
    EXPECT_NE(refused.error().message.find("stopped"), std::string::npos);

    // Re-reading the tail finds what landed, and the partition goes on.
    auto caught = a.log->catch_up();
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_FALSE(a.log->stopped(2));
    chain_head landed = a.log->head(2);
    EXPECT_TRUE(landed_prefix(landed, batch)) << landed.pos;
    ASSERT_TRUE(a.log->append(2, sealed_events(2, partitions, landed, 1)));
}

TEST_F(KafkaLogMockTest, RestoreMakesANewProducerAndLearnsWhatLandedOnceTheBrokerAnswers) {
    auto o = options();
    o.delivery_timeout = short_delivery_timeout;
    o.settings = {{"reconnect.backoff.max.ms", "100"}};
    node a;
    ASSERT_TRUE(a.open(o));
    chain_head h{};
    ASSERT_TRUE(a.log->append(3, sealed_events(3, partitions, h, 1)));

    rd_kafka_mock_broker_set_rtt(cluster_.get(), 1, 4000);
    chain_head sent = h;
    const auto batch = sealed_events(3, partitions, sent, 2);
    ASSERT_FALSE(a.log->append(3, batch));
    ASSERT_TRUE(a.log->stopped(3));
    // A partition that is not stopped has nothing to restore.
    EXPECT_TRUE(a.log->restore(0));

    // While the broker is away the tail cannot be read: restore() fails,
    // and tries again at most once a second.
    rd_kafka_mock_broker_set_rtt(cluster_.get(), 1, 0);
    rd_kafka_mock_broker_set_down(cluster_.get(), 1);
    auto away = a.log->restore(3);
    ASSERT_FALSE(away);
    EXPECT_EQ(away.error().code, errc::unavailable);
    auto soon = a.log->restore(3);
    ASSERT_FALSE(soon);
    EXPECT_NE(soon.error().message.find("waits"), std::string::npos) << soon.error().message;
    EXPECT_TRUE(a.log->stopped(3));
    EXPECT_EQ(a.log->head(3), h);

    rd_kafka_mock_broker_set_up(cluster_.get(), 1);
    auto restored = restore_within(*a.log, 3, std::chrono::seconds(30));
    ASSERT_TRUE(restored) << restored.error().message;
    EXPECT_FALSE(a.log->stopped(3));
    chain_head landed = a.log->head(3);
    EXPECT_TRUE(landed_prefix(landed, batch)) << landed.pos;
    // The new producer writes on after what landed.
    ASSERT_TRUE(a.log->append(3, sealed_events(3, partitions, landed, 1)));
    node b;
    ASSERT_TRUE(b.open(o));
    ASSERT_TRUE(b.log->catch_up());
    EXPECT_EQ(b.log->head(3), landed);
}

TEST_F(KafkaLogMockTest, OpenRefusesAMismatchedTopicOrADataDirectoryNotWrittenThroughIt) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_.get(), "three", 3, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    auto o = options();
    o.topic = "three";
    node a;
    auto opened = a.open(o);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, errc::invalid_argument);
    EXPECT_NE(opened.error().message.find("has 3 partitions"), std::string::npos);

    // Events written by the embedded log are not in the topic.
    temp_dir dir;
    {
        auto store = open_store(dir.path());
        auto local = open_local(*store, partitions);
        chain_head h{};
        ASSERT_TRUE(local->append(0, sealed_events(0, partitions, h, 1)));
    }
    auto store = open_store(dir.path());
    auto refused = kafka_log::open(open_local(*store, partitions), options());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::invalid_argument);

    auto bad = options();
    bad.brokers.clear();
    node c;
    EXPECT_EQ(c.open(bad).error().code, errc::invalid_argument);
    bad = options();
    bad.settings = {{"no.such.setting", "1"}};
    EXPECT_EQ(c.open(bad).error().code, errc::invalid_argument);
}

TEST(KafkaRecordTest, TheBinaryFormBoundsTheRecordOfEveryEventType) {
    auto holds = [](envelope e) {
        seal(e, chain_head{});
        EXPECT_LE(record_size(e), record_size_bound(e))
            << type_name_of(e.data) << ": " << encode_binary(e).size() << " binary bytes";
        // The size counts every byte of the record as built.
        const record r = to_record(e);
        std::size_t built = r.key.size() + r.value.size();
        for (const auto& [name, value] : r.headers) built += name.size() + value.size();
        EXPECT_GE(record_size(e), built) << type_name_of(e.data);
    };
    events::for_each_event_type([&]<class E>(std::type_identity<E>) {
        holds(migops::testing::sample_envelope(migops::testing::sample_of<E>()));
    });
    // Text that JSON escapes six bytes to one, and a trace context.
    auto escaped = migops::testing::sample_envelope(
        space_created{std::string(1000, '\x01'), std::string(1000, '"')});
    escaped.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    holds(escaped);
    // Large enough that the fixed part of the bound does not cover it.
    holds(migops::testing::sample_envelope(space_created{std::string(100'000, '\x01'), ""}));
    // A trace context is a header the binary form does not hold.
    auto traced = migops::testing::sample_envelope(space_renamed{"n"});
    traced.traceparent = std::string(100'000, 'a');
    holds(traced);
}

TEST(KafkaRecordTest, CarriesTheCloudEventInBinaryContentMode) {
    chain_head h{};
    (void)sealed_events(1, partitions, h, 1);
    const auto events = sealed_events(1, partitions, h, 1);
    const envelope& e = events[0];
    const record r = to_record(e);
    EXPECT_EQ(r.key, e.space.value);
    const auto ce = to_cloudevent(e);
    EXPECT_EQ(r.value, canonical_json(ce.at("data")));
    auto header = [&](std::string_view name) {
        const auto* v = r.header(name);
        return v ? *v : std::string("<missing>");
    };
    EXPECT_EQ(header("ce_specversion"), "1.0");
    EXPECT_EQ(header("ce_id"), e.event_id);
    EXPECT_EQ(header("ce_source"), "/spaces/" + e.space.value);
    EXPECT_EQ(header("ce_type"), "io.migops.space.renamed.v1");
    EXPECT_EQ(header("ce_time"), format_rfc3339(e.time));
    EXPECT_EQ(header("ce_subject"), e.space.value);
    EXPECT_EQ(header("content-type"), "application/json");
    EXPECT_EQ(header("ce_sequence"), "00000000000000000002");
    EXPECT_EQ(header("ce_partitionkey"), e.space.value);
    EXPECT_EQ(header("ce_migopsposition"), "2");
    EXPECT_EQ(header("ce_migopspartition"), "1");
    EXPECT_EQ(header("ce_migopsactor"), "alice");
    EXPECT_EQ(header("migops_position"), "2");
    EXPECT_EQ(header("migops_prev_hash"), to_hex(e.prev_hash));
    EXPECT_EQ(header("migops_hash"), to_hex(e.hash));
    EXPECT_EQ(r.header("ce_data"), nullptr);

    auto back = from_record(r);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back.value(), e);
}

TEST(KafkaRecordTest, CarriesTheTraceContextWhenKnownOutsideTheHash) {
    chain_head h{};
    auto e = sealed_events(0, partitions, h, 1).front();
    EXPECT_EQ(to_record(e).header("ce_traceparent"), nullptr);
    const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    e.traceparent = trace;
    const auto r = to_record(e);
    ASSERT_NE(r.header("ce_traceparent"), nullptr);
    EXPECT_EQ(*r.header("ce_traceparent"), trace);
    auto back = from_record(r);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back.value().traceparent, trace);
    EXPECT_EQ(back.value().hash, e.hash);
}

// A chain checkpoint is about its partition, not a space.
envelope checkpoint_after(partition_id p, chain_head& head) {
    envelope e;
    e.event_id = random_id();
    e.partition = p;
    e.time = timestamp{1'000'000 * (static_cast<std::int64_t>(head.pos) + 1)};
    e.causation_id = "checkpoint";
    e.correlation_id = "checkpoint";
    chain_checkpoint c;
    c.partition = p;
    c.position = head.pos;
    c.head_hash = head.hash;
    c.signed_at = e.time;
    c.algorithm = "ed25519";
    c.key_id = std::string(64, 'a');
    c.signature = std::string(128, 'b');
    e.data = c;
    head = seal(e, head);
    return e;
}

TEST(KafkaRecordTest, ACheckpointHasItsPartitionAsSourceAndNoSpace) {
    chain_head h{};
    auto events = sealed_events(2, partitions, h, 1);
    const auto e = checkpoint_after(2, h);
    const record r = to_record(e);
    EXPECT_EQ(r.key, "");
    ASSERT_NE(r.header("ce_source"), nullptr);
    EXPECT_EQ(*r.header("ce_source"), "/partitions/2");
    EXPECT_EQ(r.header("ce_subject"), nullptr);
    EXPECT_EQ(r.header("ce_partitionkey"), nullptr);
    auto back = from_record(r);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back.value(), e);
}

TEST_F(KafkaLogMockTest, CatchUpTakesCheckpointsInTheirPartition) {
    node a;
    ASSERT_TRUE(a.open(options()));
    chain_head h{};
    auto batch = sealed_events(2, partitions, h, 2);
    batch.push_back(checkpoint_after(2, h));
    ASSERT_TRUE(a.log->append(2, batch));
    node b;
    auto caught = b.open_and_catch_up(options());
    ASSERT_TRUE(caught) << caught.error().message;
    EXPECT_EQ(caught.value().appended, 3u);
    EXPECT_EQ(b.log->head(2), h);
    EXPECT_EQ(all_events(*b.log, 2), batch);
}

TEST(KafkaRecordTest, RefusesRecordsThatAreNotIntactEvents) {
    chain_head h{};
    const record good = to_record(sealed_events(0, partitions, h, 1)[0]);
    auto with_header = [&](std::string_view name, std::string value) {
        record r = good;
        for (auto& [n, v] : r.headers)
            if (n == name) v = std::move(value);
        return r;
    };
    auto without_header = [&](std::string_view name) {
        record r = good;
        std::erase_if(r.headers, [&](const auto& kv) { return kv.first == name; });
        return r;
    };
    record not_json = good;
    not_json.value = "{";
    for (const record& bad :
         {with_header("ce_migopsposition", "two"), with_header("ce_migopsposition", ""),
          with_header("ce_migopsactor", "mallory"), with_header("ce_type", "io.migops.nope.v1"),
          with_header("ce_specversion", "0.3"), without_header("ce_migopshash"),
          without_header("ce_id"), not_json}) {
        auto decoded = from_record(bad);
        ASSERT_FALSE(decoded);
        EXPECT_EQ(decoded.error().code, errc::corruption) << decoded.error().message;
    }
    EXPECT_TRUE(from_record(good));
}

}  // namespace
}  // namespace migops::events::kafka
