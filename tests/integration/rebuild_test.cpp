// `migops projections rebuild` against a running server: the server builds
// new read models beside the live ones while it keeps answering reads and
// writes, shows progress and rate, then switches; what it serves after the
// switch equals what it served before plus what was written meanwhile, and
// a restart keeps the new generation. Only operators may ask for it.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <boost/json/parse.hpp>

#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class RebuildTest : public ::testing::Test {
  protected:
    void TearDown() override { stop(); }
    void start() {
        port_ = free_port();
        server_ = start_process(MIGOPS_BINARY,
                                {"serve", "--data-dir", data(), "--partitions", "4", "--listen",
                                 "127.0.0.1:" + std::to_string(port_)},
                                dir_.path() / "serve.log", {"MIGOPS_OPERATORS=ops, ops2"});
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void stop() {
        if (server_.pid <= 0) return;
        ::kill(server_.pid, SIGTERM);
        EXPECT_EQ(wait_exit(server_, 25s), 0);
        server_.pid = 0;
    }
    std::string data() const { return (dir_.path() / "data").string(); }
    // The column families' options in the data directory's latest OPTIONS
    // file, by family and option.
    std::map<std::string, std::map<std::string, std::string>> family_options() const {
        std::filesystem::path latest;
        std::uint64_t number = 0;
        for (const auto& f : std::filesystem::directory_iterator(data())) {
            const auto name = f.path().filename().string();
            if (!name.starts_with("OPTIONS-") || name.ends_with(".dbtmp")) continue;
            const auto n = std::stoull(name.substr(8));
            if (!latest.empty() && n < number) continue;
            latest = f.path();
            number = n;
        }
        std::map<std::string, std::map<std::string, std::string>> out;
        std::ifstream in(latest);
        std::string line;
        std::string family;
        constexpr std::string_view section = "[CFOptions \"";
        while (std::getline(in, line)) {
            if (line.starts_with(section)) {
                family = line.substr(section.size(), line.rfind('"') - section.size());
                continue;
            }
            if (line.starts_with("[")) family.clear();
            const auto eq = line.find('=');
            if (family.empty() || eq == std::string::npos) continue;
            const auto start = line.find_first_not_of(' ');
            out[family][line.substr(start, eq - start)] = line.substr(eq + 1);
        }
        EXPECT_FALSE(out.empty()) << "no column family options in " << latest;
        return out;
    }
    static constexpr const char* runs_option = "memtable_insert_with_hint_prefix_extractor";
    std::string token(const std::string& user) {
        const auto t = cli_token(MIGOPS_BINARY, user, data(), dir_.path() / ("token-" + user));
        EXPECT_FALSE(t.empty());
        return t;
    }
    std::string create_space(const std::string& auth, const std::string& name) {
        auto r = http_call(port_, "POST", "/v1/spaces", {"Content-Type: application/json", auth},
                           R"({"name":")" + name + R"("})");
        EXPECT_EQ(r.status, 201) << r.body;
        if (r.status != 201) return {};
        return std::string(boost::json::parse(r.body).at("id").as_string());
    }
    boost::json::object status(const std::string& auth) {
        auto r = http_call(port_, "GET", "/v1/admin/projections", {auth});
        EXPECT_EQ(r.status, 200) << r.body;
        if (r.status != 200) return {};
        return boost::json::parse(r.body).as_object();
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process server_;
};

TEST_F(RebuildTest, TheServerRebuildsWhileItServesAndSwitches) {
    // Enough history that the rebuild takes a while: the crash test's
    // writer appends spaces (4 partitions) for a few seconds.
    const auto acks = dir_.path() / "writer.log";
    auto history = start_process(MIGOPS_CRASH_WRITER, {data(), "r"}, acks);
    // About 40,000 acknowledged commands (an ACK line is about 50 bytes).
    constexpr std::uintmax_t history_bytes = 2'000'000;
    ASSERT_TRUE(wait_until(
        [&] {
            std::error_code ec;
            const auto size = std::filesystem::file_size(acks, ec);
            return !ec && size >= history_bytes;
        },
        60s));
    kill_process(history);
    start();
    const std::string alice = "Authorization: Bearer " + token("alice");
    const std::string ops = "Authorization: Bearer " + token("ops");
    std::vector<std::string> spaces;
    for (int i = 0; i < 150; ++i)
        spaces.push_back(create_space(alice, "Before " + std::to_string(i)));
    const auto first_before = http_call(port_, "GET", "/v1/spaces/" + spaces.front(), {alice});
    ASSERT_EQ(first_before.status, 200);
    EXPECT_EQ(status(ops).at("generation").to_number<std::uint64_t>(), 0u);

    // Bad requests change nothing: no token, a user who is not an operator.
    EXPECT_EQ(http_call(port_, "POST", "/v1/admin/projections/rebuild", {}).status, 401);
    auto refused = http_call(port_, "POST", "/v1/admin/projections/rebuild", {alice});
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_NE(refused.body.find("/problems/not-an-operator"), std::string::npos) << refused.body;
    EXPECT_EQ(http_call(port_, "GET", "/v1/admin/projections", {alice}).status, 403);
    EXPECT_EQ(status(ops).at("rebuild").at("state").as_string(), "none");

    // A writer keeps creating spaces and reading each back at once, while
    // the CLI finds the server on the data directory and has it rebuild.
    std::atomic<bool> writing{true};
    std::atomic<int> unreadable{0};
    std::vector<std::string> during;
    std::thread writer([&] {
        for (int i = 0; writing.load() || i < 20; ++i) {
            const auto id = create_space(alice, "During " + std::to_string(i));
            if (id.empty()) continue;
            during.push_back(id);
            if (http_call(port_, "GET", "/v1/spaces/" + id, {alice}).status != 200) ++unreadable;
        }
    });
    // The CLI is configured with the default address, not the server's:
    // it asks the server where the server said it serves.
    auto cli = start_process(MIGOPS_BINARY, {"projections", "rebuild", "--data-dir", data()},
                             dir_.path() / "rebuild.log", {"MIGOPS_OPERATORS=ops"});
    const auto exit = wait_exit(cli, 60s);
    writing.store(false);
    writer.join();
    ASSERT_EQ(exit, 0) << cli.stderr_text();
    const auto out = cli.stderr_text();
    EXPECT_NE(out.find("is in use by another migops process"), std::string::npos) << out;
    EXPECT_NE(out.find("asking it to rebuild at http://127.0.0.1:" + std::to_string(port_) + "\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("rebuilds its read models while it serves"), std::string::npos) << out;
    EXPECT_NE(out.find("generation 1 is live"), std::string::npos) << out;
    EXPECT_EQ(unreadable.load(), 0);
    EXPECT_GE(during.size(), 20u);

    auto s = status(ops);
    EXPECT_EQ(s.at("generation").to_number<std::uint64_t>(), 1u);
    EXPECT_EQ(s.at("rebuild").at("state").as_string(), "switched") << s;
    EXPECT_GE(s.at("rebuild").at("events_total").to_number<std::uint64_t>(), 1000u) << s;
    EXPECT_GT(s.at("rebuild").at("events_per_second").to_number<std::uint64_t>(), 0u) << s;

    // The new read models serve what the old ones did, and what came since.
    EXPECT_EQ(http_call(port_, "GET", "/v1/spaces/" + spaces.front(), {alice}).body,
              first_before.body);
    for (const auto& id : spaces)
        EXPECT_EQ(http_call(port_, "GET", "/v1/spaces/" + id, {alice}).status, 200);
    for (const auto& id : during)
        EXPECT_EQ(http_call(port_, "GET", "/v1/spaces/" + id, {alice}).status, 200);
    auto events = http_call(port_, "GET", "/v1/events?space=" + during.back(), {alice});
    ASSERT_EQ(events.status, 200) << events.body;
    EXPECT_FALSE(boost::json::parse(events.body).at("events").as_array().empty());

    // A second rebuild through --server with an operator's token.
    auto again =
        start_process(MIGOPS_BINARY,
                      {"projections", "rebuild", "--server",
                       "http://127.0.0.1:" + std::to_string(port_) + "/", "--token", token("ops2")},
                      dir_.path() / "again.log");
    ASSERT_EQ(wait_exit(again, 60s), 0) << again.stderr_text();
    // A token of somebody else is refused with the server's reason.
    auto wrong =
        start_process(MIGOPS_BINARY,
                      {"projections", "rebuild", "--server",
                       "http://127.0.0.1:" + std::to_string(port_), "--token", token("alice")},
                      dir_.path() / "wrong.log");
    EXPECT_EQ(wait_exit(wrong, 60s), 2);
    EXPECT_NE(wrong.stderr_text().find("403"), std::string::npos) << wrong.stderr_text();
    EXPECT_EQ(status(ops).at("generation").to_number<std::uint64_t>(), 2u);

    // A restart serves the new generation.
    stop();
    start();
    EXPECT_EQ(status(ops).at("generation").to_number<std::uint64_t>(), 2u);
    EXPECT_EQ(http_call(port_, "GET", "/v1/spaces/" + spaces.front(), {alice}).body,
              first_before.body);
    EXPECT_EQ(http_call(port_, "GET", "/v1/spaces/" + during.back(), {alice}).status, 200);
    // Its read models' families insert their rows by runs (the options
    // RocksDB records for each family).
    const auto options = family_options();
    EXPECT_EQ(options.at("projection.board.g2").at(runs_option), "rocksdb.Noop");
    EXPECT_EQ(options.at("projection.audit_index.g2").at(runs_option), "migops.audit_index.runs");
    EXPECT_EQ(options.at("events").at(runs_option), "nullptr");
}

TEST_F(RebuildTest, WithoutAnOperatorTheCliSaysWhatToDo) {
    start();
    auto cli = start_process(MIGOPS_BINARY, {"projections", "rebuild", "--data-dir", data()},
                             dir_.path() / "rebuild.log",
                             {"MIGOPS_LISTEN=127.0.0.1:" + std::to_string(port_)});
    EXPECT_EQ(wait_exit(cli, 30s), 2);
    EXPECT_NE(cli.stderr_text().find("give --token"), std::string::npos) << cli.stderr_text();
}

}  // namespace
}  // namespace migops
