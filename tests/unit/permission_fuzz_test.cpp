// Permission fuzzing: users holding random roles (directly and through
// teams, on the space and on journeys) send random commands through the
// partition processor. Every command accepted must be allowed by the role
// rules, every one refused for its role must be refused by them, and every
// one they refuse must be refused.
//
// The rules are written here again from DESIGN.md section 3 and the README's
// "The domain", not taken from engine/permissions.h: a space admin may do
// everything in its space and acts as journey admin in every journey of it;
// space administration (the space's name, teams, space roles, journeys
// created or copied) is the space admin's; journey administration (its
// details, roles, alert rules, deletion, sign-offs) is its journey admins';
// deletes of work need an admin; contributors (space contributors in every
// journey, journey contributors in theirs) do all other work; a team
// contributor works only on tasks assigned to it or one of its teams (a
// subtask through its task). A role granted to a team holds for each member.
//
// The seed is random unless MIGOPS_FUZZ_SEED is set; a failure prints it.

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <random>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "tests/unit/sample_events.h"
#include "tests/unit/temp_dir.h"

namespace migops::engine {
namespace {

using events::role;

constexpr int commands_per_run = 3000;
const space_id space{"s"};
const std::vector<std::string> people{"ann", "ben", "cat", "dan", "eve", "fay", "gus"};
const std::string owner = "root";  // created the space: its first admin

// What a command needs, in the documents' words.
enum class need : std::uint8_t {
    space_admin,      // the space's name, teams, space roles, new journeys
    journey_admin,    // a journey's details, roles, alert rules, deletion, sign-offs
    work_in_journey,  // phases, modules, tasks under a module, help requests
    work_on_task,     // a task: status, assignee, dates, steps, comments, files, subtasks
    delete_work,      // deleting nodes, files, others' comments
};

struct fuzz_command {
    command cmd;
    need needs{};
    journey_id journey;  // for every need but space_admin
    node_id task;        // for work_on_task
    std::string what;    // for messages
    user_id author{};    // a comment's: deleting another's is deleting work
};

// The roles a user holds on a set of grants, directly or through a team of
// the space it is a member of.
std::vector<role> held(const space_state& s, const grants& g, const user_id& u) {
    std::vector<role> out;
    if (auto it = g.users.find(u); it != g.users.end()) out.push_back(it->second);
    for (const auto& [team, r] : g.teams) {
        const auto t = s.teams.find(team);
        if (t != s.teams.end() && t->second.members.contains(u)) out.push_back(r);
    }
    return out;
}

bool has(const std::vector<role>& roles, role r) {
    return std::find(roles.begin(), roles.end(), r) != roles.end();
}

// The task, or the task a subtask belongs to, is assigned to u or to a team
// of the space u is a member of.
bool assigned(const space_state& s, const journey_state& j, const node_id& id, const user_id& u) {
    auto it = j.nodes.find(id);
    while (it != j.nodes.end()) {
        const auto& n = it->second;
        if (n.assignee_user == u) return true;
        if (const auto t = s.teams.find(n.assignee_team);
            !n.assignee_team.empty() && t != s.teams.end() && t->second.members.contains(u))
            return true;
        if (n.kind != events::node_kind::subtask) return false;
        it = j.nodes.find(n.parent);
    }
    return false;
}

// The rules, as the documents state them.
bool allowed(const partition_state& st, const fuzz_command& c, const user_id& u) {
    const auto& s = st.spaces.at(space);
    const auto on_space = held(s, s.members, u);
    if (has(on_space, role::space_admin)) return true;
    if (c.needs == need::space_admin) return false;
    const auto j = st.journeys.find(c.journey);
    if (j == st.journeys.end()) return false;
    const auto on_journey = held(s, j->second.members, u);
    if (has(on_journey, role::journey_admin)) return true;
    if (c.needs == need::journey_admin || c.needs == need::delete_work) return false;
    if (has(on_space, role::space_contributor) || has(on_journey, role::journey_contributor))
        return true;
    return c.needs == need::work_on_task && has(on_journey, role::team_contributor) &&
           assigned(s, j->second, c.task, u);
}

class PermissionFuzzTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* env = std::getenv("MIGOPS_FUZZ_SEED");
        seed_ = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
        rng_.seed(seed_);
        store_ =
            std::move(events::rocks_store::open(
                          {dir_.path(), {events::events_column_family, events::meta_column_family}})
                          .value());
        // Unsynced: the log's durability is not what this test is about.
        log_ =
            std::move(events::rocks_log::open(*store_, {.partitions = 2, .sync = false}).value());
        processor_ = std::make_unique<partition_processor>(*log_, processor_options{});
        ASSERT_TRUE(processor_->start());
    }

    result<std::vector<events::envelope>> run(const std::string& actor, command c) {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        auto queued = processor_->submit({std::move(c), user_id{actor}, now_, ""},
                                         [&](auto r) { done.set_value(std::move(r)); });
        if (!queued) return failure(queued.error());
        now_.micros += 1'000'000;
        return f.get();
    }
    void given(const std::string& actor, command c) {
        auto r = run(actor, std::move(c));
        ASSERT_TRUE(r) << r.error().message;
    }
    partition_state state() {
        std::promise<partition_state> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->inspect(processor_->partition_for(space),
                                        [&](const partition_state& s) { done.set_value(s); }));
        return f.get();
    }

    template <class T>
    const T& pick(const std::vector<T>& from) {
        return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng_)];
    }
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

    // A random command on what the state holds now.
    fuzz_command random_command(const partition_state& st) {
        const auto& s = st.spaces.at(space);
        std::vector<journey_id> journeys;
        for (const auto& [id, j] : st.journeys) journeys.push_back(id);
        std::vector<team_id> teams;
        for (const auto& [id, t] : s.teams) teams.push_back(id);
        const auto& jid = pick(journeys);
        const auto& j = st.journeys.at(jid);
        std::vector<node_id> tasks;
        std::vector<node_id> modules;
        std::vector<node_id> phases;
        for (const auto& [id, n] : j.nodes) {
            if (n.is_task()) tasks.push_back(id);
            if (n.kind == events::node_kind::module) modules.push_back(id);
            if (n.kind == events::node_kind::phase) phases.push_back(id);
        }
        // A journey whose tasks were all deleted is built up again, as work
        // in it.
        if (phases.empty())
            return {add_phase{jid, "Phase", "", std::nullopt},
                    need::work_in_journey,
                    jid,
                    {},
                    "add phase"};
        if (modules.empty())
            return {add_module{pick(phases), "Module", "", std::nullopt},
                    need::work_in_journey,
                    jid,
                    {},
                    "add module"};
        if (tasks.empty())
            return {add_task{pick(modules), task_spec{"", "Task", "", {}, {}, {}, {}, {}},
                             std::nullopt, std::nullopt},
                    need::work_in_journey,
                    jid,
                    {},
                    "add task"};
        const auto& task = pick(tasks);
        const auto person = user_id{pick(people)};
        const auto space_role = chance(0.5) ? role::space_admin : role::space_contributor;
        const std::vector<role> journey_roles{role::journey_admin, role::journey_contributor,
                                              role::team_contributor};
        const auto& journey_role = pick(journey_roles);
        const auto& team = pick(teams);
        const auto& t = j.nodes.at(task);
        switch (std::uniform_int_distribution<int>(0, 29)(rng_)) {
            case 0:
                return {rename_space{space, "Renamed"}, need::space_admin, {}, {}, "rename space"};
            case 1:
                return {describe_space{space, "About"}, need::space_admin, {}, {}, "describe"};
            case 2:
                return {create_team{space, "Team"}, need::space_admin, {}, {}, "create team"};
            case 3:
                return {add_team_member{team, person}, need::space_admin, {}, {}, "join team"};
            case 4:
                return {remove_team_member{team, person}, need::space_admin, {}, {}, "leave team"};
            case 5:
                return {grant_role{space, {}, person, {}, space_role},
                        need::space_admin,
                        {},
                        {},
                        "grant space role"};
            case 6:
                return {grant_role{space, {}, {}, team, space_role},
                        need::space_admin,
                        {},
                        {},
                        "grant space role to team"};
            case 7:
                return {revoke_role{space, {}, person, {}},
                        need::space_admin,
                        {},
                        {},
                        "revoke space role"};
            case 8:
                return {create_journey{space, "New", "", std::nullopt, tpl_, template_hash(tpl_)},
                        need::space_admin,
                        {},
                        {},
                        "create journey"};
            case 9:
                return {copy_journey{jid, "Copy"}, need::space_admin, {}, {}, "copy journey"};
            case 10:
                return {grant_role{space, jid, person, {}, journey_role},
                        need::journey_admin,
                        jid,
                        {},
                        "grant journey role"};
            case 11:
                return {grant_role{space, jid, {}, team, journey_role},
                        need::journey_admin,
                        jid,
                        {},
                        "grant journey role to team"};
            case 12:
                return {revoke_role{space, jid, person, {}},
                        need::journey_admin,
                        jid,
                        {},
                        "revoke journey role"};
            case 13:
                return {edit_journey{jid, "Renamed", std::nullopt, std::nullopt},
                        need::journey_admin,
                        jid,
                        {},
                        "edit journey"};
            case 14:
                return {set_alert_rules{jid, {}}, need::journey_admin, jid, {}, "alert rules"};
            case 15:
                return {approve_task{task}, need::journey_admin, jid, task, "approve"};
            case 16:
                return {add_phase{jid, "Phase", "", std::nullopt},
                        need::work_in_journey,
                        jid,
                        {},
                        "add phase"};
            case 17:
                return {add_task{pick(modules), task_spec{"", "Task", "", {}, {}, {}, {}, {}},
                                 std::nullopt, std::nullopt},
                        need::work_in_journey,
                        jid,
                        {},
                        "add task"};
            case 18:
                return {edit_node{pick(phases), "Retitled", std::nullopt, std::nullopt,
                                  std::nullopt, std::nullopt},
                        need::work_in_journey,
                        jid,
                        {},
                        "edit phase"};
            case 19:
                return {request_help{jid, task.value, events::help_kind::advice, "Help"},
                        need::work_in_journey,
                        jid,
                        {},
                        "ask for help"};
            case 20: {
                const std::vector<task_status> statuses{task_status::in_progress,
                                                        task_status::blocked, task_status::planned};
                return {change_task_status{task, pick(statuses), "stuck", {}}, need::work_on_task,
                        jid, task, "change status"};
            }
            case 21:
                return {chance(0.5) ? assign_task{task, person, {}} : assign_task{task, {}, team},
                        need::work_on_task, jid, task, "assign"};
            case 22:
                return {set_due_date{task, timestamp{now_.micros + 86'400'000'000}},
                        need::work_on_task, jid, task, "due date"};
            case 23:
                return {add_step{task, "Step"}, need::work_on_task, jid, task, "add step"};
            case 24:
                return {add_comment{task, "Note"}, need::work_on_task, jid, task, "comment"};
            case 25:
                return {edit_node{task, "Retitled", std::nullopt, std::nullopt, std::nullopt,
                                  std::nullopt},
                        need::work_on_task, jid, task, "edit task"};
            case 26:
                if (t.kind == events::node_kind::task)
                    return {add_task{task, task_spec{"", "Sub", "", {}, {}, {}, {}, {}},
                                     std::nullopt, std::nullopt},
                            need::work_on_task, jid, task, "add subtask"};
                return {set_effort{task, 60, 30}, need::work_on_task, jid, task, "effort"};
            case 27:
                if (!t.comments.empty()) {
                    const auto& c = pick(t.comments);
                    return {delete_comment{task, c.id},
                            need::work_on_task,
                            jid,
                            task,
                            "delete a comment",
                            c.author};
                }
                return {add_comment{task, "Note"}, need::work_on_task, jid, task, "comment"};
            case 28:
                return {delete_node{task}, need::delete_work, jid, task, "delete task"};
            default:
                return {delete_journey{jid}, need::journey_admin, jid, {}, "delete journey"};
        }
    }

    testing_support::temp_dir dir_;
    const template_spec tpl_ = testing::sample_template();
    std::uint64_t seed_ = 0;
    std::mt19937_64 rng_;
    timestamp now_{1'800'000'000'000'000};
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<partition_processor> processor_;
};

TEST_F(PermissionFuzzTest, AcceptedIfAndOnlyIfTheRolesAllowIt) {
    SCOPED_TRACE("MIGOPS_FUZZ_SEED=" + std::to_string(seed_));
    given(owner, create_space{space, "Exit", ""});
    for (int i = 0; i < 2; ++i)
        given(owner, create_journey{space, "Wave", "", std::nullopt, tpl_, template_hash(tpl_)});
    given(owner, create_team{space, "Crew"});
    given(owner, create_team{space, "Squad"});

    std::map<std::string, int> accepted;
    std::map<std::string, int> refused_by_role;
    for (int i = 0; i < commands_per_run; ++i) {
        const auto st = state();
        if (st.journeys.empty()) {
            given(owner,
                  create_journey{space, "Wave", "", std::nullopt, tpl_, template_hash(tpl_)});
            continue;
        }
        if (st.spaces.at(space).teams.empty()) {
            given(owner, create_team{space, "Crew"});
            continue;
        }
        auto c = random_command(st);
        // The owner (who grants the people their roles) and strangers act
        // now and then; mostly the people.
        const std::string actor = chance(0.15) ? owner : chance(0.05) ? "stranger" : pick(people);
        if (!c.author.empty() && c.author.value != actor) {
            c.needs = need::delete_work;
            c.what = "delete another's comment";
        }
        const bool may = allowed(st, c, user_id{actor});
        auto r = run(actor, c.cmd);
        const std::string where = "command " + std::to_string(i) + ", " + actor + ": " + c.what;
        if (r) {
            ++accepted[c.what];
            ASSERT_TRUE(may) << where << " was accepted; the rules refuse it";
        } else if (r.error().code == errc::permission_denied) {
            ++refused_by_role[c.what];
            ASSERT_FALSE(may) << where << " was refused for its role (" << r.error().message
                              << "); the rules allow it";
        } else {
            ASSERT_TRUE(may || r.error().code == errc::not_found)
                << where << " was refused with " << r.error().message
                << ", not for its role; the rules refuse it";
        }
    }
    // The run met both verdicts for most kinds of command.
    std::size_t both = 0;
    std::string seen;
    for (const auto& [what, n] : accepted) {
        both += refused_by_role.contains(what) ? 1 : 0;
        seen += what + ": " + std::to_string(n) + " accepted, " +
                std::to_string(refused_by_role[what]) + " refused for the role\n";
    }
    EXPECT_GE(both, 20u) << "too few kinds of command were both accepted and refused:\n" << seen;
}

}  // namespace
}  // namespace migops::engine
