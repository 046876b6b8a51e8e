// Crash safety of the log of record: a child appends through the processor
// and is SIGKILLed at random moments; after each restart every acknowledged
// event is present, positions are contiguous and the whole chain verifies.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>
#include <chrono>
#include <map>
#include <random>
#include <sstream>

#include "events/rocks_log.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

struct ack {
    partition_id partition;
    position pos;
    std::string event_id;
};

struct child {
    pid_t pid = -1;
    int out = -1;
};

child spawn_writer(const std::string& dir, const std::string& tag) {
    int fds[2];
    if (::pipe(fds) != 0) return {};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl(MIGOPS_CRASH_WRITER, MIGOPS_CRASH_WRITER, dir.c_str(), tag.c_str(),
                static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(fds[1]);
    return {pid, fds[0]};
}

// Reads whole lines from fd until the deadline (or EOF when deadline is
// unset), feeding each to on_line.
template <class F>
void read_lines(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline,
                F&& on_line) {
    char chunk[65536];
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return;
        pollfd p{fd, POLLIN, 0};
        const auto wait_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(wait_ms, 1))) <= 0) continue;
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = buffer.find('\n')) != std::string::npos) {
            on_line(buffer.substr(0, nl));
            buffer.erase(0, nl + 1);
        }
    }
}

TEST(CrashSafety, SigkillAtRandomMomentsLosesNothingAcknowledged) {
    constexpr int rounds = 24;
    testing_support::temp_dir dir;
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> kill_after_ms(20, 400);
    std::vector<ack> acked;

    for (int round = 0; round < rounds; ++round) {
        auto c = spawn_writer(dir.path().string(), "r" + std::to_string(round));
        ASSERT_GT(c.pid, 0);
        std::string buffer;
        bool ready = false;
        auto on_line = [&](const std::string& line) {
            if (line == "READY") {
                ready = true;
                return;
            }
            std::istringstream in(line);
            std::string word;
            ack a;
            in >> word >> a.partition >> a.pos >> a.event_id;
            if (word == "ACK") acked.push_back(a);
        };
        const auto start_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!ready && std::chrono::steady_clock::now() < start_deadline)
            read_lines(c.out, buffer,
                       std::chrono::steady_clock::now() + std::chrono::milliseconds(10), on_line);
        ASSERT_TRUE(ready) << "round " << round << ": the writer did not start";
        read_lines(c.out, buffer,
                   std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms(rng)),
                   on_line);
        ::kill(c.pid, SIGKILL);
        int status = 0;
        ::waitpid(c.pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": the writer exited by itself";
        // Whatever it printed before it died was acknowledged.
        read_lines(c.out, buffer, std::chrono::steady_clock::now() + std::chrono::seconds(5),
                   on_line);
        ::close(c.out);

        auto store = events::rocks_store::open(
            {dir.path(), {events::events_column_family, events::meta_column_family}});
        ASSERT_TRUE(store) << store.error().message;
        auto log = events::rocks_log::open(*store.value(), {.partitions = 4, .verify_all = true});
        ASSERT_TRUE(log) << "round " << round << ": " << log.error().message;
        std::map<std::pair<partition_id, position>, std::string> stored;
        for (partition_id p = 0; p < 4; ++p) {
            auto all = log.value()->read(p, 1, std::numeric_limits<std::size_t>::max());
            ASSERT_TRUE(all);
            position expect = 1;
            for (const auto& e : all.value()) {
                ASSERT_EQ(e.pos, expect++) << "positions are not contiguous";
                stored[{p, e.pos}] = e.event_id;
            }
        }
        for (const auto& a : acked) {
            auto it = stored.find({a.partition, a.pos});
            ASSERT_NE(it, stored.end())
                << "round " << round << ": acknowledged " << a.partition << "/" << a.pos << " lost";
            ASSERT_EQ(it->second, a.event_id) << "another event took an acknowledged position";
        }
    }
    EXPECT_GT(acked.size(), static_cast<std::size_t>(rounds))
        << "the writer acknowledged too little";
    std::cout << "crash rounds: " << rounds << ", acknowledged events checked: " << acked.size()
              << "\n";
}

}  // namespace
}  // namespace migops
