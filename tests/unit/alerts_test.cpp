// The alert rules and the escalation ladder, decided against state at the
// command's time: raised once per episode, escalated, cleared.

#include "engine/alerts.h"
#include "tests/unit/domain_fixture.h"

namespace migops::testing {
namespace {

using events::alert_kind;
constexpr std::int64_t minute = 60'000'000;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;

class AlertsTest : public domain_fixture {
  protected:
    void SetUp() override { standard_space(); }
    // Reviews the task at the fixture's time; returns the events.
    payloads review(const node_id& t) { return given("migops", engine::review_alerts{t}); }
    std::vector<alert_kind> active(const node_id& t) {
        std::vector<alert_kind> out;
        for (const auto& [k, a] : node(t.value).alerts) out.push_back(k);
        return out;
    }
    void due_in(const node_id& t, std::int64_t micros) {
        given("admin", engine::set_due_date{t, timestamp{now.micros + micros}});
    }
};

TEST_F(AlertsTest, OverdueIsRaisedOncePerEpisodeAndClearedByCompletion) {
    due_in(task, 3 * day);
    EXPECT_TRUE(review(task).empty()) << "not due yet, not within the 2-day window";
    now.micros += 2 * day;
    auto soon = review(task);
    ASSERT_EQ(soon.size(), 1u);
    EXPECT_EQ(std::get<events::alert_raised>(soon[0]).kind, alert_kind::due_soon);
    now.micros += day;
    auto overdue = review(task);
    ASSERT_EQ(overdue.size(), 2u);  // due_soon cleared, overdue raised
    EXPECT_TRUE(std::holds_alternative<events::alert_cleared>(overdue[0]));
    const auto raised = std::get<events::alert_raised>(overdue[1]);
    EXPECT_EQ(raised.kind, alert_kind::overdue);
    EXPECT_EQ(raised.alert, task.value + "/overdue/2");
    EXPECT_TRUE(review(task).empty()) << "raised once per episode";
    // Moving the due date ends the episode; a new one starts when it passes.
    due_in(task, day);
    auto moved = review(task);
    ASSERT_FALSE(moved.empty());
    EXPECT_TRUE(std::holds_alternative<events::alert_cleared>(moved[0]));
    EXPECT_EQ(active(task), std::vector<alert_kind>{alert_kind::due_soon});
    now.micros += 2 * day;
    review(task);
    EXPECT_EQ(active(task), std::vector<alert_kind>{alert_kind::overdue});
    EXPECT_EQ(node(task.value).alerts.at(alert_kind::overdue).id, task.value + "/overdue/4");
    given("admin", engine::change_task_status{task, events::task_status::out_of_scope, "", {}});
    auto cleared = review(task);
    ASSERT_EQ(cleared.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<events::alert_cleared>(cleared[0]));
    EXPECT_TRUE(active(task).empty());
}

TEST_F(AlertsTest, BlockedAtOnceAndTooLongAfterTheThreshold) {
    given("contrib", engine::change_task_status{task, events::task_status::in_progress, "", {}});
    given("contrib",
          engine::change_task_status{task, events::task_status::blocked, "no firewall rule", {}});
    auto at_once = review(task);
    ASSERT_EQ(at_once.size(), 1u);
    EXPECT_EQ(std::get<events::alert_raised>(at_once[0]).kind, alert_kind::blocked);
    EXPECT_NE(std::get<events::alert_raised>(at_once[0]).reason.find("no firewall rule"),
              std::string::npos);
    auto next = engine::next_review(j(), node(task.value), now);
    ASSERT_TRUE(next);
    now = *next;  // the first escalation of the blocked alert, after a day
    review(task);
    EXPECT_EQ(node(task.value).alerts.at(alert_kind::blocked).level, 1u);
    now.micros += 2 * day;  // three days blocked: too long, and the second rung
    auto later = review(task);
    EXPECT_EQ(node(task.value).alerts.at(alert_kind::blocked).level, 2u);
    EXPECT_TRUE(node(task.value).alerts.contains(alert_kind::blocked_too_long));
    // Unblocking clears both.
    given("contrib", engine::change_task_status{task, events::task_status::in_progress, "", {}});
    review(task);
    EXPECT_TRUE(active(task).empty());
}

TEST_F(AlertsTest, TheLadderFollowsTheJourneysRules) {
    events::alert_rules rules;
    rules.escalate_to_journey_admins_minutes = 30;
    rules.escalate_to_space_admins_minutes = 0;  // no second rung
    rules.disabled = {alert_kind::due_soon};
    EXPECT_EQ(code_of(when("contrib", engine::set_alert_rules{journey, rules})),
              errc::permission_denied);
    given("jadmin", engine::set_alert_rules{journey, rules});
    due_in(task, hour);
    EXPECT_TRUE(review(task).empty()) << "due_soon is off for this journey";
    now.micros += hour;
    review(task);
    EXPECT_EQ(node(task.value).alerts.at(alert_kind::overdue).level, 0u);
    now.micros += 30 * minute;
    auto up = review(task);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(std::get<events::alert_escalated>(up[0]).level, 1u);
    now.micros += 30 * day;
    EXPECT_TRUE(review(task).empty()) << "the second rung is off";
}

TEST_F(AlertsTest, TheOverdueClockPausesWhileHelpIsOpen) {
    due_in(task, hour);
    given("contrib",
          engine::request_help{journey, task.value, events::help_kind::advice, "which engine?"});
    now.micros += 2 * hour;
    EXPECT_TRUE(review(task).empty()) << "waiting on expert help";
    EXPECT_FALSE(engine::effective_due(j(), node(task.value)));
    given("contrib", engine::resolve_help{journey, "s.j1.h1", "use Aurora"});
    // Paused two hours (and the second the commands took): still not due.
    review(task);
    EXPECT_FALSE(node(task.value).alerts.contains(alert_kind::overdue));
    now.micros += 2 * hour;
    review(task);
    EXPECT_TRUE(node(task.value).alerts.contains(alert_kind::overdue));
}

TEST_F(AlertsTest, ALateDependencyMakesItsDependentsLate) {
    given("admin", engine::add_dependency{subtask, task});
    due_in(task, hour);
    now.micros += 2 * hour;
    review(subtask);
    EXPECT_TRUE(node(subtask.value).alerts.contains(alert_kind::dependency_late));
    EXPECT_EQ(engine::dependents_of(j(), task), std::vector<node_id>{subtask});
    given("admin", engine::set_due_date{task, std::nullopt});
    review(subtask);
    EXPECT_TRUE(node(subtask.value).alerts.empty());
}

// carries_wanted_alerts (what the scheduler asks of every task it plans)
// is true exactly when a review would append nothing.
TEST_F(AlertsTest, CarryingTheWantedAlertsMeansAReviewChangesNothing) {
    auto agrees = [&](const char* when) {
        const bool carries = engine::carries_wanted_alerts(j(), node(task.value), now);
        EXPECT_EQ(carries, review(task).empty()) << when;
        return carries;
    };
    EXPECT_TRUE(agrees("no due date, nothing carried"));
    due_in(task, 3 * day);
    EXPECT_TRUE(agrees("not due yet"));
    now.micros += 2 * day;
    EXPECT_FALSE(agrees("due soon, not carried yet"));
    EXPECT_TRUE(agrees("due soon, carried"));
    now.micros += day;
    EXPECT_FALSE(agrees("overdue"));
    EXPECT_TRUE(agrees("overdue, carried"));
    now.micros += day;
    EXPECT_FALSE(agrees("a day overdue: the next rung"));
    EXPECT_TRUE(agrees("escalated"));
    given("contrib", engine::change_task_status{task, events::task_status::in_progress, "", {}});
    given("contrib", engine::change_task_status{task, events::task_status::blocked, "vpn", {}});
    EXPECT_FALSE(agrees("blocked"));
    EXPECT_TRUE(agrees("blocked, carried"));
    given("admin", engine::change_task_status{task, events::task_status::out_of_scope, "", {}});
    EXPECT_FALSE(agrees("closed with alerts"));
    EXPECT_TRUE(agrees("closed, cleared"));
}

TEST_F(AlertsTest, OnlyTheServerReviewsAndRecords) {
    EXPECT_EQ(code_of(when("admin", engine::review_alerts{task})), errc::permission_denied);
    EXPECT_EQ(code_of(when("admin", engine::record_notification{task, "a", 0, "email", "bob", "m1",
                                                                true, "", 1})),
              errc::permission_denied);
    auto sent = given("migops",
                      engine::record_notification{task, "a", 0, "email", "bob", "m1", true, "", 1});
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(node(task.value).notified.contains("m1"));
    EXPECT_TRUE(given("migops",
                      engine::record_notification{task, "a", 0, "email", "bob", "m1", true, "", 2})
                    .empty())
        << "a message recorded as sent is recorded once";
}

}  // namespace
}  // namespace migops::testing
