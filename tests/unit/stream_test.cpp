// The stream's query and cursor parsing, and its filter.

#include <gtest/gtest.h>

#include "api/config.h"
#include "api/stream.h"
#include "events/event_log.h"

namespace migops::api {
namespace {

constexpr std::uint32_t partitions = 8;

TEST(StreamCursor, FormatsOnePositionForASpaceAndAllOtherwise) {
    const std::vector<position> at{0, 17, 3, 0, 0, 9, 0, 2};
    EXPECT_EQ(format_cursor(at, std::nullopt), "0.17.3.0.0.9.0.2");
    EXPECT_EQ(format_cursor(at, 1), "17");
    auto back = parse_cursor("0.17.3.0.0.9.0.2", partitions, std::nullopt);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), at);
    auto one = parse_cursor("17", partitions, 1);
    ASSERT_TRUE(one);
    EXPECT_EQ(one.value(), (std::vector<position>{0, 17, 0, 0, 0, 0, 0, 0}));
    // With one partition the two forms are the same.
    auto single = parse_cursor("5", 1, std::nullopt);
    ASSERT_TRUE(single);
    EXPECT_EQ(single.value(), std::vector<position>{5});
}

TEST(StreamCursor, RefusesWhatNoServerGave) {
    for (const char* bad : {"", ".", "1.", ".1", "1..2", "-1", "+1", "1a", "0x10", " 1", "1.2.3",
                            "1.2.3.4.5.6.7.8.9", "99999999999999999999999"})
        EXPECT_FALSE(parse_cursor(bad, partitions, std::nullopt)) << bad;
    EXPECT_FALSE(parse_cursor("17", partitions, std::nullopt)) << "one position needs a space";
    EXPECT_TRUE(parse_cursor("18446744073709551615", partitions, 0));
    EXPECT_FALSE(parse_cursor("18446744073709551616", partitions, 0));
}

TEST(StreamTarget, ReadsFiltersAndFrom) {
    auto r = parse_stream_target(
        "/v1/stream?space=abc&types=task.status_changed,io.migops.space.created.v1&from=4",
        partitions);
    ASSERT_TRUE(r) << r.error().message;
    const auto& f = r.value().filter;
    ASSERT_TRUE(f.space);
    EXPECT_EQ(f.space->value, "abc");
    EXPECT_EQ(f.types.size(), 2u);
    EXPECT_TRUE(f.types.contains(events::task_status_changed::type_id));
    EXPECT_TRUE(f.types.contains(events::space_created::type_id));
    ASSERT_TRUE(r.value().from);
    EXPECT_EQ(r.value().from->at(events::partition_of(space_id{"abc"}, partitions)), 4u);

    auto task = parse_stream_target("/v1/stream?task=abc.j2.n7", partitions);
    ASSERT_TRUE(task);
    EXPECT_EQ(task.value().filter.task->value, "abc.j2.n7");
    EXPECT_EQ(task.value().filter.journey->value, "abc.j2");
    EXPECT_EQ(task.value().filter.space->value, "abc");

    auto none = parse_stream_target("/v1/stream", partitions);
    ASSERT_TRUE(none);
    EXPECT_FALSE(none.value().filter.space);
    EXPECT_FALSE(none.value().from) << "no from: live only";
    auto encoded = parse_stream_target("/v1/stream?space=a%62c", partitions);
    ASSERT_TRUE(encoded);
    EXPECT_EQ(encoded.value().filter.space->value, "abc");
}

TEST(StreamTarget, RefusesBadQueries) {
    for (const char* bad :
         {"/v1/stream?colour=red", "/v1/stream?space=a&space=a",
          "/v1/stream?space=", "/v1/stream?space=a.j1", "/v1/stream?space=a%2",
          "/v1/stream?journey=a", "/v1/stream?journey=a.j1.n2", "/v1/stream?task=a.j1",
          "/v1/stream?task=.j5.n2", "/v1/stream?space=b&task=a.j1.n2",
          "/v1/stream?journey=a.j2&task=a.j1.n2", "/v1/stream?types=task.exploded",
          "/v1/stream?types=", "/v1/stream?types=task.status_changed,", "/v1/stream?from=3",
          "/v1/stream?space=a&from=x", "/v1/stream?space=a%20b"})
        EXPECT_FALSE(parse_stream_target(bad, partitions)) << bad;
}

TEST(StreamMessage, TakesTheTokenOfTheFirstMessage) {
    auto token = parse_stream_message(R"({"token": "eyJ.a\u0062c.sig"})");
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(token.value(), "eyJ.abc.sig");
    auto spaced = parse_stream_message(" {\n\"token\":\"\"} ");
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced.value(), "");
}

TEST(StreamMessage, RefusesAnyOtherMessage) {
    for (const char* bad :
         {"", "eyJ.abc.sig", "{}", R"({"token": 5})", R"({"token": null})", R"({"token": ["a"]})",
          R"([{"token": "a"}])", R"({"Token": "a"})", R"({"token": "a", "from": "1"})",
          R"({"token": "a")", R"({"token": "a"} {})", "{\"token\": \"\xff\"}"}) {
        auto r = parse_stream_message(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::invalid_argument);
    }
}

events::envelope status_change(const std::string& task) {
    events::envelope e;
    e.space = space_id{task.substr(0, task.find('.'))};
    events::task_status_changed p;
    p.task = node_id{task};
    e.data = p;
    return e;
}

TEST(StreamFilter, MatchesSpaceJourneyTaskAndType) {
    stream_filter f;
    const auto e = status_change("abc.j2.n7");
    EXPECT_TRUE(stream_matches(f, e));
    f.space = space_id{"abc"};
    EXPECT_TRUE(stream_matches(f, e));
    f.journey = journey_id{"abc.j2"};
    EXPECT_TRUE(stream_matches(f, e));
    f.task = node_id{"abc.j2.n7"};
    EXPECT_TRUE(stream_matches(f, e));
    f.types = {events::task_status_changed::type_id};
    EXPECT_TRUE(stream_matches(f, e));

    EXPECT_FALSE(stream_matches(f, status_change("abc.j2.n8")));
    // A subtask added under the task, and the journey that created it.
    events::envelope sub;
    sub.space = space_id{"abc"};
    events::node_added added;
    added.parent = node_id{"abc.j2.n7"};
    added.node = node_id{"abc.j2.n9"};
    sub.data = added;
    EXPECT_TRUE(stream_matches(stream_filter{.task = node_id{"abc.j2.n7"}}, sub));
    events::envelope created;
    created.space = space_id{"abc"};
    events::journey_created j;
    j.journey = journey_id{"abc.j2"};
    j.phases.push_back({});
    j.phases[0].id = "abc.j2.n1";
    j.phases[0].modules.push_back({});
    j.phases[0].modules[0].id = "abc.j2.n2";
    j.phases[0].modules[0].tasks.push_back({});
    j.phases[0].modules[0].tasks[0].id = "abc.j2.n7";
    created.data = j;
    EXPECT_TRUE(stream_matches(stream_filter{.task = node_id{"abc.j2.n7"}}, created));
    EXPECT_FALSE(stream_matches(stream_filter{.task = node_id{"abc.j2.n8"}}, created));
    EXPECT_TRUE(stream_matches(stream_filter{.journey = journey_id{"abc.j2"}}, created));
    EXPECT_FALSE(stream_matches(stream_filter{.journey = journey_id{"abc.j3"}}, e));
    EXPECT_FALSE(stream_matches(stream_filter{.space = space_id{"abd"}}, e));
    EXPECT_FALSE(stream_matches(stream_filter{.types = {events::space_created::type_id}}, e));
}

TEST(StreamConfig, OriginsAndQueueLimit) {
    config c;
    ASSERT_TRUE(
        set_value(c, "ws_allowed_origins", "https://ops.example.com, http://localhost:3000"));
    EXPECT_EQ(c.ws_allowed_origins,
              (std::vector<std::string>{"https://ops.example.com", "http://localhost:3000"}));
    ASSERT_TRUE(set_value(c, "ws_allowed_origins", "*"));
    EXPECT_EQ(c.ws_allowed_origins, std::vector<std::string>{"*"});
    ASSERT_TRUE(set_value(c, "ws_allowed_origins", ""));
    EXPECT_TRUE(c.ws_allowed_origins.empty());
    for (const char* bad : {"ops.example.com", "https://ops.example.com/", "https://", "://x"})
        EXPECT_FALSE(set_value(c, "ws_allowed_origins", bad)) << bad;

    ASSERT_TRUE(set_value(c, "ws_queue_limit", "16"));
    EXPECT_EQ(c.ws_queue_limit, 16u);
    for (const char* bad : {"0", "-1", "many", "1000001"})
        EXPECT_FALSE(set_value(c, "ws_queue_limit", bad)) << bad;
}

}  // namespace
}  // namespace migops::api
