// GET /v1/stream (WebSocket) against the real binary: authentication,
// Origin, filters, history then live under racing writers, revocation,
// overflow and resuming from a cursor.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>

#include "tests/integration/process.h"
#include "tests/integration/ws_client.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;
using kind = ws_client::event::kind;

constexpr std::uint16_t close_policy = 1008;
constexpr std::uint16_t close_going_away = 1001;
constexpr std::uint16_t close_overflow = 4000;
constexpr std::uint16_t close_not_visible = 4003;

// One message of the stream, decoded.
struct message {
    std::string cursor;
    bool live = false;  // the marker sent once history is done
    std::string type;   // the CloudEvent's type
    std::string space;  // its partition key
    std::uint64_t partition = 0;
    std::uint64_t position = 0;
};

message decode(const std::string& text) {
    const auto v = boost::json::parse(text);
    const auto& o = v.as_object();
    message m;
    m.cursor = std::string(o.at("cursor").as_string());
    if (o.contains("live")) {
        m.live = o.at("live").as_bool();
        return m;
    }
    const auto& e = o.at("event").as_object();
    m.type = std::string(e.at("type").as_string());
    m.space = std::string(e.at("partitionkey").as_string());
    m.partition = e.at("migopspartition").to_number<std::uint64_t>();
    m.position = e.at("migopsposition").to_number<std::uint64_t>();
    return m;
}

class StreamTest : public ::testing::Test {
  protected:
    void SetUp() override { start({}); }
    void TearDown() override {
        if (server_.pid > 0) {
            ::kill(server_.pid, SIGTERM);
            EXPECT_EQ(wait_exit(server_, 25s), 0) << server_.stderr_text();
        }
    }

    void start(const std::vector<std::string>& env) {
        port_ = free_port();
        server_ = start_process(
            MIGOPS_BINARY,
            {"serve", "--data-dir", data(), "--listen", "127.0.0.1:" + std::to_string(port_)},
            dir_.path() / "serve.log", env);
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void restart(const std::vector<std::string>& env) {
        ::kill(server_.pid, SIGTERM);
        ASSERT_EQ(wait_exit(server_, 25s), 0);
        start(env);
    }

    std::string data() const { return (dir_.path() / "data").string(); }
    // The bare token of a user.
    std::string token(const std::string& user) {
        const auto t = cli_token(MIGOPS_BINARY, user, data(), dir_.path() / ("token-" + user));
        EXPECT_FALSE(t.empty());
        return t;
    }
    static std::vector<std::pair<std::string, std::string>> bearer(const std::string& t) {
        return {{"Authorization", "Bearer " + t}};
    }
    http_reply call(const std::string& method, const std::string& path, const std::string& t,
                    const std::string& body = "") {
        std::vector<std::string> headers{"Authorization: Bearer " + t};
        if (!body.empty()) headers.emplace_back("Content-Type: application/json");
        return http_call(port_, method, path, headers, body);
    }
    std::string create_space(const std::string& t, const std::string& name) {
        auto r = call("POST", "/v1/spaces", t, R"({"name":")" + name + R"("})");
        EXPECT_EQ(r.status, 201) << r.body;
        return std::string(boost::json::parse(r.body).at("id").as_string());
    }
    // A journey from the database-migration template; returns its task ids.
    std::vector<std::string> create_journey(const std::string& t, const std::string& space) {
        auto r = call("POST", "/v1/spaces/" + space + "/journeys", t,
                      R"({"name":"Orders DB","template_id":"migops-database-migration"})");
        EXPECT_EQ(r.status, 201) << r.body;
        std::vector<std::string> tasks;
        const auto journey = boost::json::parse(r.body);
        for (const auto& phase : journey.at("phases").as_array())
            for (const auto& module : phase.at("modules").as_array())
                for (const auto& task : module.at("tasks").as_array())
                    tasks.emplace_back(task.at("id").as_string());
        EXPECT_FALSE(tasks.empty());
        return tasks;
    }
    // Changes a task's status; returns the position of its event (the
    // task's new version), 0 on failure.
    std::uint64_t set_status(const std::string& t, const std::string& task,
                             const std::string& status, const std::string& reason) {
        auto r = call("POST", "/v1/tasks/" + task + "/status", t,
                      R"({"status":")" + status + R"(","reason":")" + reason + R"("})");
        if (r.status != 200) {
            ADD_FAILURE() << r.status << " " << r.body;
            return 0;
        }
        return boost::json::parse(r.body).at("version").to_number<std::uint64_t>();
    }
    // Blocked, in progress, blocked, … with a reason naming the step.
    std::uint64_t toggle(const std::string& t, const std::string& task, int i,
                         const std::string& reason = "waiting") {
        return set_status(t, task, i % 2 == 0 ? "blocked" : "in_progress",
                          reason + " " + std::to_string(i));
    }

    // Reads event messages until one at `last` (or past it) in `partition`,
    // or a close / timeout; the live marker is noted, not returned.
    static std::vector<message> read_until(ws_client& c, std::uint64_t partition,
                                           std::uint64_t last, ws_client::event* end = nullptr) {
        std::vector<message> out;
        for (;;) {
            auto e = c.next();
            if (e.what != kind::message) {
                if (end) *end = e;
                ADD_FAILURE() << "stream ended before position " << last << ": " << e.code << " "
                              << e.reason;
                return out;
            }
            auto m = decode(e.text);
            if (m.live) continue;
            out.push_back(m);
            if (m.partition == partition && m.position >= last) return out;
        }
    }
    // Reads up to and including the live marker; returns the events before it
    // and sets the marker's cursor.
    static std::vector<message> read_history(ws_client& c, std::string* cursor = nullptr) {
        std::vector<message> out;
        for (;;) {
            auto e = c.next();
            if (e.what != kind::message) {
                ADD_FAILURE() << "stream ended in history: " << e.code << " " << e.reason;
                return out;
            }
            auto m = decode(e.text);
            if (m.live) {
                if (cursor) *cursor = m.cursor;
                return out;
            }
            out.push_back(m);
        }
    }
    std::uint64_t partition_of_space(const std::string& t, const std::string& space) {
        // The partition shows in any event of the space: read its history.
        ws_client c(port_, "/v1/stream?space=" + space + "&from=0", bearer(t));
        EXPECT_EQ(c.status(), 101);
        auto history = read_history(c);
        EXPECT_FALSE(history.empty());
        return history.empty() ? 0 : history.front().partition;
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process server_;
};

TEST_F(StreamTest, HeaderTokenGetsLiveEventsOfTheSpace) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Exit");
    const auto tasks = create_journey(alice, space);

    ws_client c(port_, "/v1/stream?space=" + space, bearer(alice));
    ASSERT_EQ(c.status(), 101) << c.body();
    // Without `from`: no history, the marker carries the cursor of now.
    auto first = c.next();
    ASSERT_EQ(first.what, kind::message) << first.reason;
    auto marker = decode(first.text);
    EXPECT_TRUE(marker.live);

    const auto pos = set_status(alice, tasks.front(), "in_progress", "");
    auto e = c.next();
    ASSERT_EQ(e.what, kind::message) << e.reason;
    auto m = decode(e.text);
    EXPECT_EQ(m.type, "io.migops.task.status_changed.v1");
    EXPECT_EQ(m.space, space);
    EXPECT_EQ(m.position, pos);
    EXPECT_EQ(m.cursor, std::to_string(pos)) << "with a space filter the cursor is the position";
    EXPECT_GT(pos, std::stoull(marker.cursor));

    // /metrics counts the connected clients.
    const auto clients = [&] {
        const auto text = http_get(port_, "/metrics").body;
        const std::string name = "\nmigops_stream_clients ";
        const auto at = text.find(name);
        return at == std::string::npos ? -1 : std::stoi(text.substr(at + name.size()));
    };
    EXPECT_EQ(clients(), 1);
    c.close();
    EXPECT_TRUE(wait_until([&] { return clients() == 0; }, 10s));

    // A plain GET is told to upgrade.
    auto plain = http_call(port_, "GET", "/v1/stream", {"Authorization: Bearer " + alice});
    EXPECT_EQ(plain.status, 426);
    EXPECT_NE(plain.headers.find("Upgrade: websocket"), std::string::npos) << plain.headers;
}

TEST_F(StreamTest, RefusedHeaderTokenIsA401BeforeTheUpgrade) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Exit");
    ws_client garbage(port_, "/v1/stream", bearer("not.a.token"));
    EXPECT_EQ(garbage.status(), 401) << garbage.body();
    EXPECT_NE(garbage.body().find("/problems/unauthorized"), std::string::npos);
    ws_client basic(port_, "/v1/stream", {{"Authorization", "Basic YWxpY2U6cHc="}});
    EXPECT_EQ(basic.status(), 401);
    // A space the user cannot read is not found.
    const auto bob = token("bob");
    ws_client other(port_, "/v1/stream?space=" + space, bearer(bob));
    EXPECT_EQ(other.status(), 404) << other.body();
    ws_client good(port_, "/v1/stream?space=" + space, bearer(alice));
    EXPECT_EQ(good.status(), 101);
}

TEST_F(StreamTest, TokenInTheFirstMessage) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Exit");
    const auto tasks = create_journey(alice, space);

    ws_client c(port_, "/v1/stream?space=" + space + "&from=0");
    ASSERT_EQ(c.status(), 101);
    ASSERT_TRUE(c.send(R"({"token":")" + alice + R"("})"));
    auto history = read_history(c);
    ASSERT_GE(history.size(), 2u) << "space created, journey created";
    EXPECT_EQ(history.front().type, "io.migops.space.created.v1");
    const auto pos = set_status(alice, tasks.front(), "in_progress", "");
    auto live = read_until(c, history.front().partition, pos);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live.front().position, pos);
}

TEST_F(StreamTest, BadFirstMessagesAreClosedAsPolicyViolations) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Exit");
    {
        ws_client c(port_, "/v1/stream");
        ASSERT_EQ(c.status(), 101);
        ASSERT_TRUE(c.send(R"({"token":"not.a.token"})"));
        auto e = c.next();
        EXPECT_EQ(e.what, kind::closed);
        EXPECT_EQ(e.code, close_policy);
        EXPECT_NE(e.reason.find("invalid token"), std::string::npos) << e.reason;
    }
    {
        ws_client c(port_, "/v1/stream");
        ASSERT_EQ(c.status(), 101);
        ASSERT_TRUE(c.send("hello"));
        auto e = c.next();
        EXPECT_EQ(e.what, kind::closed);
        EXPECT_EQ(e.code, close_policy);
        EXPECT_NE(e.reason.find("token"), std::string::npos) << e.reason;
    }
    {
        // Bob's token is fine, but he may not read the space.
        ws_client c(port_, "/v1/stream?space=" + space);
        ASSERT_EQ(c.status(), 101);
        ASSERT_TRUE(c.send(R"({"token":")" + token("bob") + R"("})"));
        auto e = c.next();
        EXPECT_EQ(e.what, kind::closed);
        EXPECT_EQ(e.code, close_not_visible);
    }
    {
        // Nothing at all: closed once the few seconds for the token passed.
        ws_client c(port_, "/v1/stream");
        ASSERT_EQ(c.status(), 101);
        auto e = c.next();
        EXPECT_EQ(e.what, kind::closed);
        EXPECT_EQ(e.code, close_policy);
        EXPECT_NE(e.reason.find("no token"), std::string::npos) << e.reason;
    }
}

TEST_F(StreamTest, OriginIsCheckedAtTheUpgrade) {
    restart({"MIGOPS_WS_ALLOWED_ORIGINS=https://ops.example.com, http://localhost:3000"});
    const auto alice = token("alice");
    ws_client evil(port_, "/v1/stream", {{"Origin", "https://evil.example.com"}});
    EXPECT_EQ(evil.status(), 403) << evil.body();
    EXPECT_NE(evil.body().find("/problems/forbidden-origin"), std::string::npos);
    ws_client lookalike(port_, "/v1/stream", {{"Origin", "https://ops.example.com.evil.io"}});
    EXPECT_EQ(lookalike.status(), 403);
    ws_client listed(port_, "/v1/stream", {{"Origin", "https://ops.example.com"}});
    EXPECT_EQ(listed.status(), 101);
    ws_client second(port_, "/v1/stream", {{"Origin", "http://localhost:3000"}});
    EXPECT_EQ(second.status(), 101);
    // The server's own origin (the dashboard it serves) needs no listing.
    ws_client own(port_, "/v1/stream", {{"Origin", "http://127.0.0.1:" + std::to_string(port_)}});
    EXPECT_EQ(own.status(), 101);
    // No Origin: not a browser.
    ws_client none(port_, "/v1/stream", bearer(alice));
    EXPECT_EQ(none.status(), 101);
}

TEST_F(StreamTest, BadQueriesAreRefusedBeforeTheUpgrade) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Exit");
    const auto refused = [&](const std::string& query) {
        ws_client c(port_, "/v1/stream?" + query, bearer(alice));
        EXPECT_EQ(c.status(), 400) << query << ": " << c.body();
        return c.body();
    };
    EXPECT_NE(refused("types=task.exploded").find("unknown event type"), std::string::npos);
    EXPECT_NE(refused("colour=red").find("unknown parameter"), std::string::npos);
    refused("space=" + space + "&space=" + space);
    refused("from=abc");
    refused("from=1.2");  // neither one position with a space nor a full cursor
    refused("from=5");    // one position needs a space
    refused("space=" + space + "&from=-1");
    EXPECT_NE(refused("space=" + space + "&from=999999").find("ahead of the log"),
              std::string::npos);
    refused("journey=nodot");
    refused("task=" + space + ".j1");
    refused("space=other&journey=" + space + ".j1");
    refused("space=");
}

TEST_F(StreamTest, FiltersBySpaceAndTypes) {
    const auto alice = token("alice");
    const auto a = create_space(alice, "A");
    const auto b = create_space(alice, "B");
    const auto tasks_a = create_journey(alice, a);
    const auto tasks_b = create_journey(alice, b);
    const auto part_a = partition_of_space(alice, a);

    ws_client typed(port_, "/v1/stream?space=" + a + "&types=task.status_changed&from=0",
                    bearer(alice));
    ASSERT_EQ(typed.status(), 101);
    ws_client full_name(
        port_,
        "/v1/stream?space=" + a + "&types=io.migops.task.status_changed.v1,journey.created&from=0",
        bearer(alice));
    ASSERT_EQ(full_name.status(), 101);

    set_status(alice, tasks_b[0], "in_progress", "");
    const auto p1 = set_status(alice, tasks_a[0], "in_progress", "");
    set_status(alice, tasks_b[1], "in_progress", "");
    const auto p2 = set_status(alice, tasks_a[1], "blocked", "vendor");

    auto got = read_until(typed, part_a, p2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].position, p1);
    EXPECT_EQ(got[1].position, p2);
    for (const auto& m : got) {
        EXPECT_EQ(m.space, a);
        EXPECT_EQ(m.type, "io.migops.task.status_changed.v1");
    }
    auto both = read_until(full_name, part_a, p2);
    ASSERT_EQ(both.size(), 3u);
    EXPECT_EQ(both[0].type, "io.migops.journey.created.v1");
    EXPECT_EQ(both[1].position, p1);

    // A task filter: the task's events, from the journey that created it on.
    ws_client task(port_, "/v1/stream?task=" + tasks_a[1] + "&from=0", bearer(alice));
    ASSERT_EQ(task.status(), 101);
    auto history = read_history(task);
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[0].type, "io.migops.journey.created.v1");
    EXPECT_EQ(history[1].position, p2);
}

// Writers race the subscriptions: status changes in one space and new
// spaces (in every partition) are written while clients subscribe from the
// start, from now, and from the middle. Every client sees every event of
// its filter exactly once, in order, and the same events as a reader of
// the finished history.
TEST_F(StreamTest, HistoryThenLiveHasNoGapAndNoDuplicateUnderRacingWrites) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Race");
    const auto tasks = create_journey(alice, space);
    const auto part = partition_of_space(alice, space);

    constexpr int writes = 300;
    std::atomic<bool> go{false};
    std::atomic<int> done{0};
    std::vector<std::uint64_t> written(writes, 0);
    std::vector<std::string> spaces_made;
    std::thread status_writer([&] {
        while (!go) std::this_thread::yield();
        for (int i = 0; i < writes; ++i) {
            // Each of four tasks goes blocked, in progress, blocked, …
            const auto& task = tasks[static_cast<std::size_t>(i % 4)];
            written[static_cast<std::size_t>(i)] =
                set_status(alice, task, (i / 4) % 2 == 0 ? "blocked" : "in_progress",
                           "step " + std::to_string(i));
            ++done;
        }
    });
    std::thread space_writer([&] {
        while (!go) std::this_thread::yield();
        for (int i = 0; i < writes / 3; ++i)
            spaces_made.push_back(create_space(alice, "s" + std::to_string(i)));
    });
    go = true;

    // Subscribe while the writers run: the switch from history to live
    // happens under writes.
    struct subscriber {
        std::string name;
        std::unique_ptr<ws_client> client;
        std::vector<message> got;
        std::string marker;  // the cursor of the live marker
    };
    std::vector<subscriber> subs;
    const auto add = [&](const std::string& name, const std::string& query) {
        subs.push_back({name,
                        std::make_unique<ws_client>(port_, "/v1/stream?" + query, bearer(alice)),
                        {},
                        {}});
        ASSERT_EQ(subs.back().client->status(), 101) << subs.back().client->body();
    };
    add("space from 0", "space=" + space + "&from=0");
    add("everything from 0", "from=0.0.0.0.0.0.0.0");
    // More clients join as the writes go on, each switching to live at a
    // different moment.
    constexpr int rounds = 6;
    for (int r = 1; r < rounds; ++r) {
        ASSERT_TRUE(wait_until([&] { return done.load() >= writes * r / rounds; }, 120s));
        add("space live", "space=" + space);
        add("space from 0, later", "space=" + space + "&from=0");
    }
    status_writer.join();
    space_writer.join();
    const auto last = written.back();
    ASSERT_NE(last, 0u);

    // The reference: the space's whole history, read after the writes.
    ws_client reference(port_, "/v1/stream?space=" + space + "&from=0", bearer(alice));
    ASSERT_EQ(reference.status(), 101);
    auto all = read_history(reference);
    ASSERT_FALSE(all.empty());
    ASSERT_EQ(all.back().position, last);
    for (std::size_t i = 1; i < all.size(); ++i) ASSERT_LT(all[i - 1].position, all[i].position);
    std::set<std::uint64_t> expected;
    for (const auto& m : all) expected.insert(m.position);
    for (const auto w : written) EXPECT_TRUE(expected.contains(w)) << w;

    for (auto& sub : subs) {
        SCOPED_TRACE(sub.name);
        const bool everything = sub.name == "everything from 0";
        std::set<std::string> spaces_seen;
        bool reached_last = false;
        // Until the last write of the space, and for the unfiltered client
        // also every space made.
        while (!reached_last || (everything && spaces_seen.size() < spaces_made.size())) {
            auto e = sub.client->next();
            ASSERT_EQ(e.what, kind::message) << e.code << " " << e.reason;
            auto m = decode(e.text);
            if (m.live) {
                sub.marker = m.cursor;
                continue;
            }
            sub.got.push_back(m);
            if (m.type == "io.migops.space.created.v1" &&
                std::find(spaces_made.begin(), spaces_made.end(), m.space) != spaces_made.end())
                spaces_seen.insert(m.space);
            if (m.space == space && m.position == last) reached_last = true;
        }
        std::vector<message> mine;
        std::map<std::uint64_t, std::uint64_t> last_per_partition;
        for (const auto& m : sub.got) {
            // In order and once, per partition.
            EXPECT_LT(last_per_partition[m.partition], m.position) << m.partition;
            last_per_partition[m.partition] = m.position;
            if (m.space == space) {
                EXPECT_EQ(m.partition, part);
                mine.push_back(m);
            }
        }
        ASSERT_FALSE(mine.empty());
        // Exactly the reference's events after where the client started.
        std::uint64_t after = 0;
        if (sub.name == "space live") {
            // It starts at what the board showed when it subscribed, at most
            // where it turned live: the events it caught up on before its
            // marker, then every event after it.
            ASSERT_FALSE(sub.marker.empty());
            after = std::min<std::uint64_t>(std::stoull(sub.marker), mine.front().position - 1);
        }
        auto first = std::find_if(all.begin(), all.end(),
                                  [&](const message& m) { return m.position > after; });
        ASSERT_EQ(static_cast<std::size_t>(all.end() - first), mine.size());
        for (std::size_t i = 0; i < mine.size(); ++i)
            EXPECT_EQ(mine[i].position, (first + static_cast<long>(i))->position);
        EXPECT_EQ(mine.back().position, last);
        if (everything) {
            EXPECT_EQ(spaces_seen.size(), spaces_made.size());
        }
    }
}

TEST_F(StreamTest, RevokingTheRoleClosesTheStreamAtOnce) {
    const auto alice = token("alice");
    const auto bob = token("bob");
    const auto space = create_space(alice, "Shared");
    const auto hidden = create_space(alice, "Alice only");
    const auto tasks = create_journey(alice, space);
    const auto hidden_tasks = create_journey(alice, hidden);
    auto grant = call("PUT", "/v1/spaces/" + space + "/members/bob", alice,
                      R"({"role":"space_contributor"})");
    ASSERT_TRUE(grant.status == 200 || grant.status == 204) << grant.status << grant.body;

    ws_client filtered(port_, "/v1/stream?space=" + space, bearer(bob));
    ASSERT_EQ(filtered.status(), 101) << filtered.body();
    ws_client everything(port_, "/v1/stream", bearer(bob));
    ASSERT_EQ(everything.status(), 101);
    ASSERT_TRUE(decode(filtered.next().text).live);
    ASSERT_TRUE(decode(everything.next().text).live);

    // Bob sees the shared space's events, never Alice's own.
    set_status(alice, hidden_tasks[0], "in_progress", "");
    const auto seen = set_status(alice, tasks[0], "in_progress", "");
    auto e = everything.next();
    ASSERT_EQ(e.what, kind::message);
    EXPECT_EQ(decode(e.text).position, seen);
    EXPECT_EQ(decode(e.text).space, space);
    e = filtered.next();
    ASSERT_EQ(e.what, kind::message);
    EXPECT_EQ(decode(e.text).position, seen);

    auto revoke = call("DELETE", "/v1/spaces/" + space + "/members/bob", alice);
    ASSERT_TRUE(revoke.status == 200 || revoke.status == 204) << revoke.status << revoke.body;
    auto end = filtered.next();
    EXPECT_EQ(end.what, kind::closed) << end.text;
    EXPECT_EQ(end.code, close_not_visible);
    EXPECT_NE(end.reason.find(space), std::string::npos) << end.reason;

    // Without a space filter the stream goes on, without the space.
    set_status(alice, tasks[1], "in_progress", "");
    const auto own = create_space(bob, "Bob's");
    e = everything.next();
    ASSERT_EQ(e.what, kind::message) << e.reason;
    EXPECT_EQ(decode(e.text).space, own) << "the revoked space's events are skipped";
}

TEST_F(StreamTest, ResumingFromACursorGetsExactlyWhatFollows) {
    const auto alice = token("alice");
    const auto space = create_space(alice, "Resume");
    const auto tasks = create_journey(alice, space);
    const auto part = partition_of_space(alice, space);
    std::vector<std::uint64_t> first;
    for (int i = 0; i < 5; ++i) first.push_back(toggle(alice, tasks[0], i));

    std::string space_cursor;
    std::string full_cursor;
    {
        ws_client c(port_, "/v1/stream?space=" + space + "&from=0", bearer(alice));
        auto got = read_until(c, part, first[2]);
        space_cursor = got.back().cursor;
        EXPECT_EQ(space_cursor, std::to_string(first[2]));
        ws_client d(port_, "/v1/stream?from=0.0.0.0.0.0.0.0", bearer(alice));
        auto all = read_until(d, part, first[2]);
        full_cursor = all.back().cursor;
        EXPECT_EQ(std::count(full_cursor.begin(), full_cursor.end(), '.'), 7);
    }
    std::vector<std::uint64_t> later;
    for (int i = 5; i < 8; ++i) later.push_back(toggle(alice, tasks[0], i));

    const std::vector<std::uint64_t> expected{first[3], first[4], later[0], later[1], later[2]};
    for (const auto& query : {"space=" + space + "&from=" + space_cursor, "from=" + full_cursor,
                              "space=" + space + "&from=" + full_cursor}) {
        SCOPED_TRACE(query);
        ws_client c(port_, "/v1/stream?" + query, bearer(alice));
        ASSERT_EQ(c.status(), 101) << c.body();
        auto got = read_history(c);
        std::vector<std::uint64_t> positions;
        for (const auto& m : got) positions.push_back(m.position);
        EXPECT_EQ(positions, expected);
    }
}

TEST_F(StreamTest, AClientThatDoesNotReadIsClosedWithTheCursorToResumeFrom) {
    restart({"MIGOPS_WS_QUEUE_LIMIT=4"});
    const auto alice = token("alice");
    const auto space = create_space(alice, "Slow");
    const auto tasks = create_journey(alice, space);
    const auto part = partition_of_space(alice, space);

    // A tiny receive window, and then no reading while big events pile up.
    // Only status changes: the blocks raise alerts in between, at moments
    // the test does not know.
    const std::string query = "/v1/stream?space=" + space + "&types=task.status_changed";
    ws_client slow(port_, query, bearer(alice), 4096);
    ASSERT_EQ(slow.status(), 101);
    ASSERT_TRUE(decode(slow.next().text).live);
    const std::string reason(9000, 'r');
    std::vector<std::uint64_t> written;
    const auto overflowed = [&] { return server_.stderr_text().find("fell") != std::string::npos; };
    for (int i = 0; i < 5000 && !overflowed(); ++i) {
        written.push_back(toggle(alice, tasks[0], i, reason));
        ASSERT_NE(written.back(), 0u);
    }
    ASSERT_TRUE(overflowed()) << "the server never closed the client";
    // Writes after the overflow are for the resumed stream.
    for (int i = 0; i < 3; ++i) written.push_back(toggle(alice, tasks[1], i, "late"));

    std::vector<message> got;
    ws_client::event end;
    for (;;) {
        end = slow.next();
        if (end.what != kind::message) break;
        got.push_back(decode(end.text));
    }
    ASSERT_EQ(end.what, kind::closed) << end.reason;
    EXPECT_EQ(end.code, close_overflow);
    ASSERT_EQ(end.reason.rfind("overflow; from=", 0), 0u) << end.reason;
    const std::string resume = end.reason.substr(end.reason.find('=') + 1);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(resume, got.back().cursor) << "the close repeats the last message's cursor";
    EXPECT_LT(got.size(), written.size()) << "what came after the overflow was not queued";

    ws_client again(port_, query + "&from=" + resume, bearer(alice));
    ASSERT_EQ(again.status(), 101);
    auto rest = read_until(again, part, written.back());
    ASSERT_FALSE(rest.empty());
    std::vector<std::uint64_t> seen;
    for (const auto& m : got) seen.push_back(m.position);
    for (const auto& m : rest) seen.push_back(m.position);
    EXPECT_EQ(seen, written) << "before and after the resume: every write once, in order";
}

TEST_F(StreamTest, StoppingTheServerClosesStreamsAsGoingAway) {
    const auto alice = token("alice");
    ws_client c(port_, "/v1/stream", bearer(alice));
    ASSERT_EQ(c.status(), 101);
    ASSERT_TRUE(decode(c.next().text).live);
    ::kill(server_.pid, SIGTERM);
    auto e = c.next();
    EXPECT_EQ(e.what, kind::closed);
    EXPECT_EQ(e.code, close_going_away);
    EXPECT_EQ(wait_exit(server_, 25s), 0) << server_.stderr_text();
}

}  // namespace
}  // namespace migops
