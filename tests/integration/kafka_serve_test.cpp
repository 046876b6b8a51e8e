// The server with Kafka as the log of record (`migops serve --kafka-brokers`),
// against the real broker of tests/integration/kafka_broker.h: a second
// server with an empty data directory rebuilds the same board from the
// topic; a broker outage under load fails commands with 503 and loses,
// duplicates and forks nothing; a broker that is not there keeps /readyz
// false and stops the start with a clear message.

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

#include <boost/json.hpp>

#include "events/types.h"
#include "tests/integration/kafka_broker.h"
#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops::testing_support {
namespace {

using namespace std::chrono_literals;
using boost::json::object;

const std::string json_type = "Content-Type: application/json";
constexpr const char* jwt_secret = "a-secret-of-the-kafka-tests-of-32-bytes-or-more";

object parse(const http_reply& r) {
    return boost::json::parse(r.body).as_object();
}

// One migops server over its own data directory, with Kafka as its log.
class server {
  public:
    server(const std::filesystem::path& dir, std::string topic, std::vector<std::string> more = {})
        : dir_(dir), topic_(std::move(topic)), more_(std::move(more)) {
        std::filesystem::create_directories(dir_);
    }

    std::vector<std::string> args() const {
        std::vector<std::string> a = {"serve",
                                      "--data-dir",
                                      (dir_ / "data").string(),
                                      "--listen",
                                      "127.0.0.1:" + std::to_string(port_),
                                      "--kafka-brokers",
                                      broker::get().address(),
                                      "--kafka-topic",
                                      topic_,
                                      "--kafka-replication",
                                      "1",
                                      "--jwt-secret",
                                      jwt_secret};
        a.insert(a.end(), more_.begin(), more_.end());
        return a;
    }

    // Starts it; returns whether it became ready.
    ::testing::AssertionResult start() {
        port_ = free_port();
        process_ = start_process(MIGOPS_BINARY, args(),
                                 dir_ / ("serve-" + std::to_string(++starts_) + ".log"));
        if (wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 90s))
            return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "not ready:\n" << process_.stderr_text();
    }
    void stop() {
        if (process_.pid > 0) {
            ::kill(process_.pid, SIGTERM);
            EXPECT_EQ(wait_exit(process_, 25s), 0) << process_.stderr_text();
        }
    }
    std::string token(const std::string& user) const {
        auto c = start_process(
            MIGOPS_BINARY, {"token", "--user", user, "--data-dir", (dir_ / "data").string()},
            dir_ / ("token-" + user), {std::string("MIGOPS_JWT_SECRET=") + jwt_secret});
        EXPECT_EQ(wait_exit(c, 10s), 0);
        auto t = c.stderr_text();
        if (!t.empty()) t.pop_back();
        return "Authorization: Bearer " + t;
    }
    http_reply call(const std::string& method, const std::string& path, const std::string& who,
                    const std::string& body = "", std::vector<std::string> headers = {}) const {
        headers.push_back(who);
        if (!body.empty()) headers.push_back(json_type);
        return http_call(port_, method, path, headers, body);
    }
    std::uint16_t port() const { return port_; }
    child_process& process() { return process_; }

  private:
    std::filesystem::path dir_;
    std::string topic_;
    std::vector<std::string> more_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    child_process process_;
};

class KafkaServeTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(broker::get().started()); }
    void TearDown() override {
        // A test that stopped the broker leaves it running for the next.
        if (broker_stopped_) {
            EXPECT_TRUE(broker::get().start());
        }
    }

    static std::string topic() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        return std::string("migops.serve.") + info->name() + "." + std::to_string(::getpid()) +
               "." + std::to_string(++topics_);
    }

    // Every record's Kafka partition and headers, a line each, read with
    // kcat.
    std::string kcat_headers(const std::string& topic) {
        const auto out = dir_.path() / "kcat.out";
        EXPECT_EQ(run({"kcat", "-b", broker::get().address(), "-t", topic, "-C", "-e", "-q", "-f",
                       "%p %h\\n"},
                      out),
                  0)
            << read_file(out);
        return read_file(out);
    }

    // Per Kafka partition, per migops_position, the ce_id of every record
    // of the topic that carries it (a record sent again after a timeout
    // repeats its id).
    std::map<int, std::map<std::uint64_t, std::vector<std::string>>> positions_in(
        const std::string& topic) {
        std::map<int, std::map<std::uint64_t, std::vector<std::string>>> found;
        std::istringstream lines(kcat_headers(topic));
        std::string line;
        const auto header = [&](std::string_view name) {
            const auto at = line.find(std::string(name) + "=");
            if (at == std::string::npos) return std::string();
            const auto from = at + name.size() + 1;
            return line.substr(from, line.find(',', from) - from);
        };
        while (std::getline(lines, line)) {
            const auto pos = header("migops_position");
            if (pos.empty()) continue;
            found[std::stoi(line.substr(0, line.find(' ')))][std::stoull(pos)].push_back(
                header("ce_id"));
        }
        return found;
    }

    // A space with a journey from the quick-start template; the journey's
    // id and its tasks' ids.
    static std::pair<std::string, std::vector<std::string>> space_and_tasks(
        const server& s, const std::string& alice) {
        auto space = s.call("POST", "/v1/spaces", alice, R"({"name":"Kafka"})");
        EXPECT_EQ(space.status, 201) << space.body;
        const std::string id(parse(space).at("id").as_string());
        auto journey = s.call("POST", "/v1/spaces/" + id + "/journeys", alice,
                              R"({"name":"Move","template_id":"migops-quick-start"})");
        EXPECT_EQ(journey.status, 201) << journey.body;
        const auto tree = parse(journey);
        std::vector<std::string> tasks;
        for (const auto& phase : tree.at("phases").as_array())
            for (const auto& module : phase.at("modules").as_array())
                for (const auto& task : module.at("tasks").as_array())
                    tasks.emplace_back(task.at("id").as_string());
        return {std::string(tree.at("id").as_string()), tasks};
    }

    temp_dir dir_;
    bool broker_stopped_ = false;
    static inline int topics_ = 0;
};

TEST_F(KafkaServeTest, ASecondServerWithAnEmptyDataDirectoryServesTheSameBoard) {
    const auto t = topic();
    server a(dir_.path() / "a", t);
    ASSERT_TRUE(a.start());
    const auto alice = a.token("alice");
    auto [journey, tasks] = space_and_tasks(a, alice);
    ASSERT_FALSE(tasks.empty());
    const auto task = tasks.front();
    ASSERT_EQ(a.call("PUT", "/v1/tasks/" + task + "/assignee", alice, R"({"user":"alice"})").status,
              200);
    // A request's trace context travels with its events to the topic.
    const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    ASSERT_EQ(a.call("POST", "/v1/tasks/" + task + "/comments", alice, R"({"text":"first"})",
                     {"traceparent: " + trace})
                  .status,
              201);
    EXPECT_NE(kcat_headers(t).find("ce_traceparent=" + trace), std::string::npos);
    ASSERT_EQ(a.call("POST", "/v1/tasks/" + task + "/status", alice, R"({"status":"in_progress"})")
                  .status,
              200);
    const auto board = a.call("GET", "/v1/journeys/" + journey, alice);
    ASSERT_EQ(board.status, 200);
    // The history index follows the log a moment after a write is answered.
    auto history = a.call("GET", "/v1/events?journey=" + journey + "&limit=1000", alice);
    ASSERT_TRUE(wait_until(
        [&] {
            history = a.call("GET", "/v1/events?journey=" + journey + "&limit=1000", alice);
            return history.status == 200 &&
                   history.body.find("io.migops.task.status_changed.v1") != std::string::npos;
        },
        10s))
        << history.body;

    server b(dir_.path() / "b", t);
    ASSERT_TRUE(b.start());
    EXPECT_EQ(b.call("GET", "/v1/journeys/" + journey, alice).body, board.body);
    EXPECT_EQ(b.call("GET", "/v1/events?journey=" + journey + "&limit=1000", alice).body,
              history.body);

    // The first, restarted, catches up with what the second wrote.
    a.stop();
    ASSERT_EQ(
        b.call("POST", "/v1/tasks/" + task + "/comments", alice, R"({"text":"second"})").status,
        201);
    ASSERT_TRUE(a.start());
    EXPECT_EQ(a.call("GET", "/v1/tasks/" + task, alice).body,
              b.call("GET", "/v1/tasks/" + task, alice).body);
    a.stop();
    b.stop();
}

TEST_F(KafkaServeTest, ABrokerOutageUnderLoadFailsCommandsAndLosesOrDuplicatesNothing) {
    const auto t = topic();
    server s(dir_.path() / "s", t, {"--kafka-delivery-timeout-ms", "2000"});
    ASSERT_TRUE(s.start());
    const auto alice = s.token("alice");
    // Clients comment, each on a task of its own (a task holds at most 50
    // comments), each comment with its own Idempotency-Key, and retry a
    // refused one with the same key until it is acknowledged.
    constexpr int clients = 3;
    constexpr int comments_each = 45;
    auto [journey, tasks] = space_and_tasks(s, alice);
    ASSERT_GE(tasks.size(), static_cast<std::size_t>(clients));
    std::atomic<int> acknowledged{0};
    std::atomic<int> unavailable{0};
    std::atomic<int> unexpected{0};
    std::mutex m;
    std::vector<std::string> odd_answers;
    std::vector<std::jthread> threads;  // joined however the test ends
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            for (int i = 0; i < comments_each; ++i) {
                const std::string text = "c" + std::to_string(c) + "-" + std::to_string(i);
                const auto deadline = std::chrono::steady_clock::now() + 180s;
                for (;;) {
                    auto r = s.call("POST", "/v1/tasks/" + tasks[c] + "/comments", alice,
                                    R"({"text":")" + text + R"("})", {"Idempotency-Key: " + text});
                    if (r.status == 201) {
                        ++acknowledged;
                        break;
                    }
                    if (r.status == 503) {
                        ++unavailable;
                    } else {
                        ++unexpected;
                        std::lock_guard lock(m);
                        odd_answers.push_back(std::to_string(r.status) + " " + r.body);
                    }
                    if (std::chrono::steady_clock::now() > deadline) return;
                    std::this_thread::sleep_for(100ms);
                }
            }
        });

    ASSERT_TRUE(wait_until([&] { return acknowledged.load() >= 20; }, 60s));
    ASSERT_TRUE(broker::get().stop());
    broker_stopped_ = true;
    EXPECT_TRUE(wait_until([&] { return unavailable.load() >= clients; }, 60s))
        << "no command failed while the broker was away";
    // Reads go on.
    EXPECT_EQ(s.call("GET", "/v1/journeys/" + journey, alice).status, 200);
    EXPECT_EQ(http_get(s.port(), "/healthz").status, 200);
    ASSERT_TRUE(broker::get().start());
    broker_stopped_ = false;
    for (auto& th : threads) th.join();
    threads.clear();

    EXPECT_EQ(acknowledged.load(), clients * comments_each);
    EXPECT_EQ(unexpected.load(), 0) << (odd_answers.empty() ? "" : odd_answers.front());
    // Each comment once in its task.
    for (int c = 0; c < clients; ++c) {
        auto view = parse(s.call("GET", "/v1/tasks/" + tasks[c], alice));
        std::multiset<std::string> texts;
        for (const auto& comment : view.at("comments").as_array())
            texts.insert(std::string(comment.at("text").as_string()));
        EXPECT_EQ(texts.size(), static_cast<std::size_t>(comments_each));
        for (int i = 0; i < comments_each; ++i)
            EXPECT_EQ(texts.count("c" + std::to_string(c) + "-" + std::to_string(i)), 1u);
    }

    // The topic holds positions 1..n of each partition without a gap, and
    // never two different events at one position (DESIGN.md section 4: a
    // record an idempotent producer sent again after a timeout may repeat,
    // with its id; readers drop it).
    std::size_t repeated = 0;
    const auto in_topic = positions_in(t);
    ASSERT_FALSE(in_topic.empty());
    for (const auto& [partition, positions] : in_topic) {
        std::uint64_t expected = 1;
        for (const auto& [pos, ids] : positions) {
            ASSERT_EQ(pos, expected) << "Kafka partition " << partition;
            ++expected;
            ASSERT_FALSE(ids.front().empty()) << "a record without ce_id";
            for (const auto& id : ids)
                ASSERT_EQ(id, ids.front())
                    << "two events at position " << pos << " of Kafka partition " << partition;
            repeated += ids.size() - 1;
        }
    }
    if (repeated > 0) std::cout << repeated << " records repeated in the topic\n";
    // And a server that reads it all from the topic agrees.
    server fresh(dir_.path() / "fresh", t);
    ASSERT_TRUE(fresh.start());
    EXPECT_EQ(fresh.call("GET", "/v1/journeys/" + journey, alice).body,
              s.call("GET", "/v1/journeys/" + journey, alice).body);
    fresh.stop();
    s.stop();
}

// A template of `tasks` tasks, each with a description of `letters` letters.
std::string template_body(const std::string& id, int tasks, std::size_t letters) {
    std::string body = R"({"template_id":")" + id +
                       R"(","version":"1","name":"Big","description":"","phases":[{"id":"p",)"
                       R"("title":"P","description":"","modules":[{"id":"m","title":"M",)"
                       R"("description":"","tasks":[)";
    for (int i = 0; i < tasks; ++i)
        body += std::string(i == 0 ? "" : ",") + R"({"id":"t)" + std::to_string(i) +
                R"(","title":"T","description":")" + std::string(letters, 'x') +
                R"(","tools":[],"links":[],"criteria":[],"steps":[],"subtasks":[]})";
    return body + "]}]}]}";
}

TEST_F(KafkaServeTest, AnEventTooLargeForAKafkaRecordIsRefusedAloneAndWritesNothing) {
    const auto t = topic();
    server s(dir_.path() / "s", t);
    ASSERT_TRUE(s.start());
    const auto alice = s.token("alice");
    // The records in the topic, checked to hold positions 1..n of each
    // partition without a gap.
    auto records = [&] {
        std::size_t n = 0;
        for (const auto& [partition, positions] : positions_in(t)) {
            std::uint64_t expected = 1;
            for (const auto& [pos, ids] : positions) {
                EXPECT_EQ(pos, expected++) << "Kafka partition " << partition;
                ++n;
            }
        }
        return n;
    };
    ASSERT_EQ(s.call("POST", "/v1/spaces", alice, R"({"name":"Before"})").status, 201);
    const auto before = records();
    ASSERT_GT(before, 0u);

    // 30 descriptions of 40,000 letters: within every limit of the API and
    // the domain (and taken without Kafka), but a record of 1.2 MB.
    auto big = s.call("POST", "/v1/templates", alice, template_body("big", 30, 40'000));
    EXPECT_EQ(big.status, 409) << big.body.substr(0, 500);
    EXPECT_NE(big.body.find("/problems/limit-exceeded"), std::string::npos)
        << big.body.substr(0, 500);
    EXPECT_NE(big.body.find("message.max.bytes"), std::string::npos) << big.body.substr(0, 500);
    EXPECT_EQ(records(), before) << "nothing of it in the topic";
    EXPECT_EQ(s.call("GET", "/v1/templates", alice).body.find(R"("id":"big")"), std::string::npos);

    // The log goes on at once.
    auto small = s.call("POST", "/v1/templates", alice, template_body("small", 1, 10));
    EXPECT_EQ(small.status, 201) << small.body;
    ASSERT_EQ(s.call("POST", "/v1/spaces", alice, R"({"name":"After"})").status, 201);
    EXPECT_GT(records(), before);
    s.stop();
}

TEST_F(KafkaServeTest, WithoutABrokerTheServerIsNotReadyAndStopsWithAClearMessage) {
    temp_dir d;
    const auto port = free_port();
    auto c = start_process(
        MIGOPS_BINARY,
        {"serve", "--data-dir", (d.path() / "data").string(), "--listen",
         "127.0.0.1:" + std::to_string(port), "--kafka-brokers",
         "127.0.0.1:" + std::to_string(free_port()), "--kafka-request-timeout-ms", "4000"},
        d.path() / "serve.log");
    // While it tries to reach the broker, /readyz says so.
    http_result ready{};
    EXPECT_TRUE(wait_until(
        [&] {
            ready = http_get(port, "/readyz");
            return ready.status == 503 && ready.body.find("Kafka") != std::string::npos;
        },
        20s))
        << ready.status << " " << ready.body << "\n"
        << c.stderr_text();
    EXPECT_EQ(http_get(port, "/v1/spaces").status, 503);
    EXPECT_EQ(http_get(port, "/healthz").status, 200);
    const auto code = wait_exit(c, 60s);
    ASSERT_TRUE(code.has_value());
    EXPECT_NE(*code, 0);
    EXPECT_NE(c.stderr_text().find("Kafka"), std::string::npos) << c.stderr_text();
}

TEST_F(KafkaServeTest, BadKafkaSettingsAreRefusedBeforeAnythingStarts) {
    temp_dir d;
    struct bad {
        std::string flag, value, named;
    };
    for (const auto& [flag, value, named] :
         std::vector<bad>{{"--kafka-replication", "0", "kafka_replication"},
                          {"--kafka-delivery-timeout-ms", "soon", "kafka_delivery_timeout_ms"},
                          {"--kafka-topic", "", "kafka_topic"}}) {
        auto c =
            start_process(MIGOPS_BINARY,
                          {"serve", "--data-dir", (d.path() / "data").string(), "--listen",
                           "127.0.0.1:0", "--kafka-brokers", broker::get().address(), flag, value},
                          d.path() / "serve.log");
        const auto code = wait_exit(c, 20s);
        ASSERT_TRUE(code.has_value());
        EXPECT_NE(*code, 0) << flag;
        EXPECT_NE(c.stderr_text().find(named), std::string::npos) << c.stderr_text();
    }
}

}  // namespace
}  // namespace migops::testing_support
