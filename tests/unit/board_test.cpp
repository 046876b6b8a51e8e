// The board read model: what the API reads (journeys with progress, tasks,
// spaces, my tasks, readers) follows the log, survives a restart, and a
// rebuild from position 1 gives exactly what incremental updates gave; its
// snapshots give the board as it was at any past position or time.

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "engine/snapshot.h"
#include "engine/template_catalog.h"
#include "events/big_endian.h"
#include "events/rocks_log.h"
#include "projections/as_of.h"
#include "projections/audit_index.h"
#include "projections/board.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

using boost::json::object;

class BoardTest : public ::testing::Test {
  protected:
    void SetUp() { open(); }
    void open() {
        store_ = std::move(events::rocks_store::open(
                               {dir_.path(),
                                {events::events_column_family, events::meta_column_family,
                                 column_family_of(board{}), column_family_of(audit_index{})}})
                               .value());
        log_ = std::move(events::rocks_log::open(*store_, {.partitions = 4}).value());
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        board_ = std::make_unique<board>();
        runner_ = std::make_unique<runner>(*store_, *log_, *board_,
                                           runner_options{.batch_events = 5, .catch_up_events = 5});
        ASSERT_TRUE(runner_->start());
        cf_ = store_->column_family(column_family_of(*board_));
        audit_runner_ = std::make_unique<runner>(*store_, *log_, audit_);
        ASSERT_TRUE(audit_runner_->start());
        audit_cf_ = store_->column_family(column_family_of(audit_));
    }
    void close() {
        audit_runner_.reset();
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
        EXPECT_TRUE(audit_runner_->wait_caught_up(std::chrono::seconds(10)));
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

    // A space "s<i>" with a journey, a team, grants, an assigned task with
    // a comment, a help request and a file; some completed, some deleted.
    void busy_space(int i) {
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
        const auto added = run(
            engine::add_task{task, events::task_spec{"", "Check the copy", "", {}, {}, {}, {}, {}},
                             std::nullopt, std::nullopt});
        run(engine::add_comment{std::get<events::node_added>(added.at(0).data).node, "copied"});
        if (i % 2 == 0)
            run(engine::change_task_status{task, events::task_status::completed, "", {}});
        if (i % 3 == 0) run(engine::delete_node{node_id{j.value + ".n4"}});
        if (i == 5) run(engine::delete_journey{j});
    }
    // The fold of the log (of each partition up to position upto), as the
    // engine makes it.
    std::map<partition_id, engine::partition_state> fold_log(position upto = 1'000'000) {
        std::map<partition_id, engine::partition_state> out;
        for (partition_id p = 0; p < log_->partitions(); ++p) {
            auto events = log_->read(p, 1, upto);
            EXPECT_TRUE(events);
            for (const auto& e : events.value()) engine::apply(out[p], e);
        }
        return out;
    }
    result<past_space> as_of(const space_id& s, as_of_point at) {
        return space_as_of(store_->db(), cf_, audit_cf_, *log_, s, at);
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    std::unique_ptr<board> board_;
    std::unique_ptr<runner> runner_;
    rocksdb::ColumnFamilyHandle* cf_ = nullptr;
    audit_index audit_;
    std::unique_ptr<runner> audit_runner_;
    rocksdb::ColumnFamilyHandle* audit_cf_ = nullptr;
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

TEST_F(BoardTest, AWaitingTaskFollowsWhatItDependsOn) {
    const auto j = journey_in(space_id{"deps"});
    const auto journey = row("journey/" + j.value);
    ASSERT_TRUE(journey);
    const auto& tasks = journey->at("phases").at(0).at("modules").at(0).at("tasks").as_array();
    ASSERT_GE(tasks.size(), 2u);
    const node_id a{std::string(tasks.at(0).at("id").as_string())};
    const node_id b{std::string(tasks.at(1).at("id").as_string())};
    auto waiting = [&](const node_id& t) {
        return row("task/" + t.value)->at("waiting").as_bool();
    };
    EXPECT_FALSE(waiting(b));
    run(engine::add_dependency{b, a});
    EXPECT_TRUE(waiting(b));
    // A status change of what b waits on shows on b.
    run(engine::change_task_status{a, events::task_status::out_of_scope, "", {}});
    EXPECT_FALSE(waiting(b));
    run(engine::change_task_status{a, events::task_status::planned, "", {}});
    EXPECT_TRUE(waiting(b));
    run(engine::remove_dependency{b, a});
    EXPECT_FALSE(waiting(b));
    run(engine::change_task_status{a, events::task_status::out_of_scope, "", {}});
    run(engine::change_task_status{a, events::task_status::planned, "", {}});
    EXPECT_FALSE(waiting(b));
    // Deleted, a waits on nothing and shows no more.
    run(engine::add_dependency{b, a});
    EXPECT_TRUE(waiting(b));
    run(engine::delete_node{a});
    EXPECT_FALSE(waiting(b));
    EXPECT_FALSE(row("task/" + a.value));
    run(engine::change_task_status{b, events::task_status::in_progress, "", {}});
    EXPECT_FALSE(row("task/" + a.value));
    // Deleted, a task that waited shows no more when what it waited on
    // changes.
    const node_id module{
        std::string(journey->at("phases").at(0).at("modules").at(0).at("id").as_string())};
    const auto added =
        run(engine::add_task{module, events::task_spec{"", "Check", "", {}, {}, {}, {}, {}},
                             std::nullopt, std::nullopt});
    const node_id c = std::get<events::node_added>(added.at(0).data).node;
    run(engine::add_dependency{c, b});
    EXPECT_TRUE(waiting(c));
    run(engine::delete_node{c});
    run(engine::change_task_status{b, events::task_status::blocked, "stuck", {}});
    EXPECT_FALSE(row("task/" + c.value));
    // A rebuild gives the same rows.
    const auto incremental = all_rows();
    runner_->stop();
    ASSERT_TRUE(runner_->rebuild());
    EXPECT_EQ(all_rows(), incremental);
}

// The ids of the task rows a WriteBatch puts.
class task_rows_written final : public rocksdb::WriteBatch::Handler {
  public:
    rocksdb::Status PutCF(std::uint32_t, const rocksdb::Slice& key,
                          const rocksdb::Slice&) override {
        if (key.starts_with("task/")) keys.insert(key.ToString().substr(5));
        return rocksdb::Status::OK();
    }
    std::set<std::string> keys;
};

// A task that depends on another shows whether it waits: its row is written
// again when what it depends on opens or closes (completed, out of scope),
// not when that moves between open statuses.
TEST_F(BoardTest, ADependentIsRenderedAgainWhenWhatItWaitsOnOpensOrCloses) {
    const space_id s{"deps"};
    const auto j = journey_in(s);
    const auto journey = row("journey/" + j.value);
    ASSERT_TRUE(journey);
    const auto& tasks = journey->at("phases").at(0).at("modules").at(0).at("tasks").as_array();
    ASSERT_GE(tasks.size(), 2u);
    const std::string a(tasks.at(0).at("id").as_string());
    const std::string b(tasks.at(1).at("id").as_string());
    run(engine::add_dependency{node_id{b}, node_id{a}});
    for (const auto to : {events::task_status::in_progress, events::task_status::blocked,
                          events::task_status::out_of_scope, events::task_status::planned})
        run(engine::change_task_status{node_id{a}, to, "held", {}});

    // Each event of the log applied alone, in order, to a board of its own.
    board fresh;
    std::vector<std::pair<events::task_status, std::set<std::string>>> written;
    for (partition_id p = 0; p < log_->partitions(); ++p) {
        auto events = log_->read(p, 1, 1'000'000);
        ASSERT_TRUE(events);
        for (const auto& e : events.value()) {
            rocksdb::WriteBatch wb;
            rows r(store_->db(), cf_, wb);
            ASSERT_TRUE(fresh.apply(e, r));
            ASSERT_TRUE(fresh.flush(r));
            const auto* changed = std::get_if<events::task_status_changed>(&e.data);
            if (!changed) continue;
            task_rows_written seen;
            ASSERT_TRUE(wb.Iterate(&seen).ok());
            written.emplace_back(changed->to, std::move(seen.keys));
        }
    }
    using set = std::set<std::string>;
    EXPECT_EQ(written, (std::vector<std::pair<events::task_status, set>>{
                           {events::task_status::in_progress, set{a}},
                           {events::task_status::blocked, set{a}},
                           {events::task_status::out_of_scope, set{a, b}},
                           {events::task_status::planned, set{a, b}}}));
    EXPECT_TRUE(row("task/" + b)->at("waiting").as_bool());
}

// A task's row is what append_task_json with details renders from the log's fold,
// for tasks with and without subtasks, comments, help, files and evidence.
TEST_F(BoardTest, EveryTaskRowIsTheTaskWithItsDetails) {
    for (int i = 1; i <= 2; ++i) busy_space(i);
    std::size_t compared = 0;
    std::size_t with_subtasks = 0;
    std::size_t completed = 0;
    for (const auto& [p, state] : fold_log())
        for (const auto& [jid, js] : state.journeys)
            for (const auto& [nid, n] : js.nodes) {
                if (!n.is_task()) continue;
                auto stored = board::get(store_->db(), cf_, "task/" + nid.value);
                ASSERT_TRUE(stored && stored.value()) << nid.value;
                std::string whole;
                append_task_json(whole, js, n, true);
                EXPECT_EQ(*stored.value(), whole) << nid.value;
                ++compared;
                with_subtasks += n.children.empty() ? 0 : 1;
                completed += n.status == events::task_status::completed ? 1 : 0;
            }
    EXPECT_GT(compared, 10u);
    EXPECT_GT(with_subtasks, 0u);
    EXPECT_GT(completed, 0u);
}

// The journey row keeps each task's text from the render before and renders
// only what an event changed: after every kind of change it is the text a
// whole render of the log's fold gives.
TEST_F(BoardTest, TheJourneyRowIsWhatAWholeRenderGives) {
    const space_id s{"tree"};
    const auto j = journey_in(s);
    auto check = [&](const std::string& after) {
        const auto folded = fold_log();
        const engine::journey_state* js = nullptr;
        for (const auto& [p, state] : folded)
            if (const auto* found = state.journey(j)) js = found;
        ASSERT_NE(js, nullptr);
        auto stored = board::get(store_->db(), cf_, "journey/" + j.value);
        ASSERT_TRUE(stored && stored.value());
        EXPECT_EQ(*stored.value(), journey_json(*js)) << "after " << after;
    };
    check("creation");
    const auto journey = row("journey/" + j.value);
    const auto& module = journey->at("phases").at(0).at("modules").at(0);
    const node_id module_id{std::string(module.at("id").as_string())};
    const auto& tasks = module.at("tasks").as_array();
    ASSERT_GE(tasks.size(), 2u);
    const node_id a{std::string(tasks.at(0).at("id").as_string())};
    const node_id b{std::string(tasks.at(1).at("id").as_string())};

    run(engine::add_dependency{b, a});
    check("a dependency");
    run(engine::change_task_status{a, events::task_status::in_progress, "", {}});
    check("a status change of what another task waits on");
    run(engine::scope_node{module_id, false});
    check("a module out of scope");
    run(engine::scope_node{module_id, true});
    check("a module back in scope");
    run(engine::edit_node{module_id, "Renamed module", "Other words", {}, {}, {}});
    check("a module edit");
    run(engine::edit_node{a, "Renamed task", {}, {}, {}, {}});
    check("a task edit");
    run(engine::move_node{b, 0});
    check("a move");
    const auto added = run(engine::add_task{
        a, events::task_spec{"", "A subtask", "", {}, {}, {}, {}, {}}, std::nullopt, std::nullopt});
    const auto sub = std::get<events::node_added>(added.at(0).data).node;
    check("a subtask added");
    run(engine::change_task_status{sub, events::task_status::in_progress, "", {}});
    check("a subtask's status");
    run(engine::add_comment{sub, "half done"});
    check("a comment on a subtask");
    run(engine::upload_artifact{a, "plan.csv", "text/csv", 4, std::string(64, 'b')});
    check("a file");
    const auto help = run(engine::request_help{j, a.value, events::help_kind::advice, "how?"});
    check("a help request");
    run(engine::accept_help{j, std::get<events::help_requested>(help.at(0).data).request});
    check("accepted help");
    run(engine::set_due_date{b, timestamp{86'400'000'000}});
    check("a due date");
    run(engine::set_effort{b, 60, 15});
    check("effort");
    run(engine::add_step{b, "Do it"});
    check("a step");
    run(engine::edit_journey{j, "Renamed journey", {}, {}});
    check("a journey edit");
    run(engine::grant_role{s, j, user_id{"ann"}, {}, events::role::journey_contributor});
    check("a journey member");
    run(engine::delete_node{sub});
    check("a subtask deleted");
    run(engine::delete_node{a});
    check("a task deleted that another waited on");
    run(engine::change_task_status{b, events::task_status::blocked, "waiting on a licence", {}});
    check("a blocked task");

    // Modules and phases: a task waiting on one in another module, modules
    // added, moved, emptied and deleted, a phase edited and scoped.
    const auto& phases = journey->at("phases").as_array();
    ASSERT_GE(phases.size(), 2u);
    const node_id phase_id{std::string(phases.at(0).at("id").as_string())};
    const auto& later = phases.at(1).at("modules").at(0);
    const node_id c{std::string(later.at("tasks").at(0).at("id").as_string())};
    run(engine::add_dependency{c, b});
    check("a dependency on a task of another module");
    run(engine::change_task_status{b, events::task_status::in_progress, "", {}});
    check("an unblocked task");
    run(engine::scope_node{b, false});
    check("what another module's task waits on out of scope");
    run(engine::scope_node{b, true});
    check("and back in scope");
    const auto made = run(engine::add_module{phase_id, "New module", "", 0});
    const auto new_module = std::get<events::node_added>(made.at(0).data).node;
    check("a module added");
    const auto in_new = run(engine::add_task{
        new_module, events::task_spec{"", "First of the module", "", {}, {}, {}, {}, {}}, 0,
        std::nullopt});
    check("a task added to a module");
    run(engine::move_node{new_module, 1});
    check("a module moved");
    run(engine::delete_node{std::get<events::node_added>(in_new.at(0).data).node});
    check("a module's only task deleted");
    run(engine::edit_node{new_module, "Empty module", {}, {}, {}, {}});
    check("an empty module edited");
    run(engine::edit_node{phase_id, "Renamed phase", {}, {}, {}, {}});
    check("a phase edit");
    run(engine::scope_node{phase_id, false});
    check("a phase out of scope");
    run(engine::delete_node{module_id});
    check("a module deleted");
    run(engine::delete_node{new_module});
    check("an empty module deleted");
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

TEST_F(BoardTest, ADeletedTeamsTasksAreUnassignedInEveryRow) {
    const space_id s{"acme"};
    const auto j = journey_in(s);
    run(engine::create_team{s, "DBAs"});
    const team_id team{"acme.t1"};
    run(engine::grant_role{s, j, {}, team, events::role::team_contributor});
    const node_id a{j.value + ".n3"};
    run(engine::assign_task{a, {}, team});
    EXPECT_EQ(keys("assigned/t/acme.t1/"), std::vector<std::string>{a.value});
    EXPECT_EQ(row("task/" + a.value)->at("assignee").at("team"), "acme.t1");

    run(engine::delete_team{team});
    EXPECT_TRUE(keys("assigned/t/acme.t1/").empty());
    EXPECT_TRUE(row("task/" + a.value)->at("assignee").at("team").is_null());
    // The journey row shows what the log says.
    const engine::journey_state* js = nullptr;
    const auto folded = fold_log();
    for (const auto& [p, state] : folded)
        if (const auto* found = state.journey(j)) js = found;
    ASSERT_NE(js, nullptr);
    EXPECT_EQ(js->nodes.at(a).assignee_team, team_id{});
    auto stored = board::get(store_->db(), cf_, "journey/" + j.value);
    ASSERT_TRUE(stored && stored.value());
    EXPECT_EQ(*stored.value(), journey_json(*js));
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

TEST_F(BoardTest, ATaskShowsItsSubtasksAsTheyAreNow) {
    const auto j = journey_in(space_id{"s"});
    const node_id task{j.value + ".n3"};
    const auto added =
        run(engine::add_task{task, events::task_spec{"", "Check the copy", "", {}, {}, {}, {}, {}},
                             std::nullopt, std::nullopt});
    const auto sub = std::get<events::node_added>(added.at(0).data).node;
    // Changes to a subtask that are not its status: a comment, an assignee.
    run(engine::add_comment{sub, "copied"});
    run(engine::grant_role{
        space_id{"s"}, j, user_id{"ann"}, {}, events::role::journey_contributor});
    run(engine::assign_task{sub, user_id{"ann"}, {}});
    const auto sub_row = row("task/" + sub.value);
    ASSERT_TRUE(sub_row);
    const auto parent = row("task/" + task.value);
    ASSERT_TRUE(parent);
    const auto& shown = parent->at("subtasks").as_array().back().as_object();
    EXPECT_EQ(shown.at("id").as_string(), sub.value.c_str());
    EXPECT_EQ(boost::json::serialize(shown), boost::json::serialize(*sub_row))
        << "the parent shows the subtask as the subtask's own row does";
    EXPECT_EQ(shown.at("comments").as_array().size(), 1u);
}

TEST_F(BoardTest, RestartAndRebuildGiveWhatIncrementalUpdatesGave) {
    for (int i = 0; i < 6; ++i) busy_space(i);
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

TEST_F(BoardTest, SnapshotsKeepEverythingTheFoldHolds) {
    for (int i = 0; i < 4; ++i) busy_space(i);
    for (const auto& [p, state] : fold_log()) {
        for (const auto& [id, sp] : state.spaces) {
            const auto snap = engine::snapshot_of(state, id, state.head.pos, timestamp{now_});
            ASSERT_EQ(snap.journeys.size(), sp.journeys.size());
            EXPECT_EQ(engine::encode_snapshot(state, id, state.head.pos, timestamp{now_}),
                      engine::encode_snapshot(snap))
                << "written from the state, a snapshot has the bytes of its copy";
            auto decoded = engine::decode_snapshot(engine::encode_snapshot(snap));
            ASSERT_TRUE(decoded) << decoded.error().message;
            EXPECT_EQ(decoded.value(), snap);
            const auto restored = engine::state_of(decoded.value());
            EXPECT_EQ(*restored.space(id), sp);
            for (const auto& jid : sp.journeys)
                EXPECT_EQ(*restored.journey(jid), *state.journey(jid));
        }
    }
}

TEST_F(BoardTest, SnapshotsThatDoNotDecodeAreRefused) {
    busy_space(0);
    const auto state = fold_log();
    const auto& [p, s] = *std::find_if(state.begin(), state.end(),
                                       [](const auto& e) { return !e.second.spaces.empty(); });
    const auto bytes = engine::encode_snapshot(
        engine::snapshot_of(s, space_id{"s0"}, s.head.pos, timestamp{now_}));
    for (const auto& bad :
         {std::string{}, std::string("garbage"), bytes.substr(0, bytes.size() / 2), bytes + "x"}) {
        auto r = engine::decode_snapshot(bad);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, errc::corruption);
    }
}

TEST_F(BoardTest, AsOfReadsShowTheBoardAsItWasThen) {
    const space_id s{"acme"};
    const auto j = journey_in(s);
    const auto other = journey_in(space_id{"other"});
    for (const auto* u : {"bob", "carol"}) {
        run(engine::grant_role{s, j, user_id{u}, {}, events::role::journey_contributor});
        run(engine::grant_role{
            space_id{"other"}, other, user_id{u}, {}, events::role::journey_contributor});
    }
    std::vector<node_id> tasks;
    const auto board_then = row("journey/" + j.value);
    ASSERT_TRUE(board_then);
    for (const auto& ph : board_then->at("phases").as_array())
        for (const auto& m : ph.at("modules").as_array())
            for (const auto& t : m.at("tasks").as_array())
                if (tasks.size() < 5) tasks.emplace_back(std::string(t.at("id").as_string()));
    ASSERT_EQ(tasks.size(), 5u);

    // The board as the API showed it after some of the commands.
    struct moment {
        position pos;
        timestamp time;
        std::string journey;
        std::string members;
    };
    std::vector<moment> seen;
    const auto p = events::partition_of(s, log_->partitions());
    const int commands = static_cast<int>(2 * snapshot_interval + snapshot_interval / 3);
    for (int i = 0; i < commands; ++i) {
        const auto* user = i % 2 == 0 ? "bob" : "carol";
        run(engine::assign_task{
            tasks[static_cast<std::size_t>(i) % tasks.size()], user_id{user}, {}});
        // Events of another space in between.
        if (i % 10 == 0) run(engine::assign_task{node_id{other.value + ".n3"}, user_id{user}, {}});
        if (i == commands / 2)
            run(engine::grant_role{s, {}, user_id{"dora"}, {}, events::role::space_admin});
        if (i % 97 == 0 || i == commands - 1)
            seen.push_back({log_->head(p).pos, timestamp{now_},
                            *board::get(store_->db(), cf_, "journey/" + j.value).value(),
                            boost::json::serialize(*board_->members_of(s))});
    }
    ASSERT_FALSE(keys("snapshot/acme/").empty());

    auto check = [&](const moment& m, as_of_point at) {
        auto past = as_of(s, at);
        ASSERT_TRUE(past) << past.error().message;
        const auto* js = past.value().state.journey(j);
        ASSERT_NE(js, nullptr);
        EXPECT_EQ(journey_json(*js), m.journey) << "at " << m.pos;
        EXPECT_EQ(
            boost::json::serialize(members_view(past.value().state, *past.value().state.space(s))),
            m.members);
        // A snapshot is at most snapshot_interval events of the space back.
        EXPECT_LE(past.value().replayed, snapshot_interval);
        EXPECT_LE(past.value().pos, m.pos);
    };
    for (const auto& m : seen) {
        check(m, {.pos = m.pos, .time = {}});
        check(m, {.pos = {}, .time = m.time});
    }

    // Before the space existed there is nothing to show.
    auto before = as_of(s, {.pos = {}, .time = timestamp{0}});
    ASSERT_TRUE(before);
    EXPECT_EQ(before.value().state.space(s), nullptr);
    EXPECT_FALSE(as_of(s, {.pos = 5, .time = timestamp{5}}));
    EXPECT_FALSE(as_of(s, {}));

    // A snapshot that does not decode is passed over: same board, longer
    // replay.
    const auto snapshots = keys("snapshot/acme/");
    ASSERT_TRUE(store_->db().Put({}, cf_, "snapshot/acme/" + snapshots.back(), "damaged").ok());
    auto past = as_of(s, {.pos = seen.back().pos, .time = {}});
    ASSERT_TRUE(past);
    EXPECT_EQ(journey_json(*past.value().state.journey(j)), seen.back().journey);
    EXPECT_GT(past.value().replayed, snapshot_interval);

    // A restart and a rebuild write the same snapshots at the same events.
    close();
    open();
    runner_->stop();
    ASSERT_TRUE(runner_->rebuild());
    EXPECT_EQ(keys("snapshot/acme/"), snapshots);
    check(seen.back(), {.pos = seen.back().pos, .time = {}});
}

// A space's snapshots are snapshot_due(its nodes) events apart: at least
// snapshot_interval, at most snapshot_max_interval.
TEST_F(BoardTest, ASpaceWithManyNodesTakesSnapshotsFurtherApart) {
    static_assert(snapshot_due(0) == snapshot_interval);
    static_assert(snapshot_due(snapshot_interval / snapshot_events_per_node) == snapshot_interval);
    static_assert(snapshot_due(200) == 200 * snapshot_events_per_node);
    static_assert(snapshot_due(100'000) == snapshot_max_interval);

    const space_id s{"big"};
    run(engine::create_space{s, "Big", ""});
    events::template_spec t{"big", "1", "Big", "", {}};
    t.phases.push_back({"", "Phase", "", {}});
    for (int m = 0; m < 2; ++m) {
        events::module_spec mod{"", "Module " + std::to_string(m), "", {}};
        for (int k = 0; k < 100; ++k) {
            events::task_spec task;
            task.title = "Task " + std::to_string(k);
            mod.tasks.push_back(std::move(task));
        }
        t.phases[0].modules.push_back(std::move(mod));
    }
    const auto created =
        run(engine::create_journey{s, "Big", "", std::nullopt, t, engine::template_hash(t)});
    const auto j = std::get<events::journey_created>(created.at(0).data).journey;
    for (const auto* u : {"bob", "carol"})
        run(engine::grant_role{s, j, user_id{u}, {}, events::role::journey_contributor});
    const auto p = events::partition_of(s, log_->partitions());
    const auto folded = fold_log();
    const auto& journey_nodes = folded.at(p).journey(j)->nodes;
    ASSERT_EQ(journey_nodes.size(), 203u);  // a phase, two modules, 200 tasks
    const auto due = snapshot_due(journey_nodes.size());
    ASSERT_GT(due, snapshot_interval);

    std::vector<node_id> tasks;
    for (const auto& [id, n] : journey_nodes)
        if (n.is_task() && tasks.size() < 5) tasks.push_back(id);
    // The space's events up to a position of its partition.
    const auto space_events = [&](position upto) {
        const auto events = log_->read(p, 1, upto);
        EXPECT_TRUE(events);
        std::uint64_t n = 0;
        for (const auto& e : events.value()) n += e.space == s ? 1 : 0;
        return n;
    };
    // Assignments back and forth until the space has `wanted` events.
    auto counted = space_events(log_->head(p).pos);
    const auto assign_until = [&](std::uint64_t wanted, std::uint64_t turn) {
        for (std::uint64_t i = 0; counted < wanted; ++i) {
            const auto* user = (i + turn) % 2 == 0 ? "bob" : "carol";
            counted += run(engine::assign_task{tasks[i % tasks.size()], user_id{user}, {}}).size();
        }
    };
    assign_until(2 * due + 10, 0);

    // Two snapshots, at the space's due-th and 2 * due-th events.
    const auto snapshots = keys("snapshot/big/");
    ASSERT_EQ(snapshots.size(), 2u);
    std::vector<position> at;
    for (const auto& k : snapshots) {
        ASSERT_EQ(k.size(), 8u);
        at.push_back(events::get_big_endian(k.data(), 8));
    }
    EXPECT_EQ(space_events(at[0]), due);
    EXPECT_EQ(space_events(at[1]), 2 * due);

    // Just before the second, an as-of read replays more than
    // snapshot_interval events after the first; at it, none.
    auto before = as_of(s, {.pos = at[1] - 1, .time = {}});
    ASSERT_TRUE(before) << before.error().message;
    EXPECT_EQ(before.value().replayed, due - 1);
    auto on = as_of(s, {.pos = at[1], .time = {}});
    ASSERT_TRUE(on) << on.error().message;
    EXPECT_EQ(on.value().replayed, 0u);
    EXPECT_EQ(journey_json(*on.value().state.journey(j)),
              journey_json(*fold_log(at[1]).at(p).journey(j)));

    // A restart keeps counting where it was; a rebuild writes the same.
    close();
    open();
    assign_until(3 * due, 1);
    const auto kept = keys("snapshot/big/");
    ASSERT_EQ(kept.size(), 3u);
    EXPECT_EQ(space_events(events::get_big_endian(kept[2].data(), 8)), 3 * due);
    runner_->stop();
    ASSERT_TRUE(runner_->rebuild());
    EXPECT_EQ(keys("snapshot/big/"), kept);
}

}  // namespace
}  // namespace migops::projections
