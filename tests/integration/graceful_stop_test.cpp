// Graceful stop under load: clients on keep-alive connections add comments
// as fast as the server answers; SIGTERM arrives mid-load. The server must
// answer what it took, exit 0 within 25 s, and after a restart hold every
// comment it acknowledged, once.

#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

constexpr int clients = 16;
constexpr std::size_t acknowledged_before_stop = 1000;
constexpr auto answer_timeout = 30s;

// One keep-alive connection: a request, then its whole answer.
class connection {
  public:
    explicit connection(std::uint16_t port) : fd_(connect_loopback(port)) {}
    ~connection() {
        if (fd_ >= 0) ::close(fd_);
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    bool open() const { return fd_ >= 0; }

    // The answer's status and body; status 0 when the connection ended
    // before a whole answer (then it is closed here).
    std::pair<int, std::string> call(const std::string& request) {
        if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size()))
            return fail();
        std::string in;
        const auto deadline = std::chrono::steady_clock::now() + answer_timeout;
        for (;;) {
            const auto end = in.find("\r\n\r\n");
            if (end != std::string::npos) {
                const auto at = in.find("Content-Length: ");
                if (at == std::string::npos || at > end) return fail();
                const auto length = std::stoul(in.substr(at + 16));
                if (in.size() >= end + 4 + length) {
                    const bool closing =
                        in.substr(0, end).find("Connection: close") != std::string::npos;
                    auto answer = std::pair{std::stoi(in.substr(9, 3)), in.substr(end + 4, length)};
                    if (closing) fail();
                    return answer;
                }
            }
            if (std::chrono::steady_clock::now() > deadline) return fail();
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[8192];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return fail();
            in.append(buf, static_cast<std::size_t>(n));
        }
    }

  private:
    std::pair<int, std::string> fail() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        return {0, {}};
    }
    int fd_;
};

class GracefulStopTest : public ::testing::Test {
  protected:
    void start() {
        port_ = free_port();
        server_ = start_process(
            MIGOPS_BINARY,
            {"serve", "--data-dir", data(), "--listen", "127.0.0.1:" + std::to_string(port_),
             "--limit-comments-per-task", "10000"},
            dir_.path() / ("serve-" + std::to_string(starts_++) + ".log"));
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    std::string data() const { return (dir_.path() / "data").string(); }
    std::string token(const std::string& user) {
        const auto t = cli_token(MIGOPS_BINARY, user, data(), dir_.path() / ("token-" + user));
        EXPECT_FALSE(t.empty());
        return "Authorization: Bearer " + t;
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    child_process server_;
};

TEST_F(GracefulStopTest, SigtermUnderLoadKeepsEveryAcknowledgedCommand) {
    start();
    const auto alice = token("alice");
    const std::string json = "Content-Type: application/json";
    auto space = http_call(port_, "POST", "/v1/spaces", {json, alice}, R"({"name":"DC exit"})");
    ASSERT_EQ(space.status, 201) << space.body;
    const std::string sid(boost::json::parse(space.body).at("id").as_string());
    auto journey = http_call(port_, "POST", "/v1/spaces/" + sid + "/journeys", {json, alice},
                             R"({"name":"Wave 1","template_id":"migops-quick-start"})");
    ASSERT_EQ(journey.status, 201) << journey.body;
    std::vector<std::string> tasks;
    const auto tree = boost::json::parse(journey.body);
    for (const auto& phase : tree.at("phases").as_array())
        for (const auto& module : phase.at("modules").as_array())
            for (const auto& task : module.at("tasks").as_array())
                tasks.emplace_back(task.at("id").as_string());
    ASSERT_FALSE(tasks.empty());

    std::mutex mutex;
    std::map<std::string, std::string> acknowledged;  // comment text → task
    std::map<int, int> answers;                       // status → count
    std::atomic<std::size_t> count{0};
    std::atomic<bool> stopped{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            std::unique_ptr<connection> conn;
            for (int k = 0;; ++k) {
                if (!conn || !conn->open()) {
                    conn = std::make_unique<connection>(port_);
                    if (!conn->open()) return;  // nobody listens any more
                }
                const auto& task = tasks[static_cast<std::size_t>(k + c) % tasks.size()];
                const std::string text = "c" + std::to_string(c) + "-" + std::to_string(k);
                const std::string body = R"({"text":")" + text + R"("})";
                const auto [status, answer] = conn->call(
                    "POST /v1/tasks/" + task + "/comments HTTP/1.1\r\nHost: localhost\r\n" + alice +
                    "\r\n" + json + "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body);
                std::lock_guard lock(mutex);
                ++answers[status];
                if (status == 201) {
                    acknowledged.emplace(text, task);
                    ++count;
                }
                if (status == 0 && stopped) return;
            }
        });
    ASSERT_TRUE(wait_until([&] { return count.load() >= acknowledged_before_stop; }, 60s));
    stopped = true;
    ::kill(server_.pid, SIGTERM);
    const auto at_stop = count.load();
    const auto code = wait_exit(server_, 25s);
    for (auto& t : threads) t.join();
    ASSERT_TRUE(code.has_value()) << "still running 25 s after SIGTERM";
    EXPECT_EQ(*code, 0) << server_.stderr_text();
    EXPECT_GT(count.load(), at_stop) << "the commands in flight when SIGTERM came were answered";
    for (const auto& [status, n] : answers)
        EXPECT_TRUE(status == 201 || status == 503 || status == 0)
            << n << " answers with status " << status;

    start();
    std::map<std::string, int> kept;
    for (const auto& task : tasks) {
        auto r = http_call(port_, "GET", "/v1/tasks/" + task, {alice});
        ASSERT_EQ(r.status, 200) << r.body;
        const auto shown = boost::json::parse(r.body);
        for (const auto& comment : shown.at("comments").as_array())
            ++kept[std::string(comment.at("text").as_string())];
    }
    std::size_t lost = 0;
    for (const auto& [text, task] : acknowledged) {
        const auto it = kept.find(text);
        if (it == kept.end()) {
            ++lost;
            continue;
        }
        EXPECT_EQ(it->second, 1) << text << " on " << task;
    }
    EXPECT_EQ(lost, 0u) << "of " << acknowledged.size() << " acknowledged comments";
    ::kill(server_.pid, SIGTERM);
    EXPECT_EQ(wait_exit(server_, 25s), 0);
}

}  // namespace
}  // namespace migops
