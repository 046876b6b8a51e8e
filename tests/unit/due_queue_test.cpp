// The alert scheduler's due queue: entries come out in time order whether
// they sit in the sorted vector or in the heap of recent pushes, only once
// due, and compact() drops what the owner calls stale.

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>

#include "scheduler/due_queue.h"

namespace migops::scheduler {
namespace {

std::vector<due_entry> drain(due_queue& q, std::int64_t now) {
    std::vector<due_entry> out;
    while (auto e = q.pop_due(now)) out.push_back(*e);
    return out;
}

TEST(DueQueueTest, NothingComesOutBeforeItsTime) {
    due_queue q;
    q.push({100, 1, 1});
    q.push({50, 1, 2});
    EXPECT_FALSE(q.pop_due(49));
    auto first = q.pop_due(50);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->node, 2u);
    EXPECT_FALSE(q.pop_due(99));
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.pop_due(100)->node, 1u);
    EXPECT_EQ(q.size(), 0u);
}

// Enough pushes to merge the heap into the sorted vector several times,
// interleaved with pops: the order is the times' order all along.
TEST(DueQueueTest, ComesOutInTimeOrderAcrossMerges) {
    due_queue q;
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> time(0, 1'000'000);
    std::multiset<std::int64_t> expected;
    std::int64_t now = 0;
    for (std::uint32_t i = 0; i < 100'000; ++i) {
        const auto at = now + time(rng);
        q.push({at, i, i});
        expected.insert(at);
        if (i % 100 == 99) {
            now += 1000;
            std::int64_t last = std::numeric_limits<std::int64_t>::min();
            for (const auto& e : drain(q, now)) {
                EXPECT_GE(e.at, last);
                EXPECT_LE(e.at, now);
                last = e.at;
                ASSERT_EQ(*expected.begin(), e.at);
                expected.erase(expected.begin());
            }
            ASSERT_TRUE(expected.empty() || *expected.begin() > now);
        }
    }
    EXPECT_EQ(q.size(), expected.size());
    const auto rest = drain(q, std::numeric_limits<std::int64_t>::max());
    ASSERT_EQ(rest.size(), expected.size());
    EXPECT_TRUE(std::is_sorted(rest.begin(), rest.end(),
                               [](const auto& a, const auto& b) { return a.at < b.at; }));
}

TEST(DueQueueTest, CompactDropsWhatTheOwnerRefusesAndKeepsTheOrder) {
    due_queue q;
    for (std::uint32_t i = 0; i < 10'000; ++i)
        q.push({static_cast<std::int64_t>(10'000 - i), 0, i});
    q.compact([](const due_entry& e) { return e.node % 2 == 0; });
    EXPECT_EQ(q.size(), 5'000u);
    const auto all = drain(q, 20'000);
    ASSERT_EQ(all.size(), 5'000u);
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].node % 2, 0u);
        if (i > 0) {
            EXPECT_LT(all[i - 1].at, all[i].at);
        }
    }
}

}  // namespace
}  // namespace migops::scheduler
