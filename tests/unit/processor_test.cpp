#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <thread>
#include <tuple>

#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops::engine {
namespace {

using events::envelope;

// A log that forwards to RocksLog and fails appends while told to: before
// writing (fail), or after writing (land_and_fail: the outcome a client of
// Kafka sees when the broker took a write but its answer was lost). restore()
// refuses as often as told.
class failing_log final : public events::event_log {
  public:
    explicit failing_log(events::event_log& inner) : inner_(inner) {}
    std::atomic<bool> fail{false};
    std::atomic<bool> land_and_fail{false};
    std::atomic<int> restore_refusals{0};
    std::atomic<int> restores{0};

    std::uint32_t partitions() const override { return inner_.partitions(); }
    events::chain_head head(partition_id p) const override { return inner_.head(p); }
    result<void> append_group(std::span<const events::partition_batch> group) override {
        if (fail) return failure(errc::io_error, "injected append failure");
        if (land_and_fail) {
            if (auto r = inner_.append_group(group); !r) return r;
            return failure(errc::unavailable, "injected lost answer");
        }
        return inner_.append_group(group);
    }
    // Refuses, as a log with a record size limit does, a space renamed to
    // this name.
    static constexpr const char* too_large_name = "too large for the log";
    result<void> admits(const envelope& e) const override {
        const auto* renamed = std::get_if<events::space_renamed>(&e.data);
        if (renamed && renamed->name == too_large_name)
            return failure(errc::limit_exceeded, "injected: the record is too large");
        return inner_.admits(e);
    }
    result<void> restore(partition_id) override {
        ++restores;
        if (restore_refusals.load() > 0) {
            --restore_refusals;
            return failure(errc::unavailable, "injected: the tail cannot be read yet");
        }
        return success();
    }
    result<std::vector<envelope>> read(partition_id p, position from,
                                       std::size_t max) const override {
        return inner_.read(p, from, max);
    }
    std::uint64_t subscribe(listener l) override { return inner_.subscribe(std::move(l)); }
    void unsubscribe(std::uint64_t t) override { inner_.unsubscribe(t); }

  private:
    events::event_log& inner_;
};

class ProcessorTest : public ::testing::Test {
  protected:
    void SetUp() override { open(); }

    void open() {
        std::tie(store_, log_) = testing_support::open_log_store(dir_.path(), 4);
        failing_ = std::make_unique<failing_log>(*log_);
    }

    void close() {
        failing_.reset();
        log_.reset();
        store_.reset();
    }

    static std::future<result<std::vector<envelope>>> submit(partition_processor& p, command c,
                                                             std::string actor = "alice",
                                                             std::string command_id = {}) {
        auto promise = std::make_shared<std::promise<result<std::vector<envelope>>>>();
        auto future = promise->get_future();
        auto queued = p.submit({std::move(c), user_id{std::move(actor)}, timestamp{1'000'000}, "",
                                std::nullopt, std::move(command_id)},
                               [promise](auto r) { promise->set_value(std::move(r)); });
        if (!queued) promise->set_value(failure(queued.error()));
        return future;
    }

    // Holds s's partition thread until release counts down, so that the
    // commands submitted meanwhile land in one batch.
    static bool hold(partition_processor& p, const space_id& s, std::latch& release) {
        return static_cast<bool>(
            p.inspect(p.partition_for(s), [&release](const partition_state&) { release.wait(); }));
    }

    static partition_state state_of(partition_processor& p, const space_id& s) {
        std::promise<partition_state> promise;
        auto f = promise.get_future();
        EXPECT_TRUE(p.inspect(p.partition_for(s),
                              [&](const partition_state& st) { promise.set_value(st); }));
        return f.get();
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<failing_log> failing_;
};

TEST_F(ProcessorTest, DecidesAppendsAndCompletes) {
    partition_processor proc(*log_, {});
    ASSERT_TRUE(proc.start());
    auto created = submit(proc, create_space{space_id{"s1"}, "Exit", ""}).get();
    ASSERT_TRUE(created) << created.error().message;
    ASSERT_EQ(created.value().size(), 1u);
    const auto& e = created.value().front();
    EXPECT_EQ(e.pos, 1u);
    EXPECT_EQ(e.actor.value, "alice");
    EXPECT_EQ(e.partition, proc.partition_for(space_id{"s1"}));
    EXPECT_EQ(log_->head(e.partition).pos, 1u);

    auto state = state_of(proc, space_id{"s1"});
    EXPECT_EQ(state.spaces.at(space_id{"s1"}).name, "Exit");
    EXPECT_EQ(state.spaces.at(space_id{"s1"}).created_by.value, "alice");
}

TEST_F(ProcessorTest, AnEventTheLogCannotHoldRefusesItsCommandAloneAndChangesNothing) {
    partition_processor proc(*failing_, {});
    ASSERT_TRUE(proc.start());
    // All three in one batch: the refused one between the others.
    std::latch release(1);
    const space_id s{"s1"};
    ASSERT_TRUE(hold(proc, s, release));
    auto created = submit(proc, create_space{s, "One", ""});
    auto refused = submit(proc, rename_space{s, failing_log::too_large_name});
    auto renamed = submit(proc, rename_space{s, "Two"});
    release.count_down();
    ASSERT_TRUE(created.get());
    auto r = refused.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::limit_exceeded) << r.error().message;
    auto after = renamed.get();
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after.value().front().pos, 2u) << "no gap where the refused event would have been";
    EXPECT_EQ(failing_->restores.load(), 0) << "nothing failed that needs the log restored";

    const auto state = state_of(proc, s);
    EXPECT_EQ(state.spaces.at(s).name, "Two");
    EXPECT_EQ(state.head.pos, 2u);
    auto stored = log_->read(proc.partition_for(s), 1, 10);
    ASSERT_TRUE(stored);
    ASSERT_EQ(stored.value().size(), 2u);
    EXPECT_TRUE(std::holds_alternative<events::space_created>(stored.value()[0].data));
    EXPECT_EQ(std::get<events::space_renamed>(stored.value()[1].data).name, "Two");
}

TEST_F(ProcessorTest, LaterCommandsInABatchSeeEarlierEvents) {
    partition_processor proc(*log_, {});
    ASSERT_TRUE(proc.start());
    // Hold the partition thread so that all three land in one batch.
    std::latch release(1);
    const space_id s{"s1"};
    ASSERT_TRUE(hold(proc, s, release));
    auto a = submit(proc, create_space{s, "One", ""});
    auto b = submit(proc, rename_space{s, "Two"});
    auto c = submit(proc, create_space{s, "Again", ""});
    release.count_down();
    ASSERT_TRUE(a.get());
    auto renamed = b.get();
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed.value().front().pos, 2u);
    auto again = c.get();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, errc::already_exists);
    EXPECT_EQ(log_->head(proc.partition_for(s)).pos, 2u);
}

TEST_F(ProcessorTest, RefusalsAppendNothing) {
    partition_processor proc(*log_, {});
    ASSERT_TRUE(proc.start());
    auto r = submit(proc, rename_space{space_id{"nope"}, "x"}).get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::not_found);
    auto bad = submit(proc, create_space{space_id{"s"}, "", ""}).get();
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::invalid_argument);
    auto too_long = submit(proc, create_space{space_id{"s"}, std::string(201, 'x'), ""}).get();
    EXPECT_EQ(too_long.error().code, errc::invalid_argument);
    for (partition_id p = 0; p < log_->partitions(); ++p) EXPECT_EQ(log_->head(p).pos, 0u);
}

TEST_F(ProcessorTest, AFullQueueRefusesAtOnceWithBusy) {
    processor_options small;
    small.queue_capacity = 2;
    small.batch_limit = 16;
    partition_processor proc(*log_, small);
    ASSERT_TRUE(proc.start());
    const space_id s{"s1"};
    std::latch running(1);
    std::latch release(1);
    ASSERT_TRUE(proc.inspect(proc.partition_for(s), [&](const partition_state&) {
        running.count_down();
        release.wait();
    }));
    running.wait();
    // The blocked inspection was taken off the queue; two commands fill it.
    auto a = submit(proc, create_space{s, "A", ""});
    auto b = submit(proc, rename_space{s, "B"});
    auto c = submit(proc, rename_space{s, "C"});
    auto refused = c.get();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::busy);
    release.count_down();
    EXPECT_TRUE(a.get());
    EXPECT_TRUE(b.get());
}

// submit_all queues each command as submit() would: in order within a
// partition, each answered once, and those beyond a full queue refused
// with busy (and never answered).
TEST_F(ProcessorTest, SubmitAllQueuesEachInOrderAndRefusesWhatDoesNotFit) {
    processor_options small;
    small.queue_capacity = 3;
    partition_processor proc(*log_, small);
    ASSERT_TRUE(proc.start());
    const space_id s{"s1"};
    std::latch running(1);
    std::latch release(1);
    ASSERT_TRUE(proc.inspect(proc.partition_for(s), [&](const partition_state&) {
        running.count_down();
        release.wait();
    }));
    running.wait();
    std::vector<std::promise<result<std::vector<envelope>>>> answers(4);
    std::vector<std::pair<submission, completion>> commands;
    const std::vector<command> cmds{create_space{s, "A", ""}, rename_space{s, "B"},
                                    rename_space{s, "C"}, rename_space{s, "D"}};
    for (std::size_t i = 0; i < cmds.size(); ++i)
        commands.emplace_back(submission{cmds[i], user_id{"alice"}, timestamp{1'000'000}, ""},
                              [&answers, i](auto r) { answers[i].set_value(std::move(r)); });
    auto queued = proc.submit_all(std::move(commands));
    ASSERT_EQ(queued.size(), 4u);
    EXPECT_TRUE(queued[0]);
    EXPECT_TRUE(queued[1]);
    EXPECT_TRUE(queued[2]);
    ASSERT_FALSE(queued[3]);
    EXPECT_EQ(queued[3].error().code, errc::busy);
    release.count_down();
    for (std::size_t i = 0; i < 3; ++i) {
        auto r = answers[i].get_future().get();
        ASSERT_TRUE(r) << i << ": " << r.error().message;
        EXPECT_EQ(r.value().front().pos, i + 1) << "decided in the order given";
    }
    EXPECT_EQ(state_of(proc, s).spaces.at(s).name, "C");
    proc.stop();
    std::vector<std::pair<submission, completion>> late;
    late.emplace_back(submission{rename_space{s, "E"}, user_id{"alice"}, timestamp{1'000'000}, ""},
                      [](auto) { ADD_FAILURE() << "a refused command is never answered"; });
    auto refused = proc.submit_all(std::move(late));
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_FALSE(refused[0]) << "after stop()";
}

TEST_F(ProcessorTest, AFailedAppendFailsTheBatchAndLeavesStateAsItWas) {
    partition_processor proc(*failing_, {});
    ASSERT_TRUE(proc.start());
    const space_id s{"s1"};
    ASSERT_TRUE(submit(proc, create_space{s, "Kept", ""}).get());

    failing_->fail = true;
    std::latch release(1);
    ASSERT_TRUE(hold(proc, s, release));
    auto a = submit(proc, rename_space{s, "Lost"});
    auto b = submit(proc, describe_space{s, "Lost too"});
    release.count_down();
    EXPECT_EQ(a.get().error().code, errc::unavailable);
    EXPECT_EQ(b.get().error().code, errc::unavailable);
    auto state = state_of(proc, s);
    EXPECT_EQ(state.spaces.at(s).name, "Kept");
    EXPECT_EQ(state.spaces.at(s).description, "");
    EXPECT_EQ(state.head.pos, 1u);

    failing_->fail = false;
    auto retried = submit(proc, rename_space{s, "Renamed"}).get();
    ASSERT_TRUE(retried);
    EXPECT_EQ(retried.value().front().pos, 2u);
}

// While the log cannot say what a failed write left, the partition decides
// nothing: its commands fail, and what it shows (inspect) is what the log
// holds, not the events of the failed batch nor of commands refused since.
TEST_F(ProcessorTest, WhileTheLogCannotBeRestoredNothingIsDecidedAndTheStateIsTheLogs) {
    partition_processor proc(*failing_, {});
    ASSERT_TRUE(proc.start());
    const space_id s{"s1"};
    ASSERT_TRUE(submit(proc, create_space{s, "Kept", ""}).get());

    failing_->fail = true;
    auto lost = submit(proc, rename_space{s, "Lost"}).get();
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, errc::unavailable);
    failing_->fail = false;

    constexpr int refusals = 1'000'000;
    failing_->restore_refusals = refusals;
    for (int i = 0; i < 3; ++i) {
        auto refused = submit(proc, describe_space{s, "Never " + std::to_string(i)}).get();
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, errc::unavailable);
        EXPECT_NE(refused.error().message.find("the tail cannot be read yet"), std::string::npos)
            << refused.error().message;
        const auto state = state_of(proc, s);
        EXPECT_EQ(state.spaces.at(s).name, "Kept");
        EXPECT_EQ(state.spaces.at(s).description, "");
        EXPECT_EQ(state.head, log_->head(proc.partition_for(s)));
    }
    EXPECT_EQ(log_->head(proc.partition_for(s)).pos, 1u);
    EXPECT_GE(refusals - failing_->restore_refusals.load(), 3) << "restore was asked each time";
    EXPECT_EQ(proc.unavailable_partitions(), std::vector<partition_id>{proc.partition_for(s)});

    // Once the log recovers, the partition says so without waiting for a
    // command.
    failing_->restore_refusals = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!proc.unavailable_partitions().empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(proc.unavailable_partitions().empty());
    auto renamed = submit(proc, rename_space{s, "Renamed"}).get();
    ASSERT_TRUE(renamed) << renamed.error().message;
    EXPECT_EQ(renamed.value().front().pos, 2u);
    EXPECT_EQ(state_of(proc, s).spaces.at(s).name, "Renamed");
    EXPECT_TRUE(proc.unavailable_partitions().empty());
}

TEST_F(ProcessorTest, ACommandIdSeenBeforeIsAnsweredWithItsEventsAndNotDecidedAgain) {
    const space_id s{"s1"};
    std::vector<envelope> first;
    {
        partition_processor proc(*log_, {});
        ASSERT_TRUE(proc.start());
        ASSERT_TRUE(submit(proc, create_space{s, "Exit", ""}).get());
        auto commented = submit(proc, rename_space{s, "Once"}, "alice", "ik-rename-1").get();
        ASSERT_TRUE(commented) << commented.error().message;
        first = commented.value();
        ASSERT_EQ(first.size(), 1u);
        EXPECT_EQ(first.front().causation_id, "ik-rename-1");

        auto again = submit(proc, rename_space{s, "Once"}, "alice", "ik-rename-1").get();
        ASSERT_TRUE(again);
        EXPECT_EQ(again.value(), first);
        EXPECT_EQ(log_->head(first.front().partition).pos, 2u);
        // Another id is another command.
        auto other = submit(proc, rename_space{s, "Twice"}, "alice", "ik-rename-2").get();
        ASSERT_TRUE(other);
        EXPECT_EQ(other.value().front().pos, 3u);
    }
    // The ids are re-read from the log on start.
    close();
    open();
    partition_processor proc(*log_, {});
    ASSERT_TRUE(proc.start());
    auto after_restart = submit(proc, rename_space{s, "Once"}, "alice", "ik-rename-1").get();
    ASSERT_TRUE(after_restart);
    EXPECT_EQ(after_restart.value(), first);
    EXPECT_EQ(log_->head(first.front().partition).pos, 3u);
}

TEST_F(ProcessorTest, OnlyTheLastRememberedCommandsAreAnsweredFromTheLog) {
    processor_options small;
    small.remembered_commands = 2;
    partition_processor proc(*log_, small);
    ASSERT_TRUE(proc.start());
    const space_id s{"s1"};
    ASSERT_TRUE(submit(proc, create_space{s, "Exit", ""}).get());
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(submit(proc, describe_space{s, "d" + std::to_string(i)}, "alice",
                           "ik-" + std::to_string(i))
                        .get());
    // ik-0 is forgotten: decided again, it appends.
    auto forgotten = submit(proc, describe_space{s, "d0"}, "alice", "ik-0").get();
    ASSERT_TRUE(forgotten);
    EXPECT_EQ(forgotten.value().front().pos, 5u);
    auto kept = submit(proc, describe_space{s, "d2"}, "alice", "ik-2").get();
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept.value().front().pos, 4u);
}

TEST_F(ProcessorTest, AWriteThatLandedDespiteItsFailureIsFoundAfterRestoreAndAnsweredOnRetry) {
    partition_processor proc(*failing_, {});
    ASSERT_TRUE(proc.start());
    const space_id s{"s1"};
    ASSERT_TRUE(submit(proc, create_space{s, "Exit", ""}).get());

    // The write lands but its answer is lost: the client sees 503.
    failing_->land_and_fail = true;
    auto lost = submit(proc, rename_space{s, "Landed"}, "alice", "ik-lost").get();
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, errc::unavailable);
    failing_->land_and_fail = false;

    // While the log cannot tell what landed, commands fail and nothing is
    // decided on a state that may be wrong.
    failing_->restore_refusals = 1;
    auto waiting = submit(proc, describe_space{s, "meanwhile"}).get();
    ASSERT_FALSE(waiting);
    EXPECT_EQ(waiting.error().code, errc::unavailable);
    EXPECT_EQ(log_->head(proc.partition_for(s)).pos, 2u);

    // Restored, the partition re-reads the log: the landed rename is state,
    // and the client's retry is answered with it, not renamed again.
    auto retried = submit(proc, rename_space{s, "Landed"}, "alice", "ik-lost").get();
    ASSERT_TRUE(retried) << retried.error().message;
    ASSERT_EQ(retried.value().size(), 1u);
    EXPECT_EQ(retried.value().front().pos, 2u);
    EXPECT_EQ(state_of(proc, s).spaces.at(s).name, "Landed");
    EXPECT_EQ(log_->head(proc.partition_for(s)).pos, 2u);
    EXPECT_GE(failing_->restores.load(), 2);
}

TEST_F(ProcessorTest, RestartLoadsTheSameState) {
    partition_state before;
    {
        partition_processor proc(*log_, {});
        ASSERT_TRUE(proc.start());
        for (int i = 0; i < 20; ++i) {
            const space_id s{"s" + std::to_string(i)};
            ASSERT_TRUE(submit(proc, create_space{s, "n" + std::to_string(i), ""}).get());
            ASSERT_TRUE(submit(proc, rename_space{s, "m" + std::to_string(i)}).get());
        }
        ASSERT_TRUE(submit(proc, delete_space{space_id{"s3"}}).get());
        before = state_of(proc, space_id{"s3"});
    }
    close();
    open();
    partition_processor proc(*log_, {});
    ASSERT_TRUE(proc.start());
    EXPECT_EQ(state_of(proc, space_id{"s3"}), before);
    EXPECT_EQ(submit(proc, rename_space{space_id{"s3"}, "x"}).get().error().code, errc::not_found);
}

TEST_F(ProcessorTest, StopFinishesQueuedCommandsAndRefusesNewOnes) {
    partition_processor proc(*log_, {});
    ASSERT_TRUE(proc.start());
    std::vector<std::future<result<std::vector<envelope>>>> pending;
    for (int i = 0; i < 200; ++i)
        pending.push_back(submit(proc, create_space{space_id{"s" + std::to_string(i)}, "n", ""}));
    proc.stop();
    for (auto& f : pending) EXPECT_TRUE(f.get());
    EXPECT_EQ(submit(proc, create_space{space_id{"late"}, "n", ""}).get().error().code,
              errc::shutting_down);
}

}  // namespace
}  // namespace migops::engine
