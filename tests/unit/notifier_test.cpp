// The notifier against a real processor on RocksDB, with scripted
// transports: an alert raised is mailed and recorded once; failures are
// retried with backoff, then recorded as failed with the reason; a user
// without an address fails at once; what was left unsent goes out on the
// next start and what was recorded never does; escalations reach the
// journey admins; webhooks are signed.

#include <gtest/gtest.h>

#include <deque>
#include <future>
#include <mutex>
#include <tuple>

#include <boost/json/parse.hpp>

#include "api/notifier.h"
#include "engine/partition_processor.h"
#include "engine/template_catalog.h"
#include "events/rocks_log.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops::api {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t hour = 3'600'000'000;

// Answers each call with the next scripted outcome, then delivers.
template <class Interface>
class scripted : public Interface {
  public:
    struct call {
        std::string to;  // address or URL
        std::string body;
        webhook_transport::headers headers;
    };
    void cancel() override {}
    void fail_next(delivery_outcome o) {
        std::lock_guard lock(mutex_);
        script_.push_back(std::move(o));
    }
    std::vector<call> delivered() const {
        std::lock_guard lock(mutex_);
        return delivered_;
    }
    std::size_t calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

  protected:
    delivery_outcome answer(call c) {
        std::lock_guard lock(mutex_);
        ++calls_;
        if (!script_.empty()) {
            auto o = script_.front();
            script_.pop_front();
            return o;
        }
        delivered_.push_back(std::move(c));
        return {true, false, ""};
    }

  private:
    mutable std::mutex mutex_;
    std::deque<delivery_outcome> script_;
    std::vector<call> delivered_;
    std::size_t calls_ = 0;
};

class fake_mail final : public scripted<mail_transport> {
  public:
    delivery_outcome send(const std::string& to, const std::string& message) override {
        return answer({to, message, {}});
    }
};

class fake_webhooks final : public scripted<webhook_transport> {
  public:
    delivery_outcome post(const std::string& url, const headers& h,
                          const std::string& body) override {
        return answer({url, body, h});
    }
};

class NotifierTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::tie(store_, log_) = testing_support::open_log_store(dir_.path(), 2);
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        run(engine::create_space{space_id{"acme"}, "Acme", ""});
        auto templates = engine::builtin_templates();
        const auto& t = templates.value().front();
        auto created = run(engine::create_journey{space_id{"acme"}, "Move", "", std::nullopt, t,
                                                  engine::template_hash(t)});
        journey_ = std::get<events::journey_created>(created.at(0).data).journey;
        task_ = node_id{journey_.value + ".n3"};
        for (const char* u : {"bob", "carol"})
            run(engine::grant_role{
                space_id{"acme"}, journey_, user_id{u}, {}, events::role::journey_contributor});
        run(engine::grant_role{
            space_id{"acme"}, journey_, user_id{"jane"}, {}, events::role::journey_admin});
        run(engine::assign_task{task_, user_id{"bob"}, {}});
        options_.content.email = true;
        options_.content.public_url = "https://migops.example.com";
        options_.content.from = "migops@example.com";
        options_.content.book.default_domain = "example.com";
        options_.retries = 3;
        options_.backoff = 1ms;
        options_.backoff_max = 4ms;
        options_.webhook_secret = "s3cret";
    }
    void TearDown() override {
        if (notifier_) notifier_->stop();
        processor_->stop();
    }

    std::vector<events::envelope> run(engine::command c, const std::string& actor = "admin") {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit({std::move(c), user_id{actor}, clock_.now(), ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        return r ? r.value() : std::vector<events::envelope>{};
    }
    // Overdue on the task, raised by a review as the scheduler does.
    std::string raise_overdue() {
        run(engine::set_due_date{task_, timestamp{clock_.now().micros - hour}});
        auto raised = run(engine::review_alerts{task_}, "migops");
        return std::get<events::alert_raised>(raised.at(0).data).alert;
    }
    // A new notifier (a restart) with fresh transports.
    void start(bool mail = true, bool webhooks = false) {
        if (notifier_) notifier_->stop();
        auto m = std::make_unique<fake_mail>();
        auto w = std::make_unique<fake_webhooks>();
        mail_ = m.get();
        webhooks_ = w.get();
        auto o = options_;
        if (webhooks) o.content.webhooks = {"https://hooks.example.com/in?k=1"};
        notifier_ =
            std::make_unique<notifier>(*processor_, *log_, clock_, o, mail ? std::move(m) : nullptr,
                                       webhooks ? std::move(w) : nullptr);
        if (!mail) mail_ = nullptr;
        ASSERT_TRUE(notifier_->start());
    }
    engine::node_state node() {
        std::promise<engine::node_state> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->inspect(processor_->partition_for(space_id{"acme"}),
                                        [&](const auto& s) { done.set_value(*s.node(task_)); }));
        return f.get();
    }
    // Waits until nothing is queued, being sent or being recorded, and
    // `recorded` messages were recorded (sent or failed) in all.
    bool settled(std::uint64_t recorded) {
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto s = notifier_->stats();
            if (s.pending == 0 && s.sent + s.failed >= recorded) return true;
            std::this_thread::sleep_for(1ms);
        }
        return false;
    }

    testing_support::temp_dir dir_;
    scheduler::manual_clock clock_{timestamp{1'800'000'000'000'000}};
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    notifier_options options_;
    std::unique_ptr<notifier> notifier_;
    fake_mail* mail_ = nullptr;
    fake_webhooks* webhooks_ = nullptr;
    journey_id journey_;
    node_id task_;
};

TEST_F(NotifierTest, MailsARaisedAlertAndRecordsItOnce) {
    start();
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    const auto sent = mail_->delivered();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].to, "bob@example.com");
    const auto id = alert + "/0/email/bob";
    EXPECT_NE(sent[0].body.find("Message-ID: <" + id + "@example.com>"), std::string::npos);
    EXPECT_TRUE(node().notified.contains(id));
    EXPECT_EQ(notifier_->stats().sent, 1u);

    // A restart finds it recorded and sends nothing.
    start();
    EXPECT_EQ(notifier_->stats().pending, 0u);
    EXPECT_EQ(mail_->calls(), 0u);
}

TEST_F(NotifierTest, RetriesWithBackoffUntilDelivered) {
    start();
    mail_->fail_next({false, false, "smtp: Couldn't connect to server"});
    mail_->fail_next({false, false, "smtp: Couldn't connect to server"});
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(mail_->calls(), 3u);
    EXPECT_EQ(mail_->delivered().size(), 1u);
    EXPECT_EQ(notifier_->stats().attempts, 3u);
    EXPECT_TRUE(node().notified.contains(alert + "/0/email/bob"));
}

TEST_F(NotifierTest, GivesUpAfterTheRetriesAndRecordsWhy) {
    start();
    for (int i = 0; i < 4; ++i) mail_->fail_next({false, false, "smtp: Couldn't connect"});
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(mail_->calls(), 4u) << "the first attempt and 3 retries";
    EXPECT_EQ(notifier_->stats().failed, 1u);
    const auto n = node();
    const auto id = alert + "/0/email/bob";
    EXPECT_FALSE(n.notified.contains(id));
    ASSERT_TRUE(n.failed_notifications.contains(id));
    EXPECT_EQ(n.failed_notifications.at(id), "smtp: Couldn't connect");
    start();
    EXPECT_EQ(notifier_->stats().pending, 0u) << "given up on is not tried again";
}

TEST_F(NotifierTest, APermanentRefusalIsNotRetried) {
    start();
    mail_->fail_next({false, true, "smtp: (the server answered 550)"});
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(mail_->calls(), 1u);
    EXPECT_EQ(node().failed_notifications.at(alert + "/0/email/bob"),
              "smtp: (the server answered 550)");
}

TEST_F(NotifierTest, AUserWithoutAnAddressFailsAtOnce) {
    options_.content.book.default_domain.clear();
    start();
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    EXPECT_EQ(mail_->calls(), 0u);
    EXPECT_EQ(node().failed_notifications.at(alert + "/0/email/bob"),
              "no email address for user bob: list it in smtp_recipients or set "
              "smtp_default_domain");
}

TEST_F(NotifierTest, WhatWasLeftUnsentGoesOutOnStart) {
    const auto alert = raise_overdue();  // no notifier running
    start();
    EXPECT_EQ(notifier_->stats().pending, 1u) << "found in state at start";
    ASSERT_TRUE(settled(1));
    ASSERT_EQ(mail_->delivered().size(), 1u);
    EXPECT_TRUE(node().notified.contains(alert + "/0/email/bob"));
}

TEST_F(NotifierTest, EscalationReachesTheJourneyAdminsAndANewAssigneeHears) {
    start();
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    clock_.advance(std::chrono::hours(24));
    run(engine::review_alerts{task_}, "migops");
    ASSERT_TRUE(settled(2));
    auto sent = mail_->delivered();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[1].to, "jane@example.com");
    EXPECT_NE(sent[1].body.find("Subject: [migops] Escalated to the journey's admins: Overdue"),
              std::string::npos);
    EXPECT_TRUE(node().notified.contains(alert + "/1/email/jane"));

    // Whoever takes the task over hears of its open alert.
    run(engine::assign_task{task_, user_id{"carol"}, {}});
    ASSERT_TRUE(settled(3));
    sent = mail_->delivered();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[2].to, "carol@example.com");
}

TEST_F(NotifierTest, AClearedAlertBeforeItsTurnIsNotSent) {
    const auto alert = raise_overdue();
    run(engine::change_task_status{task_, events::task_status::out_of_scope, "", {}});
    run(engine::review_alerts{task_}, "migops");
    ASSERT_TRUE(node().alerts.empty());
    start();
    EXPECT_EQ(notifier_->stats().pending, 0u);
    EXPECT_FALSE(node().notified.contains(alert + "/0/email/bob"));
}

TEST_F(NotifierTest, WebhooksGetASignedCloudEventNamedByTheMessageId) {
    start(false, true);
    const auto alert = raise_overdue();
    ASSERT_TRUE(settled(1));
    const auto posts = webhooks_->delivered();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].to, "https://hooks.example.com/in?k=1");
    std::map<std::string, std::string> h(posts[0].headers.begin(), posts[0].headers.end());
    EXPECT_EQ(h.at("X-Migops-Signature"), signature("s3cret", posts[0].body));
    EXPECT_EQ(h.at("Content-Type"), "application/cloudevents+json; charset=utf-8");
    const auto id = alert + "/0/webhook/" + webhook_key("https://hooks.example.com/in?k=1");
    EXPECT_EQ(h.at("X-Migops-Message-Id"), id);
    EXPECT_EQ(std::string(boost::json::parse(posts[0].body).at("id").as_string()), id);
    EXPECT_TRUE(node().notified.contains(id));
}

}  // namespace
}  // namespace migops::api
