// The migops binary: version, serve, configuration sources, clean stop,
// the data-directory lock and bad input.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/auth.h"
#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

const std::string binary = MIGOPS_BINARY;

class CliTest : public ::testing::Test {
  protected:
    child_process serve(std::vector<std::string> args, const std::string& log_name,
                        std::vector<std::string> env = {}) {
        args.insert(args.begin(), "serve");
        return start_process(binary, args, dir_.path() / log_name, env);
    }

    temp_dir dir_;
};

TEST_F(CliTest, VersionPrintsTheVersion) {
    auto c = start_process(binary, {"version"}, dir_.path() / "out");
    ASSERT_EQ(wait_exit(c, 10s), 0);
    EXPECT_EQ(c.stderr_text(), "migops " MIGOPS_TEST_VERSION "\n");
}

TEST_F(CliTest, ServesHealthAndStopsCleanlyOnSigterm) {
    const auto port = free_port();
    auto c = serve({"--data-dir", (dir_.path() / "data").string(), "--listen",
                    "127.0.0.1:" + std::to_string(port)},
                   "serve.log");
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s))
        << c.stderr_text();
    EXPECT_EQ(http_get(port, "/healthz").status, 200);
    auto missing = http_get(port, "/v1/nothing");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(boost::json::parse(missing.body).at("type").as_string(), "/problems/not-found");
    ::kill(c.pid, SIGTERM);
    EXPECT_EQ(wait_exit(c, 25s), 0) << c.stderr_text();
    EXPECT_NE(c.stderr_text().find("data directory closed"), std::string::npos) << c.stderr_text();
    EXPECT_EQ(http_get(port, "/healthz").status, 0);
}

TEST_F(CliTest, ASecondServeOnTheSameDataDirFailsAtOnce) {
    const auto data = (dir_.path() / "data").string();
    const auto port = free_port();
    auto first =
        serve({"--data-dir", data, "--listen", "127.0.0.1:" + std::to_string(port)}, "first.log");
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s));
    auto second = serve(
        {"--data-dir", data, "--listen", "127.0.0.1:" + std::to_string(free_port())}, "second.log");
    EXPECT_EQ(wait_exit(second, 10s), 1);
    EXPECT_NE(second.stderr_text().find("is in use by another migops process (pid " +
                                        std::to_string(first.pid) + ")"),
              std::string::npos)
        << second.stderr_text();
    EXPECT_EQ(http_get(port, "/healthz").status, 200) << "the first server must be unharmed";
    ::kill(first.pid, SIGINT);
    EXPECT_EQ(wait_exit(first, 25s), 0);
}

TEST_F(CliTest, FlagsWinOverEnvironmentWhichWinsOverTheConfigFile) {
    const auto port = free_port();
    std::ofstream(dir_.path() / "migops.yaml")
        << "data_dir: " << (dir_.path() / "from-file").string() << "\n"
        << "listen: 127.0.0.1:" << port << "\nlog_format: json\npartitions: 3\n";
    // The file alone.
    auto c = serve({"--config", (dir_.path() / "migops.yaml").string()}, "file.log");
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s))
        << c.stderr_text();
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / "from-file" / "migops.lock"));
    ::kill(c.pid, SIGTERM);
    ASSERT_EQ(wait_exit(c, 25s), 0);
    // Every stderr line is a JSON object.
    std::istringstream lines(c.stderr_text());
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        auto v = boost::json::parse(line);
        EXPECT_TRUE(v.as_object().contains("msg")) << line;
        ++n;
    }
    EXPECT_GT(n, 2);

    // The environment beats the file; a flag beats the environment.
    const auto env_dir = (dir_.path() / "from-env").string();
    c = serve({"--config", (dir_.path() / "migops.yaml").string(), "--log-format", "text"},
              "env.log", {"MIGOPS_DATA_DIR=" + env_dir});
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s))
        << c.stderr_text();
    EXPECT_TRUE(std::filesystem::exists(env_dir + "/migops.lock"));
    ::kill(c.pid, SIGTERM);
    ASSERT_EQ(wait_exit(c, 25s), 0);
    EXPECT_EQ(c.stderr_text().find("{\"time\""), std::string::npos) << "the flag chose text logs";

    const auto flag_dir = (dir_.path() / "from-flag").string();
    c = serve({"--config", (dir_.path() / "migops.yaml").string(), "--data-dir", flag_dir},
              "flag.log", {"MIGOPS_DATA_DIR=" + env_dir});
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s))
        << c.stderr_text();
    EXPECT_TRUE(std::filesystem::exists(flag_dir + "/migops.lock"));
    ::kill(c.pid, SIGTERM);
    ASSERT_EQ(wait_exit(c, 25s), 0);
}

TEST_F(CliTest, TomlConfigWorks) {
    const auto port = free_port();
    std::ofstream(dir_.path() / "migops.toml")
        << "data_dir = \"" << (dir_.path() / "toml").string() << "\"\n"
        << "listen = \"127.0.0.1:" << port << "\"\nverify_all = true\npartitions = 2\n";
    auto c = serve({"--config", (dir_.path() / "migops.toml").string()}, "toml.log");
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s))
        << c.stderr_text();
    EXPECT_NE(c.stderr_text().find("all events"), std::string::npos);
    ::kill(c.pid, SIGTERM);
    ASSERT_EQ(wait_exit(c, 25s), 0);
}

struct bad_case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string file;  // config file contents (yaml), when not empty
    std::string message;
};

TEST_F(CliTest, BadInputGetsAClearMessageAndANonZeroExit) {
    const std::vector<bad_case> cases = {
        {{"--listen", "nowhere"}, {}, "", "listen must be HOST:PORT"},
        {{"--listen", "127.0.0.1:99999"}, {}, "", "listen port must be a whole number"},
        {{"--partitions", "0"}, {}, "", "partitions must be a whole number from 1"},
        {{"--log-format", "xml"}, {}, "", "log_format must be one of text, json"},
        {{}, {"MIGOPS_PARTITIONS=lots"}, "", "MIGOPS_PARTITIONS: partitions must be"},
        {{"--config", "/nonexistent/migops.yaml"}, {}, "", "does not exist"},
        {{}, {}, "colour: blue\n", "unknown setting \"colour\""},
        {{}, {}, "listen: [1, 2]\n", "listen must be a single value"},
        {{}, {}, "data_dir: [unclosed\n", "cannot read config file"},
        {{"--no-such-flag"}, {}, "", "no-such-flag"},
        {{"--limit-files-per-task", "0"},
         {},
         "",
         "limit_files_per_task must be a whole number from 1"},
        {{},
         {"MIGOPS_LIMIT_TASKS_PER_JOURNEY=many"},
         "",
         "MIGOPS_LIMIT_TASKS_PER_JOURNEY: limit_tasks_per_journey"},
    };
    int i = 0;
    for (const auto& bc : cases) {
        auto args = bc.args;
        args.insert(args.end(), {"--data-dir", (dir_.path() / ("d" + std::to_string(i))).string()});
        if (!bc.file.empty()) {
            const auto path = dir_.path() / ("bad" + std::to_string(i) + ".yaml");
            std::ofstream(path) << bc.file;
            args.insert(args.end(), {"--config", path.string()});
        }
        auto c = serve(args, "bad" + std::to_string(i) + ".log", bc.env);
        auto code = wait_exit(c, 10s);
        if (!code) kill_process(c);
        ASSERT_TRUE(code) << bc.message;
        EXPECT_NE(*code, 0) << bc.message;
        EXPECT_NE(c.stderr_text().find(bc.message), std::string::npos)
            << "expected \"" << bc.message << "\" in: " << c.stderr_text();
        EXPECT_FALSE(std::filesystem::exists(dir_.path() / ("d" + std::to_string(i))))
            << "bad input must change nothing: " << bc.message;
        ++i;
    }
}

TEST_F(CliTest, RefusesToStartOnABusyPort) {
    const auto port = free_port();
    auto first = serve({"--data-dir", (dir_.path() / "a").string(), "--listen",
                        "127.0.0.1:" + std::to_string(port)},
                       "a.log");
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 20s));
    auto second = serve({"--data-dir", (dir_.path() / "b").string(), "--listen",
                         "127.0.0.1:" + std::to_string(port)},
                        "b.log");
    EXPECT_EQ(wait_exit(second, 10s), 1);
    EXPECT_NE(second.stderr_text().find("cannot listen on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << second.stderr_text();
    ::kill(first.pid, SIGTERM);
    EXPECT_EQ(wait_exit(first, 25s), 0);
}

}  // namespace
}  // namespace migops

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class TemplatesCliTest : public ::testing::Test {
  protected:
    temp_dir dir_;
};

TEST_F(TemplatesCliTest, ImportsTheWholeCorpusAndTheServerPublishesIt) {
    const auto out = dir_.path() / "out";
    auto c = start_process(MIGOPS_BINARY,
                           {"templates", "import", MIGOPS_SHARED_TEMPLATES, "--out", out.string()},
                           dir_.path() / "import.log");
    ASSERT_EQ(wait_exit(c, 60s), 0) << c.stderr_text();
    std::istringstream lines(c.stderr_text());
    std::string line;
    std::size_t n = 0;
    while (std::getline(lines, line)) {
        auto o = boost::json::parse(line).as_object();
        for (const char* key :
             {"template_id", "version", "phases", "modules", "tasks", "subtasks", "warnings"})
            EXPECT_TRUE(o.contains(key)) << key << " in " << line;
        EXPECT_TRUE(std::filesystem::exists(std::string(o.at("file").as_string())));
        ++n;
    }
    EXPECT_EQ(n, 17u) << "every version of every template";

    // A server given that directory publishes them with the built-in ones;
    // on restart, publishing again appends nothing.
    const auto port = free_port();
    for (const auto& [log, expected] :
         {std::pair{"serve.log", "20 templates offered, 20 newly published"},
          std::pair{"serve2.log", "20 templates offered, 0 newly published"}}) {
        auto s =
            start_process(MIGOPS_BINARY,
                          {"serve", "--data-dir", (dir_.path() / "data").string(), "--listen",
                           "127.0.0.1:" + std::to_string(port), "--templates-dir", out.string()},
                          dir_.path() / log);
        ASSERT_TRUE(wait_until([&] { return http_get(port, "/readyz").status == 200; }, 30s))
            << s.stderr_text();
        EXPECT_NE(s.stderr_text().find(expected), std::string::npos) << s.stderr_text();
        ::kill(s.pid, SIGTERM);
        ASSERT_EQ(wait_exit(s, 25s), 0);
    }
}

TEST_F(TemplatesCliTest, BadTemplateInputIsAClearError) {
    auto c = start_process(MIGOPS_BINARY, {"templates", "import", (dir_.path() / "none").string()},
                           dir_.path() / "a.log");
    EXPECT_EQ(wait_exit(c, 10s), 2);
    EXPECT_NE(c.stderr_text().find("does not exist"), std::string::npos) << c.stderr_text();

    std::filesystem::create_directories(dir_.path() / "bad");
    std::ofstream(dir_.path() / "bad" / "broken.json") << "{\"template_id\": 1}";
    const auto port = free_port();
    auto s = start_process(
        MIGOPS_BINARY,
        {"serve", "--data-dir", (dir_.path() / "data").string(), "--listen",
         "127.0.0.1:" + std::to_string(port), "--templates-dir", (dir_.path() / "bad").string()},
        dir_.path() / "serve.log");
    EXPECT_EQ(wait_exit(s, 20s), 1);
    EXPECT_NE(s.stderr_text().find("broken.json: template.template_id must be a string"),
              std::string::npos)
        << s.stderr_text();
}

}  // namespace
}  // namespace migops

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

TEST(ProjectionsCli, RebuildsFromTheLogWithProgressAndRespectsTheLock) {
    temp_dir dir;
    const auto data = (dir.path() / "data").string();
    // Some history, written by the crash-test writer (4 partitions).
    auto writer = start_process(MIGOPS_CRASH_WRITER, {data, "p"}, dir.path() / "writer.log");
    ASSERT_TRUE(
        wait_until([&] { return writer.stderr_text().find("ACK") != std::string::npos; }, 20s));
    writer.reap();

    auto wrong = start_process(MIGOPS_BINARY, {"projections", "rebuild", "--data-dir", data},
                               dir.path() / "w.log");
    EXPECT_EQ(wait_exit(wrong, 30s), 1);
    EXPECT_NE(wrong.stderr_text().find("was created with 4 partitions, not 8"), std::string::npos)
        << wrong.stderr_text();

    auto ok = start_process(MIGOPS_BINARY,
                            {"projections", "rebuild", "--data-dir", data, "--partitions", "4"},
                            dir.path() / "r.log");
    ASSERT_EQ(wait_exit(ok, 60s), 0) << ok.stderr_text();
    EXPECT_NE(ok.stderr_text().find("replaying space_directory, board, audit_index ["),
              std::string::npos)
        << "a progress bar";
    EXPECT_NE(ok.stderr_text().find(" events/s"), std::string::npos) << ok.stderr_text();
    EXPECT_NE(ok.stderr_text().find("generation 1 is live"), std::string::npos) << ok.stderr_text();
}

}  // namespace
}  // namespace migops

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

TEST(TokenCli, PrintsATokenTheServerSecretVerifies) {
    temp_dir dir;
    const auto data = (dir.path() / "data").string();
    auto c = start_process(MIGOPS_BINARY, {"token", "--user", "alice", "--data-dir", data},
                           dir.path() / "t.log");
    ASSERT_EQ(wait_exit(c, 10s), 0) << c.stderr_text();
    auto token = c.stderr_text();
    ASSERT_FALSE(token.empty());
    token.pop_back();  // the newline
    std::ifstream in(dir.path() / "data" / "jwt-secret");
    std::string secret;
    std::getline(in, secret);
    EXPECT_EQ(secret.size(), 64u);
    EXPECT_EQ(std::filesystem::status(dir.path() / "data" / "jwt-secret").permissions() &
                  std::filesystem::perms::others_read,
              std::filesystem::perms::none);
    api::auth_options options;
    options.secret = secret;
    auto verifier = api::token_verifier::create(options);
    ASSERT_TRUE(verifier);
    auto now = timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()};
    auto who = verifier.value().verify_header("Bearer " + token, now);
    ASSERT_TRUE(who) << who.error().message;
    EXPECT_EQ(who.value().user.value, "alice");

    // The same data directory gives the same secret, so a second token verifies too.
    auto again = start_process(MIGOPS_BINARY, {"token", "--user", "bob", "--data-dir", data},
                               dir.path() / "t2.log");
    ASSERT_EQ(wait_exit(again, 10s), 0);
    auto second = again.stderr_text();
    second.pop_back();
    EXPECT_EQ(verifier.value().verify(second, now).value().user.value, "bob");
}

TEST(TokenCli, BadTokenSettingsAreClearErrors) {
    temp_dir dir;
    auto no_user = start_process(MIGOPS_BINARY, {"token"}, dir.path() / "a.log");
    EXPECT_NE(wait_exit(no_user, 10s).value_or(0), 0);
    EXPECT_NE(no_user.stderr_text().find("--user is required"), std::string::npos)
        << no_user.stderr_text();
    auto rs = start_process(MIGOPS_BINARY,
                            {"token", "--user", "a", "--data-dir", (dir.path() / "d").string()},
                            dir.path() / "b.log", {"MIGOPS_JWT_ALGORITHM=RS256"});
    EXPECT_EQ(wait_exit(rs, 10s), 2);
    EXPECT_NE(rs.stderr_text().find("RS256 needs jwt_public_key_file"), std::string::npos)
        << rs.stderr_text();
    auto short_secret = start_process(MIGOPS_BINARY,
                                      {"serve", "--data-dir", (dir.path() / "e").string(),
                                       "--listen", "127.0.0.1:" + std::to_string(free_port())},
                                      dir.path() / "c.log", {"MIGOPS_JWT_SECRET=short"});
    EXPECT_EQ(wait_exit(short_secret, 20s), 1);
    EXPECT_NE(short_secret.stderr_text().find("32"), std::string::npos)
        << short_secret.stderr_text();
}

}  // namespace
}  // namespace migops
