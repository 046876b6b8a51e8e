// The alert scheduler with a manual clock: reviews a task when its time
// comes or when an event changed what it should carry, rebuilds its index
// from state, and a tick with nothing due submits nothing.

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <tuple>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "engine/template_catalog.h"
#include "events/rocks_log.h"
#include "scheduler/alert_scheduler.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops::scheduler {
namespace {

using events::alert_kind;
constexpr std::int64_t hour = 3'600'000'000;

class SchedulerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::tie(store_, log_) = testing_support::open_log_store(dir_.path(), 2);
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        scheduler_ = std::make_unique<alert_scheduler>(
            *processor_, *log_, clock_, scheduler_options{.tick = std::chrono::milliseconds(0)});
        ASSERT_TRUE(scheduler_->start());
        run(engine::create_space{space_id{"acme"}, "Acme", ""});
        auto templates = engine::builtin_templates();
        const auto& t = templates.value().front();
        auto created = run(engine::create_journey{space_id{"acme"}, "Move", "", std::nullopt, t,
                                                  engine::template_hash(t)});
        journey_ = std::get<events::journey_created>(created.at(0).data).journey;
        task_ = node_id{journey_.value + ".n3"};
    }
    std::vector<events::envelope> run(engine::command c) {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit({std::move(c), user_id{"admin"}, clock_.now(), ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        return r ? r.value() : std::vector<events::envelope>{};
    }
    // The task's active alerts, once the processor has answered all it took.
    std::map<alert_kind, engine::alert_state> alerts(const node_id& t) {
        std::map<alert_kind, engine::alert_state> out;
        for (int i = 0; i < 2; ++i) {  // the second pass runs after the reviews' writes
            std::promise<void> done;
            auto f = done.get_future();
            EXPECT_TRUE(processor_->inspect(processor_->partition_for(space_id{"acme"}),
                                            [&](const auto& s) {
                                                out = s.node(t)->alerts;
                                                done.set_value();
                                            }));
            f.get();
        }
        return out;
    }
    // A tick, and waits until the reviews it submitted are durable.
    std::size_t tick() {
        auto n = scheduler_->tick();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (scheduler_->reviews_in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(scheduler_->reviews_in_flight(), 0u);
        return n;
    }

    testing_support::temp_dir dir_;
    manual_clock clock_{timestamp{1'800'000'000'000'000}};
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    std::unique_ptr<alert_scheduler> scheduler_;
    journey_id journey_;
    node_id task_;
};

TEST_F(SchedulerTest, ReviewsATaskWhenItsTimeComes) {
    events::alert_rules rules;
    rules.due_soon_minutes = 0;
    run(engine::set_alert_rules{journey_, rules});
    run(engine::set_due_date{task_, timestamp{clock_.now().micros + hour}});
    EXPECT_EQ(tick(), 0u) << "nothing due yet";
    EXPECT_EQ(scheduler_->planned(), 1u);
    clock_.advance(std::chrono::minutes(59));
    EXPECT_EQ(tick(), 0u);
    clock_.advance(std::chrono::minutes(1));
    EXPECT_EQ(tick(), 1u);
    auto a = alerts(task_);
    ASSERT_TRUE(a.contains(alert_kind::overdue));
    EXPECT_EQ(a.at(alert_kind::overdue).level, 0u);
    // Its escalation is planned from the raised alert, a day later.
    tick();
    EXPECT_EQ(tick(), 0u) << "raised once";
    clock_.advance(std::chrono::hours(24));
    EXPECT_EQ(tick(), 1u);
    EXPECT_EQ(alerts(task_).at(alert_kind::overdue).level, 1u);
}

TEST_F(SchedulerTest, BlockingIsReviewedAtOnceAndCompletionClears) {
    run(engine::change_task_status{task_, events::task_status::in_progress, "", {}});
    run(engine::change_task_status{task_, events::task_status::blocked, "no access", {}});
    EXPECT_EQ(tick(), 1u);
    EXPECT_TRUE(alerts(task_).contains(alert_kind::blocked));
    run(engine::change_task_status{task_, events::task_status::out_of_scope, "", {}});
    EXPECT_EQ(tick(), 1u);
    EXPECT_TRUE(alerts(task_).empty());
    EXPECT_EQ(scheduler_->planned(), 0u) << "closed work is not planned";
}

TEST_F(SchedulerTest, StopWaitsForTheReviewsItSubmitted) {
    run(engine::change_task_status{task_, events::task_status::in_progress, "", {}});
    run(engine::change_task_status{task_, events::task_status::blocked, "no access", {}});
    // The log writer held up in a completion: what the tick submits stays
    // in flight until the gate opens.
    std::promise<void> gate;
    std::promise<void> holding;
    auto opened = gate.get_future().share();
    ASSERT_TRUE(processor_->submit(
        {engine::describe_space{space_id{"acme"}, "held"}, user_id{"admin"}, clock_.now(), ""},
        [&, opened](auto) {
            holding.set_value();
            opened.wait();
        }));
    holding.get_future().wait();
    EXPECT_EQ(scheduler_->tick(), 1u);
    EXPECT_EQ(scheduler_->reviews_in_flight(), 1u);

    // Its completion refers to the scheduler: stop() returns only after it.
    auto stopped = std::async(std::launch::async, [&] { scheduler_->stop(); });
    EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
        << "stop() returned while a review it submitted was in flight";
    gate.set_value();
    stopped.get();
    EXPECT_EQ(scheduler_->reviews_in_flight(), 0u);
}

TEST_F(SchedulerTest, RebuildsItsIndexFromStateOnStart) {
    const auto far = clock_.now().micros + 100 * hour;
    for (int n = 3; n < 9; ++n) {
        const node_id t{journey_.value + ".n" + std::to_string(n)};
        std::promise<bool> is_task;
        auto f = is_task.get_future();
        ASSERT_TRUE(
            processor_->inspect(processor_->partition_for(space_id{"acme"}), [&](const auto& s) {
                const auto* node = s.node(t);
                is_task.set_value(node && node->is_task());
            }));
        if (f.get()) run(engine::set_due_date{t, timestamp{far + n}});
    }
    tick();
    const auto planned = scheduler_->planned();
    EXPECT_GT(planned, 0u);
    scheduler_->stop();
    scheduler_ = std::make_unique<alert_scheduler>(
        *processor_, *log_, clock_, scheduler_options{.tick = std::chrono::milliseconds(0)});
    ASSERT_TRUE(scheduler_->start());
    EXPECT_EQ(scheduler_->planned(), planned);
    EXPECT_EQ(tick(), 0u) << "a tick with nothing due submits nothing";
}

TEST_F(SchedulerTest, ATaskIsReplannedWhenATaskItWaitsOnMoves) {
    // Another task of the same journey, which waits on task_.
    node_id waiting;
    for (int n = 4; n < 40 && waiting.empty(); ++n) {
        const node_id t{journey_.value + ".n" + std::to_string(n)};
        std::promise<bool> is_task;
        auto f = is_task.get_future();
        ASSERT_TRUE(
            processor_->inspect(processor_->partition_for(space_id{"acme"}), [&](const auto& s) {
                const auto* node = s.node(t);
                is_task.set_value(node && node->kind == events::node_kind::task &&
                                  node->dependencies.empty());
            }));
        if (f.get()) waiting = t;
    }
    ASSERT_FALSE(waiting.empty());
    events::alert_rules rules;
    rules.due_soon_minutes = 0;
    run(engine::set_alert_rules{journey_, rules});
    run(engine::add_dependency{waiting, task_});
    run(engine::set_due_date{task_, timestamp{clock_.now().micros + 2 * hour}});
    tick();
    // Only task_ changes; the task waiting on it must be planned anew too.
    run(engine::set_due_date{task_, timestamp{clock_.now().micros + hour}});
    tick();
    clock_.advance(std::chrono::hours(1));
    tick();
    tick();
    EXPECT_TRUE(alerts(task_).contains(alert_kind::overdue));
    EXPECT_TRUE(alerts(waiting).contains(alert_kind::dependency_late));
}

// A copied journey brings its tasks' dependencies in its creation event,
// which the scheduler is not told of: a task of the copy that waits on
// another is still planned anew when the other one moves.
TEST_F(SchedulerTest, ATaskOfACopiedJourneyIsReplannedWhenATaskItWaitsOnMoves) {
    node_id other;
    std::promise<void> found;
    auto f = found.get_future();
    ASSERT_TRUE(
        processor_->inspect(processor_->partition_for(space_id{"acme"}), [&](const auto& s) {
            for (const auto& [id, n] : s.journey(journey_)->nodes)
                if (n.kind == events::node_kind::task && id != task_ && other.empty()) other = id;
            found.set_value();
        }));
    f.get();
    run(engine::add_dependency{other, task_});
    auto copied = run(engine::copy_journey{journey_, "Copy"});
    ASSERT_FALSE(copied.empty());
    const auto copy = std::get<events::journey_created>(copied.front().data).journey;
    node_id waiting;
    node_id waited_on;
    std::promise<void> in_copy;
    auto g = in_copy.get_future();
    ASSERT_TRUE(
        processor_->inspect(processor_->partition_for(space_id{"acme"}), [&](const auto& s) {
            for (const auto& [id, n] : s.journey(copy)->nodes)
                if (!n.dependencies.empty()) {
                    waiting = id;
                    waited_on = *n.dependencies.begin();
                }
            in_copy.set_value();
        }));
    g.get();
    ASSERT_FALSE(waiting.empty()) << "the copy keeps the dependency";
    run(engine::set_due_date{waited_on, timestamp{clock_.now().micros + 2 * hour}});
    tick();
    run(engine::set_due_date{waited_on, timestamp{clock_.now().micros + hour}});
    tick();
    clock_.advance(std::chrono::hours(1));
    tick();
    tick();
    EXPECT_TRUE(alerts(waited_on).contains(alert_kind::overdue));
    EXPECT_TRUE(alerts(waiting).contains(alert_kind::dependency_late));
}

// Once a review finds the journey gone, none of its tasks stays planned.
TEST_F(SchedulerTest, ADeletedJourneyLeavesTheIndex) {
    node_id other;
    std::promise<void> found;
    auto f = found.get_future();
    ASSERT_TRUE(
        processor_->inspect(processor_->partition_for(space_id{"acme"}), [&](const auto& s) {
            for (const auto& [id, n] : s.journey(journey_)->nodes)
                if (n.kind == events::node_kind::task && id != task_ && other.empty()) other = id;
            found.set_value();
        }));
    f.get();
    events::alert_rules rules;
    rules.due_soon_minutes = 0;
    run(engine::set_alert_rules{journey_, rules});
    run(engine::set_due_date{task_, timestamp{clock_.now().micros + hour}});
    run(engine::set_due_date{other, timestamp{clock_.now().micros + 3 * hour}});
    EXPECT_EQ(tick(), 0u);
    EXPECT_EQ(scheduler_->planned(), 2u);
    run(engine::delete_journey{journey_});
    clock_.advance(std::chrono::hours(2));
    EXPECT_EQ(tick(), 1u) << "the first task's time came; its review is refused";
    EXPECT_EQ(tick(), 0u);
    EXPECT_EQ(scheduler_->planned(), 0u) << "the other task is let go before its time";
    clock_.advance(std::chrono::hours(2));
    EXPECT_EQ(tick(), 0u);
}

}  // namespace
}  // namespace migops::scheduler
