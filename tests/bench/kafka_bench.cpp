// Benchmark of Kafka as the log of record: events/s appended through the
// engine (partition processor → KafkaLog: broker confirmation with acks=all,
// then the local RocksDB write) against a raw librdkafka producer loop
// (idempotent, acks=all) sending the same records to the same broker, in the
// same run, with as many records in flight as the engine has commands: 64
// (kafka.throughput.64), or every record at once against the engine's 4096
// (kafka.throughput.4096). The broker is started here with ops/kafka-broker
// and stopped at the end. Prints one JSON row per line like migops_bench.
//
// usage: migops_kafka_bench DIR [ROW...]

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/partition_processor.h"
#include "events/codec.h"
#include "events/kafka/kafka_log.h"
#include "events/kafka/produce.h"
#include "tests/bench/bench.h"
#include "tests/integration/process.h"

using namespace migops;
using migops::bench::print;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t partitions = 8;
constexpr std::size_t event_bytes = 300;  // the stored event, as in log.throughput
// Commands in flight: a few clients, and a crowd (the raw producer has as
// many records in flight as the few, or every record at once).
constexpr int few_submitters = 64;
constexpr int many_submitters = 4096;
// Commands per run: with a crowd in flight, enough for a run of several
// seconds (a short one is mostly its first and last round trips).
constexpr std::size_t few_commands = 20'000;
constexpr std::size_t many_commands = 100'000;
// Unmeasured rounds against a cold broker first: its JVM compiles its hot
// paths for a while, and the raw producer's rate keeps rising for a dozen
// rounds or more. At least min_warm_rounds, then until a round's raw rate is
// no more than warm_gain above the best before it (at most max_warm_rounds).
constexpr int min_warm_rounds = 8;
constexpr int max_warm_rounds = 40;
constexpr double warm_gain = 1.1;
// Each measured run starts after this pause, so that none pays for the
// broker's work left over from the run before it (its collector, its log
// flushes).
constexpr auto settle = std::chrono::seconds(2);
constexpr int measured_rounds = 5;
constexpr auto broker_script_timeout = std::chrono::minutes(5);

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "migops_kafka_bench: %s\n", what.c_str());
    std::exit(1);
}

// Runs ops/kafka-broker; its output goes to DIR/kafka-broker-<command>.out.
void broker_script(const fs::path& dir, std::uint16_t port, const std::string& command) {
    const auto out = dir / ("kafka-broker-" + command + ".out");
    auto child = testing_support::start_process(
        MIGOPS_KAFKA_BROKER_SCRIPT,
        {command, "--port", std::to_string(port), "--dir", (dir / "broker").string(), "--parent",
         std::to_string(::getpid())},
        out);
    const auto code = testing_support::wait_exit(child, broker_script_timeout);
    if (code != 0) fail("ops/kafka-broker " + command + " failed; see " + out.string());
}

struct node {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<events::kafka::kafka_log> log;
};

node open_node(const fs::path& dir, const std::string& brokers, const std::string& topic) {
    fs::remove_all(dir);
    node n;
    auto store = events::rocks_store::open(
        {dir, {events::events_column_family, events::meta_column_family}});
    if (!store) fail(store.error().message);
    n.store = std::move(store).value();
    // As the server opens Kafka's local copy (api/application.cpp).
    auto local = events::rocks_log::open(*n.store, {.partitions = partitions, .sync = false});
    if (!local) fail(local.error().message);
    events::kafka::kafka_log_options options;
    options.brokers = brokers;
    options.topic = topic;
    options.replication = 1;
    options.on_log = [](int, std::string_view) {};  // "coordinator loading" while the broker warms
    auto log = events::kafka::kafka_log::open(std::move(local).value(), options);
    if (!log) fail(log.error().message);
    n.log = std::move(log).value();
    return n;
}

// A create_space command whose stored event is about event_bytes long.
std::size_t description_for_target() {
    events::envelope e;
    e.event_id = random_id();
    e.space = space_id{"bench-0-000000"};
    e.actor = user_id{"bench"};
    e.causation_id = random_id();
    e.correlation_id = e.causation_id;
    e.data = events::space_created{"Bench space bench-0-000000", ""};
    events::seal(e, {});
    const std::size_t base = events::encode_binary(e).size();
    return base < event_bytes ? event_bytes - base : 0;
}

// Through the engine: submitters commands in flight, each answered after
// its event is confirmed by the broker and stored locally.
double engine_rate(events::kafka::kafka_log& log, int submitters, std::size_t commands) {
    const std::size_t description = description_for_target();
    engine::partition_processor proc(log, {});
    if (!proc.start()) fail("the processor did not start");
    std::atomic<std::size_t> issued{0};
    std::atomic<std::size_t> done{0};
    std::promise<void> finished;
    std::function<void()> next = [&] {
        const auto n = issued.fetch_add(1);
        if (n >= commands) return;
        const std::string space =
            "bench-" + std::to_string(n % partitions) + "-" + std::to_string(n);
        engine::submission sub{engine::create_space{space_id{space}, "Bench space " + space,
                                                    std::string(description, 'd')},
                               user_id{"bench"}, timestamp{static_cast<std::int64_t>(n)}, ""};
        auto q = proc.submit(std::move(sub), [&](auto r) {
            if (!r) fail("a command failed: " + r.error().message);
            if (done.fetch_add(1) + 1 == commands) finished.set_value();
            next();
        });
        if (!q) fail("submit refused: " + q.error().message);
    };
    const auto start = clock_type::now();
    for (int i = 0; i < submitters; ++i) next();
    finished.get_future().wait();
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    proc.stop();
    return static_cast<double>(commands) / secs;
}

// What the raw producer's delivery reports said.
struct raw_reports {
    std::size_t reported = 0;
    std::size_t failed = 0;
};

// The raw producer: the records enqueued with at most in_flight of them
// awaiting their delivery report (every record at once when 0), then
// flushed; the rate counts only delivered records.
double raw_rate(const std::string& brokers, const std::string& topic,
                const std::vector<events::envelope>& events, std::size_t in_flight) {
    std::vector<events::kafka::record> records;
    records.reserve(events.size());
    for (const auto& e : events) records.push_back(events::kafka::to_record(e));
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [k, v] : {std::pair<const char*, std::string>{"bootstrap.servers", brokers},
                               {"enable.idempotence", "true"},
                               {"acks", "all"},
                               {"log_level", "3"},
                               {"queue.buffering.max.messages", "1000000"}})
        if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
            fail(errstr);
    // Reports are served by rd_kafka_poll() on this thread.
    raw_reports reports;
    rd_kafka_conf_set_opaque(conf, &reports);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* o) {
        auto* r = static_cast<raw_reports*>(o);
        ++r->reported;
        if (m->err) ++r->failed;
    });
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) fail(errstr);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    // Connected, with its producer id, before the clock starts (as the
    // engine's log is when it takes its first command): one record, not
    // counted (the topic is the baseline's own).
    if (events::kafka::produce(rk, rkt, static_cast<std::int32_t>(events.front().partition),
                               records.front(), nullptr) ||
        rd_kafka_flush(rk, 120'000) || reports.failed)
        fail("the raw producer's first record was not delivered");
    reports = {};
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < records.size(); ++i) {
        while (in_flight > 0 && i - reports.reported >= in_flight) rd_kafka_poll(rk, 100);
        const auto err = events::kafka::produce(
            rk, rkt, static_cast<std::int32_t>(events[i].partition), records[i], nullptr);
        if (err) fail(std::string("raw produce: ") + rd_kafka_err2str(err));
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120'000)) fail("raw producer did not flush");
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (reports.failed) fail(std::to_string(reports.failed) + " raw records were not delivered");
    return static_cast<double>(records.size()) / secs;
}

// The engine's events of a finished run, to send again through the raw
// producer, in the order of their commands (each command's time is its
// number), so that the partitions take turns as they did in the engine.
std::vector<events::envelope> stored_events(events::kafka::kafka_log& log, std::size_t commands) {
    std::vector<events::envelope> events;
    for (partition_id p = 0; p < partitions; ++p) {
        auto stored = log.read(p, 1, commands);
        if (!stored) fail(stored.error().message);
        for (auto& e : stored.value()) events.push_back(std::move(e));
    }
    if (events.size() != commands) fail("the engine stored " + std::to_string(events.size()));
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& a, const auto& b) { return a.time < b.time; });
    return events;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void throughput(const fs::path& dir) {
    const std::uint16_t port = testing_support::free_port();
    broker_script(dir, port, "start");
    const std::string brokers = "127.0.0.1:" + std::to_string(port);
    int topics = 0;
    auto fresh = [&](const std::string& kind) {
        const std::string name = "bench." + kind + "." + std::to_string(++topics);
        return std::make_pair(open_node(dir / name, brokers, name), name);
    };

    // Unmeasured runs of both first, until the broker is warm.
    std::vector<events::envelope> events;
    double best_raw = 0;
    int warmed = 0;
    for (; warmed < max_warm_rounds; ++warmed) {
        auto [warm, name] = fresh("warm");
        (void)engine_rate(*warm.log, many_submitters, few_commands);
        events = stored_events(*warm.log, few_commands);
        warm = {};
        auto [few_node, few_topic] = fresh("warm-raw-64");
        (void)raw_rate(brokers, few_topic, events, few_submitters);
        auto [raw_node, raw_topic] = fresh("warm-raw");
        const double rate = raw_rate(brokers, raw_topic, events, 0);
        const bool rising = rate > best_raw * warm_gain;
        best_raw = std::max(best_raw, rate);
        if (warmed + 1 >= min_warm_rounds && !rising) break;
    }
    std::fprintf(stderr, "warm after %d rounds (raw %.0f events/s)\n", warmed + 1, best_raw);
    // Then rounds that take turns, each on a topic of its own, each run
    // after a pause once its topic is made; the median of each kind is reported.
    auto measured = [&](const std::string& kind) {
        auto made = fresh(kind);
        std::this_thread::sleep_for(settle);
        return made;
    };
    std::vector<double> few, many, raw_few, raw;
    for (int i = 0; i < measured_rounds; ++i) {
        {
            auto [n, name] = measured("few");
            few.push_back(engine_rate(*n.log, few_submitters, few_commands));
        }
        {
            auto [n, name] = measured("many");
            many.push_back(engine_rate(*n.log, many_submitters, many_commands));
            events = stored_events(*n.log, many_commands);
        }
        // The baselines' topics are created like the engine's, then left
        // to them.
        {
            auto [raw_node, raw_topic] = measured("raw-64");
            raw_few.push_back(raw_rate(brokers, raw_topic,
                                       {events.begin(), events.begin() + few_commands},
                                       few_submitters));
        }
        auto [raw_node, raw_topic] = measured("raw");
        raw.push_back(raw_rate(brokers, raw_topic, events, 0));
        std::fprintf(stderr,
                     "round %d: engine 64 %.0f, raw 64 %.0f, engine 4096 %.0f, raw %.0f events/s\n",
                     i, few.back(), raw_few.back(), many.back(), raw.back());
    }
    broker_script(dir, port, "stop");
    print({"kafka.throughput.64", median(few), "events/s", median(raw_few),
           median(few) / median(raw_few), ">= 0.5"});
    print({"kafka.throughput.4096", median(many), "events/s", median(raw),
           median(many) / median(raw), ">= 0.5"});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR [ROW...]\n", argv[0]);
        return 2;
    }
    const fs::path dir = argv[1];
    std::set<std::string> rows(argv + 2, argv + argc);
    auto wanted = [&](const std::string& name) {
        if (rows.empty()) return true;
        for (const auto& r : rows)
            if (name.rfind(r, 0) == 0 || r.rfind(name, 0) == 0) return true;
        return false;
    };
    fs::create_directories(dir);
    if (wanted("kafka.throughput")) throughput(dir);
    std::error_code ec;  // the broker may still be letting go of its files
    fs::remove_all(dir, ec);
    return 0;
}
