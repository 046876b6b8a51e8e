// The HTTP layer's pure parts: routing and the error → problem mapping.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/config.h"
#include "api/json_body.h"
#include "api/problems.h"
#include "api/router.h"

namespace migops::api {
namespace {

router sample_router() {
    router r;
    auto none = [](const http_request&, const path_params&, const responder&) {};
    r.add("GET", "/v1/spaces", "list_spaces", none);
    r.add("POST", "/v1/spaces", "create_space", none);
    r.add("GET", "/v1/spaces/{space}", "get_space", none);
    r.add("PUT", "/v1/spaces/{space}/members/{user}", "put_member", none);
    r.add("DELETE", "/v1/spaces/{space}/members/{user}", "delete_member", none);
    return r;
}

TEST(Router, MatchesLiteralAndParameterSegments) {
    const auto r = sample_router();
    auto m = r.match("GET", "/v1/spaces?cursor=abc");
    ASSERT_TRUE(m.matched);
    EXPECT_EQ(m.matched->name, "list_spaces");
    m = r.match("PUT", "/v1/spaces/s1/members/alice%40example.com");
    ASSERT_TRUE(m.matched);
    EXPECT_EQ(m.matched->name, "put_member");
    EXPECT_EQ(m.params.at("space"), "s1");
    EXPECT_EQ(m.params.at("user"), "alice@example.com");
    EXPECT_TRUE(r.match("HEAD", "/v1/spaces/s1").matched) << "HEAD is served by GET";
}

TEST(Router, SaysNotFoundOrWhichMethodsTheresAre) {
    const auto r = sample_router();
    auto m = r.match("GET", "/v1/nothing");
    EXPECT_FALSE(m.matched);
    EXPECT_TRUE(m.allowed.empty());
    m = r.match("PATCH", "/v1/spaces/s1/members/bob");
    EXPECT_FALSE(m.matched);
    EXPECT_EQ(m.allowed, (std::vector<std::string>{"PUT", "DELETE"}));
    for (const char* bad : {"", "v1/spaces", "/v1/spaces/", "/v1/spaces//members/x",
                            "/v1/spaces/%zz", "/v1/spaces/a%00b", "/v1/spaces/%4"}) {
        EXPECT_FALSE(r.match("GET", bad).matched) << bad;
    }
}

TEST(PercentDecode, DecodesAndRefuses) {
    EXPECT_EQ(percent_decode("a%2Fb%20c").value(), "a/b c");
    EXPECT_EQ(percent_decode("plain").value(), "plain");
    EXPECT_FALSE(percent_decode("%"));
    EXPECT_FALSE(percent_decode("%G1"));
    EXPECT_FALSE(percent_decode("%00"));
    for (const char* control : {"a%0Ab", "%09", "%1B[31m", "%7F", "%0d%0aX-Injected: 1"})
        EXPECT_FALSE(percent_decode(control)) << control;
    EXPECT_EQ(percent_decode("%C3%A9%20%7E").value(), "\xC3\xA9 ~");
}

TEST(JsonBody, StringsHoldNoControlCharactersButTabsAndLineBreaks) {
    const auto o =
        boost::json::parse(R"({"ok":"two\nlines\tand\r\n","nul":"a\u0000b","esc":"\u001b[31mred",)"
                           R"("del":"x\u007f","list":["fine","bell\u0007"]})")
            .as_object();
    EXPECT_EQ(*string_field(o, "ok", true, 100).value(), "two\nlines\tand\r\n");
    for (const char* name : {"nul", "esc", "del"}) {
        auto r = string_field(o, name, true, 100);
        ASSERT_FALSE(r) << name;
        EXPECT_NE(r.error().message.find("control character"), std::string::npos);
    }
    EXPECT_FALSE(string_list_field(o, "list", 10, 100));
}

TEST(HttpConfig, ReadTimeoutIsWholeSecondsFromOneToAnHour) {
    config c;
    EXPECT_EQ(c.http_read_timeout, 30u);
    ASSERT_TRUE(set_value(c, "http_read_timeout", "2"));
    EXPECT_EQ(c.http_read_timeout, 2u);
    EXPECT_EQ(c.http_write_timeout, 30u);
    ASSERT_TRUE(set_value(c, "http_write_timeout", "5"));
    EXPECT_EQ(c.http_write_timeout, 5u);
    EXPECT_FALSE(set_value(c, "http_write_timeout", "0"));
    for (const char* bad : {"0", "-1", "1.5", "soon", "3601"})
        EXPECT_FALSE(set_value(c, "http_read_timeout", bad)) << bad;
}

TEST(AdminConfig, OperatorsAreUserIds) {
    config c;
    ASSERT_TRUE(set_value(c, "operators", " alice, ops-bot ,,"));
    EXPECT_EQ(c.operators, (std::vector<std::string>{"alice", "ops-bot"}));
    ASSERT_TRUE(set_value(c, "operators", ""));
    EXPECT_TRUE(c.operators.empty());
    ASSERT_TRUE(set_value(c, "operators", "alice"));
    for (const std::string& bad :
         {std::string("alice,bo\nb"), std::string(max_id_bytes + 1, 'x')}) {
        auto r = set_value(c, "operators", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("is not a user id"), std::string::npos);
        EXPECT_EQ(c.operators, std::vector<std::string>{"alice"})
            << "a refused value changes nothing";
    }
}

TEST(Problems, EveryErrorCodeHasAStatusAndAType) {
    const std::vector<std::pair<errc, unsigned>> expected{{errc::invalid_argument, 400},
                                                          {errc::not_found, 404},
                                                          {errc::already_exists, 409},
                                                          {errc::rule_refused, 409},
                                                          {errc::permission_denied, 403},
                                                          {errc::busy, 503},
                                                          {errc::unavailable, 503},
                                                          {errc::io_error, 500},
                                                          {errc::corruption, 500},
                                                          {errc::limit_exceeded, 409},
                                                          {errc::precondition_failed, 412},
                                                          {errc::shutting_down, 503},
                                                          {errc::locked, 503}};
    for (const auto& [code, status] : expected) {
        auto p = problem_for(make_error(code, "detail"));
        EXPECT_EQ(p.status, status) << to_string(code);
        EXPECT_TRUE(p.type.starts_with("/problems/")) << to_string(code);
        EXPECT_NE(p.type, "/problems/internal") << to_string(code);
    }
}

// A detail quotes what the client sent; the problem stays valid JSON when
// that was not UTF-8.
TEST(Problems, ADetailThatIsNotUtf8StillMakesJson) {
    auto r = to_response(problem_for(make_error(
        errc::rule_refused, "artifact name \"x\xff\xc3\x28\xed\xa0\x80.txt\" is not allowed",
        {"file \"\xe2\x82\""})));
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    ASSERT_FALSE(ec) << r.body;
    EXPECT_EQ(
        v.at("detail").as_string(),
        "artifact name \"x\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD.txt\" is "
        "not allowed");
    EXPECT_EQ(v.at("unmet").as_array().at(0).as_string(), "file \"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    auto fine =
        to_response(problem_for(make_error(errc::not_found, "caf\xc3\xa9 \xf0\x9f\x9a\x80")));
    EXPECT_EQ(boost::json::parse(fine.body).at("detail").as_string(),
              "caf\xc3\xa9 \xf0\x9f\x9a\x80");
}

TEST(Problems, RefusalsListWhatIsMissingAndBusyTellsWhenToRetry) {
    auto refused =
        to_response(problem_for(make_error(errc::rule_refused, "cannot complete 'Deck'",
                                           {"artifact 'Deck' missing", "step 'x' not checked"})));
    EXPECT_EQ(refused.status, 409u);
    EXPECT_EQ(refused.content_type, "application/problem+json");
    auto body = boost::json::parse(refused.body).as_object();
    EXPECT_EQ(body.at("type").as_string(), "/problems/rule-refused");
    EXPECT_EQ(body.at("detail").as_string(), "cannot complete 'Deck'");
    EXPECT_EQ(body.at("unmet").as_array().size(), 2u);

    auto busy = to_response(problem_for(make_error(errc::busy, "queue full")));
    EXPECT_EQ(busy.status, 503u);
    ASSERT_EQ(busy.headers.size(), 1u);
    EXPECT_EQ(busy.headers[0].first, "Retry-After");
    // Quotes and control characters in a detail stay valid JSON.
    auto odd = to_response(problem_for(make_error(errc::invalid_argument, "bad \"name\"\n\x01")));
    EXPECT_EQ(boost::json::parse(odd.body).at("detail").as_string(), "bad \"name\"\n\x01");
}

}  // namespace
}  // namespace migops::api
