// Projections are fed by durable events in order, resume from their
// checkpoint without loss or double counting, and a rebuild from position 1
// gives what incremental updates gave.

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "projections/space_directory.h"
#include "tests/unit/log_store.h"
#include "tests/unit/sample_events.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

// Records the batches it is given; its first flush waits until let_go().
class gated final : public projection {
  public:
    std::string name() const override { return "gated"; }
    result<void> apply(const events::envelope& e, rows&) override {
        std::lock_guard lock(mutex_);
        applied_.emplace_back(e.partition, e.pos);
        ++in_batch_;
        return success();
    }
    result<void> flush(rows&) override {
        std::unique_lock lock(mutex_);
        batches_.push_back(in_batch_);
        in_batch_ = 0;
        changed_.notify_all();
        changed_.wait(lock, [&] { return open_; });
        return success();
    }
    void wait_for_first_flush() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !batches_.empty(); });
    }
    void let_go() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    std::vector<std::size_t> batches() const {
        std::lock_guard lock(mutex_);
        return batches_;
    }
    std::vector<std::pair<partition_id, position>> applied() const {
        std::lock_guard lock(mutex_);
        return applied_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
    std::size_t in_batch_ = 0;
    std::vector<std::size_t> batches_;
    std::vector<std::pair<partition_id, position>> applied_;
};

// Writes rows out of key order, several times to the same keys, within
// each event; reads its own writes or not, as told.
class overwriting final : public projection {
  public:
    explicit overwriting(bool indexed) : indexed_(indexed) {}
    std::string name() const override { return indexed_ ? "overwriting_indexed" : "overwriting"; }
    bool reads_own_writes() const override { return indexed_; }
    result<void> apply(const events::envelope& e, rows& r) override {
        const std::string n = std::to_string(e.pos);
        r.put("z/" + n, "first");
        r.put("a/" + n, "first");
        r.remove("z/" + n);
        r.put("a/" + n, "second");
        r.put("m/last", n);
        r.put("gone", n);
        r.remove("gone");
        return success();
    }

  private:
    bool indexed_;
};

// Writes one row for the events at the positions it is given, none for
// the others.
class sparse final : public projection {
  public:
    explicit sparse(std::set<position> rows_at) : rows_at_(std::move(rows_at)) {}
    std::string name() const override { return "sparse"; }
    bool reads_own_writes() const override { return false; }
    result<void> apply(const events::envelope& e, rows& r) override {
        if (rows_at_.contains(e.pos)) r.put("row/" + std::to_string(e.pos), "");
        return success();
    }

  private:
    std::set<position> rows_at_;
};

// Holds a batch's events in memory and writes them in flush, a row per
// event whose value counts how often it was held (as the audit index holds
// its blocks); its apply refuses position 3 once.
class holding final : public projection {
  public:
    std::string name() const override { return "holding"; }
    bool reads_own_writes() const override { return false; }
    result<void> apply(const events::envelope& e, rows&) override {
        if (refuse_once && e.pos == 3) {
            refuse_once = false;
            return failure(errc::corruption, "refused once");
        }
        held_.push_back("row/" + std::to_string(e.partition) + "/" + std::to_string(e.pos));
        return success();
    }
    result<void> flush(rows& r) override {
        std::map<std::string, int> times;
        for (const auto& k : held_) ++times[k];
        for (const auto& [k, n] : times) r.put(k, std::to_string(n));
        held_.clear();
        return success();
    }
    void discard() override {
        ++discarded;
        held_.clear();
    }

    bool refuse_once = true;
    int discarded = 0;

  private:
    std::vector<std::string> held_;
};

class ProjectionRunnerTest : public ::testing::Test {
  protected:
    void open(const std::string& other_column_family = {}) {
        space_directory probe;
        std::vector<std::string> families{events::events_column_family, events::meta_column_family,
                                          column_family_of(probe)};
        if (!other_column_family.empty()) families.push_back(other_column_family);
        store_ = std::move(events::rocks_store::open({dir_.path(), families}).value());
        log_ = std::move(events::rocks_log::open(*store_, {.partitions = 4}).value());
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
    }
    void close() {
        runner_.reset();
        processor_.reset();
        log_.reset();
        store_.reset();
    }
    void start_runner() {
        runner_ = std::make_unique<runner>(*store_, *log_, directory_,
                                           runner_options{.batch_events = 7, .catch_up_events = 7});
        ASSERT_TRUE(runner_->start());
    }
    void run(engine::command c) {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        ASSERT_TRUE(processor_->submit({std::move(c), user_id{"admin"}, timestamp{1}, ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        ASSERT_TRUE(r) << r.error().message;
    }
    std::vector<space_entry> listed() {
        auto l = space_directory::list(store_->db(),
                                       store_->column_family(column_family_of(directory_)));
        EXPECT_TRUE(l);
        return l ? l.value() : std::vector<space_entry>{};
    }
    void some_work(int from, int to) {
        for (int i = from; i < to; ++i) {
            const space_id s{"s" + std::to_string(i)};
            run(engine::create_space{s, "Space " + std::to_string(i), ""});
            run(engine::create_journey{s, "J", "", std::nullopt, std::nullopt, ""});
            if (i % 3 == 0) run(engine::rename_space{s, "Renamed " + std::to_string(i)});
            if (i % 5 == 0) run(engine::delete_journey{journey_id{s.value + ".j1"}});
        }
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    space_directory directory_;
    std::unique_ptr<runner> runner_;
};

TEST_F(ProjectionRunnerTest, FollowsTheLogLive) {
    open();
    start_runner();
    some_work(0, 20);
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    auto spaces = listed();
    ASSERT_EQ(spaces.size(), 20u);
    std::map<std::string, space_entry> by_id;
    for (const auto& s : spaces) by_id[s.id] = s;
    EXPECT_EQ(by_id.at("s3").name, "Renamed 3");
    EXPECT_EQ(by_id.at("s4").journeys, 1u);
    EXPECT_EQ(by_id.at("s5").journeys, 0u);
    EXPECT_EQ(by_id.at("s1").created_by, "admin");
}

TEST_F(ProjectionRunnerTest, ResumesFromItsCheckpointWithoutLossOrDoubleCounting) {
    open();
    start_runner();
    some_work(0, 10);
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    runner_->stop();
    some_work(10, 25);  // while the projection is down
    close();
    open();
    start_runner();  // catch-up from the checkpoint, then live
    some_work(25, 30);
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    const auto incremental = listed();
    ASSERT_EQ(incremental.size(), 30u);
    for (const auto& s : incremental) {
        const int i = std::stoi(s.id.substr(1));
        EXPECT_EQ(s.journeys, i % 5 == 0 ? 0u : 1u) << s.id << " counted once";
    }

    // A rebuild from position 1 gives the same rows.
    runner_->stop();
    runner_.reset();
    runner rebuilder(*store_, *log_, directory_);
    std::uint64_t last_done = 0, last_total = 0;
    ASSERT_TRUE(rebuilder.rebuild([&](std::uint64_t done, std::uint64_t total) {
        EXPECT_GE(done, last_done);
        last_done = done;
        last_total = total;
        return true;
    }));
    EXPECT_EQ(last_done, last_total);
    EXPECT_EQ(listed(), incremental);
}

TEST_F(ProjectionRunnerTest, AFailedBatchLeavesNothingItHeldToTheNextStart) {
    holding h;
    open(column_family_of(h));
    some_work(0, 10);
    const runner_options small{.batch_events = 7, .catch_up_events = 7};
    {
        runner failing(*store_, *log_, h, small);
        auto started = failing.start();
        ASSERT_FALSE(started);
        EXPECT_EQ(started.error().message, "refused once");
        EXPECT_EQ(h.discarded, 1);
    }
    runner r(*store_, *log_, h, small);
    ASSERT_TRUE(r.start());
    ASSERT_TRUE(r.wait_caught_up(std::chrono::seconds(10)));
    std::uint64_t events = 0;
    for (partition_id p = 0; p < log_->partitions(); ++p) events += log_->head(p).pos;
    std::uint64_t rows = 0;
    auto* cf = store_->column_family(column_family_of(h));
    std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf));
    for (it->Seek("row/"); it->Valid() && it->key().starts_with("row/"); it->Next()) {
        EXPECT_EQ(it->value().ToString(), "1") << it->key().ToString() << " written once";
        ++rows;
    }
    EXPECT_EQ(rows, events);
}

// Appended batches that queue while one is applied are applied together,
// up to batch_events per write, in log order and each event once.
TEST_F(ProjectionRunnerTest, AppliesWhatQueuedMeanwhileInOneWrite) {
    gated g;
    open(column_family_of(g));
    runner r(*store_, *log_, g, runner_options{.batch_events = 7, .catch_up_events = 7});
    ASSERT_TRUE(r.start());
    run(engine::create_space{space_id{"first"}, "First", ""});
    g.wait_for_first_flush();
    // One event per appended group, in all partitions, while the runner
    // waits in its first flush.
    for (int i = 0; i < 20; ++i)
        run(engine::create_space{space_id{"s" + std::to_string(i)}, "Space", ""});
    g.let_go();
    ASSERT_TRUE(r.wait_caught_up(std::chrono::seconds(10)));
    EXPECT_EQ(g.batches(), (std::vector<std::size_t>{1, 7, 7, 6}));
    std::map<partition_id, position> last;
    for (const auto& [p, pos] : g.applied()) {
        EXPECT_EQ(pos, last[p] + 1) << "partition " << p;
        last[p] = pos;
    }
    EXPECT_EQ(g.applied().size(), 21u);
}

// Rows are written in key order, and the writes of one key keep their
// order: the last put or remove of a key in a batch is what the batch
// leaves, with a plain and with an indexed batch.
TEST_F(ProjectionRunnerTest, TheLastWriteOfAKeyInABatchStands) {
    overwriting plain(false);
    overwriting indexed(true);
    const auto plain_family = column_family_of(plain);
    const auto indexed_family = column_family_of(indexed);
    space_directory probe;
    store_ = std::move(
        events::rocks_store::open({dir_.path(),
                                   {events::events_column_family, events::meta_column_family,
                                    plain_family, indexed_family, column_family_of(probe)}})
            .value());
    log_ = std::move(events::rocks_log::open(*store_, {.partitions = 1}).value());
    processor_ = std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
    ASSERT_TRUE(processor_->start());
    for (int i = 0; i < 12; ++i)
        run(engine::create_space{space_id{"s" + std::to_string(i)}, "Space", ""});
    for (auto* p : {&plain, &indexed}) {
        runner r(*store_, *log_, *p, runner_options{.batch_events = 5, .catch_up_events = 5});
        ASSERT_TRUE(r.start());
        ASSERT_TRUE(r.wait_caught_up(std::chrono::seconds(10)));
        auto* cf = store_->column_family(column_family_of(*p));
        std::map<std::string, std::string> held;
        std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf));
        for (it->SeekToFirst(); it->Valid(); it->Next())
            if (!it->key().starts_with("checkpoint"))
                held[it->key().ToString()] = it->value().ToString();
        const position head = log_->head(0).pos;
        std::map<std::string, std::string> wanted{{"format", "1"},
                                                  {"m/last", std::to_string(head)}};
        for (position pos = 1; pos <= head; ++pos) wanted["a/" + std::to_string(pos)] = "second";
        EXPECT_EQ(held, wanted) << p->name();
    }
}

// A batch that writes no row is not written: its checkpoint is kept in
// memory (waiters see it at once) and written with the next batch that
// writes rows, alone after unsaved_events such events, and on stop.
TEST_F(ProjectionRunnerTest, ABatchWithoutRowsIsWrittenWithTheNextRowsOrOnStop) {
    sparse p({4, 9});
    const auto family = column_family_of(p);
    store_ = std::move(
        events::rocks_store::open(
            {dir_.path(), {events::events_column_family, events::meta_column_family, family}})
            .value());
    log_ = std::move(events::rocks_log::open(*store_, {.partitions = 1}).value());
    processor_ = std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
    ASSERT_TRUE(processor_->start());
    auto* cf = store_->column_family(family);
    auto saved = [&] {
        auto c = checkpoint::load(store_->db(), cf, 1);
        EXPECT_TRUE(c);
        return c ? c.value().at(0) : position{0};
    };
    auto space = [&](int i) {
        run(engine::create_space{space_id{"s" + std::to_string(i)}, "Space", ""});
    };
    {
        runner r(*store_, *log_, p,
                 runner_options{.batch_events = 1, .catch_up_events = 1, .unsaved_events = 3});
        ASSERT_TRUE(r.start());
        auto applied_up_to = [&](position pos) {
            ASSERT_TRUE(r.wait_caught_up(std::chrono::seconds(10)));
            ASSERT_EQ(log_->head(0).pos, pos);
            EXPECT_EQ(r.position_now().at(0), pos);
        };
        space(1);
        space(2);
        applied_up_to(2);
        EXPECT_EQ(saved(), 0u) << "two events without rows are not written";
        space(3);
        applied_up_to(3);
        EXPECT_EQ(saved(), 3u) << "the third one writes the checkpoint alone";
        space(4);
        applied_up_to(4);
        EXPECT_EQ(saved(), 4u) << "a batch with a row writes its checkpoint";
        space(5);
        applied_up_to(5);
        EXPECT_EQ(saved(), 4u);
        bool told = false;
        r.when_applied(0, 5, [&] { told = true; });
        EXPECT_TRUE(told) << "a waiter hears of an unwritten checkpoint at once";
        r.stop();
        EXPECT_EQ(saved(), 5u) << "stop writes what it kept";
    }
    // After a crash that lost the kept checkpoint, the events from the saved
    // one are applied again: they write nothing, and the rows are the same.
    {
        rocksdb::WriteBatch back;
        checkpoint at4(1);
        at4.advance(0, 4);
        ASSERT_TRUE(at4.put(back, cf));
        ASSERT_TRUE(store_->db().Write({}, &back).ok());
    }
    for (int i = 6; i <= 10; ++i) space(i);
    runner r(*store_, *log_, p,
             runner_options{.batch_events = 1, .catch_up_events = 1, .unsaved_events = 3});
    ASSERT_TRUE(r.start());
    ASSERT_TRUE(r.wait_caught_up(std::chrono::seconds(10)));
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    EXPECT_EQ(keys, (std::vector<std::string>{"checkpoint", "format", "row/4", "row/9"}));
    EXPECT_EQ(saved(), 9u) << "the catch-up wrote the batch with row 9 and kept event 10";
}

TEST_F(ProjectionRunnerTest, RecordsItsFormatAndRefusesRowsOfAnother) {
    open();
    auto* cf = store_->column_family(column_family_of(directory_));
    EXPECT_EQ(stored_format(store_->db(), cf).value(), std::nullopt) << "a new family";
    some_work(0, 3);
    start_runner();
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    runner_->stop();
    EXPECT_EQ(stored_format(store_->db(), cf).value(), std::optional<std::uint32_t>(1));
    const auto before = listed();
    ASSERT_EQ(before.size(), 3u);

    // Rows of a format this build does not write are not read.
    ASSERT_TRUE(store_->db().Put({}, cf, "format", "2").ok());
    {
        runner r(*store_, *log_, directory_);
        auto started = r.start();
        ASSERT_FALSE(started);
        EXPECT_EQ(started.error().code, errc::invalid_argument);
        EXPECT_NE(started.error().message.find("format 2"), std::string::npos)
            << started.error().message;
    }
    for (const std::string bad : {"", "x", "0", "1x", "99999999999"}) {
        ASSERT_TRUE(store_->db().Put({}, cf, "format", bad).ok());
        auto held = stored_format(store_->db(), cf);
        ASSERT_FALSE(held) << bad;
        EXPECT_EQ(held.error().code, errc::corruption);
        runner r(*store_, *log_, directory_);
        EXPECT_FALSE(r.start()) << bad;
    }
    EXPECT_EQ(listed(), before);

    // Rows with a checkpoint and no format were written before formats
    // were recorded: format 1, read as they are, and recorded from then on.
    ASSERT_TRUE(store_->db().Delete({}, cf, "format").ok());
    EXPECT_EQ(stored_format(store_->db(), cf).value(), std::optional<std::uint32_t>(1));
    start_runner();
    some_work(3, 4);
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    EXPECT_EQ(listed().size(), 4u);
    std::string format;
    ASSERT_TRUE(store_->db().Get({}, cf, "format", &format).ok());
    EXPECT_EQ(format, "1");
}

TEST_F(ProjectionRunnerTest, RefusesAStoreWithoutItsColumnFamily) {
    std::tie(store_, log_) = testing_support::open_log_store(dir_.path(), 4);
    runner r(*store_, *log_, directory_);
    auto started = r.start();
    ASSERT_FALSE(started);
    EXPECT_NE(started.error().message.find("projection.space_directory"), std::string::npos);
}

}  // namespace
}  // namespace migops::projections
