// The read models' generations: a rebuild beside the live generation while
// commands keep coming gives exactly the rows a quiet rebuild gives, answers
// every writer from a generation that has its events, switches the data
// directory to the new generation and drops the old one; a rebuild a crash
// interrupted is dropped on the next open; one rebuild at a time.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "projections/audit_index.h"
#include "projections/board.h"
#include "projections/catalogue.h"
#include "projections/read_models.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

using namespace std::chrono_literals;
using rows_map = std::map<std::string, std::string>;

class ReadModelsTest : public ::testing::Test {
  protected:
    void SetUp() override { open(); }
    void TearDown() override { close(); }
    void open() {
        std::tie(store_, log_) = testing_support::open_log_store(dir_.path(), 4, tune_family);
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        auto m = read_models::open(*store_, *log_,
                                   runner_options{.batch_events = 64, .catch_up_events = 64});
        ASSERT_TRUE(m) << m.error().message;
        models_ = std::move(m).value();
    }
    void close() {
        if (models_) models_->stop();
        models_.reset();
        if (processor_) processor_->stop();
        processor_.reset();
        log_.reset();
        store_.reset();
    }
    std::vector<events::envelope> run(engine::command c) {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit({std::move(c), user_id{"admin"}, timestamp{++now_}, ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        return r ? r.value() : std::vector<events::envelope>{};
    }
    void some_spaces(int from, int to) {
        for (int i = from; i < to; ++i)
            run(engine::create_space{space_id{"s" + std::to_string(i)},
                                     "Space " + std::to_string(i), ""});
    }
    // n spaces, submitted a chunk at a time without waiting for each (the
    // processor commits them in groups): history for a rebuild to chew on.
    void many_spaces(const std::string& prefix, int n) {
        constexpr int chunk = 2000;
        for (int from = 0; from < n; from += chunk) {
            std::vector<std::future<bool>> done;
            for (int i = from; i < std::min(n, from + chunk); ++i) {
                auto p = std::make_shared<std::promise<bool>>();
                done.push_back(p->get_future());
                auto queued = processor_->submit(
                    {engine::create_space{space_id{prefix + std::to_string(i)}, "Space", ""},
                     user_id{"admin"}, timestamp{now_ + i}, ""},
                    [p](auto r) { p->set_value(static_cast<bool>(r)); });
                ASSERT_TRUE(queued);
            }
            for (auto& f : done) ASSERT_TRUE(f.get());
        }
        now_ += n;
    }
    rows_map rows_of(rocksdb::ColumnFamilyHandle* cf) {
        rows_map out;
        std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf));
        for (it->SeekToFirst(); it->Valid(); it->Next())
            out.emplace(it->key().ToString(), it->value().ToString());
        EXPECT_TRUE(it->status().ok());
        return out;
    }
    bool has_family(const std::string& name) {
        const auto names = store_->column_family_names();
        return std::find(names.begin(), names.end(), name) != names.end();
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    std::unique_ptr<read_models> models_;
    std::int64_t now_ = 1'700'000'000'000'000;
};

TEST_F(ReadModelsTest, ARebuildWhileCommandsComeSwitchesToTheRowsAQuietRebuildGives) {
    ASSERT_TRUE(models_->start());
    some_spaces(0, 300);
    many_spaces("m", 20'000);
    ASSERT_TRUE(models_->current()->wait_caught_up(30s));
    const auto before = models_->current();
    EXPECT_EQ(before->number, 0u);

    // A writer keeps creating spaces during the rebuild; each is answered
    // once the read models have it, as the API answers, and the generation
    // it is answered from must show it, as must the one a read right after
    // the answer gets (current()), across the switch too.
    std::atomic<bool> writing{true};
    std::atomic<int> written{0};
    std::atomic<int> shown_missing{0};
    std::atomic<int> read_missing{0};
    std::atomic<int> while_rebuilding{0};
    std::thread writer([&] {
        for (int i = 1000; writing.load() || i < 1100; ++i) {
            auto events = run(engine::create_space{space_id{"w" + std::to_string(i)}, "W", ""});
            if (events.empty()) continue;
            std::promise<void> answered;
            models_->when_applied(events.back().partition, events.back().pos,
                                  [&, key = "space/w" + std::to_string(i)](const auto& g) {
                                      auto row = board::get(store_->db(), g->board_rows, key);
                                      if (!row || !row.value()) ++shown_missing;
                                      answered.set_value();
                                  });
            answered.get_future().wait();
            const auto read = board::get(store_->db(), models_->current()->board_rows,
                                         "space/w" + std::to_string(i));
            if (!read || !read.value()) ++read_missing;
            ++written;
            if (models_->status().now == rebuild_status::state::running) ++while_rebuilding;
        }
    });
    std::vector<rebuild_status> seen;
    auto rebuilt = models_->rebuild([&](const rebuild_status& s) { seen.push_back(s); });
    writing.store(false);
    writer.join();
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
    EXPECT_GE(written.load(), 100);
    EXPECT_GT(while_rebuilding.load(), 0) << "the writes raced the rebuild";
    EXPECT_EQ(shown_missing.load(), 0);
    EXPECT_EQ(read_missing.load(), 0);

    const auto live = models_->current();
    EXPECT_EQ(live->number, 1u);
    EXPECT_EQ(models_->status().now, rebuild_status::state::switched);
    EXPECT_EQ(models_->status().live_generation, 1u);
    // Progress was told: each model's replay up to the events the log had.
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](const rebuild_status& s) {
        return s.replaying && s.events_total >= 20'300 && s.events_done == s.events_total &&
               s.events_per_second > 0;
    }));
    // The old generation's column families are gone; its rows stay readable
    // to whoever still holds it.
    EXPECT_FALSE(has_family("projection.board"));
    EXPECT_TRUE(has_family("projection.board.g1"));
    EXPECT_TRUE(board::get(store_->db(), before->board_rows, "space/s1").value().has_value());

    // What the live generation shows equals what a rebuild with nothing
    // coming in gives.
    ASSERT_TRUE(live->wait_caught_up(10s));
    const auto board_rows = rows_of(live->board_rows);
    const auto audit_rows = audit_index_entries(store_->db(), live->audit_rows).value();
    EXPECT_TRUE(board_rows.contains("space/w1000"));
    EXPECT_TRUE(board_rows.contains("space/s299"));
    ASSERT_TRUE(models_->rebuild());
    const auto quiet = models_->current();
    EXPECT_EQ(quiet->number, 2u);
    EXPECT_EQ(rows_of(quiet->board_rows), board_rows);
    EXPECT_EQ(audit_index_entries(store_->db(), quiet->audit_rows).value(), audit_rows);
    EXPECT_FALSE(has_family("projection.board.g1"));

    // The data directory remembers the generation.
    close();
    open();
    EXPECT_EQ(models_->current()->number, 2u);
    ASSERT_TRUE(models_->start());
    EXPECT_EQ(rows_of(models_->current()->board_rows), board_rows);
}

TEST_F(ReadModelsTest, ARebuildACrashInterruptedIsDroppedOnOpen) {
    ASSERT_TRUE(models_->start());
    some_spaces(0, 20);
    ASSERT_TRUE(models_->current()->wait_caught_up(10s));
    // As a crash leaves it: generation 1's column families, half written,
    // and the data directory still on generation 0.
    auto* half = store_->create_column_family("projection.board.g1").value();
    ASSERT_TRUE(store_->db().Put({}, half, "space/s0", "half").ok());
    close();
    open();
    EXPECT_FALSE(has_family("projection.board.g1"));
    EXPECT_EQ(models_->current()->number, 0u);
    ASSERT_TRUE(models_->start());
    EXPECT_TRUE(
        board::get(store_->db(), models_->current()->board_rows, "space/s19").value().has_value());
    // The next rebuild makes generation 1 afresh.
    ASSERT_TRUE(models_->rebuild());
    EXPECT_NE(board::get(store_->db(), models_->current()->board_rows, "space/s0").value(),
              std::optional<std::string>("half"));
}

TEST_F(ReadModelsTest, AModelOfAnOlderFormatReplaysTheLogOnOpen) {
    ASSERT_TRUE(models_->start());
    some_spaces(0, 20);
    ASSERT_TRUE(models_->current()->wait_caught_up(10s));
    const auto wanted = audit_index_entries(store_->db(), models_->current()->audit_rows);
    ASSERT_TRUE(wanted);
    const auto board_rows = rows_of(models_->current()->board_rows);
    close();
    {
        // As an older build left it: a checkpoint, rows of format 1, and no
        // format recorded.
        auto [store, log] = testing_support::open_log_store(dir_.path(), 4);
        auto* cf = store->column_family("projection.audit_index");
        ASSERT_NE(cf, nullptr);
        ASSERT_TRUE(store->db().Delete({}, cf, "format").ok());
        ASSERT_TRUE(store->db().Put({}, cf, std::string("m/\x00\x06\x0a", 5), "old").ok());
    }
    open();
    ASSERT_TRUE(models_->start());
    ASSERT_TRUE(models_->current()->wait_caught_up(10s));
    const auto rows = rows_of(models_->current()->audit_rows);
    EXPECT_EQ(rows.at("format"), "2");
    EXPECT_FALSE(rows.contains(std::string("m/\x00\x06\x0a", 5))) << "the old rows are dropped";
    const auto replayed = audit_index_entries(store_->db(), models_->current()->audit_rows);
    ASSERT_TRUE(replayed);
    EXPECT_EQ(replayed.value(), wanted.value());
    EXPECT_EQ(rows_of(models_->current()->board_rows), board_rows) << "the board is kept";
}

// Each model's rows go into the memtable beside the last row of their run
// (row_runs), and its level 0 is not compressed (levels 1 and on are, as the
// log's are): the families of the live generation and of the one a rebuild
// makes get these options, made and opened again.
TEST_F(ReadModelsTest, EveryGenerationsFamiliesGetTheirModelsOptions) {
    ASSERT_TRUE(models_->start());
    some_spaces(0, 5);
    ASSERT_TRUE(models_->current()->wait_caught_up(10s));
    const auto runs_of = [&](const std::string& family) -> const rocksdb::SliceTransform* {
        auto* cf = store_->column_family(family);
        EXPECT_NE(cf, nullptr) << family;
        if (!cf) return nullptr;
        return store_->db().GetOptions(cf).memtable_insert_with_hint_prefix_extractor.get();
    };
    const auto board_runs = board{}.row_runs();
    const auto audit_runs = audit_index{}.row_runs();
    ASSERT_NE(board_runs, nullptr);
    ASSERT_NE(audit_runs, nullptr);
    ASSERT_NE(board_runs, audit_runs);
    const auto compression_of = [&](const std::string& family) {
        auto* cf = store_->column_family(family);
        EXPECT_NE(cf, nullptr) << family;
        return cf ? store_->db().GetOptions(cf).compression_per_level
                  : std::vector<rocksdb::CompressionType>{};
    };
    const auto store_compression = store_->db().GetOptions().compression;
    EXPECT_NE(store_compression, rocksdb::kNoCompression);
    const auto expect_runs = [&](const std::string& suffix) {
        EXPECT_EQ(runs_of("projection.board" + suffix), board_runs.get()) << suffix;
        EXPECT_EQ(runs_of("projection.audit_index" + suffix), audit_runs.get()) << suffix;
        EXPECT_EQ(runs_of("projection.space_directory" + suffix), nullptr) << suffix;
        for (const auto* model : {"board", "audit_index", "space_directory"}) {
            const auto levels = compression_of(std::string("projection.") + model + suffix);
            ASSERT_GE(levels.size(), 2u) << model << suffix;
            EXPECT_EQ(levels.front(), rocksdb::kNoCompression) << model << suffix;
            for (std::size_t l = 1; l < levels.size(); ++l)
                EXPECT_EQ(levels[l], store_compression) << model << suffix << " level " << l;
        }
    };
    expect_runs("");
    EXPECT_EQ(runs_of(events::events_column_family), nullptr);
    EXPECT_EQ(runs_of(events::meta_column_family), nullptr);
    EXPECT_TRUE(compression_of(events::events_column_family).empty());
    ASSERT_TRUE(models_->rebuild());
    ASSERT_EQ(models_->current()->number, 1u);
    expect_runs(".g1");
    close();
    open();
    expect_runs(".g1");
    ASSERT_TRUE(models_->start());
    EXPECT_TRUE(
        board::get(store_->db(), models_->current()->board_rows, "space/s4").value().has_value());
}

TEST_F(ReadModelsTest, OneRebuildAtATime) {
    ASSERT_TRUE(models_->start());
    some_spaces(0, 20);
    std::optional<error> second;
    auto first = models_->rebuild([&](const rebuild_status&) {
        if (second) return;
        auto r = models_->rebuild();
        second = r ? error{} : r.error();
        auto t = models_->start_rebuild();
        EXPECT_FALSE(t);
    });
    ASSERT_TRUE(first);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->code, errc::rule_refused);
    EXPECT_NE(second->message.find("already running"), std::string::npos);
    EXPECT_EQ(models_->current()->number, 1u);
}

TEST_F(ReadModelsTest, StopEndsARunningRebuildAndServingGoesOn) {
    ASSERT_TRUE(models_->start());
    some_spaces(0, 2000);
    ASSERT_TRUE(models_->start_rebuild());
    EXPECT_EQ(models_->status().now, rebuild_status::state::running);
    models_->stop();
    const auto s = models_->status();
    EXPECT_NE(s.now, rebuild_status::state::running);
    const auto live = s.live_generation;
    close();
    open();
    // Whichever generation was recorded is complete after its catch-up.
    EXPECT_EQ(models_->current()->number, live);
    ASSERT_TRUE(models_->start());
    ASSERT_TRUE(models_->current()->wait_caught_up(10s));
    EXPECT_TRUE(board::get(store_->db(), models_->current()->board_rows, "space/s1999")
                    .value()
                    .has_value());
}

TEST_F(ReadModelsTest, TheLagOfEachModelIsTheEventsItHasYetToApply) {
    // Not started: every model is behind by all the log holds, over its
    // partitions.
    some_spaces(0, 30);
    std::uint64_t in_log = 0;
    for (partition_id p = 0; p < log_->partitions(); ++p) in_log += log_->head(p).pos;
    ASSERT_EQ(in_log, 30u);
    auto lag = models_->current()->lag(*log_);
    ASSERT_EQ(lag.size(), models_->current()->models.size());
    std::set<std::string> names;
    for (const auto& l : lag) {
        names.insert(l.model);
        EXPECT_EQ(l.events, in_log) << l.model;
    }
    EXPECT_TRUE(names.contains("board"));
    EXPECT_TRUE(names.contains("audit_index"));

    // Caught up, then following the log: none behind.
    ASSERT_TRUE(models_->start());
    some_spaces(30, 40);
    ASSERT_TRUE(models_->current()->wait_caught_up(30s));
    for (const auto& l : models_->current()->lag(*log_)) EXPECT_EQ(l.events, 0u) << l.model;
}

}  // namespace
}  // namespace migops::projections
