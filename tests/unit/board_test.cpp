// The board read model: what the API reads (journeys with progress, tasks,
// spaces, my tasks, readers) follows the log, survives a restart, and a
// rebuild from position 1 gives exactly what incremental updates gave.

#include <gtest/gtest.h>

#include <future>

#include <boost/json/parse.hpp>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "engine/template_catalog.h"
#include "events/rocks_log.h"
#include "projections/board.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

using boost::json::object;

class BoardTest : public ::testing::Test {
  protected:
    void SetUp() { open(); }
    void open() {
        board probe;
        store_ = std::move(
            events::rocks_store::open({dir_.path(),
                                       {events::events_column_family, events::meta_column_family,
                                        column_family_of(probe)}})
                .value());
        log_ = std::move(events::rocks_log::open(*store_, {.partitions = 4}).value());
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        board_ = std::make_unique<board>();
        runner_ =
            std::make_unique<runner>(*store_, *log_, *board_, runner_options{.batch_events = 5});
        ASSERT_TRUE(runner_->start());
        cf_ = store_->column_family(column_family_of(*board_));
    }
    void close() {
        runner_.reset();
        board_.reset();
        processor_.reset();
        log_.reset();
        store_.reset();
    }
    std::vector<events::envelope> run(engine::command c, const std::string& actor = "admin") {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit({std::move(c), user_id{actor}, timestamp{++now_}, ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        EXPECT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
        return r ? r.value() : std::vector<events::envelope>{};
    }
    std::optional<object> row(const std::string& key) {
        auto r = board::get(store_->db(), cf_, key);
        EXPECT_TRUE(r);
        if (!r || !r.value()) return std::nullopt;
        return boost::json::parse(*r.value()).as_object();
    }
    std::vector<std::string> keys(const std::string& prefix) {
        auto rows = board::scan(store_->db(), cf_, prefix, 10'000);
        EXPECT_TRUE(rows);
        std::vector<std::string> out;
        for (const auto& r : rows.value()) out.push_back(r.key.substr(prefix.size()));
        return out;
    }
    std::map<std::string, std::string> all_rows() {
        std::map<std::string, std::string> out;
        std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf_));
        for (it->SeekToFirst(); it->Valid(); it->Next())
            out[it->key().ToString()] = it->value().ToString();
        return out;
    }
    // A space with a journey from the built-in database template.
    journey_id journey_in(const space_id& s) {
        run(engine::create_space{s, "Space " + s.value, ""});
        auto templates = engine::builtin_templates();
        EXPECT_TRUE(templates);
        const auto& t = templates.value().front();
        auto created =
            run(engine::create_journey{s, "Move", "", std::nullopt, t, engine::template_hash(t)});
        return std::get<events::journey_created>(created.at(0).data).journey;
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    std::unique_ptr<board> board_;
    std::unique_ptr<runner> runner_;
    rocksdb::ColumnFamilyHandle* cf_ = nullptr;
    std::int64_t now_ = 0;
};

TEST_F(BoardTest, ShowsTheJourneyWithProgressAndTasks) {
    const auto j = journey_in(space_id{"acme"});
    auto journey = row("journey/" + j.value);
    ASSERT_TRUE(journey);
    const auto& phases = journey->at("phases").as_array();
    ASSERT_FALSE(phases.empty());
    const auto total = journey->at("progress").at("total").as_int64();
    EXPECT_GT(total, 0);
    EXPECT_EQ(journey->at("progress").at("completed").as_int64(), 0);
    const std::string task(phases[0].at("modules").at(0).at("tasks").at(0).at("id").as_string());
    // Out of scope: it leaves the total.
    run(engine::change_task_status{node_id{task}, events::task_status::out_of_scope, "", {}});
    journey = row("journey/" + j.value);
    EXPECT_EQ(journey->at("progress").at("total").as_int64(), total - 1);
    EXPECT_EQ(journey->at("progress").at("by_status").at("out_of_scope").as_int64(), 1);
    auto t = row("task/" + task);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->at("status").as_string(), "out_of_scope");
    EXPECT_EQ(t->at("journey").as_string(), j.value);
    // The version is the ETag and comes first.
    auto raw = board::get(store_->db(), cf_, "task/" + task);
    EXPECT_TRUE(raw.value()->starts_with("{\"version\":"));
}

TEST_F(BoardTest, MyTasksFollowDirectAndTeamAssignment) {
    const space_id s{"acme"};
    const auto j = journey_in(s);
    run(engine::create_team{s, "DBAs"});
    const team_id team{"acme.t1"};
    run(engine::add_team_member{team, user_id{"carol"}});
    run(engine::grant_role{s, j, user_id{"bob"}, {}, events::role::journey_contributor});
    run(engine::grant_role{s, j, {}, team, events::role::team_contributor});
    const node_id a{j.value + ".n3"};
    run(engine::assign_task{a, user_id{"bob"}, {}});
    EXPECT_EQ(keys("assigned/u/bob/"), std::vector<std::string>{a.value});
    run(engine::assign_task{a, {}, team});
    EXPECT_TRUE(keys("assigned/u/bob/").empty());
    EXPECT_EQ(keys("assigned/t/acme.t1/"), std::vector<std::string>{a.value});
    EXPECT_EQ(keys("team_of/carol/"), std::vector<std::string>{"acme.t1"});
    run(engine::remove_team_member{team, user_id{"carol"}});
    EXPECT_TRUE(keys("team_of/carol/").empty());
    // Deleting the task removes its rows.
    run(engine::delete_node{a});
    EXPECT_TRUE(keys("assigned/t/acme.t1/").empty());
    EXPECT_FALSE(row("task/" + a.value));
}

TEST_F(BoardTest, ReadersFollowGrantsAndRevocations) {
    const space_id s{"acme"};
    const auto j = journey_in(s);
    EXPECT_TRUE(board_->may_read(user_id{"admin"}, s));
    EXPECT_FALSE(board_->may_read(user_id{"bob"}, s));
    run(engine::grant_role{s, j, user_id{"bob"}, {}, events::role::journey_contributor});
    EXPECT_TRUE(board_->may_read(user_id{"bob"}, s));
    EXPECT_EQ(board_->role_in_journey(user_id{"bob"}, j), events::role::journey_contributor);
    EXPECT_EQ(keys("reader/bob/"), std::vector<std::string>{s.value});
    run(engine::revoke_role{s, j, user_id{"bob"}, {}});
    EXPECT_FALSE(board_->may_read(user_id{"bob"}, s));
    EXPECT_TRUE(keys("reader/bob/").empty());
    // Through a team with a space role.
    run(engine::create_team{s, "Ops"});
    run(engine::add_team_member{team_id{"acme.t1"}, user_id{"dave"}});
    EXPECT_FALSE(board_->may_read(user_id{"dave"}, s));
    run(engine::grant_role{s, {}, {}, team_id{"acme.t1"}, events::role::space_contributor});
    EXPECT_TRUE(board_->may_read(user_id{"dave"}, s));
    // Deleting the space removes what the API shows of it.
    run(engine::delete_space{s});
    EXPECT_FALSE(board_->may_read(user_id{"admin"}, s));
    EXPECT_FALSE(row("space/acme"));
    EXPECT_FALSE(row("journey/" + j.value));
    EXPECT_TRUE(keys("task/acme.").empty());
}

TEST_F(BoardTest, RestartAndRebuildGiveWhatIncrementalUpdatesGave) {
    for (int i = 0; i < 6; ++i) {
        const space_id s{"s" + std::to_string(i)};
        const auto j = journey_in(s);
        run(engine::grant_role{
            s, {}, user_id{"u" + std::to_string(i)}, {}, events::role::space_contributor});
        run(engine::create_team{s, "T"});
        run(engine::add_team_member{team_id{s.value + ".t1"}, user_id{"m" + std::to_string(i)}});
        run(engine::grant_role{s, j, {}, team_id{s.value + ".t1"}, events::role::team_contributor});
        const node_id task{j.value + ".n3"};
        run(engine::assign_task{task, user_id{"u" + std::to_string(i)}, team_id{s.value + ".t1"}});
        run(engine::change_task_status{task, events::task_status::in_progress, "", {}});
        run(engine::add_comment{task, "on it"});
        run(engine::request_help{j, task.value, events::help_kind::advice, "which engine?"});
        run(engine::upload_artifact{task, "assessment.csv", "text/csv", 4, std::string(64, 'a')});
        if (i % 2 == 0)
            run(engine::change_task_status{task, events::task_status::completed, "", {}});
        if (i % 3 == 0) run(engine::delete_node{node_id{j.value + ".n4"}});
        if (i == 5) run(engine::delete_journey{j});
    }
    const auto incremental = all_rows();
    ASSERT_GT(incremental.size(), 50u);
    // A restart restores the fold from the log and changes nothing.
    close();
    open();
    EXPECT_EQ(all_rows(), incremental);
    EXPECT_TRUE(board_->may_read(user_id{"m1"}, space_id{"s1"}));
    // It goes on from there as before.
    run(engine::grant_role{space_id{"s1"}, {}, user_id{"zed"}, {}, events::role::space_admin});
    run(engine::assign_task{node_id{"s1.j1.n3"}, user_id{"zed"}, {}});
    EXPECT_EQ(keys("assigned/u/zed/"), std::vector<std::string>{"s1.j1.n3"});
    const auto after = all_rows();
    // A rebuild from position 1 gives the same rows.
    runner_->stop();
    ASSERT_TRUE(runner_->rebuild());
    EXPECT_EQ(all_rows(), after);
}

}  // namespace
}  // namespace migops::projections
