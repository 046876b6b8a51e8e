// What the notifier sends, decided against state: who is on each rung of
// the escalation ladder, which messages an alert calls for and which are
// already recorded, the email's text and headers, the webhook's CloudEvent
// and its signature; and the notification settings, good and bad.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <fstream>

#include "api/config.h"
#include "api/notification.h"
#include "api/notifier.h"
#include "api/smtp.h"
#include "tests/unit/domain_fixture.h"
#include "tests/unit/temp_dir.h"

namespace migops::testing {
namespace {

using events::alert_kind;
constexpr std::int64_t day = 24 * 3'600'000'000LL;

class NotificationTest : public domain_fixture {
  protected:
    void SetUp() override { standard_space(); }

    std::vector<std::string> users(std::uint32_t level) {
        std::vector<std::string> out;
        for (const auto& a : api::audience(state, j(), node(task.value), level))
            out.push_back(a.user.value);
        return out;
    }
    // Raises overdue on the task (due an hour ago).
    std::string overdue() {
        given("admin", engine::set_due_date{task, timestamp{now.micros - 3'600'000'000LL}});
        given("migops", engine::review_alerts{task});
        return node(task.value).alerts.at(alert_kind::overdue).id;
    }
    std::vector<api::outgoing> due(const api::notify_content& c,
                                   std::optional<std::uint32_t> cap = 2) {
        return api::due_messages(state, j(), node(task.value), c, now,
                                 [cap](const std::string&) { return cap; });
    }
    static std::vector<std::string> ids(const std::vector<api::outgoing>& ms) {
        std::vector<std::string> out;
        for (const auto& m : ms) out.push_back(m.message_id);
        return out;
    }
    api::notify_content email_only() {
        api::notify_content c;
        c.email = true;
        c.public_url = "https://migops.example.com";
        c.from = "migops@example.com";
        c.book.default_domain = "example.com";
        return c;
    }
};

TEST_F(NotificationTest, EachRungHearsOnceFromTheAssigneeToTheSpaceAdmins) {
    given("admin", engine::assign_task{task, user_id{"contrib"}, team});
    EXPECT_EQ(users(0), (std::vector<std::string>{"contrib", "teammate"}));
    EXPECT_EQ(users(1), std::vector<std::string>{"jadmin"});
    EXPECT_EQ(users(2), std::vector<std::string>{"admin"}) << "the space's creator is its admin";
    const auto first = api::audience(state, j(), node(task.value), 0);
    EXPECT_EQ(first[0].why, "you are assigned to this task");
    EXPECT_EQ(first[1].why, "your team \"Database experts\" is assigned to this task");

    // A journey admin who is also the assignee is told once, on rung 0.
    given("admin", engine::assign_task{task, user_id{"jadmin"}, {}});
    EXPECT_EQ(users(0), std::vector<std::string>{"jadmin"});
    EXPECT_TRUE(users(1).empty());
    // Teams granted an admin role count with their members.
    given("admin",
          engine::grant_role{space_id{"s"}, journey, {}, team, events::role::journey_admin});
    EXPECT_EQ(users(1), std::vector<std::string>{"teammate"});
}

TEST_F(NotificationTest, AnUnassignedTaskGoesToTheFirstRungWithPeople) {
    EXPECT_EQ(users(0), std::vector<std::string>{"jadmin"});
    EXPECT_EQ(api::audience(state, j(), node(task.value), 0)[0].why,
              "the task has no assignee and you are an admin of the journey \"Wave 1\"");
    EXPECT_TRUE(users(1).empty()) << "told already";
    EXPECT_EQ(users(2), std::vector<std::string>{"admin"});
    given("admin", engine::revoke_role{space_id{"s"}, journey, user_id{"jadmin"}, {}});
    EXPECT_EQ(users(0), std::vector<std::string>{"admin"});
    EXPECT_TRUE(users(2).empty());
}

TEST_F(NotificationTest, AnAlertCallsForAnEmailPerPersonAndAPostPerWebhookPerRung) {
    given("admin", engine::assign_task{task, user_id{"contrib"}, {}});
    const auto alert = overdue();
    auto c = email_only();
    c.webhooks = {"https://hooks.example.com/a?token=secret", "http://127.0.0.1:9/b"};
    auto ms = due(c);
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].message_id, alert + "/0/email/contrib");
    EXPECT_EQ(ms[0].channel, "email");
    EXPECT_EQ(ms[0].recipient, "contrib");
    EXPECT_EQ(ms[0].address, "contrib@example.com");
    EXPECT_EQ(ms[1].message_id,
              alert + "/0/webhook/" + api::webhook_key("https://hooks.example.com/a?token=secret"));
    EXPECT_EQ(ms[1].recipient, "https://hooks.example.com/a") << "no query: it may hold a secret";
    EXPECT_EQ(ms[1].url, "https://hooks.example.com/a?token=secret");
    EXPECT_EQ(ms[2].recipient, "http://127.0.0.1:9/b");

    // What is recorded, sent or given up on, is not due again.
    given("migops", engine::record_notification{task, alert, 0, "email", "contrib",
                                                ms[0].message_id, true, "", 1});
    given("migops", engine::record_notification{task, alert, 0, "webhook", ms[1].recipient,
                                                ms[1].message_id, false, "refused", 11});
    EXPECT_EQ(ids(due(c)), std::vector<std::string>{ms[2].message_id});

    // A day later the alert is on rung 1: the journey admins hear of it;
    // only up to the level the caller knows durable.
    now.micros += day;
    given("migops", engine::review_alerts{task});
    ASSERT_EQ(node(task.value).alerts.at(alert_kind::overdue).level, 1u);
    auto escalated = ids(due(c));
    EXPECT_EQ(escalated.size(), 4u);
    EXPECT_NE(std::find(escalated.begin(), escalated.end(), alert + "/1/email/jadmin"),
              escalated.end());
    EXPECT_EQ(ids(due(c, 0)), std::vector<std::string>{ms[2].message_id});
    EXPECT_TRUE(due(c, std::nullopt).empty()) << "an alert not known durable is left out";
    EXPECT_TRUE(due(api::notify_content{}).empty()) << "no channel, no message";
}

TEST_F(NotificationTest, UsersWithoutAnAddressAreKeptWithNone) {
    given("admin", engine::assign_task{task, user_id{"contrib"}, team});
    overdue();
    auto c = email_only();
    c.book.default_domain.clear();
    c.book.addresses[user_id{"teammate"}] = "tm@db.example.org";
    auto ms = due(c);
    ASSERT_EQ(ms.size(), 2u);
    EXPECT_EQ(ms[0].recipient, "contrib");
    EXPECT_EQ(ms[0].address, "");
    EXPECT_EQ(ms[1].address, "tm@db.example.org");
    api::address_book book{{}, "example.com"};
    EXPECT_EQ(book.address_of(user_id{"bob"}), "bob@example.com");
    EXPECT_EQ(book.address_of(user_id{"auth0 bob"}), std::nullopt) << "not a local part";
}

TEST_F(NotificationTest, TheEmailSaysWhatWhereWhenWhyAndLinksTheTask) {
    given("admin", engine::assign_task{task, user_id{"contrib"}, {}});
    const auto alert = overdue();
    const auto m = due(email_only()).at(0);
    EXPECT_EQ(m.subject, "[migops] Overdue: Build the business case (Wave 1)");
    const auto text = api::email_text(m, "migops@example.com", timestamp{1'800'000'000'000'000});
    auto has = [&](const std::string& s) { return text.find(s) != std::string::npos; };
    EXPECT_TRUE(has("From: migops@example.com\r\n"));
    EXPECT_TRUE(has("To: contrib@example.com\r\n"));
    EXPECT_TRUE(has("Subject: [migops] Overdue: Build the business case (Wave 1)\r\n"));
    EXPECT_TRUE(has("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"));
    EXPECT_TRUE(has("Message-ID: <" + alert + "/0/email/contrib@example.com>\r\n")) << text;
    EXPECT_TRUE(has("Content-Transfer-Encoding: 7bit\r\n"));
    EXPECT_TRUE(has("Auto-Submitted: auto-generated\r\n"));
    EXPECT_TRUE(has("\r\n\r\nOverdue: task \"Build the business case\" in journey \"Wave 1\""));
    EXPECT_TRUE(has("Reason:    due "));
    EXPECT_TRUE(has("and not completed\r\n"));
    EXPECT_TRUE(has("Assignee:  contrib\r\n"));
    EXPECT_TRUE(has("Open the task: https://migops.example.com/v1/tasks/s.j1.n3\r\n"));
    EXPECT_TRUE(has("You receive this because you are assigned to this task.\r\n"));
    EXPECT_FALSE(has("\n\n")) << "every line ends in CRLF";

    // The escalation says so, to the journey admin.
    now.micros += day;
    given("migops", engine::review_alerts{task});
    for (const auto& e : due(email_only()))
        if (e.recipient == "jadmin") {
            EXPECT_EQ(e.subject,
                      "[migops] Escalated to the journey's admins: Overdue: Build the business "
                      "case (Wave 1)");
            EXPECT_NE(e.text.find("is still open, so it now goes to the journey's admins"),
                      std::string::npos);
        }
}

TEST_F(NotificationTest, NonAsciiTextIsEncodedAndHeadersStayOnOneLine) {
    api::outgoing m;
    m.message_id = "s.j1.n3/overdue/1/0/email/zoë smith";
    m.alert = "s.j1.n3/overdue/1";
    m.address = "z@example.com";
    m.subject = "Überprüfung der Datenbank\r\nBcc: evil@example.com";
    m.text = "Tâche \"Überprüfung\" = due\nnext line";
    const auto text = api::email_text(m, "migops@example.com", timestamp{0});
    EXPECT_EQ(text.find("\r\nBcc:"), std::string::npos) << "no header injection";
    EXPECT_NE(text.find("Subject: =?UTF-8?B?"), std::string::npos);
    EXPECT_NE(text.find("Message-ID: <s.j1.n3/overdue/1/0/email/zo%C3%AB%20smith@example.com>"),
              std::string::npos);
    EXPECT_NE(text.find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
    EXPECT_NE(text.find("T=C3=A2che \"=C3=9Cberpr=C3=BCfung\" =3D due\r\nnext line\r\n"),
              std::string::npos)
        << text;
    for (std::size_t at = 0, next; (next = text.find("\r\n", at)) != std::string::npos;
         at = next + 2)
        EXPECT_LE(next - at, 76u) << "encoded lines are short";
}

TEST_F(NotificationTest, TheWebhookGetsACloudEventIdentifiedByTheMessageId) {
    given("admin", engine::assign_task{task, user_id{"contrib"}, {}});
    const auto alert = overdue();
    api::notify_content c;
    c.public_url = "https://migops.example.com";
    c.webhooks = {"https://hooks.example.com/in"};
    const auto ms = due(c);
    ASSERT_EQ(ms.size(), 1u);
    const auto ce = boost::json::parse(ms[0].payload).as_object();
    EXPECT_EQ(ce.at("specversion"), "1.0");
    EXPECT_EQ(std::string(ce.at("id").as_string()), ms[0].message_id);
    EXPECT_EQ(ce.at("type"), "io.migops.alert.raised.v1");
    EXPECT_EQ(ce.at("subject"), "s.j1.n3");
    EXPECT_EQ(ce.at("source"), "https://migops.example.com/v1/journeys/s.j1");
    const auto& data = ce.at("data").as_object();
    EXPECT_EQ(std::string(data.at("alert").as_string()), alert);
    EXPECT_EQ(data.at("kind"), "overdue");
    EXPECT_EQ(data.at("level"), 0);
    EXPECT_EQ(data.at("task").at("title"), "Build the business case");
    EXPECT_EQ(data.at("task").at("assignee").at("user"), "contrib");
    EXPECT_EQ(data.at("task").at("link"), "https://migops.example.com/v1/tasks/s.j1.n3");
    EXPECT_EQ(data.at("audience"), boost::json::array{"contrib"});
    EXPECT_EQ(ms[0].payload, due(c)[0].payload) << "the same message, byte for byte";
}

TEST(Notification, SignatureIsHmacSha256OfTheBody) {
    // RFC 4231, test case 2.
    EXPECT_EQ(api::signature("Jefe", "what do ya want for nothing?"),
              "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_NE(api::signature("Jefe", "what do ya want for nothing!"),
              api::signature("Jefe", "what do ya want for nothing?"));
}

TEST(Notification, MessageIdsAndRecordedUrlsAreStable) {
    EXPECT_EQ(api::message_id("s.j1.n3/overdue/1", 2, "email", "bob"),
              "s.j1.n3/overdue/1/2/email/bob");
    EXPECT_EQ(api::webhook_key("https://a.example/x"), api::webhook_key("https://a.example/x"));
    EXPECT_EQ(api::webhook_key("https://a.example/x").size(), 16u);
    EXPECT_NE(api::webhook_key("https://a.example/x"), api::webhook_key("https://a.example/y"));
    EXPECT_EQ(api::redacted_url("https://user:pw@hooks.example.com:8443/a/b?token=x#f"),
              "https://hooks.example.com:8443/a/b");
    EXPECT_EQ(api::redacted_url("http://h.example?x=1"), "http://h.example");
}

TEST(Notification, RecipientsFileNamesTheBadLine) {
    auto good = api::parse_recipients(
        "# who gets what\nbob = bob@example.com\n\n"
        "auth0|42=ann@example.org\r\n",
        "people.txt");
    ASSERT_TRUE(good) << good.error().message;
    EXPECT_EQ(good.value().at(user_id{"bob"}), "bob@example.com");
    EXPECT_EQ(good.value().at(user_id{"auth0|42"}), "ann@example.org");
    auto bad = api::parse_recipients("bob=bob@example.com\ncarol carol@example.com\n", "p.txt");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "p.txt line 2: expected user=address");
    auto not_address = api::parse_recipients("bob=bob at example.com", "p.txt");
    ASSERT_FALSE(not_address);
    EXPECT_NE(not_address.error().message.find("line 1"), std::string::npos);
    EXPECT_FALSE(api::parse_recipients("bob=b@x.org\nbob=c@x.org", "p.txt"));
    EXPECT_TRUE(api::valid_address("a.b+c@mail.example.com"));
    for (const char* bad_address : {"a", "@x.org", "a@", "a b@x.org", "<a@x.org>", "a@x..org"})
        EXPECT_FALSE(api::valid_address(bad_address)) << bad_address;
}

TEST(NotificationSettings, EachValueIsCheckedWhenSet) {
    api::config c;
    EXPECT_TRUE(api::set_value(c, "smtp_url", "smtp://127.0.0.1:2525"));
    EXPECT_TRUE(api::set_value(c, "smtp_url", "smtps://mail.example.com"));
    auto scheme = api::set_value(c, "smtp_url", "http://mail.example.com");
    ASSERT_FALSE(scheme);
    EXPECT_EQ(scheme.error().message,
              "smtp_url: \"http://mail.example.com\" must start with smtp:// or smtps://");
    EXPECT_FALSE(api::set_value(c, "smtp_url", "mail.example.com:25"));
    EXPECT_FALSE(api::set_value(c, "smtp_url", "smtp://u:p@mail.example.com"));
    EXPECT_FALSE(api::set_value(c, "smtp_url", "smtp://mail.example.com/path"));
    auto tls = api::set_value(c, "smtp_tls", "ssl");
    ASSERT_FALSE(tls);
    EXPECT_EQ(tls.error().message, "smtp_tls must be one of none, starttls, tls, not \"ssl\"");
    EXPECT_TRUE(api::set_value(c, "webhook_urls", "https://a.example/x, http://127.0.0.1:81/y"));
    EXPECT_EQ(c.notify.webhook_urls,
              (std::vector<std::string>{"https://a.example/x", "http://127.0.0.1:81/y"}));
    EXPECT_FALSE(api::set_value(c, "webhook_urls", "https://a.example/x,ftp://b.example/"));
    EXPECT_FALSE(api::set_value(c, "notify_retries", "-1"));
    EXPECT_TRUE(api::set_value(c, "notify_retries", "0"));
    EXPECT_FALSE(api::set_value(c, "public_url", "migops.example.com"));
    EXPECT_FALSE(api::set_value(c, "smtp_colour", "blue")) << "unknown settings are refused";
}

api::smtp_options smtp_to(const std::string& url) {
    api::smtp_options o;
    o.url = url;
    o.from = "m@example.com";
    return o;
}

TEST(NotificationSettings, HowTheyFitTogetherIsCheckedAtStart) {
    testing_support::temp_dir dir;
    auto resolve = [](const api::config& c) {
        return api::resolve_notifier(c, "http://127.0.0.1:8080");
    };
    api::config none;
    auto off = resolve(none);
    ASSERT_TRUE(off);
    EXPECT_FALSE(off.value().has_value()) << "nothing configured: no notifier";

    api::config c;
    c.notify.smtp_url = "smtp://127.0.0.1:2525";
    auto no_from = resolve(c);
    ASSERT_FALSE(no_from);
    EXPECT_NE(no_from.error().message.find("smtp_from is required"), std::string::npos);
    c.notify.smtp_from = "migops@example.com";
    c.notify.smtp_tls = "tls";
    auto mismatch = resolve(c);
    ASSERT_FALSE(mismatch);
    EXPECT_NE(mismatch.error().message.find("needs an smtps:// smtp_url"), std::string::npos);
    c.notify.smtp_tls = "none";
    c.notify.smtp_recipients = (dir.path() / "missing.txt").string();
    auto missing = resolve(c);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("smtp_recipients: cannot read"), std::string::npos);
    std::ofstream(dir.path() / "people.txt") << "bob=bob@example.com\n";
    c.notify.smtp_recipients = (dir.path() / "people.txt").string();
    c.notify.public_url = "https://migops.example.com/";
    auto ok = resolve(c);
    ASSERT_TRUE(ok) << ok.error().message;
    ASSERT_TRUE(ok.value().has_value());
    EXPECT_TRUE(ok.value()->options.content.email);
    EXPECT_EQ(ok.value()->options.content.public_url, "https://migops.example.com");
    EXPECT_EQ(ok.value()->options.content.book.addresses.at(user_id{"bob"}), "bob@example.com");

    api::config hooks;
    hooks.notify.webhook_urls = {"https://a.example/x"};
    auto unsigned_hooks = resolve(hooks);
    ASSERT_FALSE(unsigned_hooks);
    EXPECT_NE(unsigned_hooks.error().message.find("webhook_urls needs webhook_secret"),
              std::string::npos);
    hooks.notify.webhook_secret = "s3cret";
    auto signed_hooks = resolve(hooks);
    ASSERT_TRUE(signed_hooks);
    EXPECT_EQ(signed_hooks.value()->options.content.public_url, "http://127.0.0.1:8080");
    EXPECT_FALSE(signed_hooks.value()->options.content.email);

    auto implicit = api::check_smtp(smtp_to("smtps://mail.example.com"));
    ASSERT_TRUE(implicit);
    EXPECT_EQ(implicit.value().tls, "tls");
    auto starttls = api::check_smtp(smtp_to("smtp://mail.example.com"));
    ASSERT_TRUE(starttls);
    EXPECT_EQ(starttls.value().tls, "starttls") << "TLS is required unless turned off";
}

}  // namespace
}  // namespace migops::testing
