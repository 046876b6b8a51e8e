// The /v1 API over HTTP against the real binary.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class ApiTest : public ::testing::Test {
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
    http_reply post(const std::string& path, const std::string& body,
                    std::vector<std::string> headers) {
        return http_call(port_, "POST", path, headers, body);
    }
    static std::string type_of(const http_reply& r) {
        return std::string(boost::json::parse(r.body).at("type").as_string());
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process server_;
};

TEST_F(ApiTest, CreatingASpaceNeedsAValidToken) {
    auto none = post("/v1/spaces", R"({"name":"Exit"})", {"Content-Type: application/json"});
    EXPECT_EQ(none.status, 401);
    EXPECT_NE(none.headers.find("WWW-Authenticate: Bearer"), std::string::npos) << none.headers;
    EXPECT_EQ(type_of(none), "/problems/unauthorized");
    auto garbage = post("/v1/spaces", R"({"name":"Exit"})",
                        {"Content-Type: application/json", "Authorization: Bearer not.a.token"});
    EXPECT_EQ(garbage.status, 401);
    auto basic = post("/v1/spaces", R"({"name":"Exit"})",
                      {"Content-Type: application/json", "Authorization: Basic YWxpY2U6cHc="});
    EXPECT_EQ(basic.status, 401);
}

TEST_F(ApiTest, CreatesASpace) {
    const auto alice = token("alice");
    auto r = post("/v1/spaces", R"({"name":"DC exit","description":"Frankfurt"})",
                  {"Content-Type: application/json; charset=utf-8", alice, "X-Request-Id: req-1"});
    ASSERT_EQ(r.status, 201) << r.body;
    auto o = boost::json::parse(r.body).as_object();
    const std::string id(o.at("id").as_string());
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(o.at("name").as_string(), "DC exit");
    EXPECT_EQ(o.at("created_by").as_string(), "alice");
    EXPECT_NE(r.headers.find("Location: /v1/spaces/" + id), std::string::npos) << r.headers;
    EXPECT_NE(r.headers.find("ETag: \""), std::string::npos) << r.headers;
}

TEST_F(ApiTest, BadBodiesAreRefusedWithTheirProblem) {
    const auto alice = token("alice");
    const std::string json = "Content-Type: application/json";
    auto text = post("/v1/spaces", R"({"name":"x"})", {"Content-Type: text/plain", alice});
    EXPECT_EQ(text.status, 415);
    EXPECT_EQ(post("/v1/spaces", R"({"name":"x"})", {alice}).status, 415) << "no content type";
    // Media types are case-insensitive, and spaces around one do not matter.
    auto upper = post("/v1/spaces", R"({"name":"Upper"})",
                      {"Content-Type: Application/JSON ; charset=utf-8", alice});
    EXPECT_EQ(upper.status, 201) << upper.body;
    // A key given twice in one object, at any depth, is refused: which of
    // its values would be meant is not known.
    for (const auto* body :
         {R"({"name":"A","name":"B"})", R"({"name":"A","description":"x","name":"A"})"}) {
        auto twice = post("/v1/spaces", body, {json, alice});
        EXPECT_EQ(twice.status, 400) << body;
        EXPECT_EQ(type_of(twice), "/problems/invalid-argument") << body;
        EXPECT_NE(twice.body.find(R"(the key \"name\" is given twice in one object)"),
                  std::string::npos)
            << twice.body;
    }
    auto broken = post("/v1/spaces", R"({"name":)", {json, alice});
    EXPECT_EQ(broken.status, 400);
    EXPECT_EQ(type_of(broken), "/problems/invalid-json");
    auto array = post("/v1/spaces", R"(["x"])", {json, alice});
    EXPECT_EQ(array.status, 400);
    auto wrong_type = post("/v1/spaces", R"({"name":5})", {json, alice});
    EXPECT_EQ(wrong_type.status, 400);
    EXPECT_NE(wrong_type.body.find("name must be a string"), std::string::npos);
    auto missing = post("/v1/spaces", R"({})", {json, alice});
    EXPECT_EQ(missing.status, 400);
    EXPECT_NE(missing.body.find("name is required"), std::string::npos);
    auto blank = post("/v1/spaces", R"({"name":"  "})", {json, alice});
    EXPECT_EQ(blank.status, 400) << "the domain's own check";
    auto bad_utf8 = post("/v1/spaces", "{\"name\":\"\xc3\x28\"}", {json, alice});
    EXPECT_EQ(bad_utf8.status, 400);
    auto deep = post("/v1/spaces", std::string(200, '[') + std::string(200, ']'), {json, alice});
    EXPECT_EQ(deep.status, 400);
    auto huge = post("/v1/spaces", "{\"name\":\"" + std::string(2 * 1024 * 1024, 'x') + "\"}",
                     {json, alice});
    EXPECT_EQ(huge.status, 413) << "over the server's body limit";
    // The server is still fine.
    EXPECT_EQ(post("/v1/spaces", R"({"name":"ok"})", {json, alice}).status, 201);
    auto method = http_call(port_, "PATCH", "/v1/spaces", {alice});
    EXPECT_EQ(method.status, 405);
    EXPECT_NE(method.headers.find("Allow: POST"), std::string::npos) << method.headers;
}

}  // namespace
}  // namespace migops
