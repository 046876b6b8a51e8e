// Power cuts under load, in process: the log and the processor run on a
// fault_fs that cuts power after a random number of file operations (the
// cut may come while RocksDB opens), then drops everything not synced, as a
// machine crash does. After each cut the data directory is reopened and
// every acknowledged command must be there exactly once, with each
// partition's positions contiguous and the whole chain verified.
//
// The same run with unsynced appends must lose acknowledged commands: the
// proof that the check finds losses.
//
// The seed is printed; MIGOPS_POWER_SEED=<seed> cuts at the same operation
// counts again (the threads' interleaving still varies).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "tests/unit/faulty_node.h"

namespace migops::testing_support {
namespace {

constexpr int rounds = 100;
constexpr int submitters = 4;
// The cut comes before the n-th file operation of a round, n uniform in
// [1, this]: opening takes about 40, each synced group commit two.
constexpr std::uint64_t most_operations_before_cut = 100;
constexpr auto round_deadline = std::chrono::seconds(60);

std::uint64_t power_seed() {
    if (const char* env = std::getenv("MIGOPS_POWER_SEED")) return std::strtoull(env, nullptr, 10);
    return std::random_device{}();
}

struct acknowledged {
    std::string text;
    partition_id partition = 0;
    position pos = 0;
    std::string event_id;
    bool lost = false;
};

struct totals {
    std::uint64_t acknowledged = 0;
    std::uint64_t lost = 0;           // acknowledged, then missing after a cut
    std::uint64_t duplicated = 0;     // comments found more than once
    std::uint64_t failed_kept = 0;    // answered with a failure, found in the log
    std::uint64_t cut_opening = 0;    // rounds whose cut stopped the open
    std::uint64_t bytes_dropped = 0;  // unsynced bytes the cuts took
    std::uint64_t files_removed = 0;  // files whose name was never synced
};

// Runs the rounds; fails the test (and returns early) on a broken history.
void run_power_cuts(bool sync, totals& t) {
    const auto seed = power_seed();
    std::cout << "power cut seed: " << seed << " (MIGOPS_POWER_SEED=" << seed << ")\n";
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::uint64_t> cut_after(1, most_operations_before_cut);

    faulty_node node;
    // The spaces and journeys are written synced whatever the variant.
    ASSERT_TRUE(node.open(true));
    auto made = node.make_tasks();
    ASSERT_TRUE(made) << made.error().message;
    const auto tasks = made.value();
    node.close();
    node.fs().restore_power();

    std::vector<acknowledged> acked;
    std::vector<std::string> failed;
    std::mutex mutex;
    for (int round = 0; round < rounds; ++round) {
        node.fs().cut_power_after(cut_after(rng));
        if (node.open(sync)) {
            std::vector<std::thread> threads;
            threads.reserve(submitters);
            std::atomic<bool> unexpected{false};
            const auto deadline = std::chrono::steady_clock::now() + round_deadline;
            for (int who = 0; who < submitters; ++who) {
                threads.emplace_back([&, who] {
                    for (int n = 0; !node.fs().power_is_cut(); ++n) {
                        if (std::chrono::steady_clock::now() > deadline) return;
                        const std::string text = "r" + std::to_string(round) + " s" +
                                                 std::to_string(who) + " n" + std::to_string(n);
                        const auto& task = tasks[static_cast<std::size_t>(who + n) % tasks.size()];
                        auto r = node.run(engine::add_comment{task, text});
                        std::lock_guard lock(mutex);
                        if (r) {
                            const auto& e = r.value().at(0);
                            acked.push_back({text, e.partition, e.pos, e.event_id});
                        } else {
                            failed.push_back(text);
                            // Only the cut fails a command here.
                            if (!node.fs().power_is_cut()) unexpected = true;
                        }
                    }
                });
            }
            for (auto& th : threads) th.join();
            ASSERT_FALSE(unexpected) << "round " << round << ": a command failed before the cut";
            ASSERT_TRUE(node.fs().power_is_cut())
                << "round " << round << ": no cut within " << round_deadline.count() << " s";
        } else {
            ++t.cut_opening;
        }
        node.close();
        const auto crash = node.fs().restore_power();
        t.bytes_dropped += crash.bytes_dropped;
        t.files_removed += crash.files_removed;

        // Reopened after the crash: the log's own open verifies each
        // partition's tail; the history check reads and verifies it all.
        auto reopened = node.open(sync);
        ASSERT_TRUE(reopened) << "round " << round << ": " << reopened.error().message;
        auto history = check_history(node.log());
        ASSERT_TRUE(history) << "round " << round << ": " << history.error().message;
        const auto& h = history.value();
        for (auto& a : acked) {
            if (a.lost) continue;
            auto at = h.event_ids.find({a.partition, a.pos});
            auto count = h.comments.find(a.text);
            if (at == h.event_ids.end() || at->second != a.event_id || count == h.comments.end()) {
                a.lost = true;
                ++t.lost;
            }
        }
        node.close();
        if (::testing::Test::HasFatalFailure()) return;
    }
    // A last look: what was kept once is there once.
    ASSERT_TRUE(node.open(sync));
    auto history = check_history(node.log());
    ASSERT_TRUE(history) << history.error().message;
    for (const auto& [text, n] : history.value().comments)
        if (n > 1) t.duplicated += static_cast<std::uint64_t>(n - 1);
    for (const auto& text : failed)
        if (history.value().comments.contains(text)) ++t.failed_kept;
    t.acknowledged = acked.size();
    // The processor loads the whole log again: it is a consistent history.
    const auto state = node.state_of(0);
    EXPECT_EQ(state.head, node.log().head(0));
    node.close();
}

void print(const char* variant, const totals& t) {
    std::cout << "power cuts, " << variant << ": " << rounds << " rounds, acknowledged "
              << t.acknowledged << ", lost " << t.lost << ", duplicated " << t.duplicated
              << ", failed but kept " << t.failed_kept << ", cuts while opening " << t.cut_opening
              << ", unsynced bytes dropped " << t.bytes_dropped << ", unsynced files removed "
              << t.files_removed << "\n";
}

TEST(PowerCutTest, EveryAcknowledgedCommandSurvivesACutExactlyOnce) {
    totals t;
    run_power_cuts(true, t);
    if (HasFatalFailure()) return;
    print("appends synced", t);
    EXPECT_EQ(t.lost, 0u);
    EXPECT_EQ(t.duplicated, 0u);
    EXPECT_GT(t.acknowledged, static_cast<std::uint64_t>(rounds)) << "too little was acknowledged";
    EXPECT_GT(t.bytes_dropped, 0u) << "no cut took anything";
}

// The check above can fail: without a sync per append, cuts take
// acknowledged commands, and the same check counts them.
TEST(PowerCutTest, WithoutSyncTheSameCheckFindsAcknowledgedCommandsLost) {
    totals t;
    run_power_cuts(false, t);
    if (HasFatalFailure()) return;
    print("appends not synced", t);
    EXPECT_GT(t.lost, 0u);
    EXPECT_EQ(t.duplicated, 0u);
    EXPECT_GT(t.acknowledged, static_cast<std::uint64_t>(rounds)) << "too little was acknowledged";
}

}  // namespace
}  // namespace migops::testing_support
