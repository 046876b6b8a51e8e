// GET /openapi.json on the real binary: public, JSON, OpenAPI 3, and the
// document of the repository (api/openapi.json) as it was built in.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>

#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class OpenApiServed : public ::testing::Test {
  protected:
    void SetUp() override {
        port_ = free_port();
        server_ = start_process(MIGOPS_BINARY,
                                {"serve", "--data-dir", (dir_.path() / "data").string(), "--listen",
                                 "127.0.0.1:" + std::to_string(port_)},
                                dir_.path() / "serve.log");
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void TearDown() override {
        ::kill(server_.pid, SIGTERM);
        EXPECT_EQ(wait_exit(server_, 25s), 0);
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process server_;
};

TEST_F(OpenApiServed, AnswersTheDocumentWithoutAToken) {
    auto r = http_call(port_, "GET", "/openapi.json");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.headers.find("Content-Type: application/json"), std::string::npos) << r.headers;
    boost::system::error_code ec;
    auto served = boost::json::parse(r.body, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(served.is_object());
    const std::string version(served.at("openapi").as_string());
    EXPECT_TRUE(version.starts_with("3.")) << version;
    EXPECT_TRUE(served.at("paths").as_object().contains("/v1/spaces"));

    std::ifstream in(MIGOPS_OPENAPI_FILE);
    std::stringstream file;
    file << in.rdbuf();
    EXPECT_EQ(served, boost::json::parse(file.str())) << "the binary serves api/openapi.json";
}

TEST_F(OpenApiServed, IsReadOnly) {
    auto r = http_call(port_, "POST", "/openapi.json", {"Content-Type: application/json"}, "{}");
    EXPECT_EQ(r.status, 405);
    EXPECT_NE(r.headers.find("Allow: GET"), std::string::npos) << r.headers;
}

}  // namespace
}  // namespace migops
