// The dashboard's static files (api/static_files.h): only plain names of
// known types inside web_dir are served, never a file outside it, with an
// ETag that If-None-Match turns into a 304; and the demo's loopback check.

#include <gtest/gtest.h>

#include <fstream>

#include "api/config.h"
#include "api/demo.h"
#include "api/router.h"
#include "api/static_files.h"
#include "tests/unit/temp_dir.h"

namespace migops::api {
namespace {

using testing_support::temp_dir;

void write(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::string header(const http_response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

// The answer of the routes add_static_routes registers, as the server
// would route the target.
http_response serve(const router& routes, const std::string& target,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    http_response out;
    auto m = routes.match("GET", target);
    if (!m.matched) {
        out.status = 404;  // what the server answers when no route matches
        return out;
    }
    http_request req{"GET", target, std::move(headers), "", nullptr, nullptr};
    m.matched->handler(req, m.params, [&out](http_response r) { out = std::move(r); });
    return out;
}

class StaticFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        write(web() / "index.html", "<!doctype html><title>migops</title>");
        write(web() / "assets" / "app.js", "export const x = 1;\n");
        write(web() / "assets" / "style.css", "body{}\n");
        write(web() / "assets" / "notes.txt", "not a dashboard type");
        write(web() / "tests" / "package.json", "{}");
        write(root_.path() / "secret.js", "the secret");
        std::filesystem::create_symlink(root_.path() / "secret.js", web() / "assets" / "link.js");
        add_static_routes(routes_, web());
    }
    std::filesystem::path web() const { return root_.path() / "web"; }

    temp_dir root_;
    router routes_;
};

TEST_F(StaticFiles, ServesThePageAndAssetsWithTheirTypes) {
    auto page = serve(routes_, "/");
    EXPECT_EQ(page.status, 200u);
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(page.body, "<!doctype html><title>migops</title>");
    EXPECT_NE(header(page, "Content-Security-Policy").find("default-src 'self'"),
              std::string::npos);

    auto js = serve(routes_, "/assets/app.js?v=2");
    EXPECT_EQ(js.status, 200u);
    EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(js.body, "export const x = 1;\n");
    EXPECT_EQ(header(js, "Cache-Control"), "no-cache");
    EXPECT_EQ(header(js, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(serve(routes_, "/assets/style.css").content_type, "text/css; charset=utf-8");
}

TEST_F(StaticFiles, AnswersNotModifiedForTheSameContentOnly) {
    auto first = serve(routes_, "/assets/app.js");
    const auto etag = header(first, "ETag");
    ASSERT_EQ(etag.size(), 34u) << etag;
    auto same = serve(routes_, "/assets/app.js", {{"if-none-match", "\"x\", W/" + etag}});
    EXPECT_EQ(same.status, 304u);
    EXPECT_TRUE(same.body.empty());
    EXPECT_EQ(same.content_type, first.content_type) << "a 304 keeps the type a cache holds";
    EXPECT_EQ(serve(routes_, "/assets/app.js", {{"if-none-match", "\"other\""}}).status, 200u);

    write(web() / "assets" / "app.js", "export const x = 2;\n");
    auto changed = serve(routes_, "/assets/app.js", {{"if-none-match", etag}});
    EXPECT_EQ(changed.status, 200u) << "an edited file is served at once";
    EXPECT_NE(header(changed, "ETag"), etag);
}

TEST_F(StaticFiles, RefusesTraversalHiddenUnknownAndOutsideFiles) {
    for (const char* target : {"/assets/..%2Findex.html", "/assets/..%2F..%2Fsecret.js",
                               "/assets/%2e%2e%2fsecret.js", "/assets/%2E%2E", "/assets/..",
                               "/assets/.hidden.js", "/assets/a%5C..%5Cb.js", "/assets/a%20b.js"})
        EXPECT_EQ(serve(routes_, target).status, 400u) << target;
    for (const char* target :
         {"/assets/../secret.js", "/assets/nope.js", "/assets/notes.txt", "/assets/link.js",
          "/assets/", "/assets/%00.js", "/tests/package.json", "/index.html"})
        EXPECT_EQ(serve(routes_, target).status, 404u) << target;
    EXPECT_EQ(serve(routes_, "/assets/link.js").body.find("the secret"), std::string::npos);
}

TEST_F(StaticFiles, SaysWhereTheFilesWereLookedForWhenTheFolderIsMissing) {
    router elsewhere;
    add_static_routes(elsewhere, root_.path() / "nowhere");
    auto r = serve(elsewhere, "/");
    EXPECT_EQ(r.status, 404u);
    EXPECT_NE(r.body.find("nowhere"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("web_dir"), std::string::npos) << r.body;
}

TEST(StaticFileNames, AreLettersDigitsDashesUnderscoresAndDots) {
    for (const char* ok : {"app.js", "style.css", "board-2_x.min.js", "a"})
        EXPECT_TRUE(is_plain_file_name(ok)) << ok;
    for (const char* bad :
         {"", ".", "..", ".env", "a/b.js", "a\\b.js", "a..b.js", "a b.js", "%2e.js", "é.js"})
        EXPECT_FALSE(is_plain_file_name(bad)) << bad;
    EXPECT_EQ(static_media_type("x.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(static_media_type("x.svg"), "image/svg+xml");
    EXPECT_FALSE(static_media_type(".js"));
    EXPECT_FALSE(static_media_type("x.txt"));
    EXPECT_FALSE(static_media_type("x.js.map"));
}

TEST(StaticFileDefaults, TheSourceTreesWebFolderHoldsThePage) {
    EXPECT_TRUE(std::filesystem::is_regular_file(default_web_dir() / "index.html"))
        << default_web_dir();
}

TEST(DemoLoopback, OnlyLoopbackAddressesAndLocalhost) {
    for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"})
        EXPECT_TRUE(is_loopback_host(host)) << host;
    for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "127.example.com", "localhost.evil",
                             "evil.example", "", "[::1]"})
        EXPECT_FALSE(is_loopback_host(host)) << host;
}

TEST(DashboardSettings, WebDirAndDemoAreCheckedByName) {
    config c;
    EXPECT_TRUE(c.web_dir.empty()) << "empty: the source tree's web/";
    EXPECT_FALSE(c.demo);
    ASSERT_TRUE(set_value(c, "web_dir", "/srv/migops-web"));
    EXPECT_EQ(c.web_dir, "/srv/migops-web");
    auto empty = set_value(c, "web_dir", "");
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("web_dir"), std::string::npos);
    ASSERT_TRUE(set_value(c, "demo", "true"));
    EXPECT_TRUE(c.demo);
    auto bad = set_value(c, "demo", "maybe");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("demo"), std::string::npos);
    EXPECT_TRUE(c.demo) << "a refused value changes nothing";
}

}  // namespace
}  // namespace migops::api
