// Alert notifications end to end: the real binary, a real SMTP server
// (ops/smtp-server, aiosmtpd, started per test on a free port) and a real
// HTTP receiver. A task due a few seconds ahead raises overdue: an email
// arrives and the webhook receives a signed CloudEvent, both recorded as
// notification.sent; blocking a task emails at once; after SIGKILL and a
// restart no recorded message is sent again; with the SMTP server down
// delivery is retried and succeeds when it is back; failures that exhaust
// the retries are recorded and shown with the journey's alerts; bad
// settings stop the start with a message naming them.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>

#include "api/notification.h"
#include "tests/integration/http_receiver.h"
#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;
using boost::json::object;

const std::string json_type = "Content-Type: application/json";
const std::string secret = "webhook-secret-for-tests";

// One message as the SMTP server kept it.
struct mail {
    std::string raw;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const {
        for (const auto& [n, v] : headers)
            if (n == name) return v;
        return {};
    }
};

mail parse_mail(const std::string& raw) {
    mail m;
    m.raw = raw;
    const auto split = raw.find("\r\n\r\n");
    m.body = raw.substr(split + 4);
    std::size_t at = 0;
    while (at < split) {
        const auto end = raw.find("\r\n", at);
        const std::string line = raw.substr(at, end - at);
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !m.headers.empty())
            m.headers.back().second += line;  // folded
        else if (const auto colon = line.find(':'); colon != std::string::npos)
            m.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
        at = end + 2;
    }
    return m;
}

std::string rfc3339_in(std::chrono::seconds ahead) {
    const std::time_t t = std::time(nullptr) + ahead.count();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

class NotifyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        smtp_port_ = free_port();
        start_smtp();
        std::ofstream(dir_.path() / "recipients.txt") << "# who reads what\nbob=bob@example.org\n";
    }
    void TearDown() override {
        stop_server();
        stop_smtp();
    }

    void smtp(const std::vector<std::string>& args) {
        std::vector<std::string> all = args;
        for (const auto& a : std::vector<std::string>{"--port", std::to_string(smtp_port_), "--dir",
                                                      (dir_.path() / "smtp").string()})
            all.push_back(a);
        auto c = start_process(MIGOPS_SMTP_SERVER, all,
                               dir_.path() / ("smtp-" + std::to_string(++smtp_calls_) + ".log"));
        auto rc = wait_exit(c, 60s);
        ASSERT_EQ(rc, 0) << c.stderr_text();
    }
    void start_smtp(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{"start", "--parent", std::to_string(::getpid())};
        args.insert(args.end(), extra.begin(), extra.end());
        smtp(args);
    }
    void stop_smtp() { smtp({"stop"}); }

    std::vector<std::string> notify_flags() {
        return {"--smtp-url",
                "smtp://127.0.0.1:" + std::to_string(smtp_port_),
                "--smtp-tls",
                "none",
                "--smtp-from",
                "migops@ops.example.com",
                "--smtp-recipients",
                (dir_.path() / "recipients.txt").string(),
                "--webhook-urls",
                "http://127.0.0.1:" + std::to_string(hooks_.port()) + "/in",
                "--webhook-secret",
                secret,
                "--public-url",
                "https://migops.example.com/",
                "--notify-backoff-ms",
                "100",
                "--notify-backoff-max-ms",
                "400",
                "--notify-retries",
                "1000"};
    }
    void start_server(std::vector<std::string> flags = {}) {
        if (flags.empty()) flags = notify_flags();
        port_ = free_port();
        std::vector<std::string> args{"serve", "--data-dir", data(), "--listen",
                                      "127.0.0.1:" + std::to_string(port_)};
        args.insert(args.end(), flags.begin(), flags.end());
        server_ = start_process(MIGOPS_BINARY, args,
                                dir_.path() / ("serve-" + std::to_string(++starts_) + ".log"));
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void stop_server() {
        if (server_.pid > 0) {
            ::kill(server_.pid, SIGTERM);
            EXPECT_EQ(wait_exit(server_, 25s), 0);
        }
    }
    std::string data() const { return (dir_.path() / "data").string(); }
    std::string token(const std::string& user) {
        const auto t = cli_token(MIGOPS_BINARY, user, data(), dir_.path() / ("token-" + user));
        EXPECT_FALSE(t.empty());
        return "Authorization: Bearer " + t;
    }
    http_reply call(const std::string& method, const std::string& path,
                    const std::string& body = "") {
        std::vector<std::string> headers{alice_};
        if (!body.empty()) headers.push_back(json_type);
        return http_call(port_, method, path, headers, body);
    }
    object ok(const http_reply& r) {
        EXPECT_GE(r.status, 200) << r.body;
        EXPECT_LT(r.status, 300) << r.body;
        return boost::json::parse(r.body).as_object();
    }

    // A space of alice's with bob as a contributor, a journey from the quick
    // start template without due-soon alerts; returns the ids of the first
    // module's tasks.
    std::vector<std::string> journey() {
        alice_ = token("alice");
        const auto space = ok(call("POST", "/v1/spaces", R"({"name":"DC exit"})"));
        space_ = std::string(space.at("id").as_string());
        ok(call("PUT", "/v1/spaces/" + space_ + "/members/bob", R"({"role":"space_contributor"})"));
        const auto j = ok(call("POST", "/v1/spaces/" + space_ + "/journeys",
                               R"({"name":"Wave 1","template_id":"migops-quick-start"})"));
        journey_ = std::string(j.at("id").as_string());
        ok(call("PUT", "/v1/journeys/" + journey_ + "/alert-rules",
                R"({"due_soon_minutes":0,"blocked_too_long_minutes":0,)"
                R"("escalate_to_journey_admins_minutes":0,"escalate_to_space_admins_minutes":0})"));
        std::vector<std::string> tasks;
        for (const auto& t : j.at("phases").at(0).at("modules").at(0).at("tasks").as_array())
            tasks.emplace_back(t.at("id").as_string());
        return tasks;
    }
    void block(const std::string& task, const std::string& reason) {
        ok(call("POST", "/v1/tasks/" + task + "/status", R"({"status":"in_progress"})"));
        ok(call("POST", "/v1/tasks/" + task + "/status",
                R"({"status":"blocked","reason":")" + reason + R"("})"));
    }
    // A task of a new journey assigned to bob, then blocked: an alert that
    // mails bob at once. Returns the task.
    std::string block_bobs_task(const std::string& reason) {
        const auto task = journey().at(0);
        ok(call("PUT", "/v1/tasks/" + task + "/assignee", R"({"user":"bob"})"));
        block(task, reason);
        return task;
    }

    std::vector<mail> mailbox() const {
        std::vector<std::filesystem::path> files;
        const auto d = dir_.path() / "smtp" / "messages";
        if (std::filesystem::exists(d))
            for (const auto& e : std::filesystem::directory_iterator(d))
                if (e.path().filename().string().front() != '.') files.push_back(e.path());
        std::sort(files.begin(), files.end());
        std::vector<mail> out;
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            out.push_back(parse_mail(ss.str()));
        }
        return out;
    }
    // Waits for a mail whose subject contains `subject`.
    std::optional<mail> wait_mail(const std::string& subject, std::chrono::seconds timeout = 60s) {
        std::optional<mail> found;
        wait_until(
            [&] {
                for (auto& m : mailbox())
                    if (m.header("Subject").find(subject) != std::string::npos) {
                        found = std::move(m);
                        return true;
                    }
                return false;
            },
            timeout);
        return found;
    }
    std::optional<http_receiver::request> wait_post(const std::string& kind) {
        std::optional<http_receiver::request> found;
        wait_until(
            [&] {
                for (auto& r : hooks_.requests())
                    if (boost::json::parse(r.body).at("data").at("kind") == kind.c_str()) {
                        found = std::move(r);
                        return true;
                    }
                return false;
            },
            60s);
        return found;
    }
    // The message ids recorded for the task with the event type.
    std::vector<std::string> recorded(const std::string& task, const std::string& type) {
        auto r = call("GET", "/v1/events?task=" + task + "&type=" + type);
        std::vector<std::string> out;
        if (r.status != 200) return out;
        const auto page = boost::json::parse(r.body);
        for (const auto& e : page.at("events").as_array())
            out.emplace_back(e.at("data").at("message_id").as_string());
        return out;
    }
    bool recorded_eventually(const std::string& task, const std::string& type,
                             const std::string& id) {
        return wait_until(
            [&] {
                auto ids = recorded(task, type);
                return std::find(ids.begin(), ids.end(), id) != ids.end();
            },
            60s);
    }

    temp_dir dir_;
    http_receiver hooks_;
    std::uint16_t smtp_port_ = 0;
    int smtp_calls_ = 0;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    child_process server_;
    std::string alice_;
    std::string space_;
    std::string journey_;
};

TEST_F(NotifyTest, AnOverdueTaskIsMailedAndPostedSignedAndBothAreRecorded) {
    start_server();
    const auto tasks = journey();
    const auto& task = tasks.at(0);
    ok(call("PUT", "/v1/tasks/" + task + "/assignee", R"({"user":"bob"})"));
    ok(call("PATCH", "/v1/tasks/" + task, R"({"due":")" + rfc3339_in(3s) + R"("})"));

    auto m = wait_mail("Overdue");
    ASSERT_TRUE(m) << server_.stderr_text();
    const std::string alert = task + "/overdue/1";
    EXPECT_EQ(m->header("X-Envelope-To"), "bob@example.org");
    EXPECT_EQ(m->header("From"), "migops@ops.example.com");
    EXPECT_EQ(m->header("To"), "bob@example.org");
    EXPECT_EQ(m->header("Subject"), "[migops] Overdue: Invite your team (Wave 1)");
    EXPECT_EQ(m->header("Message-ID"), "<" + alert + "/0/email/bob@ops.example.com>");
    EXPECT_EQ(m->header("Auto-Submitted"), "auto-generated");
    EXPECT_FALSE(m->header("Date").empty());
    for (const std::string& line :
         {std::string("Overdue: task \"Invite your team\" in journey \"Wave 1\" (DC exit)."),
          std::string("Assignee:  bob"), std::string("and not completed"),
          "Open the task: https://migops.example.com/v1/tasks/" + task,
          std::string("You receive this because you are assigned to this task.")})
        EXPECT_NE(m->body.find(line), std::string::npos) << line << "\n" << m->body;

    auto post = wait_post("overdue");
    ASSERT_TRUE(post) << server_.stderr_text();
    EXPECT_EQ(post->method, "POST");
    EXPECT_EQ(post->target, "/in");
    EXPECT_EQ(post->header("Content-Type"), "application/cloudevents+json; charset=utf-8");
    EXPECT_EQ(post->header("X-Migops-Signature"), api::signature(secret, post->body));
    EXPECT_NE(post->header("X-Migops-Signature"), api::signature("another key", post->body));
    const auto ce = boost::json::parse(post->body).as_object();
    const std::string id(ce.at("id").as_string());
    EXPECT_EQ(post->header("X-Migops-Message-Id"), id);
    EXPECT_EQ(id.rfind(alert + "/0/webhook/", 0), 0u) << id;
    EXPECT_EQ(ce.at("type"), "io.migops.alert.raised.v1");
    EXPECT_EQ(ce.at("subject").as_string(), task.c_str());
    EXPECT_EQ(ce.at("data").at("task").at("title"), "Invite your team");

    EXPECT_TRUE(recorded_eventually(task, "notification.sent", alert + "/0/email/bob"));
    EXPECT_TRUE(recorded_eventually(task, "notification.sent", id));
}

TEST_F(NotifyTest, BlockingATaskMailsAtOnce) {
    start_server();
    const auto task = journey().at(1);
    ok(call("PUT", "/v1/tasks/" + task + "/assignee", R"({"user":"bob"})"));
    block(task, "no firewall change window");
    auto m = wait_mail("Blocked");
    ASSERT_TRUE(m) << server_.stderr_text();
    EXPECT_EQ(m->header("To"), "bob@example.org");
    EXPECT_NE(m->body.find("Reason:    blocked: no firewall change window"), std::string::npos)
        << m->body;
    EXPECT_NE(m->body.find("Status:    blocked (no firewall change window)"), std::string::npos);
}

TEST_F(NotifyTest, AKillAndRestartSendsNothingRecordedAgain) {
    start_server();
    const auto tasks = journey();
    ok(call("PUT", "/v1/tasks/" + tasks.at(0) + "/assignee", R"({"user":"bob"})"));
    block(tasks.at(0), "waiting for the vendor");
    const std::string first = tasks.at(0) + "/blocked/1/0/email/bob";
    ASSERT_TRUE(wait_mail("Blocked: Invite your team"));
    ASSERT_TRUE(recorded_eventually(tasks.at(0), "notification.sent", first));

    kill_process(server_);
    start_server();
    // A later alert's mail is queued after anything the restart found
    // unsent, so once it is here, a resend would be here too.
    ok(call("PUT", "/v1/tasks/" + tasks.at(1) + "/assignee", R"({"user":"bob"})"));
    block(tasks.at(1), "no budget");
    ASSERT_TRUE(wait_mail("Blocked: Upload a plan")) << server_.stderr_text();
    std::size_t copies = 0;
    for (const auto& m : mailbox())
        if (m.header("Message-ID") == "<" + first + "@ops.example.com>") ++copies;
    EXPECT_EQ(copies, 1u) << "the recorded email was sent again";
}

TEST_F(NotifyTest, WithTheSmtpServerDownDeliveryIsRetriedUntilItIsBack) {
    start_server();
    const auto task = journey().at(0);
    ok(call("PUT", "/v1/tasks/" + task + "/assignee", R"({"user":"bob"})"));
    stop_smtp();
    block(task, "disk full");
    const std::string id = task + "/blocked/1/0/email/bob";
    ASSERT_TRUE(wait_until(
        [&] { return server_.stderr_text().find(id + " failed (attempt 2)") != std::string::npos; },
        60s))
        << server_.stderr_text();
    EXPECT_TRUE(mailbox().empty());
    start_smtp();
    auto m = wait_mail("Blocked");
    ASSERT_TRUE(m) << server_.stderr_text();
    EXPECT_EQ(m->header("Message-ID"), "<" + id + "@ops.example.com>");
    EXPECT_TRUE(recorded_eventually(task, "notification.sent", id));
}

TEST_F(NotifyTest, WithTheWebhookReceiverGoneDeliveryIsRetriedUntilItIsBack) {
    start_server();
    const auto task = journey().at(0);
    ok(call("PUT", "/v1/tasks/" + task + "/assignee", R"({"user":"bob"})"));
    hooks_.go_away();
    block(task, "no network");
    const std::string prefix = task + "/blocked/1/0/webhook/";
    ASSERT_TRUE(wait_until(
        [&] {
            const auto log = server_.stderr_text();
            const auto at = log.find(prefix);
            return at != std::string::npos &&
                   log.find(" failed (attempt 2)", at) != std::string::npos;
        },
        60s))
        << server_.stderr_text();
    EXPECT_TRUE(hooks_.requests().empty());
    hooks_.come_back();
    auto posted = wait_post("blocked");
    ASSERT_TRUE(posted) << server_.stderr_text();
    std::string sent;
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& id : recorded(task, "notification.sent"))
                if (id.rfind(prefix, 0) == 0) sent = id;
            return !sent.empty();
        },
        60s))
        << server_.stderr_text();
    EXPECT_TRUE(recorded(task, "notification.failed").empty()) << "retries are not failures";
    std::size_t copies = 0;
    for (const auto& r : hooks_.requests())
        if (boost::json::parse(r.body).at("data").at("kind") == "blocked") ++copies;
    EXPECT_EQ(copies, 1u) << "one delivery once the receiver answers";
}

TEST_F(NotifyTest, FailuresThatExhaustTheRetriesAreRecordedAndShown) {
    hooks_.answer(503);
    auto flags = notify_flags();
    flags.back() = "2";  // --notify-retries
    start_server(flags);
    const auto task = journey().at(0);
    ok(call("PUT", "/v1/tasks/" + task + "/assignee", R"({"user":"alice"})"));
    block(task, "no access");
    const std::string alert = task + "/blocked/1";
    const std::string email = alert + "/0/email/alice";
    ASSERT_TRUE(recorded_eventually(task, "notification.failed", email)) << server_.stderr_text();
    std::string webhook;
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& id : recorded(task, "notification.failed"))
                if (id.find("/webhook/") != std::string::npos) webhook = id;
            return !webhook.empty();
        },
        60s));
    EXPECT_EQ(hooks_.requests().size(), 3u) << "the first attempt and 2 retries";

    const auto alerts = ok(call("GET", "/v1/journeys/" + journey_ + "/alerts"));
    std::map<std::string, std::string> failed;
    for (const auto& f : alerts.at("failed_notifications").as_array()) {
        EXPECT_EQ(f.at("task").as_string(), task.c_str());
        failed[std::string(f.at("message_id").as_string())] = f.at("reason").as_string();
    }
    EXPECT_EQ(failed.at(email),
              "no email address for user alice: list it in smtp_recipients or set "
              "smtp_default_domain");
    EXPECT_EQ(failed.at(webhook), "webhook: the receiver answered 503");
    EXPECT_EQ(mailbox().size(), 0u);
}

TEST_F(NotifyTest, MailIsSentWithCredentialsWhenTheServerAsksForThem) {
    stop_smtp();
    start_smtp({"--user", "migops", "--password", "pa55word"});
    auto flags = notify_flags();
    flags.insert(flags.end(), {"--smtp-user", "migops", "--smtp-password", "pa55word"});
    start_server(flags);
    block_bobs_task("no access");
    ASSERT_TRUE(wait_mail("Blocked")) << server_.stderr_text();
}

// A self-signed certificate for 127.0.0.1, made with the openssl command.
std::pair<std::string, std::string> make_certificate(const std::filesystem::path& dir) {
    const auto cert = (dir / "smtp-cert.pem").string();
    const auto key = (dir / "smtp-key.pem").string();
    auto c = start_process(
        "/usr/bin/openssl",
        {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
         "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
        dir / "openssl.log");
    EXPECT_EQ(wait_exit(c, 60s), 0) << c.stderr_text();
    return {cert, key};
}

// The flags with one setting's value replaced, or added.
std::vector<std::string> with_flag(std::vector<std::string> flags, const std::string& name,
                                   const std::string& value) {
    auto it = std::find(flags.begin(), flags.end(), name);
    if (it == flags.end()) {
        flags.insert(flags.end(), {name, value});
    } else {
        *std::next(it) = value;
    }
    return flags;
}

TEST_F(NotifyTest, MailGoesOverStartTlsWithCredentialsToATrustedServer) {
    const auto [cert, key] = make_certificate(dir_.path());
    stop_smtp();
    start_smtp({"--tls-cert", cert, "--tls-key", key, "--user", "migops", "--password", "pa55"});
    auto flags = with_flag(notify_flags(), "--smtp-tls", "starttls");
    flags.insert(flags.end(),
                 {"--smtp-ca-file", cert, "--smtp-user", "migops", "--smtp-password", "pa55"});
    start_server(flags);
    block_bobs_task("no access");
    auto m = wait_mail("Blocked");
    ASSERT_TRUE(m) << server_.stderr_text();
    EXPECT_EQ(m->header("To"), "bob@example.org");
}

TEST_F(NotifyTest, MailGoesOverTlsFromTheFirstByte) {
    const auto [cert, key] = make_certificate(dir_.path());
    stop_smtp();
    start_smtp({"--tls-cert", cert, "--tls-key", key, "--implicit-tls"});
    auto flags =
        with_flag(notify_flags(), "--smtp-url", "smtps://127.0.0.1:" + std::to_string(smtp_port_));
    flags = with_flag(flags, "--smtp-tls", "tls");
    flags.insert(flags.end(), {"--smtp-ca-file", cert});
    start_server(flags);
    block_bobs_task("no access");
    ASSERT_TRUE(wait_mail("Blocked")) << server_.stderr_text();
}

TEST_F(NotifyTest, NoMailGoesToAnUntrustedServerOrInTheClearWhenTlsIsRequired) {
    const auto [cert, key] = make_certificate(dir_.path());
    stop_smtp();
    start_smtp({"--tls-cert", cert, "--tls-key", key});
    // The server's certificate is not among the system's: refused. And a
    // server that requires STARTTLS refuses mail sent in the clear (530).
    for (const auto* tls : {"starttls", "none"}) {
        auto flags = with_flag(notify_flags(), "--smtp-tls", tls);
        flags = with_flag(flags, "--notify-retries", "0");
        start_server(flags);
        const auto task = block_bobs_task(std::string("no access ") + tls);
        const std::string id = task + "/blocked/1/0/email/bob";
        ASSERT_TRUE(recorded_eventually(task, "notification.failed", id)) << server_.stderr_text();
        EXPECT_TRUE(mailbox().empty()) << tls;
        // The board shows the failure a moment after the history does.
        std::string reason;
        wait_until(
            [&] {
                const auto alerts = ok(call("GET", "/v1/journeys/" + journey_ + "/alerts"));
                for (const auto& f : alerts.at("failed_notifications").as_array())
                    if (f.at("message_id").as_string() == id) reason = f.at("reason").as_string();
                return !reason.empty();
            },
            10s);
        EXPECT_NE(reason.find(std::string(tls) == "none" ? "530" : "certificate"),
                  std::string::npos)
            << reason;
        stop_server();
        server_ = {};
        std::filesystem::remove_all(data());
    }
}

TEST_F(NotifyTest, BadSettingsStopTheStartNamingThem) {
    auto refused = [&](std::vector<std::string> flags, int code, const std::string& says) {
        std::vector<std::string> args{"serve", "--data-dir", data(), "--listen", "127.0.0.1:0"};
        args.insert(args.end(), flags.begin(), flags.end());
        auto c = start_process(MIGOPS_BINARY, args,
                               dir_.path() / ("refused-" + std::to_string(++starts_) + ".log"));
        EXPECT_EQ(wait_exit(c, 30s), code) << c.stderr_text();
        EXPECT_NE(c.stderr_text().find(says), std::string::npos) << c.stderr_text();
    };
    refused({"--smtp-url", "mail.example.com:25"}, 2,
            "--smtp-url: smtp_url: \"mail.example.com:25\"");
    refused({"--smtp-url", "http://mail.example.com"}, 2, "must start with smtp:// or smtps://");
    refused({"--smtp-tls", "ssl"}, 2, "smtp_tls must be one of none, starttls, tls, not \"ssl\"");
    refused({"--smtp-url", "smtps://mail.example.com", "--smtp-tls", "starttls", "--smtp-from",
             "m@example.com"},
            1, "smtp_tls must be tls, not starttls");
    refused({"--smtp-url", "smtp://mail.example.com"}, 1, "smtp_from is required with smtp_url");
    const std::vector<std::string> mail{"--smtp-url", "smtp://127.0.0.1:25", "--smtp-from",
                                        "migops@ops.example.com"};
    auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), mail.begin(), mail.end());
        return more;
    };
    refused(with({"--smtp-ca-file", "/nonexistent/ca.pem"}), 1,
            "smtp_ca_file: /nonexistent/ca.pem is not a readable PEM file");
    refused(with({"--smtp-ca-file", (dir_.path() / "recipients.txt").string()}), 1,
            "is not a readable PEM file");
    refused(with({"--smtp-tls", "none", "--smtp-ca-file", "/nonexistent/ca.pem"}), 1,
            "smtp_ca_file is set but smtp_tls is none");
    refused({"--webhook-urls", "https://hooks.example.com/x"}, 1,
            "webhook_urls needs webhook_secret");
    refused({"--webhook-urls", "ftp://hooks.example.com/x"}, 2,
            "is not an http:// or https:// URL");
    refused({"--smtp-url", "smtp://mail.example.com", "--smtp-from", "m@example.com",
             "--smtp-recipients", (dir_.path() / "missing.txt").string()},
            1, "smtp_recipients: cannot read");
}

}  // namespace
}  // namespace migops
