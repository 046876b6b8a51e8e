// Runners that replay the log together read each chunk of it once, and one
// far ahead of the others waits rather than hold the whole log.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <tuple>

#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "projections/shared_reads.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

constexpr std::uint32_t partitions = 4;
constexpr std::size_t chunk_events = 3;

using read_events = std::vector<std::pair<partition_id, position>>;

class SharedReadsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::tie(store_, log_) = testing_support::open_log_store(dir_.path(), partitions);
        engine::partition_processor processor(*log_, engine::processor_options{});
        ASSERT_TRUE(processor.start());
        for (int i = 0; i < 40; ++i) {
            const space_id s{"s" + std::to_string(i)};
            run(processor, engine::create_space{s, "Space", ""});
            run(processor, engine::rename_space{s, "Renamed"});
        }
    }
    static void run(engine::partition_processor& processor, engine::command c) {
        std::promise<bool> done;
        auto f = done.get_future();
        ASSERT_TRUE(processor.submit({std::move(c), user_id{"admin"}, timestamp{1}, ""},
                                     [&](auto r) { done.set_value(static_cast<bool>(r)); }));
        ASSERT_TRUE(f.get());
    }
    // Reads every partition in order as a catch-up does, chunk by chunk.
    static read_events read_all(const chunk_reader& read) {
        read_events out;
        for (partition_id p = 0; p < partitions; ++p) {
            position next = 1;
            for (;;) {
                auto c = read(p, next, chunk_events);
                EXPECT_TRUE(c);
                if (!c) return out;
                for (const auto& e : *c.value()) out.emplace_back(e.partition, e.pos);
                next += c.value()->size();
                if (c.value()->size() < chunk_events) break;
            }
        }
        return out;
    }
    read_events in_log() const {
        read_events out;
        for (partition_id p = 0; p < partitions; ++p)
            for (position pos = 1; pos <= log_->head(p).pos; ++pos) out.emplace_back(p, pos);
        return out;
    }
    // The reads a catch-up makes of the log: its full chunks, then the
    // short (or empty) one that ends each partition.
    std::size_t chunks_in_log() const {
        std::size_t n = 0;
        for (partition_id p = 0; p < partitions; ++p) n += log_->head(p).pos / chunk_events + 1;
        return n;
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
};

TEST_F(SharedReadsTest, ReadersGoingTogetherReadEachChunkOnceAndGetTheLog) {
    constexpr std::size_t readers = 3;
    constexpr std::size_t ahead = 2;
    shared_reads reads(*log_, readers, ahead);
    std::vector<read_events> got(readers);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < readers; ++i)
        threads.emplace_back([&, i] {
            got[i] = read_all(reads.reader(i));
            reads.done(i);
        });
    for (auto& t : threads) t.join();
    const auto expected = in_log();
    ASSERT_GT(expected.size(), 3 * chunk_events * partitions);
    for (std::size_t i = 0; i < readers; ++i) EXPECT_EQ(got[i], expected) << "reader " << i;
    // Beyond `ahead`, only a slowest reader adds a chunk, one at a time.
    EXPECT_LE(reads.most_held(), ahead + readers);
    EXPECT_EQ(reads.log_reads(), chunks_in_log()) << "every chunk is read from the log once";
    EXPECT_EQ(reads.held(), 0u) << "every chunk is let go once all readers are done";
}

TEST_F(SharedReadsTest, AReaderFarAheadWaitsForTheSlowestAndGoesOnWhenItIsDone) {
    constexpr std::size_t ahead = 2;
    shared_reads reads(*log_, 2, ahead);
    auto slow = reads.reader(0);
    auto first = slow(0, 1, chunk_events);
    ASSERT_TRUE(first);
    ASSERT_EQ(first.value()->size(), chunk_events);
    read_events got;
    std::atomic<bool> finished{false};
    std::thread fast([&] {
        got = read_all(reads.reader(1));
        finished = true;
    });
    // The fast reader holds no more than `ahead` chunks while the slow one
    // stays at its first: it waits there.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (reads.held() < ahead && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    EXPECT_EQ(reads.held(), ahead);
    EXPECT_FALSE(finished.load());
    reads.done(0);
    fast.join();
    EXPECT_EQ(got, in_log());
    EXPECT_EQ(reads.most_held(), ahead) << "nothing more was held while the slow reader read";
    reads.done(1);
    EXPECT_EQ(reads.held(), 0u);
}

}  // namespace
}  // namespace migops::projections
