// A full disk and I/O errors under the log and the processor: commands fail
// with errc::unavailable (HTTP 503), nothing of them is visible (the log's
// head and the processor's state stay as they were), and once the fault is
// gone the history goes on without a gap or a duplicate. RocksDB's side of
// it is in events/README.md, "When a write fails".

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api/problems.h"
#include "tests/unit/faulty_node.h"

namespace migops::testing_support {
namespace {

// RocksDB retries a full disk on its own every few seconds; this is only
// how long the test waits for it before it fails.
constexpr auto recovery_deadline = std::chrono::seconds(120);
constexpr auto retry_pause = std::chrono::milliseconds(20);

class DiskFaultTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(node_.open());
        auto tasks = node_.make_tasks();
        ASSERT_TRUE(tasks) << tasks.error().message;
        task_ = tasks.value().at(0);
        partition_ = 0;
        ASSERT_TRUE(comment("before"));
    }

    result<std::vector<events::envelope>> comment(const std::string& text,
                                                  std::string command_id = {}) {
        return node_.run(engine::add_comment{task_, text}, std::move(command_id));
    }

    // What a read of the task shows: its comments and its version.
    std::pair<std::vector<std::string>, position> task_seen() {
        const auto state = node_.state_of(partition_);
        std::vector<std::string> texts;
        position version = 0;
        for (const auto& [id, j] : state.journeys)
            if (auto it = j.nodes.find(task_); it != j.nodes.end()) {
                for (const auto& c : it->second.comments) texts.push_back(c.text);
                version = it->second.version;
            }
        return {texts, version};
    }

    // The command fails as the API answers a log that takes no writes: 503.
    static void expect_unavailable(const result<std::vector<events::envelope>>& r) {
        ASSERT_FALSE(r) << "a command succeeded during the fault";
        EXPECT_EQ(r.error().code, errc::unavailable) << r.error().message;
        EXPECT_EQ(api::problem_for(r.error()).status, 503u);
    }

    faulty_node node_;
    node_id task_;
    partition_id partition_ = 0;
};

TEST_F(DiskFaultTest, AFullDiskFailsCommandsShowsNothingOfThemAndTheNextOneSucceedsOnceFreed) {
    const auto head = node_.log().head(partition_);
    const auto seen = task_seen();
    ASSERT_EQ(seen.first, std::vector<std::string>{"before"});

    node_.fs().fail_writes(fault::no_space);
    node_.fs().fail_syncs(fault::no_space);
    for (int i = 0; i < 3; ++i) {
        expect_unavailable(comment("during " + std::to_string(i)));
        EXPECT_EQ(node_.log().head(partition_), head);
        EXPECT_EQ(task_seen(), seen) << "a read shows the task as it was";
    }
    EXPECT_GT(node_.fs().injected(), 0u);

    // Freed: RocksDB resumes (its own retry), and the command goes through;
    // its retries carry one command id, so at most one can be kept.
    node_.fs().clear_faults();
    result<std::vector<events::envelope>> after = failure(errc::unavailable, "not sent");
    const auto deadline = std::chrono::steady_clock::now() + recovery_deadline;
    int attempts = 0;
    while (!after && std::chrono::steady_clock::now() < deadline) {
        if (attempts++ > 0) std::this_thread::sleep_for(retry_pause);
        after = comment("after", "ik-after");
        if (!after) {
            EXPECT_EQ(after.error().code, errc::unavailable) << after.error().message;
        }
    }
    ASSERT_TRUE(after) << "no command succeeded within " << recovery_deadline.count()
                       << " s of the disk being freed: " << after.error().message;
    EXPECT_EQ(after.value().at(0).pos, head.pos + 1) << "no gap";
    EXPECT_EQ(task_seen().first, (std::vector<std::string>{"before", "after"}));
    std::cout << "disk full: the first command after the disk was freed succeeded after "
              << attempts << " attempts\n";

    // The same after a restart: nothing of the fault came back.
    node_.close();
    ASSERT_TRUE(node_.open());
    auto h = check_history(node_.log());
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h.value().comments, (std::map<std::string, int>{{"before", 1}, {"after", 1}}));
    EXPECT_EQ(task_seen().first, (std::vector<std::string>{"before", "after"}));
    ASSERT_TRUE(comment("later"));
}

// RocksDB takes an I/O error on its WAL as fatal: it refuses writes until it
// is reopened, so the partition fails its commands rather than deciding on
// a state the log may not hold. The WAL write whose sync failed is in the
// file and comes back on reopen: its command failed, but happened; a retry
// with the same command id is answered from the log.
class IoErrorTest : public DiskFaultTest, public ::testing::WithParamInterface<bool> {};

TEST_P(IoErrorTest, StopsThePartitionUntilReopenedThenTheStateIsTheLogs) {
    const bool on_sync = GetParam();
    const auto head = node_.log().head(partition_);
    const auto seen = task_seen();

    if (on_sync)
        node_.fs().fail_syncs(fault::io_error);
    else
        node_.fs().fail_writes(fault::io_error);
    expect_unavailable(comment("failed", "ik-failed"));
    EXPECT_GT(node_.fs().injected(), 0u);
    node_.fs().clear_faults();
    // What was written but not synced is not read.
    auto shown = node_.log().read(partition_, 1, std::numeric_limits<std::size_t>::max());
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown.value().size(), head.pos);

    // The fault is gone, RocksDB is not: the partition refuses, undecided.
    for (int i = 0; i < 3; ++i) {
        auto refused = comment("refused " + std::to_string(i));
        expect_unavailable(refused);
        EXPECT_NE(refused.error().message.find("takes no commands until its log recovers"),
                  std::string::npos)
            << refused.error().message;
        EXPECT_EQ(node_.log().head(partition_), head);
        EXPECT_EQ(task_seen(), seen) << "a read shows the task as it was";
    }

    // Reopened: the processor's state is the log's fold.
    node_.close();
    ASSERT_TRUE(node_.open());
    auto h = check_history(node_.log());
    ASSERT_TRUE(h) << h.error().message;
    std::map<std::string, int> expected{{"before", 1}};
    // Only the sync failed: the write is in the WAL and comes back.
    if (on_sync) expected["failed"] = 1;
    EXPECT_EQ(h.value().comments, expected);
    engine::partition_state folded;
    auto all = node_.log().read(partition_, 1, std::numeric_limits<std::size_t>::max());
    ASSERT_TRUE(all);
    for (const auto& e : all.value()) engine::apply(folded, e);
    EXPECT_EQ(node_.state_of(partition_), folded);

    // The client's retry of the failed command acts once.
    auto retried = comment("failed", "ik-failed");
    ASSERT_TRUE(retried) << retried.error().message;
    auto next = comment("next");
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(next.value().at(0).pos, head.pos + 2) << "no gap";
    h = check_history(node_.log());
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h.value().comments,
              (std::map<std::string, int>{{"before", 1}, {"failed", 1}, {"next", 1}}));
}

INSTANTIATE_TEST_SUITE_P(OnWalSyncAndOnWalWrite, IoErrorTest, ::testing::Values(true, false),
                         [](const auto& param) { return param.param ? "Sync" : "Write"; });

}  // namespace
}  // namespace migops::testing_support
