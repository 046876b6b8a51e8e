// A whole journey over HTTP against the real binary: a space, roles, a
// journey from a built-in template, assignment, status changes with the
// refusals a user meets, evidence upload, completion; stale If-Match,
// retried Idempotency-Key, a contributor's delete; and after a SIGKILL and a
// restart the board is the same.

#include <gtest/gtest.h>

#include <fstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/integration/process.h"
#include "tests/integration/ws_client.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;
using boost::json::object;

const std::string json_type = "Content-Type: application/json";

class JourneyTest : public ::testing::Test {
  protected:
    void SetUp() override { start(); }
    void TearDown() override {
        if (server_.pid > 0) {
            ::kill(server_.pid, SIGTERM);
            EXPECT_EQ(wait_exit(server_, 25s), 0);
        }
    }
    void start() {
        port_ = free_port();
        server_ = start_process(
            MIGOPS_BINARY,
            {"serve", "--data-dir", data(), "--listen", "127.0.0.1:" + std::to_string(port_)},
            dir_.path() / ("serve-" + std::to_string(++starts_) + ".log"));
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    std::string data() const { return (dir_.path() / "data").string(); }
    std::string token(const std::string& user) {
        const auto t = cli_token(MIGOPS_BINARY, user, data(), dir_.path() / ("token-" + user));
        EXPECT_FALSE(t.empty());
        return "Authorization: Bearer " + t;
    }
    http_reply call(const std::string& method, const std::string& path, const std::string& who,
                    const std::string& body = "", std::vector<std::string> headers = {}) {
        headers.push_back(who);
        if (!body.empty() && headers.size() == 1) headers.push_back(json_type);
        return http_call(port_, method, path, headers, body);
    }
    static object parse(const http_reply& r) {
        auto v = boost::json::parse(r.body);
        return v.as_object();
    }
    // The peak resident memory of a process (VmHWM), in KiB; 0 if unknown.
    static long peak_memory_kib(pid_t pid) {
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
        return 0;
    }
    static std::string header(const http_reply& r, const std::string& name) {
        const auto at = r.headers.find("\r\n" + name + ": ");
        if (at == std::string::npos) return {};
        const auto from = at + name.size() + 4;
        return r.headers.substr(from, r.headers.find("\r\n", from) - from);
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    child_process server_;
};

// The first task of the journey whose only criterion is an artifact.
object task_with_one_artifact_criterion(const object& journey) {
    for (const auto& phase : journey.at("phases").as_array())
        for (const auto& module : phase.at("modules").as_array())
            for (const auto& task : module.at("tasks").as_array()) {
                const auto& criteria = task.at("acceptance_criteria").as_array();
                if (criteria.size() == 1 && criteria[0].at("type") == "artifact" &&
                    task.at("subtasks").as_array().empty() &&
                    task.at("dependencies").as_array().empty())
                    return task.as_object();
            }
    return {};
}

TEST_F(JourneyTest, AWholeJourneyOverHttpSurvivesAKill) {
    const auto alice = token("alice");
    const auto bob = token("bob");

    // A space, created once even when the request is retried.
    const std::string space_body = R"({"name":"DC exit"})";
    auto space =
        call("POST", "/v1/spaces", alice, space_body, {json_type, "Idempotency-Key: space-1"});
    ASSERT_EQ(space.status, 201) << space.body;
    auto again =
        call("POST", "/v1/spaces", alice, space_body, {json_type, "Idempotency-Key: space-1"});
    EXPECT_EQ(again.status, 201);
    EXPECT_EQ(again.body, space.body);
    EXPECT_EQ(header(again, "Idempotent-Replayed"), "true");
    auto reused = call("POST", "/v1/spaces", alice, R"({"name":"Other"})",
                       {json_type, "Idempotency-Key: space-1"});
    EXPECT_EQ(reused.status, 422) << reused.body;
    auto spaces = parse(call("GET", "/v1/spaces", alice));
    ASSERT_EQ(spaces.at("spaces").as_array().size(), 1u) << "a retry appended a second space";
    const std::string s(parse(space).at("id").as_string());

    // A WebSocket client follows the space from its first event.
    ws_client stream(port_, "/v1/stream?space=" + s + "&from=0",
                     {{"Authorization", alice.substr(std::string("Authorization: ").size())}});
    ASSERT_EQ(stream.status(), 101);

    // Bob joins; before that he does not see the space.
    EXPECT_EQ(call("GET", "/v1/spaces/" + s, bob).status, 404);
    auto granted =
        call("PUT", "/v1/spaces/" + s + "/members/bob", alice, R"({"role":"space_contributor"})");
    ASSERT_EQ(granted.status, 200) << granted.body;
    EXPECT_EQ(call("GET", "/v1/spaces/" + s, bob).status, 200);
    EXPECT_EQ(
        call("PUT", "/v1/spaces/" + s + "/members/eve", bob, R"({"role":"space_admin"})").status,
        403);
    EXPECT_EQ(
        call("PUT", "/v1/spaces/" + s + "/members/eve", alice, R"({"role":"emperor"})").status,
        400);

    // A journey from a built-in template, with the whole tree.
    auto templates = parse(call("GET", "/v1/templates", alice));
    ASSERT_FALSE(templates.at("templates").as_array().empty());
    auto created = call("POST", "/v1/spaces/" + s + "/journeys", alice,
                        R"({"name":"Move","template_id":"migops-quick-start"})");
    ASSERT_EQ(created.status, 201) << created.body;
    auto journey = parse(created);
    const std::string j(journey.at("id").as_string());
    EXPECT_EQ(header(created, "Location"), "/v1/journeys/" + j);
    for (const char* field : {"id", "name", "status", "version", "progress", "phases"})
        EXPECT_TRUE(journey.contains(field)) << field;
    auto task = task_with_one_artifact_criterion(journey);
    ASSERT_FALSE(task.empty()) << created.body;
    for (const char* field :
         {"id", "title", "status", "version", "assignee", "due", "acceptance_criteria", "steps",
          "subtasks", "dependencies", "artifacts", "waiting", "alerts"})
        EXPECT_TRUE(task.contains(field)) << field;
    const std::string t(task.at("id").as_string());
    const std::string path = "/v1/tasks/" + t;

    // Assigned to bob, who starts, blocks and unblocks it.
    auto assigned = call("PUT", path + "/assignee", alice, R"({"user":"bob"})");
    ASSERT_EQ(assigned.status, 200) << assigned.body;
    EXPECT_EQ(parse(assigned).at("assignee").at("user"), "bob");
    EXPECT_EQ(call("POST", path + "/status", bob, R"({"status":"in_progress"})").status, 200);
    auto no_reason = call("POST", path + "/status", bob, R"({"status":"blocked"})");
    EXPECT_EQ(no_reason.status, 400) << no_reason.body;
    auto blocked =
        call("POST", path + "/status", bob, R"({"status":"blocked","reason":"no DB access"})");
    ASSERT_EQ(blocked.status, 200) << blocked.body;
    EXPECT_EQ(parse(blocked).at("blocked_reason"), "no DB access");
    EXPECT_EQ(call("POST", path + "/status", bob, R"({"status":"in_progress"})").status, 200);

    // Completing without the file is refused with what is missing.
    auto refused = call("POST", path + "/status", bob, R"({"status":"completed"})");
    ASSERT_EQ(refused.status, 409) << refused.body;
    auto problem = parse(refused);
    EXPECT_EQ(problem.at("type"), "/problems/rule-refused");
    ASSERT_EQ(problem.at("unmet").as_array().size(), 1u);
    EXPECT_NE(std::string(problem.at("unmet").at(0).as_string()).find("missing"),
              std::string::npos);

    // A file that is not what its name says is refused; the right one is kept.
    ASSERT_EQ(task.at("acceptance_criteria").at(0).at("media_types").at(0), "application/pdf");
    std::string pattern(task.at("acceptance_criteria").at(0).at("pattern").as_string());
    std::erase(pattern, '*');
    const std::string name = "project-" + pattern + ".pdf";
    const std::string pdf = "%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
    auto lying = call("PUT", path + "/artifacts/" + name, bob, "wave,apps\n1,12\n",
                      {"Content-Type: application/pdf"});
    EXPECT_EQ(lying.status, 400) << lying.body;
    auto mislabelled =
        call("PUT", path + "/artifacts/" + name, bob, pdf, {"Content-Type: text/csv"});
    EXPECT_EQ(mislabelled.status, 415) << mislabelled.body;
    auto uploaded =
        call("PUT", path + "/artifacts/" + name, bob, pdf, {"Content-Type: Application/PDF"});
    ASSERT_EQ(uploaded.status, 200) << uploaded.body;
    auto files = parse(uploaded).at("artifacts").as_array();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].at("media_type"), "application/pdf");
    EXPECT_EQ(files[0].at("size").as_int64(), static_cast<std::int64_t>(pdf.size()));
    EXPECT_TRUE(parse(uploaded).at("acceptance_criteria").at(0).at("met").as_bool());
    EXPECT_EQ(call("GET", path + "/artifacts/" + name, bob).body, pdf);
    EXPECT_EQ(call("PUT", path + "/artifacts/..%2Fescape.pdf", bob, pdf,
                   {"Content-Type: application/pdf"})
                  .status,
              400);

    // Files stream to disk: one of 8 MiB is kept whole; one past the task's
    // allowance (25 MiB) is refused and leaves no partial file behind.
    constexpr std::size_t mib = std::size_t{1} << 20;
    std::string inventory = "wave,apps\n";
    while (inventory.size() < 8 * mib)
        inventory += "1,application-" + std::to_string(inventory.size()) + "\n";
    auto kept =
        call("PUT", path + "/artifacts/inventory.csv", bob, inventory, {"Content-Type: text/csv"});
    ASSERT_EQ(kept.status, 200) << kept.body;
    // Downloads are sent from the file as it is read: the server's peak
    // memory does not grow by the file's size, however often it is fetched.
    const auto peak_before = peak_memory_kib(server_.pid);
    for (int i = 0; i < 3; ++i) {
        auto fetched = call("GET", path + "/artifacts/inventory.csv", bob);
        ASSERT_EQ(fetched.status, 200);
        EXPECT_EQ(fetched.body, inventory);
        EXPECT_EQ(header(fetched, "Content-Length"), std::to_string(inventory.size()));
        EXPECT_EQ(header(fetched, "Content-Type"), "text/csv");
    }
    const auto peak_after = peak_memory_kib(server_.pid);
    ASSERT_GT(peak_before, 0);
    EXPECT_LT(peak_after - peak_before, 4 * 1024)
        << "peak memory grew by " << peak_after - peak_before << " KiB for an 8 MiB file";
    const std::string file_sha(parse(kept).at("artifacts").at(0).at("sha256").as_string());
    const auto file_tag = header(call("GET", path + "/artifacts/inventory.csv", bob), "ETag");
    EXPECT_EQ(file_tag, "\"" + file_sha + "\"");
    auto unchanged =
        call("GET", path + "/artifacts/inventory.csv", bob, "", {"If-None-Match: " + file_tag});
    EXPECT_EQ(unchanged.status, 304);
    EXPECT_TRUE(unchanged.body.empty());
    // A file gone from the store is a problem, not an empty answer, and the
    // server goes on.
    const auto blob = std::filesystem::path(data()) / "blobs" / file_sha.substr(0, 2) / file_sha;
    const auto aside = blob.string() + ".aside";
    std::filesystem::rename(blob, aside);
    auto gone = call("GET", path + "/artifacts/inventory.csv", bob);
    EXPECT_EQ(gone.status, 404) << gone.body;
    EXPECT_EQ(header(gone, "Content-Type"), "application/problem+json");
    std::filesystem::rename(aside, blob);
    EXPECT_EQ(call("GET", path + "/artifacts/inventory.csv", bob).body, inventory);
    std::string too_big = inventory;
    too_big.resize(25 * mib + 1, '9');
    auto refused_file =
        call("PUT", path + "/artifacts/too-big.csv", bob, too_big, {"Content-Type: text/csv"});
    EXPECT_EQ(refused_file.status, 409) << refused_file.body;
    EXPECT_NE(refused_file.body.find("at most"), std::string::npos) << refused_file.body;
    const auto partial = std::filesystem::path(data()) / "blobs" / "tmp";
    EXPECT_TRUE(!std::filesystem::exists(partial) || std::filesystem::is_empty(partial));
    EXPECT_EQ(call("DELETE", path + "/artifacts/inventory.csv", alice).status, 200);
    // An upload goes to a file as it arrives, and one the client cuts short
    // leaves nothing behind.
    {
        const int fd = connect_loopback(port_);
        ASSERT_GE(fd, 0);
        const std::string head =
            "PUT " + path + "/artifacts/cut.csv HTTP/1.1\r\nHost: localhost\r\n" + bob +
            "\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(4 * mib) + "\r\n\r\n";
        const std::string half = inventory.substr(0, 2 * mib);
        ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(head.size()));
        ASSERT_EQ(::send(fd, half.data(), half.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(half.size()));
        EXPECT_TRUE(wait_until(
            [&] { return std::filesystem::exists(partial) && !std::filesystem::is_empty(partial); },
            10s))
            << "the upload is not being written to a file";
        ::close(fd);
        EXPECT_TRUE(wait_until([&] { return std::filesystem::is_empty(partial); }, 10s));
    }

    // A stale If-Match is refused; the current one works.
    auto now = call("GET", path, bob);
    const auto etag = header(now, "ETag");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(call("POST", path + "/status", bob, R"({"status":"completed"})",
                   {json_type, "If-Match: \"1\""})
                  .status,
              412);
    auto completed = call("POST", path + "/status", bob, R"({"status":"completed"})",
                          {json_type, "If-Match: " + etag});
    ASSERT_EQ(completed.status, 200) << completed.body;
    EXPECT_EQ(parse(completed).at("status"), "completed");
    EXPECT_NE(header(completed, "ETag"), etag);

    // A contributor may not delete; the admin may.
    EXPECT_EQ(call("DELETE", path, bob).status, 403);
    auto mine = parse(call("GET", "/v1/me/tasks", bob));
    ASSERT_EQ(mine.at("tasks").as_array().size(), 1u);
    EXPECT_EQ(mine.at("tasks").at(0).at("id").as_string(), t);

    // The stream saw exactly the space's history, in order.
    // (The history index follows the log a moment after the answer: wait
    // until it holds the completion, the last event.)
    std::vector<std::string> history;
    ASSERT_TRUE(wait_until(
        [&] {
            history.clear();
            std::string last_to;
            for (std::string cursor;;) {
                auto page = parse(call("GET",
                                       "/v1/events?space=" + s + "&limit=1000" +
                                           (cursor.empty() ? "" : "&cursor=" + cursor),
                                       alice));
                for (const auto& e : page.at("events").as_array()) {
                    history.emplace_back(e.at("id").as_string());
                    const auto* to = e.at("data").as_object().if_contains("to");
                    last_to = to ? std::string(to->as_string()) : "";
                }
                if (page.at("next").is_null()) break;
                cursor = std::string(page.at("next").as_string());
            }
            return last_to == "completed";
        },
        10s));
    // space, grant, journey, assignment, 4 statuses, the file, the inventory
    // uploaded and removed
    ASSERT_EQ(history.size(), 11u);
    std::vector<std::string> streamed;
    while (streamed.size() < history.size()) {
        auto m = stream.next(std::chrono::seconds(10));
        ASSERT_EQ(m.what, ws_client::event::kind::message) << m.reason;
        auto o = boost::json::parse(m.text).as_object();
        if (o.contains("event")) streamed.emplace_back(o.at("event").at("id").as_string());
    }
    EXPECT_EQ(streamed, history);

    // After a SIGKILL and a restart, the board is the same.
    auto board = call("GET", "/v1/journeys/" + j, alice);
    ASSERT_EQ(board.status, 200);
    EXPECT_EQ(parse(board).at("progress").at("completed").as_int64(), 1);
    auto task_before = call("GET", path, alice).body;
    server_.reap();
    start();
    EXPECT_EQ(call("GET", "/v1/journeys/" + j, alice).body, board.body);
    EXPECT_EQ(call("GET", path, alice).body, task_before);
    EXPECT_EQ(parse(call("GET", "/v1/me/tasks", bob)).at("tasks").as_array().size(), 1u);
    // The retried key is still answered from its record.
    auto after_restart =
        call("POST", "/v1/spaces", alice, space_body, {json_type, "Idempotency-Key: space-1"});
    EXPECT_EQ(after_restart.body, space.body);
    EXPECT_EQ(call("DELETE", path, alice).status, 204);
    EXPECT_EQ(call("GET", path, alice).status, 404);
}

}  // namespace
}  // namespace migops
