// GET /v1/events over HTTP against the real binary: a token is required,
// bad parameters are named, pages follow their cursor, and nobody reads the
// history of a space they hold no role in. As-of reads give the board and
// the members as they were.

#include <gtest/gtest.h>

#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "events/codec.h"
#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class HistoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        port_ = free_port();
        server_ = start_process(
            MIGOPS_BINARY,
            {"serve", "--data-dir", data(), "--listen", "127.0.0.1:" + std::to_string(port_)},
            dir_.path() / "serve.log");
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void TearDown() override {
        ::kill(server_.pid, SIGTERM);
        EXPECT_EQ(wait_exit(server_, 25s), 0);
    }
    std::string data() const { return (dir_.path() / "data").string(); }
    std::string token(const std::string& user) {
        const auto t = cli_token(MIGOPS_BINARY, user, data(), dir_.path() / ("token-" + user));
        EXPECT_FALSE(t.empty());
        return "Authorization: Bearer " + t;
    }
    std::string create_space(const std::string& auth, const std::string& name) {
        auto r = http_call(port_, "POST", "/v1/spaces", {"Content-Type: application/json", auth},
                           R"({"name":")" + name + R"("})");
        EXPECT_EQ(r.status, 201) << r.body;
        return std::string(boost::json::parse(r.body).at("id").as_string());
    }
    http_reply get(const std::string& path, const std::string& auth) {
        return http_call(port_, "GET", path, {auth});
    }
    // The events of one page (the reply must be a 200).
    boost::json::array events_of(const http_reply& r) {
        EXPECT_EQ(r.status, 200) << r.body;
        if (r.status != 200) return {};
        return boost::json::parse(r.body).at("events").as_array();
    }
    // Polls until the page holds n events: the index follows the log.
    boost::json::array wait_for(const std::string& path, const std::string& auth, std::size_t n) {
        boost::json::array last;
        wait_until(
            [&] {
                last = events_of(get(path, auth));
                return last.size() >= n;
            },
            10s);
        return last;
    }
    static std::string problem_type(const http_reply& r) {
        return std::string(boost::json::parse(r.body).at("type").as_string());
    }
    static std::string detail(const http_reply& r) {
        return std::string(boost::json::parse(r.body).at("detail").as_string());
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process server_;
};

TEST_F(HistoryTest, NeedsAValidToken) {
    auto none = http_call(port_, "GET", "/v1/events");
    EXPECT_EQ(none.status, 401);
    EXPECT_NE(none.headers.find("WWW-Authenticate: Bearer"), std::string::npos) << none.headers;
    EXPECT_EQ(problem_type(none), "/problems/unauthorized");
    EXPECT_EQ(get("/v1/events?space=x", "Authorization: Bearer not.a.token").status, 401);
}

TEST_F(HistoryTest, TheCreatorReadsTheSpacesHistory) {
    const auto alice = token("alice");
    const auto id = create_space(alice, "DC exit");
    auto events = wait_for("/v1/events?space=" + id, alice, 1);
    ASSERT_EQ(events.size(), 1u);
    const auto& e = events.front().as_object();
    EXPECT_EQ(e.at("type").as_string(), "io.migops.space.created.v1");
    EXPECT_EQ(e.at("source").as_string(), "/spaces/" + id);
    EXPECT_EQ(e.at("migopsactor").as_string(), "alice");
    EXPECT_EQ(e.at("migopsactorrole").as_string(), "space_admin");
    EXPECT_EQ(e.at("data").at("name").as_string(), "DC exit");
    EXPECT_TRUE(e.contains("migopshash"));
    auto r = get("/v1/events?space=" + id, alice);
    EXPECT_TRUE(boost::json::parse(r.body).at("next").is_null());
    EXPECT_EQ(
        events_of(
            get("/v1/events?space=" + id + "&type=space.created&since=2000-01-01T00:00:00Z", alice))
            .size(),
        1u);
    EXPECT_EQ(
        events_of(get("/v1/events?space=" + id +
                          "&type=io.migops.space.created.v1&since=2000-01-01T02:00:00%2B02:00",
                      alice))
            .size(),
        1u);
    // An offset's '+' written as it is stays a plus.
    EXPECT_TRUE(events_of(get("/v1/events?space=" + id + "&since=2999-01-01T02:00:00+02:00", alice))
                    .empty());
    EXPECT_EQ(
        events_of(get("/v1/events?space=" + id + "&until=2999-01-01T02:00:00+02:00", alice)).size(),
        1u);
    EXPECT_TRUE(events_of(get("/v1/events?space=" + id + "&type=space.renamed", alice)).empty());
    EXPECT_TRUE(
        events_of(get("/v1/events?space=" + id + "&until=2000-01-01T00:00:00Z", alice)).empty());
}

TEST_F(HistoryTest, ACommandIsInTheHistoryOnceItIsAnswered) {
    // Read your writes: a command's answer waits for the audit index, so
    // the next query shows it without polling.
    const auto alice = token("alice");
    for (int i = 0; i < 20; ++i) {
        const auto id = create_space(alice, "At once " + std::to_string(i));
        EXPECT_EQ(events_of(get("/v1/events?space=" + id + "&type=space.created", alice)).size(),
                  1u)
            << "space " << i;
    }
}

TEST_F(HistoryTest, PagesFollowTheirCursor) {
    const auto alice = token("alice");
    std::set<std::string> created;
    for (int i = 0; i < 5; ++i) created.insert(create_space(alice, "S" + std::to_string(i)));
    ASSERT_EQ(wait_for("/v1/events?actor=alice", alice, 5).size(), 5u);
    std::vector<std::string> seen;
    std::string path = "/v1/events?actor=alice&limit=2";
    for (int pages = 0; pages < 10; ++pages) {
        auto r = get(path, alice);
        auto body = boost::json::parse(r.body).as_object();
        // The page is the bytes Boost.JSON writes for it, and each event
        // carries what its hash covers.
        EXPECT_EQ(r.body, boost::json::serialize(body));
        for (const auto& e : events_of(r)) {
            auto decoded = events::from_cloudevent(e.as_object());
            ASSERT_TRUE(decoded) << decoded.error().message;
            EXPECT_EQ(events::compute_hash(decoded.value()), decoded.value().hash);
        }
        for (const auto& e : events_of(r)) seen.emplace_back(e.at("partitionkey").as_string());
        if (body.at("next").is_null()) break;
        path = "/v1/events?actor=alice&limit=2&cursor=" + std::string(body.at("next").as_string());
    }
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
}

TEST_F(HistoryTest, BadParametersAreNamed) {
    const auto alice = token("alice");
    const auto id = create_space(alice, "Exit");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"/v1/events?limit=0", "limit"},
        {"/v1/events?limit=1001", "limit"},
        {"/v1/events?limit=ten", "limit"},
        {"/v1/events?limit=-1", "limit"},
        {"/v1/events?since=yesterday", "since"},
        {"/v1/events?until=2026-13-01T00:00:00Z", "until"},
        {"/v1/events?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since"},
        {"/v1/events?type=space.exploded", "type"},
        {"/v1/events?space=" + id + "&cursor=zz", "cursor"},
        {"/v1/events?space=" + id + "&cursor=00", "cursor"},
        {"/v1/events?colour=blue", "colour"},
        {"/v1/events?space=a&space=b", "space"},
        {"/v1/events?actor=%zz", "actor"},
        {"/v1/events?space=", "space has no value"},
        {"/v1/events?limit=", "limit has no value"},
        {"/v1/events?space=" + id + "&type", "type has no value"},
    };
    for (const auto& [path, name] : cases) {
        auto r = get(path, alice);
        EXPECT_EQ(r.status, 400) << path << " " << r.body;
        EXPECT_EQ(problem_type(r), "/problems/invalid-argument") << path;
        EXPECT_NE(detail(r).find(name), std::string::npos) << path << " " << r.body;
    }
    // The server is still fine.
    EXPECT_EQ(wait_for("/v1/events?space=" + id, alice, 1).size(), 1u);
}

TEST_F(HistoryTest, AnotherUserDoesNotSeeTheSpacesEvents) {
    const auto alice = token("alice");
    const auto bob = token("bob");
    const auto mine = create_space(alice, "Alice's");
    const auto theirs = create_space(bob, "Bob's");
    ASSERT_EQ(wait_for("/v1/events?space=" + mine, alice, 1).size(), 1u);
    ASSERT_EQ(wait_for("/v1/events?space=" + theirs, bob, 1).size(), 1u);

    auto named = get("/v1/events?space=" + mine, bob);
    EXPECT_EQ(named.status, 404) << named.body;
    EXPECT_EQ(problem_type(named), "/problems/not-found");
    EXPECT_EQ(get("/v1/events?journey=" + mine + ".j1", bob).status, 404);
    EXPECT_EQ(get("/v1/events?task=" + mine + ".j1.n1", bob).status, 404);
    // The same answer as for a space that does not exist.
    EXPECT_EQ(get("/v1/events?space=0000000000000000", bob).status, 404);

    // Unnamed spaces: bob sees only his own.
    for (const std::string path :
         {"/v1/events", "/v1/events?type=space.created", "/v1/events?since=2000-01-01T00:00:00Z"}) {
        auto events = events_of(get(path, bob));
        ASSERT_EQ(events.size(), 1u) << path;
        EXPECT_EQ(events.front().at("partitionkey").as_string(), theirs) << path;
    }
    EXPECT_TRUE(events_of(get("/v1/events?actor=alice", bob)).empty());
    EXPECT_EQ(events_of(get("/v1/events?actor=alice", alice)).size(), 1u);
}

TEST_F(HistoryTest, ARoleOnAJourneyLetsAUserReadTheSpaceUntilItIsRevoked) {
    const auto alice = token("alice");
    const auto bob = token("bob");
    const auto space = create_space(alice, "Exit");
    const std::string json = "Content-Type: application/json";
    auto journey = http_call(port_, "POST", "/v1/spaces/" + space + "/journeys", {json, alice},
                             R"({"name":"Wave 1"})");
    ASSERT_EQ(journey.status, 201) << journey.body;
    const std::string j = space + ".j1";
    EXPECT_EQ(get("/v1/events?space=" + space, bob).status, 404);

    auto granted = http_call(port_, "PUT", "/v1/journeys/" + j + "/members/bob", {json, alice},
                             R"({"role":"journey_contributor"})");
    ASSERT_LT(granted.status, 300) << granted.body;
    auto events = wait_for("/v1/events?space=" + space, bob, 3);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events.at(2).at("type").as_string(), "io.migops.role.granted.v1");
    EXPECT_EQ(events_of(get("/v1/events?journey=" + j, bob)).size(), 2u)
        << "the journey's creation and the grant";

    auto revoked = http_call(port_, "DELETE", "/v1/journeys/" + j + "/members/bob", {alice});
    ASSERT_LT(revoked.status, 300) << revoked.body;
    EXPECT_TRUE(
        wait_until([&] { return get("/v1/events?space=" + space, bob).status == 404; }, 10s));
    EXPECT_TRUE(events_of(get("/v1/events", bob)).empty());
}

// The body without the as-of read's own member.
boost::json::object without_as_of(const http_reply& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    auto o = boost::json::parse(r.body).as_object();
    EXPECT_TRUE(o.contains("as_of"));
    o.erase("as_of");
    return o;
}

TEST_F(HistoryTest, AsOfReadsGiveTheBoardAndTheMembersAsTheyWere) {
    const auto alice = token("alice");
    const auto s = create_space(alice, "DC exit");
    auto created = http_call(port_, "POST", "/v1/spaces/" + s + "/journeys",
                             {"Content-Type: application/json", alice},
                             R"({"name":"Move","template_id":"migops-quick-start"})");
    ASSERT_EQ(created.status, 201) << created.body;
    const auto journey = boost::json::parse(created.body).as_object();
    const std::string j(journey.at("id").as_string());
    const std::string task(
        journey.at("phases").at(0).at("modules").at(0).at("tasks").at(0).at("id").as_string());

    // What the board and the members were after each step, and the last
    // event of the space then.
    struct moment {
        std::int64_t pos;
        std::string time;
        boost::json::value board;
        boost::json::value members;
    };
    std::vector<moment> seen;
    std::size_t events = 2;
    auto capture = [&] {
        auto history = wait_for("/v1/events?space=" + s + "&limit=1000", alice, events);
        ASSERT_EQ(history.size(), events);
        const auto& last = history.back().as_object();
        seen.push_back({last.at("migopsposition").as_int64(),
                        std::string(last.at("time").as_string()),
                        boost::json::parse(get("/v1/journeys/" + j, alice).body),
                        boost::json::parse(get("/v1/spaces/" + s + "/members", alice).body)});
    };
    capture();
    ASSERT_EQ(
        http_call(port_, "PUT", "/v1/spaces/" + s + "/members/bob",
                  {"Content-Type: application/json", alice}, R"({"role":"space_contributor"})")
            .status,
        200);
    ++events;
    capture();
    ASSERT_EQ(http_call(port_, "POST", "/v1/tasks/" + task + "/status",
                        {"Content-Type: application/json", alice}, R"({"status":"in_progress"})")
                  .status,
              200);
    ++events;
    capture();
    ASSERT_EQ(http_call(port_, "DELETE", "/v1/spaces/" + s + "/members/bob", {alice}).status, 204);
    ++events;
    capture();
    EXPECT_NE(seen[1].members, seen[0].members);
    EXPECT_NE(seen[2].board, seen[1].board);

    for (const auto& m : seen) {
        const auto at = "as_of_position=" + std::to_string(m.pos);
        EXPECT_EQ(without_as_of(get("/v1/journeys/" + j + "?" + at, alice)), m.board) << at;
        EXPECT_EQ(without_as_of(get("/v1/spaces/" + s + "/members?" + at, alice)), m.members);
        const auto when = "as_of=" + m.time;
        EXPECT_EQ(without_as_of(get("/v1/journeys/" + j + "?" + when, alice)), m.board) << when;
        EXPECT_EQ(without_as_of(get("/v1/spaces/" + s + "/members?" + when, alice)), m.members);
        auto as_of =
            boost::json::parse(get("/v1/journeys/" + j + "?" + at, alice).body).at("as_of");
        EXPECT_EQ(as_of.at("position").as_int64(), m.pos);
        EXPECT_EQ(as_of.at("time").as_string(), m.time);
    }
    // Before the journey was created it did not exist; the space did.
    const auto before = "?as_of_position=" + std::to_string(seen[0].pos - 1);
    EXPECT_EQ(problem_type(get("/v1/journeys/" + j + before, alice)), "/problems/not-found");
    auto members = get("/v1/spaces/" + s + "/members" + before, alice);
    EXPECT_EQ(members.status, 200) << members.body;
    EXPECT_EQ(get("/v1/spaces/" + s + "/members?as_of=2000-01-01T00:00:00Z", alice).status, 404);

    // A bare "?" names no moment: the live read.
    EXPECT_EQ(get("/v1/journeys/" + j + "?", alice).body, get("/v1/journeys/" + j, alice).body);
    EXPECT_EQ(get("/v1/spaces/" + s + "/members?", alice).body,
              get("/v1/spaces/" + s + "/members", alice).body);

    // Bad moments are named and change nothing.
    const std::vector<std::pair<std::string, std::string>> bad_moments = {
        {"as_of=yesterday", "as_of must be an RFC 3339 date-time"},
        {"as_of_position=-1", "as_of_position must be a non-negative integer"},
        {"as_of_position=1x", "as_of_position must be a non-negative integer"},
        {"as_of_position=", "as_of_position has no value"},
        {"as_of=", "as_of has no value"},
        {"as_of_position=99999999999999999999", "as_of_position must be a non-negative integer"},
        {"as_of_position=" + std::to_string(seen.back().pos + 1000000),
         "is after the last event of the partition"},
        {"as_of=2026-01-01T00:00:00Z&as_of_position=1", "not both"},
        {"as_of=2999-01-01T00:00:00Z", "as_of 2999-01-01T00:00:00.000000Z is in the future"},
        {"at=1", "at is not a parameter of"},
        {"as_of=%zz", "as_of is not percent-encoded correctly"}};
    for (const auto& [query, detail] : bad_moments) {
        auto r = get("/v1/journeys/" + j + "?" + query, alice);
        EXPECT_EQ(r.status, 400) << query << " " << r.body;
        EXPECT_EQ(problem_type(r), "/problems/invalid-argument") << query;
        EXPECT_NE(r.body.find(detail), std::string::npos) << query << " " << r.body;
        auto m = get("/v1/spaces/" + s + "/members?" + query, alice);
        EXPECT_EQ(m.status, 400) << query;
        EXPECT_NE(m.body.find(detail), std::string::npos) << query << " " << m.body;
    }
    // Nobody reads the past of a space they hold no role in now.
    const auto carol = token("carol");
    EXPECT_EQ(
        get("/v1/journeys/" + j + "?as_of_position=" + std::to_string(seen[1].pos), carol).status,
        404);
    EXPECT_EQ(get("/v1/spaces/" + s + "/members", carol).status, 404);
    EXPECT_EQ(events_of(get("/v1/events?space=" + s + "&limit=1000", alice)).size(), events);

    // A journey or task the history has never seen does not exist, in a
    // space one may read too; one whose events the filters leave out is an
    // empty page.
    for (const auto& query : {"journey=" + s + ".j99", "task=" + j + ".n999999",
                              "task=" + j + ".n999999&type=space.renamed"}) {
        auto r = get("/v1/events?" + query, alice);
        EXPECT_EQ(r.status, 404) << query << " " << r.body;
        EXPECT_EQ(problem_type(r), "/problems/not-found") << query;
    }
    EXPECT_FALSE(events_of(get("/v1/events?task=" + task, alice)).empty());
    EXPECT_TRUE(events_of(get("/v1/events?task=" + task + "&type=space.renamed", alice)).empty());
    EXPECT_TRUE(events_of(get("/v1/events?journey=" + j + "&type=space.renamed", alice)).empty());
}

}  // namespace
}  // namespace migops
