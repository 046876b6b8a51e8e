// The benchmarks' HTTP load generator against the real binary: what it
// reports, and that refused answers make it fail.

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

// A server that gives every request the same canned answer, to show what
// the generator makes of answers migops does not give.
class canned_server {
  public:
    explicit canned_server(std::string answer) : answer_(std::move(answer)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_, SOMAXCONN) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~canned_server() {
        stop_ = true;
        thread_.join();
        for (auto& c : clients_) ::close(c.fd);
        ::close(listener_);
    }
    canned_server(const canned_server&) = delete;
    canned_server& operator=(const canned_server&) = delete;
    std::uint16_t port() const { return port_; }

  private:
    struct client {
        int fd;
        std::string in;
    };
    void serve() {
        constexpr int poll_ms = 10;
        while (!stop_) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (const auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), poll_ms) <= 0) continue;
            if ((fds[0].revents & POLLIN) != 0)
                clients_.push_back({::accept(listener_, nullptr, nullptr), {}});
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if ((fds[i].revents & POLLIN) == 0) continue;
                auto& c = clients_[i - 1];
                char buf[4096];
                const auto n = ::recv(c.fd, buf, sizeof buf, 0);
                if (n <= 0) continue;
                c.in.append(buf, static_cast<std::size_t>(n));
                answer_complete_requests(c);
            }
        }
    }
    void answer_complete_requests(client& c) {
        for (;;) {
            const auto end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) return;
            const auto at = c.in.find("Content-Length: ");
            const std::size_t body = at < end ? std::stoul(c.in.substr(at + 16)) : 0;
            if (c.in.size() < end + 4 + body) return;
            c.in.erase(0, end + 4 + body);
            ::send(c.fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
        }
    }

    std::string answer_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::vector<client> clients_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

class HttpLoadTest : public ::testing::Test {
  protected:
    void SetUp() override {
        port_ = free_port();
        server_ = start_process(
            MIGOPS_BINARY,
            {"serve", "--data-dir", data(), "--listen", "127.0.0.1:" + std::to_string(port_)},
            dir_.path() / "serve.log");
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
        auto c = start_process(MIGOPS_BINARY, {"token", "--user", "loader", "--data-dir", data()},
                               dir_.path() / "token");
        ASSERT_EQ(wait_exit(c, 10s), 0);
        token_ = c.stderr_text();
        if (!token_.empty()) token_.pop_back();
    }
    void TearDown() override {
        ::kill(server_.pid, SIGTERM);
        EXPECT_EQ(wait_exit(server_, 25s), 0);
    }
    std::string data() const { return (dir_.path() / "data").string(); }

    struct run {
        std::optional<int> exit;
        std::vector<boost::json::object> phases;
        std::string output;
    };
    // Runs the generator with args; its output lines that are JSON are the
    // phases it reports.
    run load(const std::vector<std::string>& args) {
        auto c = start_process(MIGOPS_HTTP_LOAD, args, dir_.path() / "load.out");
        run r;
        r.exit = wait_exit(c, 60s);
        r.output = c.stderr_text();
        std::istringstream lines(r.output);
        for (std::string line; std::getline(lines, line);)
            if (line.rfind('{', 0) == 0) r.phases.push_back(boost::json::parse(line).as_object());
        return r;
    }
    std::vector<std::string> base_args() const {
        return {"--port", std::to_string(port_), "--token", token_, "--connections", "4"};
    }
    // A space with a journey from a built-in template; writes its task ids to
    // the file `tasks`, one a line, and returns their path and count.
    std::pair<std::string, std::size_t> journey_tasks() {
        const std::vector<std::string> headers{"Content-Type: application/json",
                                               "Authorization: Bearer " + token_};
        auto space = http_call(port_, "POST", "/v1/spaces", headers, R"({"name":"Load"})");
        EXPECT_EQ(space.status, 201) << space.body;
        const std::string id(boost::json::parse(space.body).at("id").as_string());
        auto journey = http_call(port_, "POST", "/v1/spaces/" + id + "/journeys", headers,
                                 R"({"name":"Load","template_id":"migops-general-migration"})");
        EXPECT_EQ(journey.status, 201) << journey.body;
        const auto path = dir_.path() / "tasks";
        std::ofstream tasks(path);
        std::size_t count = 0;
        const auto tree = boost::json::parse(journey.body);
        for (const auto& p : tree.at("phases").as_array())
            for (const auto& m : p.at("modules").as_array())
                for (const auto& t : m.at("tasks").as_array()) {
                    tasks << t.at("id").as_string().c_str() << "\n";
                    ++count;
                }
        return {path.string(), count};
    }
    // A figure /metrics shows (-1 when it shows none of that name).
    long long metric(const std::string& name) const {
        const auto metrics = http_get(port_, "/metrics").body;
        const auto at = metrics.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + name.size() + 2));
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    std::string token_;
    child_process server_;
};

TEST_F(HttpLoadTest, ReportsTheMaximumRateThenHalfOfIt) {
    auto args = base_args();
    args.insert(args.end(), {"--spaces", "--duration", "0.5", "--then-half"});
    auto r = load(args);
    ASSERT_EQ(r.exit, 0) << r.output;
    ASSERT_EQ(r.phases.size(), 2u) << r.output;
    const auto& max = r.phases[0];
    const auto& half = r.phases[1];
    EXPECT_EQ(max.at("phase").as_string(), "max");
    EXPECT_EQ(max.at("mode").as_string(), "closed");
    EXPECT_GT(max.at("requests").as_int64(), 0);
    EXPECT_EQ(max.at("errors").as_int64(), 0);
    EXPECT_EQ(half.at("phase").as_string(), "half");
    EXPECT_EQ(half.at("mode").as_string(), "open");
    // Over 0.5 s the rate is twice the count: its half prints exactly.
    EXPECT_DOUBLE_EQ(half.at("offered_rate").as_double(), max.at("rate").as_double() / 2);
    EXPECT_GT(half.at("requests").as_int64(), 0);
    EXPECT_EQ(half.at("errors").as_int64(), 0);
    EXPECT_LE(half.at("p50_ms").as_double(), half.at("p99_ms").as_double());
    EXPECT_LE(half.at("p99_ms").as_double(), half.at("max_ms").as_double());
}

TEST_F(HttpLoadTest, AnOpenLoopAtAFixedRate) {
    auto args = base_args();
    args.insert(args.end(), {"--spaces", "--warmup", "0.2", "--duration", "0.5", "--rate", "100"});
    auto r = load(args);
    ASSERT_EQ(r.exit, 0) << r.output;
    ASSERT_EQ(r.phases.size(), 2u) << r.output;
    EXPECT_EQ(r.phases[0].at("phase").as_string(), "warmup");
    EXPECT_EQ(r.phases[1].at("phase").as_string(), "open");
    EXPECT_DOUBLE_EQ(r.phases[1].at("offered_rate").as_double(), 100.0);
    EXPECT_GT(r.phases[1].at("requests").as_int64(), 0);
}

// Every answered request is a real transition: one event each, never a no-op.
TEST_F(HttpLoadTest, ChangesTaskStatusesOneEventPerRequest) {
    const auto [tasks, count] = journey_tasks();
    ASSERT_GE(count, 4u);
    auto appended = [&] { return metric("migops_events_appended_total"); };
    const std::string durable = R"(migops_command_stage_seconds_count{stage="durable"})";
    const std::string applied = R"(migops_command_stage_seconds_count{stage="read_models"})";
    const auto before = appended();
    ASSERT_GE(before, 0);
    const auto durable_before = metric(durable);
    const auto applied_before = metric(applied);
    ASSERT_GE(durable_before, 0);
    ASSERT_GE(applied_before, 0);
    auto args = base_args();
    args.insert(args.end(), {"--tasks", tasks, "--duration", "0.5", "--rate", "200"});
    auto r = load(args);
    ASSERT_EQ(r.exit, 0) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    const auto requests = r.phases[0].at("requests").as_int64();
    EXPECT_GT(requests, 0);
    EXPECT_EQ(appended() - before, requests);
    // Each answer recorded its two stages.
    EXPECT_EQ(metric(durable) - durable_before, requests);
    EXPECT_EQ(metric(applied) - applied_before, requests);

    // Every read model has applied them all: /metrics shows each one's lag
    // reach 0 (the answers waited for the board and the audit index).
    auto lags = [&] {
        const auto metrics = http_get(port_, "/metrics").body;
        std::map<std::string, long long> out;
        const std::string name = "\nmigops_projection_lag_events{model=\"";
        for (auto at = metrics.find(name); at != std::string::npos;
             at = metrics.find(name, at + 1)) {
            const auto model_at = at + name.size();
            const auto end = metrics.find("\"} ", model_at);
            out[metrics.substr(model_at, end - model_at)] = std::stoll(metrics.substr(end + 3));
        }
        return out;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto lag = lags();
    while (std::any_of(lag.begin(), lag.end(), [](const auto& l) { return l.second != 0; }) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        lag = lags();
    }
    EXPECT_EQ(lag, (std::map<std::string, long long>{
                       {"audit_index", 0}, {"board", 0}, {"space_directory", 0}}));
}

// With --reads, each request reads a task: answered with its version, and
// nothing appended.
TEST_F(HttpLoadTest, ReadsTasksAndAppendsNothing) {
    const auto [tasks, count] = journey_tasks();
    ASSERT_GE(count, 4u);
    const auto before = metric("migops_events_appended_total");
    ASSERT_GE(before, 0);
    auto args = base_args();
    args.insert(args.end(), {"--tasks", tasks, "--reads", "--duration", "0.3"});
    auto r = load(args);
    ASSERT_EQ(r.exit, 0) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_EQ(r.phases[0].at("phase").as_string(), "max");
    EXPECT_GT(r.phases[0].at("requests").as_int64(), 0);
    EXPECT_EQ(r.phases[0].at("errors").as_int64(), 0);
    EXPECT_EQ(metric("migops_events_appended_total"), before);
}

// With --health, each request is GET /healthz, without a token: answered
// by the server's HTTP path alone, nothing appended.
TEST_F(HttpLoadTest, AsksHealthWithoutAToken) {
    const std::string healthz =
        R"(migops_http_requests_total{method="GET",route="healthz",status="2xx"})";
    const auto answered_before = std::max(metric(healthz), 0LL);
    const auto appended_before = metric("migops_events_appended_total");
    ASSERT_GE(appended_before, 0);
    auto r = load(
        {"--port", std::to_string(port_), "--health", "--connections", "4", "--duration", "0.3"});
    ASSERT_EQ(r.exit, 0) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_EQ(r.phases[0].at("phase").as_string(), "max");
    const auto requests = r.phases[0].at("requests").as_int64();
    EXPECT_GT(requests, 0);
    EXPECT_EQ(r.phases[0].at("errors").as_int64(), 0);
    EXPECT_GE(metric(healthz) - answered_before, requests);
    EXPECT_EQ(metric("migops_events_appended_total"), appended_before);
}

TEST_F(HttpLoadTest, AnUnhealthyAnswerIsAnError) {
    canned_server unavailable("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}");
    auto r = load({"--port", std::to_string(unavailable.port()), "--health", "--connections", "4",
                   "--duration", "0.2"});
    EXPECT_EQ(r.exit, 1) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_GT(r.phases[0].at("non_2xx").as_object().at("503").as_int64(), 0) << r.output;
    EXPECT_NE(r.output.find("503 for /healthz"), std::string::npos) << r.output;
}

TEST_F(HttpLoadTest, RefusedAnswersAreErrorsAndFailTheRun) {
    auto args = base_args();
    args[3] = "not.a.token";
    args.insert(args.end(), {"--spaces", "--duration", "0.3"});
    auto r = load(args);
    EXPECT_EQ(r.exit, 1) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    const auto& non_2xx = r.phases[0].at("non_2xx").as_object();
    ASSERT_EQ(non_2xx.size(), 1u) << r.output;
    EXPECT_GT(non_2xx.at("401").as_int64(), 0);
    EXPECT_EQ(r.phases[0].at("errors").as_int64(), non_2xx.at("401").as_int64());
    EXPECT_NE(r.output.find("401 for /v1/spaces"), std::string::npos) << r.output;
}

TEST_F(HttpLoadTest, UnknownTasksAreErrorsToo) {
    std::ofstream(dir_.path() / "tasks") << "t1\nt2\nt3\nt4\n";
    auto args = base_args();
    args.insert(args.end(), {"--tasks", (dir_.path() / "tasks").string(), "--duration", "0.3"});
    auto r = load(args);
    EXPECT_EQ(r.exit, 1) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_GT(r.phases[0].at("errors").as_int64(), 0);
    EXPECT_TRUE(r.phases[0].at("non_2xx").as_object().at("404").is_int64()) << r.output;
}

TEST_F(HttpLoadTest, SuccessThatChangesNothingIsAnError) {
    canned_server same_version("HTTP/1.1 200 OK\r\nETag: \"7\"\r\nContent-Length: 2\r\n\r\n{}");
    std::ofstream(dir_.path() / "tasks") << "t1\nt2\nt3\nt4\n";
    auto args = base_args();
    args[1] = std::to_string(same_version.port());
    args.insert(args.end(), {"--tasks", (dir_.path() / "tasks").string(), "--duration", "0.2"});
    auto r = load(args);
    EXPECT_EQ(r.exit, 1) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_GT(r.phases[0].at("unchanged").as_int64(), 0);
    EXPECT_TRUE(r.phases[0].at("non_2xx").as_object().empty());
    EXPECT_NE(r.output.find("without a change: version \"7\" as before"), std::string::npos)
        << r.output;
}

TEST_F(HttpLoadTest, AReadAnsweredWithoutAVersionIsAnError) {
    canned_server no_etag("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    std::ofstream(dir_.path() / "tasks") << "t1\nt2\nt3\nt4\n";
    auto args = base_args();
    args[1] = std::to_string(no_etag.port());
    args.insert(args.end(),
                {"--tasks", (dir_.path() / "tasks").string(), "--reads", "--duration", "0.2"});
    auto r = load(args);
    EXPECT_EQ(r.exit, 1) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_GT(r.phases[0].at("unchanged").as_int64(), 0);
    EXPECT_NE(r.output.find(" without an ETag"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("/status"), std::string::npos) << r.output;
}

TEST_F(HttpLoadTest, AnswersItCannotReadAreErrors) {
    canned_server chunked(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    auto args = base_args();
    args[1] = std::to_string(chunked.port());
    args.insert(args.end(), {"--spaces", "--duration", "0.2"});
    auto r = load(args);
    EXPECT_EQ(r.exit, 1) << r.output;
    ASSERT_EQ(r.phases.size(), 1u) << r.output;
    EXPECT_GT(r.phases[0].at("transport_errors").as_int64(), 0);
    EXPECT_EQ(r.phases[0].at("requests").as_int64(), 0);
    EXPECT_NE(r.output.find("chunked"), std::string::npos) << r.output;
}

TEST_F(HttpLoadTest, RefusesBadArguments) {
    EXPECT_EQ(load({"--spaces", "--token", token_}).exit, 2);                       // no port
    EXPECT_EQ(load({"--port", std::to_string(port_), "--token", token_}).exit, 2);  // no workload
    auto both = base_args();
    both.insert(both.end(), {"--spaces", "--rate", "10", "--then-half"});
    EXPECT_EQ(load(both).exit, 2);
    auto read_spaces = base_args();  // --reads reads tasks
    read_spaces.insert(read_spaces.end(), {"--spaces", "--reads"});
    EXPECT_EQ(load(read_spaces).exit, 2);
    auto read_health = base_args();
    read_health.insert(read_health.end(), {"--health", "--reads"});
    EXPECT_EQ(load(read_health).exit, 2);
    auto health_spaces = base_args();  // one workload
    health_spaces.insert(health_spaces.end(), {"--health", "--spaces"});
    EXPECT_EQ(load(health_spaces).exit, 2);
    EXPECT_EQ(load({"--port", std::to_string(port_), "--spaces"}).exit, 2);  // no token
    auto health_token = base_args();                                         // --health sends none
    health_token.push_back("--health");
    EXPECT_EQ(load(health_token).exit, 2);
    std::ofstream(dir_.path() / "few") << "t1\nt2\n";
    auto few = base_args();  // 4 connections, 2 tasks
    few.insert(few.end(), {"--tasks", (dir_.path() / "few").string()});
    auto r = load(few);
    EXPECT_EQ(r.exit, 2);
    EXPECT_NE(r.output.find("each of the 4 connections needs its own"), std::string::npos)
        << r.output;
    auto nobody = base_args();
    nobody[1] = std::to_string(free_port());
    nobody.insert(nobody.end(), {"--spaces", "--duration", "0.1"});
    EXPECT_EQ(load(nobody).exit, 1);
}

}  // namespace
}  // namespace migops
