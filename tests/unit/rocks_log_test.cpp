#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include "events/codec.h"
#include "events/rocks_log.h"
#include "tests/unit/temp_dir.h"

namespace migops::events {
namespace {

rocks_store_options store_options(const std::filesystem::path& dir) {
    return {dir, {events_column_family, meta_column_family}, nullptr};
}

std::vector<envelope> make_batch(partition_id p, chain_head& head, int n) {
    std::vector<envelope> out;
    for (int i = 0; i < n; ++i) {
        envelope e;
        e.event_id = random_id();
        e.partition = p;
        e.space = space_id{"space-" + std::to_string(p)};
        e.time = timestamp{1'000'000 * (static_cast<std::int64_t>(head.pos) + 1)};
        e.actor = user_id{"alice"};
        e.data = space_renamed{"name " + std::to_string(head.pos + 1)};
        head = seal(e, head);
        out.push_back(std::move(e));
    }
    return out;
}

class RocksLogTest : public ::testing::Test {
  protected:
    testing_support::temp_dir dir_;
};

TEST_F(RocksLogTest, AppendsReadsAndReopens) {
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        ASSERT_TRUE(store) << store.error().message;
        auto log = rocks_log::open(*store.value(), {.partitions = 4});
        ASSERT_TRUE(log) << log.error().message;
        chain_head h{};
        auto r = log.value()->append(2, make_batch(2, h, 5));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r.value().first, 1u);
        EXPECT_EQ(r.value().last, 5u);
        r = log.value()->append(2, make_batch(2, h, 3));
        ASSERT_TRUE(r);
        EXPECT_EQ(r.value().last, 8u);
        EXPECT_EQ(log.value()->head(2), h);
        EXPECT_EQ(log.value()->head(1), chain_head{});
    }
    auto store = rocks_store::open(store_options(dir_.path()));
    ASSERT_TRUE(store);
    auto log = rocks_log::open(*store.value(), {.partitions = 4, .verify_all = true});
    ASSERT_TRUE(log) << log.error().message;
    EXPECT_EQ(log.value()->head(2).pos, 8u);
    auto events = log.value()->read(2, 4, 100);
    ASSERT_TRUE(events);
    ASSERT_EQ(events.value().size(), 5u);
    EXPECT_EQ(events.value().front().pos, 4u);
    EXPECT_EQ(std::get<space_renamed>(events.value().back().data).name, "name 8");
    EXPECT_TRUE(log.value()->read(1, 1, 10).value().empty());
}

// The log's table files are LZ4 (rocks_store.cpp), whatever RocksDB's
// default; so are those of a column family made later (a rebuild's).
TEST_F(RocksLogTest, TableFilesAreWrittenWithLz4) {
    auto store = rocks_store::open(store_options(dir_.path()));
    ASSERT_TRUE(store) << store.error().message;
    auto log = rocks_log::open(*store.value(), {.partitions = 2});
    ASSERT_TRUE(log);
    chain_head h{};
    ASSERT_TRUE(log.value()->append(1, make_batch(1, h, 20)));
    auto later = store.value()->create_column_family("later");
    ASSERT_TRUE(later);
    auto& db = store.value()->db();
    ASSERT_TRUE(db.Put({}, later.value(), "key", "value").ok());
    for (auto* cf : {store.value()->column_family(events_column_family), later.value()}) {
        ASSERT_TRUE(db.Flush({}, cf).ok());
        rocksdb::TablePropertiesCollection tables;
        ASSERT_TRUE(db.GetPropertiesOfAllTables(cf, &tables).ok());
        ASSERT_FALSE(tables.empty());
        for (const auto& [file, props] : tables) EXPECT_EQ(props->compression_name, "LZ4") << file;
    }
}

// A read of many events (a rebuild's, an export's) scans: it does not fill
// the block cache, which a read of a few events does.
TEST_F(RocksLogTest, AScanLeavesTheBlockCacheAlone) {
    constexpr int events = 3000;
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        ASSERT_TRUE(store) << store.error().message;
        auto log = rocks_log::open(*store.value(), {.partitions = 2});
        ASSERT_TRUE(log);
        chain_head h{};
        for (int i = 0; i < events; i += 500)
            ASSERT_TRUE(log.value()->append(1, make_batch(1, h, 500)));
        auto* cf = store.value()->column_family(events_column_family);
        ASSERT_TRUE(store.value()->db().Flush({}, cf).ok());
    }
    // Opened again, with nothing in the cache and the events in table files.
    auto store = rocks_store::open(store_options(dir_.path()));
    ASSERT_TRUE(store);
    auto log = rocks_log::open(*store.value(), {.partitions = 2});
    ASSERT_TRUE(log);
    auto* cf = store.value()->column_family(events_column_family);
    const auto cached = [&] {
        std::uint64_t bytes = 0;
        EXPECT_TRUE(store.value()->db().GetIntProperty(cf, "rocksdb.block-cache-usage", &bytes));
        return bytes;
    };
    const auto before = cached();
    auto scanned = log.value()->read(1, 1, events);
    ASSERT_TRUE(scanned);
    ASSERT_EQ(scanned.value().size(), static_cast<std::size_t>(events));
    EXPECT_EQ(scanned.value().back().pos, static_cast<position>(events));
    EXPECT_EQ(cached(), before);
    auto few = log.value()->read(1, events / 2, 10);
    ASSERT_TRUE(few);
    ASSERT_EQ(few.value().size(), 10u);
    EXPECT_EQ(few.value().front().pos, static_cast<position>(events / 2));
    EXPECT_GT(cached(), before);
}

TEST_F(RocksLogTest, RefusesABatchThatDoesNotContinueTheChain) {
    auto store = rocks_store::open(store_options(dir_.path()));
    auto log = rocks_log::open(*store.value(), {.partitions = 2});
    chain_head h{};
    ASSERT_TRUE(log.value()->append(0, make_batch(0, h, 2)));
    chain_head wrong{};
    EXPECT_EQ(log.value()->append(0, make_batch(0, wrong, 1)).error().code, errc::invalid_argument);
    chain_head gap = h;
    gap.pos += 1;
    EXPECT_FALSE(log.value()->append(0, make_batch(0, gap, 1)));
    EXPECT_FALSE(log.value()->append(1, make_batch(0, h, 1)));  // events of another partition
    EXPECT_FALSE(log.value()->append(0, {}));
    EXPECT_EQ(log.value()->head(0).pos, 2u);
}

TEST_F(RocksLogTest, AppendsAGroupOfSeveralPartitionsAsOneUnit) {
    auto store = rocks_store::open(store_options(dir_.path()));
    auto log = rocks_log::open(*store.value(), {.partitions = 3});
    chain_head h0{}, h2{};
    auto a = make_batch(0, h0, 2);
    auto b = make_batch(2, h2, 3);
    auto c = make_batch(0, h0, 1);  // the same partition again, continuing a
    std::vector<partition_batch> group{{0, a}, {2, b}, {0, c}};
    ASSERT_TRUE(log.value()->append_group(group));
    EXPECT_EQ(log.value()->head(0), h0);
    EXPECT_EQ(log.value()->head(0).pos, 3u);
    EXPECT_EQ(log.value()->head(2).pos, 3u);

    // One bad batch refuses the whole group: nothing of it is written.
    chain_head wrong{};
    auto d = make_batch(2, h2, 1);
    auto e = make_batch(0, wrong, 1);
    std::vector<partition_batch> bad{{2, d}, {0, e}};
    EXPECT_FALSE(log.value()->append_group(bad));
    EXPECT_EQ(log.value()->head(2).pos, 3u);
    EXPECT_EQ(log.value()->read(2, 4, 10).value().size(), 0u);
}

TEST_F(RocksLogTest, WritesMetaValuesWithAGroupOrNotAtAll) {
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        auto log = rocks_log::open(*store.value(), {.partitions = 2});
        chain_head h{};
        auto a = make_batch(1, h, 2);
        const partition_batch group[] = {{1, a}};
        const meta_put offset[] = {{"kafka_offset/t/1", "41"}};
        ASSERT_TRUE(log.value()->check_group(group));
        ASSERT_TRUE(log.value()->append_group(group, offset));

        // A group that does not continue the chain writes neither.
        chain_head wrong{};
        auto b = make_batch(1, wrong, 1);
        const partition_batch bad[] = {{1, b}};
        const meta_put later[] = {{"kafka_offset/t/1", "42"}};
        EXPECT_EQ(log.value()->check_group(bad).error().code, errc::invalid_argument);
        EXPECT_FALSE(log.value()->append_group(bad, later));
        EXPECT_FALSE(log.value()->check_group({}));

        const meta_put alone[] = {{"kafka_offset/t/0", "7"}};
        ASSERT_TRUE(log.value()->put_meta(alone));
    }
    auto store = rocks_store::open(store_options(dir_.path()));
    auto log = rocks_log::open(*store.value(), {.partitions = 2});
    ASSERT_TRUE(log);
    EXPECT_EQ(log.value()->head(1).pos, 2u);
    EXPECT_EQ(log.value()->get_meta("kafka_offset/t/1").value(), "41");
    EXPECT_EQ(log.value()->get_meta("kafka_offset/t/0").value(), "7");
    EXPECT_FALSE(log.value()->get_meta("kafka_offset/t/2").value().has_value());
}

TEST_F(RocksLogTest, RefusesAnotherPartitionCount) {
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        ASSERT_TRUE(rocks_log::open(*store.value(), {.partitions = 4}));
    }
    auto store = rocks_store::open(store_options(dir_.path()));
    auto log = rocks_log::open(*store.value(), {.partitions = 8});
    ASSERT_FALSE(log);
    EXPECT_NE(log.error().message.find("created with 4 partitions"), std::string::npos);
}

TEST_F(RocksLogTest, SecondOpenOfTheDirectoryFailsWithTheLock) {
    auto first = rocks_store::open(store_options(dir_.path()));
    ASSERT_TRUE(first);
    auto second = rocks_store::open(store_options(dir_.path()));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, errc::locked);
    EXPECT_NE(second.error().message.find("in use by another migops process"), std::string::npos);
}

TEST_F(RocksLogTest, TheLockHolderSaysWhoItIsAndWhatItNoted) {
    EXPECT_FALSE(rocks_store::holder(dir_.path()));  // nobody holds it
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        ASSERT_TRUE(store);
        auto holder = rocks_store::holder(dir_.path());
        ASSERT_TRUE(holder);
        EXPECT_EQ(holder->pid, std::to_string(::getpid()));
        EXPECT_EQ(holder->note, "");

        ASSERT_TRUE(store.value()->note_holder("http://127.0.0.1:18480"));
        holder = rocks_store::holder(dir_.path());
        ASSERT_TRUE(holder);
        EXPECT_EQ(holder->pid, std::to_string(::getpid()));
        EXPECT_EQ(holder->note, "http://127.0.0.1:18480");

        // A note of two lines is refused and changes nothing.
        auto refused = store.value()->note_holder("http://a\nhttp://b");
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, errc::invalid_argument);
        EXPECT_EQ(rocks_store::holder(dir_.path())->note, "http://127.0.0.1:18480");
    }
    // Released on close; the next holder's file says nothing of the last one's note.
    EXPECT_FALSE(rocks_store::holder(dir_.path()));
    auto next = rocks_store::open(store_options(dir_.path()));
    ASSERT_TRUE(next);
    EXPECT_EQ(rocks_store::holder(dir_.path())->note, "");
}

TEST_F(RocksLogTest, NotifiesListenersAfterDurableAppend) {
    auto store = rocks_store::open(store_options(dir_.path()));
    auto log = rocks_log::open(*store.value(), {.partitions = 2});
    std::vector<position> seen;
    auto token = log.value()->subscribe([&](partition_id p, std::span<const envelope> batch) {
        for (const auto& e : batch) {
            EXPECT_EQ(p, e.partition);
            seen.push_back(e.pos);
        }
    });
    chain_head h{};
    ASSERT_TRUE(log.value()->append(1, make_batch(1, h, 3)));
    log.value()->unsubscribe(token);
    ASSERT_TRUE(log.value()->append(1, make_batch(1, h, 1)));
    EXPECT_EQ(seen, (std::vector<position>{1, 2, 3}));
}

// A tampered stored event: open() names the partition and position and
// refuses to start; with the tail check it is found when it is in the
// tail, and verify_all finds it anywhere.
TEST_F(RocksLogTest, RefusesToOpenOnABrokenChain) {
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        auto log = rocks_log::open(*store.value(), {.partitions = 1});
        chain_head h{};
        ASSERT_TRUE(log.value()->append(0, make_batch(0, h, 50)));
        // Change event 10's name and re-store it as if written so.
        auto e = log.value()->read(0, 10, 1).value().front();
        std::get<space_renamed>(e.data).name = "forged";
        const auto k = rocks_log::key(0, 10);
        ASSERT_TRUE(store.value()
                        ->db()
                        .Put({}, store.value()->column_family(events_column_family),
                             rocksdb::Slice(k.data(), k.size()), encode_binary(e))
                        .ok());
    }
    {
        auto store = rocks_store::open(store_options(dir_.path()));
        auto log = rocks_log::open(*store.value(), {.partitions = 1, .verify_tail = 10});
        EXPECT_TRUE(log) << "position 10 is outside the verified tail";
    }
    auto store = rocks_store::open(store_options(dir_.path()));
    auto log = rocks_log::open(*store.value(), {.partitions = 1, .verify_all = true});
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error().code, errc::corruption);
    EXPECT_NE(log.error().message.find("position 10"), std::string::npos) << log.error().message;
}

}  // namespace
}  // namespace migops::events
