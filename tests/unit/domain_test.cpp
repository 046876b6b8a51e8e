// Given events, when a command, then events or an error: every command of
// the domain, with its refusals.

#include <gtest/gtest.h>

#include "engine/permissions.h"
#include "tests/unit/domain_fixture.h"

namespace migops::engine {
namespace {

using events::task_status;
using testing::domain_fixture;

class DomainTest : public domain_fixture {
  protected:
    void SetUp() override { standard_space(); }

    upload_artifact file(const node_id& t, const std::string& name, std::uint64_t size = 1000,
                         std::string media = "application/pdf") {
        return upload_artifact{t, name, std::move(media), size, std::string(64, 'b')};
    }
};

// ---- spaces, teams, roles -------------------------------------------------------

TEST_F(DomainTest, TheCreatorIsTheFirstSpaceAdmin) {
    EXPECT_EQ(state.spaces.at(space_id{"s"}).members.users.at(user_id{"admin"}), role::space_admin);
    EXPECT_EQ(code_of(when("admin", create_space{space_id{"s"}, "Again", ""})),
              errc::already_exists);
    EXPECT_EQ(code_of(when("x", create_space{space_id{"a.b"}, "Dotted", ""})),
              errc::invalid_argument);
    EXPECT_EQ(code_of(when("x", create_space{space_id{"t"}, " ", ""})), errc::invalid_argument);
}

TEST_F(DomainTest, OnlySpaceAdminsManageTheSpace) {
    EXPECT_EQ(code_of(when("contrib", rename_space{space_id{"s"}, "Mine"})),
              errc::permission_denied);
    // To one who holds no role in it, the space does not exist.
    auto outsider = when("outsider", rename_space{space_id{"s"}, "Mine"});
    EXPECT_EQ(code_of(outsider), errc::not_found);
    EXPECT_EQ(outsider.error().message, "space s does not exist");
    EXPECT_EQ(given("admin", rename_space{space_id{"s"}, "DC exit"}).size(), 1u);
    EXPECT_TRUE(given("admin", rename_space{space_id{"s"}, "DC exit"}).empty())
        << "no change, no event";
    given("admin", describe_space{space_id{"s"}, "Frankfurt"});
    EXPECT_EQ(state.spaces.at(space_id{"s"}).description, "Frankfurt");
    given("admin", delete_space{space_id{"s"}});
    EXPECT_EQ(code_of(when("admin", rename_space{space_id{"s"}, "x"})), errc::not_found);
    EXPECT_EQ(code_of(when("admin", change_task_status{task, task_status::in_progress, "", {}})),
              errc::not_found);
}

TEST_F(DomainTest, TeamsAndTheirMembers) {
    EXPECT_EQ(code_of(when("admin", create_team{space_id{"s"}, "Database experts"})),
              errc::already_exists);
    EXPECT_EQ(code_of(when("jadmin", create_team{space_id{"s"}, "Other"})),
              errc::permission_denied);
    EXPECT_EQ(code_of(when("admin", add_team_member{team_id{"s.t9"}, user_id{"x"}})),
              errc::not_found);
    EXPECT_TRUE(given("admin", add_team_member{team, user_id{"teammate"}}).empty());
    EXPECT_EQ(code_of(when("admin", remove_team_member{team, user_id{"nobody"}})), errc::not_found);
    given("admin", remove_team_member{team, user_id{"teammate"}});
    EXPECT_FALSE(
        state.spaces.at(space_id{"s"}).teams.at(team).members.contains(user_id{"teammate"}));
    given("admin", delete_team{team});
    EXPECT_FALSE(j().members.teams.contains(team)) << "its grants go with it";
}

TEST_F(DomainTest, RolesAreGrantedWhereTheyBelong) {
    EXPECT_EQ(code_of(when("admin",
                           grant_role{space_id{"s"}, {}, user_id{"u"}, {}, role::journey_admin})),
              errc::invalid_argument);
    EXPECT_EQ(
        code_of(
            when("admin", grant_role{space_id{"s"}, journey, user_id{"u"}, {}, role::space_admin})),
        errc::invalid_argument);
    EXPECT_EQ(code_of(when("admin", grant_role{space_id{"s"}, journey, user_id{"u"}, team,
                                               role::journey_admin})),
              errc::invalid_argument);
    EXPECT_EQ(
        code_of(when("admin",
                     grant_role{space_id{"s"}, journey, {}, team_id{"s.t7"}, role::journey_admin})),
        errc::not_found);
    EXPECT_EQ(code_of(when(
                  "contrib",
                  grant_role{space_id{"s"}, journey, user_id{"u"}, {}, role::journey_contributor})),
              errc::permission_denied);
    given("jadmin",
          grant_role{space_id{"s"}, journey, user_id{"u"}, {}, role::journey_contributor});
    given("jadmin", revoke_role{space_id{"s"}, journey, user_id{"u"}, {}});
    EXPECT_EQ(code_of(when("jadmin", revoke_role{space_id{"s"}, journey, user_id{"u"}, {}})),
              errc::not_found);
    EXPECT_EQ(code_of(when("admin", revoke_role{space_id{"s"}, {}, user_id{"admin"}, {}})),
              errc::rule_refused)
        << "the last space admin stays";
    // Nor may another role take the last space admin's place.
    const auto demote = [](const char* who) {
        return grant_role{space_id{"s"}, {}, user_id{who}, {}, role::space_contributor};
    };
    auto refused = when("admin", demote("admin"));
    EXPECT_EQ(code_of(refused), errc::rule_refused);
    EXPECT_EQ(refused.error().message, "a space keeps at least one space admin");
    EXPECT_EQ(state.space(space_id{"s"})->members.users.at(user_id{"admin"}), role::space_admin);
    // With a second space admin, either may step down.
    given("admin", grant_role{space_id{"s"}, {}, user_id{"u"}, {}, role::space_admin});
    given("admin", demote("admin"));
    EXPECT_EQ(state.space(space_id{"s"})->members.users.at(user_id{"admin"}),
              role::space_contributor);
    EXPECT_EQ(code_of(when("u", demote("u"))), errc::rule_refused);
}

TEST_F(DomainTest, AnActorWhoseIdIsTooLongChangesNothing) {
    const std::string longest(engine::limits{}.name_length, 'u');
    given("admin", grant_role{space_id{"s"}, {}, user_id{longest}, {}, role::space_admin});
    given(longest, rename_space{space_id{"s"}, "Renamed"});
    const auto refused = when(longest + "u", rename_space{space_id{"s"}, "Again"});
    EXPECT_EQ(code_of(refused), errc::invalid_argument);
    EXPECT_EQ(refused.error().message, "the acting user's id is longer than 200 bytes");
    EXPECT_EQ(state.space(space_id{"s"})->name, "Renamed");
}

TEST_F(DomainTest, ARevokedRoleStopsTheNextCommand) {
    given("contrib", change_task_status{task, task_status::in_progress, "", {}});
    given("admin", revoke_role{space_id{"s"}, journey, user_id{"contrib"}, {}});
    // With no role left in the space, it is not there for them at all.
    EXPECT_EQ(code_of(when("contrib", change_task_status{task, task_status::planned, "", {}})),
              errc::not_found);
}

// ---- templates and journeys ------------------------------------------------------------

TEST_F(DomainTest, AJourneyFromATemplateCarriesTheWholeTreeWithIds) {
    EXPECT_EQ(j().template_id, "general-migration");
    EXPECT_EQ(j().template_hash, template_hash(testing::sample_template()));
    ASSERT_EQ(j().phases.size(), 1u);
    EXPECT_EQ(node(task.value).title, "Build the business case");
    EXPECT_EQ(node(task.value).criteria[0].id, "a1");
    EXPECT_EQ(node(task.value).steps[1].id, "s2");
    EXPECT_EQ(node(subtask.value).parent, task);
    EXPECT_EQ(node(subtask.value).kind, node_kind::subtask);
    EXPECT_EQ(j().task_count, 2u);
}

TEST_F(DomainTest, JourneyCreationRefusals) {
    auto tpl = testing::sample_template();
    EXPECT_EQ(
        code_of(when("admin", create_journey{space_id{"s"}, "W", "", std::nullopt, tpl, "bad"})),
        errc::invalid_argument);
    EXPECT_EQ(code_of(when("jadmin",
                           create_journey{space_id{"s"}, "W", "", std::nullopt, std::nullopt, ""})),
              errc::permission_denied);
    bounds.tasks_per_journey = 1;
    EXPECT_EQ(code_of(when("admin", create_journey{space_id{"s"}, "W", "", std::nullopt, tpl,
                                                   template_hash(tpl)})),
              errc::limit_exceeded);
    auto custom =
        given("admin", create_journey{space_id{"s"}, "Custom", "", std::nullopt, std::nullopt, ""});
    EXPECT_TRUE(state.journeys.at(journey_id{"s.j2"}).nodes.empty());
}

TEST_F(DomainTest, TemplatesArePublishedOncePerVersion) {
    auto tpl = testing::sample_template();
    EXPECT_EQ(given("anyone", publish_template{tpl}).size(), 1u);
    EXPECT_TRUE(given("anyone", publish_template{tpl}).empty()) << "same content: nothing new";
    tpl.description = "changed";
    EXPECT_EQ(code_of(when("anyone", publish_template{tpl})), errc::rule_refused);
    tpl.template_version = "2.0";
    EXPECT_EQ(given("anyone", publish_template{tpl}).size(), 1u);
    tpl.phases[0].modules[0].tasks[0].title = "";
    tpl.template_version = "3.0";
    EXPECT_EQ(code_of(when("anyone", publish_template{tpl})), errc::invalid_argument);
}

TEST_F(DomainTest, CopyCarriesStructureNotWork) {
    given("contrib", assign_task{task, user_id{"contrib"}, {}});
    given("contrib", file(task, "business case.pdf"));
    given("contrib", add_comment{task, "draft attached"});
    given("contrib", change_task_status{task, task_status::in_progress, "", {}});
    given("contrib", add_step{task, "Review"});
    given("contrib", add_dependency{task, subtask});
    given("contrib", scope_node{subtask, false});
    given("admin", copy_journey{journey, "Wave 2"});
    const auto& copy = state.journeys.at(journey_id{"s.j2"});
    EXPECT_EQ(copy.copied_from, journey);
    EXPECT_EQ(copy.nodes.size(), j().nodes.size());
    const auto& t = copy.nodes.at(node_id{"s.j2.n3"});
    EXPECT_EQ(t.title, "Build the business case");
    EXPECT_EQ(t.status, task_status::planned);
    EXPECT_TRUE(t.assignee_user.empty());
    EXPECT_TRUE(t.artifacts.empty());
    EXPECT_TRUE(t.comments.empty());
    EXPECT_EQ(t.steps.size(), 3u);
    EXPECT_FALSE(t.steps[0].checked);
    EXPECT_EQ(t.criteria.size(), 3u);
    EXPECT_TRUE(t.dependencies.contains(node_id{"s.j2.n4"}));
    EXPECT_FALSE(copy.nodes.at(node_id{"s.j2.n4"}).in_scope);
}

TEST_F(DomainTest, JourneyDetailsStatusAndArchive) {
    EXPECT_EQ(code_of(when("contrib", edit_journey{journey, "Mine", std::nullopt, std::nullopt})),
              errc::permission_denied);
    given("jadmin",
          edit_journey{journey, "Wave one", "First wave", std::optional<timestamp>{timestamp{5}}});
    EXPECT_EQ(j().name, "Wave one");
    EXPECT_EQ(j().target_date, timestamp{5});
    given("jadmin", change_journey_status{journey, journey_status::archived});
    EXPECT_EQ(code_of(when("contrib", change_task_status{task, task_status::in_progress, "", {}})),
              errc::rule_refused);
    given("jadmin", change_journey_status{journey, journey_status::in_progress});
    given("contrib", change_task_status{task, task_status::in_progress, "", {}});
    EXPECT_EQ(code_of(when("contrib", delete_journey{journey})), errc::permission_denied);
    given("jadmin", delete_journey{journey});
    EXPECT_FALSE(state.journeys.contains(journey));
}

// ---- the tree ---------------------------------------------------------------------------

TEST_F(DomainTest, AddEditMoveScopeAndDeleteNodes) {
    given("contrib", add_phase{journey, "Migrate", "", std::nullopt});
    given("contrib", add_phase{journey, "Mobilize", "", 1});
    EXPECT_EQ(node(j().phases[1].value).title, "Mobilize");
    const node_id migrate = j().phases[2];
    given("contrib", add_module{migrate, "Wave planning", "", std::nullopt});
    const node_id wave = node(migrate.value).children[0];
    events::task_spec content;
    content.title = "Plan wave 1";
    content.subtasks.push_back({"", "Pick apps", "", {}, {}, {}, {}});
    auto added = given("contrib", add_task{wave, content, std::nullopt, std::nullopt});
    ASSERT_EQ(added.size(), 2u) << "the task and its subtask";
    const node_id plan = node(wave.value).children[0];
    EXPECT_EQ(node(plan.value).children.size(), 1u);
    EXPECT_EQ(code_of(when("contrib", add_task{phase, content, std::nullopt, std::nullopt})),
              errc::invalid_argument);
    // A parent of the kind the caller names, or nothing is added: a task
    // is not a module, a module not a task.
    const auto under = [&](const node_id& parent, node_kind kind) {
        return when("contrib", add_task{parent, content, std::nullopt, kind});
    };
    auto not_a_module = under(plan, node_kind::module);
    EXPECT_EQ(code_of(not_a_module), errc::invalid_argument);
    EXPECT_EQ(not_a_module.error().message, plan.value + " is a task, not a module");
    EXPECT_EQ(under(wave, node_kind::task).error().message,
              wave.value + " is a module, not a task");
    EXPECT_EQ(node(plan.value).children.size(), 1u);
    events::task_spec check;
    check.title = "Check the wave";
    given("contrib", add_task{plan, check, std::nullopt, node_kind::task});
    EXPECT_EQ(node(plan.value).children.size(), 2u) << "a subtask, under the task named";
    EXPECT_EQ(code_of(when("contrib", add_module{task, "x", "", std::nullopt})),
              errc::invalid_argument);

    given("contrib", edit_node{plan, "Plan wave one", std::nullopt,
                               std::vector<std::string>{"Jira"}, std::nullopt, std::nullopt});
    EXPECT_EQ(node(plan.value).title, "Plan wave one");
    EXPECT_EQ(code_of(when("contrib",
                           edit_node{wave, std::nullopt, std::nullopt,
                                     std::vector<std::string>{"x"}, std::nullopt, std::nullopt})),
              errc::invalid_argument);
    given("contrib", move_node{j().phases[2], 0});
    EXPECT_EQ(j().phases[0], migrate);
    given("contrib", scope_node{migrate, false});
    EXPECT_FALSE(node(migrate.value).in_scope);
    EXPECT_EQ(code_of(when("contrib", delete_node{migrate})), errc::permission_denied);
    const auto before = j().task_count;
    given("jadmin", delete_node{migrate});
    EXPECT_EQ(j().task_count, before - 3) << "the task and its two subtasks";
    EXPECT_FALSE(j().nodes.contains(plan));
}

TEST_F(DomainTest, NewCriteriaGetIdsAndCompletedTasksKeepTheirs) {
    auto criteria = node(task.value).criteria;
    criteria.push_back({"", events::criterion_kind::steps, "All steps", "", {}});
    given("contrib",
          edit_node{task, std::nullopt, std::nullopt, std::nullopt, std::nullopt, criteria});
    EXPECT_EQ(node(task.value).criteria.back().id, "a4");
    criteria.push_back({"", events::criterion_kind::artifact, "Any file", "", {}});
    EXPECT_EQ(code_of(when("contrib", edit_node{task, std::nullopt, std::nullopt, std::nullopt,
                                                std::nullopt, criteria})),
              errc::invalid_argument)
        << "an artifact criterion needs a pattern or media types";
    // Only a media type a file may have: any other could never be met.
    criteria.back().media_types = {"application/x-foo"};
    auto never = when("contrib", edit_node{task, std::nullopt, std::nullopt, std::nullopt,
                                           std::nullopt, criteria});
    EXPECT_EQ(code_of(never), errc::invalid_argument);
    EXPECT_EQ(never.error().message.rfind("criterion media type application/x-foo is not one a "
                                          "file may have (text/csv, text/plain, application/pdf",
                                          0),
              0u)
        << never.error().message;
    criteria.back().media_types = {"application/pdf", "image/png"};
    given("contrib",
          edit_node{task, std::nullopt, std::nullopt, std::nullopt, std::nullopt, criteria});
    EXPECT_EQ(node(task.value).criteria.back().media_types.size(), 2u);
}

TEST_F(DomainTest, LinksLeadToWebPagesOnly) {
    const auto with_link = [](std::string url) {
        events::task_spec t;
        t.title = "Read the guide";
        t.links.push_back({"Guide", std::move(url)});
        return t;
    };
    for (const auto* url : {"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
                            "//example.com/x", "example.com", "http://", "ftp://example.com"}) {
        auto refused =
            when("contrib", add_task{module, with_link(url), std::nullopt, std::nullopt});
        EXPECT_EQ(code_of(refused), errc::invalid_argument) << url;
        EXPECT_EQ(refused.error().message, "link url must start with http:// or https://") << url;
    }
    const auto children = node(module.value).children.size();
    for (const auto* url : {"https://docs.example.com/guide", "HTTP://example.com"})
        given("contrib", add_task{module, with_link(url), std::nullopt, std::nullopt});
    EXPECT_EQ(node(module.value).children.size(), children + 2);
}

// ---- tasks ----------------------------------------------------------------------------------

TEST_F(DomainTest, AssigneesMustBeMembers) {
    EXPECT_EQ(code_of(when("contrib", assign_task{task, user_id{"outsider"}, {}})),
              errc::rule_refused);
    given("contrib", assign_task{task, user_id{"scontrib"}, team});
    EXPECT_EQ(node(task.value).assignee_team, team);
    given("admin", create_team{space_id{"s"}, "Unlisted"});
    EXPECT_EQ(code_of(when("contrib", assign_task{task, {}, team_id{"s.t2"}})), errc::rule_refused);
    EXPECT_EQ(code_of(when("contrib", assign_task{module, user_id{"contrib"}, {}})),
              errc::invalid_argument);
}

TEST_F(DomainTest, TheStatusMachineIsTheTable) {
    const std::vector<task_status> all{task_status::planned, task_status::in_progress,
                                       task_status::blocked, task_status::completed,
                                       task_status::out_of_scope};
    const auto& table = task_transitions();
    for (auto from : all)
        for (auto to : all) {
            if (from == to) continue;
            domain_fixture::state = {};
            log.clear();
            standard_space();
            // A task with no criteria, so completion depends on the table alone.
            given("admin", edit_node{subtask, std::nullopt, std::nullopt, std::nullopt,
                                     std::nullopt, std::vector<events::criterion_spec>{}});
            // Walk to `from` by allowed steps.
            if (from == task_status::completed)
                given("contrib", change_task_status{subtask, from, "", {}});
            if (from == task_status::blocked)
                given("contrib", change_task_status{subtask, from, "db down", {}});
            if (from == task_status::in_progress || from == task_status::out_of_scope)
                given("contrib", change_task_status{subtask, from, "", {}});
            ASSERT_EQ(node(subtask.value).status, from);
            const bool allowed =
                std::find(table.begin(), table.end(), std::pair{from, to}) != table.end();
            auto r = when(
                "contrib",
                change_task_status{subtask, to, to == task_status::blocked ? "reason" : "", {}});
            EXPECT_EQ(bool(r), allowed) << to_string(from) << " → " << to_string(to);
            if (!allowed) {
                EXPECT_EQ(r.error().code, errc::rule_refused);
            }
        }
}

TEST_F(DomainTest, BlockingNeedsAReason) {
    EXPECT_EQ(code_of(when("contrib", change_task_status{task, task_status::blocked, " ", {}})),
              errc::invalid_argument);
    given("contrib", change_task_status{task, task_status::blocked, "waiting for licences", {}});
    EXPECT_EQ(node(task.value).blocked_reason, "waiting for licences");
    given("contrib", change_task_status{task, task_status::in_progress, "", {}});
    EXPECT_TRUE(node(task.value).blocked_reason.empty());
}

TEST_F(DomainTest, CompletionListsEverythingMissingThenRecordsTheEvidence) {
    auto refused = when("contrib", change_task_status{task, task_status::completed, "", {}});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::rule_refused);
    const auto& missing = refused.error().details;
    ASSERT_EQ(missing.size(), 3u);
    EXPECT_EQ(missing[0], "artifact 'Business case deck' missing");
    EXPECT_EQ(missing[1], "criterion 'Sponsor agrees' not acknowledged");
    EXPECT_EQ(missing[2], "approval 'CFO sign-off' needs a journey admin other than the completer");
    EXPECT_NE(refused.error().message.find("cannot complete 'Build the business case'"),
              std::string::npos);

    given("contrib", file(task, "notes.txt", 10, "text/plain"));
    given("contrib", file(task, "Business Case v2.PDF"));
    EXPECT_EQ(code_of(when("contrib", approve_task{task})), errc::permission_denied);
    given("jadmin", approve_task{task});
    auto done = given("contrib", change_task_status{task, task_status::completed, "", {"a2"}});
    ASSERT_EQ(done.size(), 1u);
    const auto& evidence = std::get<events::task_status_changed>(done[0]).evidence;
    ASSERT_EQ(evidence.artifacts.size(), 1u);
    EXPECT_EQ(evidence.artifacts[0].name, "Business Case v2.PDF")
        << "the pattern is case-insensitive";
    EXPECT_EQ(node(task.value).status, task_status::completed);
    EXPECT_EQ(node(task.value).evidence, evidence);
}

TEST_F(DomainTest, TheApproverMayNotBeTheCompleter) {
    given("contrib", file(task, "business case.pdf"));
    given("jadmin", approve_task{task});
    auto r = when("jadmin", change_task_status{task, task_status::completed, "", {"a2"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().details,
              std::vector<std::string>{
                  "approval 'CFO sign-off' needs a journey admin other than the completer"});
    auto done = given("contrib", change_task_status{task, task_status::completed, "", {"a2"}});
    ASSERT_EQ(done.size(), 1u);
    const auto& ev = std::get<events::task_status_changed>(done[0]);
    EXPECT_EQ(ev.evidence.approver.value, "jadmin");
    EXPECT_EQ(ev.evidence.acknowledged, std::vector<std::string>{"a2"});
    ASSERT_EQ(ev.evidence.artifacts.size(), 1u);
    EXPECT_EQ(ev.evidence.artifacts[0].name, "business case.pdf");
    // Reopening needs a fresh approval.
    given("contrib", change_task_status{task, task_status::in_progress, "", {}});
    EXPECT_TRUE(node(task.value).approvals.empty());
}

TEST_F(DomainTest, SubtaskStepAndDependencyCriteria) {
    given("contrib", edit_node{task, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                               std::vector<events::criterion_spec>{
                                   {"", events::criterion_kind::subtasks, "All subtasks", "", {}},
                                   {"", events::criterion_kind::steps, "All steps", "", {}}}});
    given("admin", add_phase{journey, "Other", "", std::nullopt});
    auto r = when("contrib", change_task_status{task, task_status::completed, "", {}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().details.size(), 3u) << "one subtask, two steps";
    given("contrib", edit_node{subtask, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                               std::vector<events::criterion_spec>{}});
    given("contrib", change_task_status{subtask, task_status::completed, "", {}});
    given("contrib", check_step{task, "s1", true});
    given("contrib", check_step{task, "s2", true});
    // A dependency on an unfinished task blocks completion and shows as waiting.
    events::task_spec other;
    other.title = "Other task";
    given("contrib", add_task{module, other, std::nullopt, std::nullopt});
    const node_id other_id = node(module.value).children.back();
    given("contrib", add_dependency{task, other_id});
    EXPECT_TRUE(is_waiting(j(), node(task.value)));
    r = when("contrib", change_task_status{task, task_status::completed, "", {}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().details, std::vector<std::string>{"waiting on task 'Other task'"});
    given("contrib", change_task_status{other_id, task_status::completed, "", {}});
    EXPECT_FALSE(is_waiting(j(), node(task.value)));
    given("contrib", change_task_status{task, task_status::completed, "", {}});
}

TEST_F(DomainTest, DependenciesRefuseCyclesSelfAndStrangers) {
    events::task_spec t;
    t.title = "B";
    given("contrib", add_task{module, t, std::nullopt, std::nullopt});
    const node_id b = node(module.value).children.back();
    given("contrib", add_dependency{task, b});
    EXPECT_TRUE(given("contrib", add_dependency{task, b}).empty());
    EXPECT_EQ(code_of(when("contrib", add_dependency{b, task})), errc::rule_refused);
    EXPECT_EQ(code_of(when("contrib", add_dependency{task, task})), errc::rule_refused);
    EXPECT_EQ(code_of(when("contrib", add_dependency{task, node_id{"s.j1.n99"}})), errc::not_found);
    EXPECT_EQ(code_of(when("contrib", add_dependency{task, module})), errc::not_found);
    given("contrib", remove_dependency{task, b});
    EXPECT_EQ(code_of(when("contrib", remove_dependency{task, b})), errc::not_found);
    bounds.dependencies_per_task = 0;
    EXPECT_EQ(code_of(when("contrib", add_dependency{task, b})), errc::limit_exceeded);
}

TEST_F(DomainTest, DueDateEffortAndSteps) {
    given("contrib", set_due_date{task, timestamp{42}});
    EXPECT_EQ(node(task.value).due, timestamp{42});
    given("contrib", set_due_date{task, std::nullopt});
    EXPECT_FALSE(node(task.value).due);
    given("contrib", set_effort{task, 120, std::nullopt});
    given("contrib", set_effort{task, std::nullopt, 30});
    EXPECT_EQ(node(task.value).estimated_minutes, 120u);
    EXPECT_EQ(node(task.value).spent_minutes, 30u);
    EXPECT_EQ(code_of(when("contrib", set_effort{task, 20'000'000, std::nullopt})),
              errc::invalid_argument);
    given("contrib", add_step{task, "Third"});
    EXPECT_EQ(node(task.value).steps.back().id, "s3");
    given("contrib", edit_step{task, "s3", "Third step"});
    EXPECT_EQ(code_of(when("contrib", edit_step{task, "s9", "x"})), errc::not_found);
    EXPECT_EQ(code_of(when("contrib", remove_step{task, "s3"})), errc::permission_denied);
    given("jadmin", remove_step{task, "s3"});
    given("contrib", add_step{task, "Fourth"});
    EXPECT_EQ(node(task.value).steps.back().id, "s4") << "ids are never reused";
    bounds.subtasks_and_steps_per_task = 4;
    EXPECT_EQ(code_of(when("contrib", add_step{task, "Fifth"})), errc::limit_exceeded);
}

// ---- artifacts, comments, help ---------------------------------------------------------

TEST_F(DomainTest, ArtifactLimitsAndNames) {
    for (const char* bad :
         {"", ".", "..", "../x.pdf", "a/b.pdf", "a\\b.pdf", "bad\x01.pdf", "\xff.pdf"})
        EXPECT_EQ(code_of(when("contrib", file(task, bad))), errc::invalid_argument) << bad;
    auto bad_hash = file(task, "x.pdf");
    bad_hash.sha256 = "ABC";
    EXPECT_EQ(code_of(when("contrib", bad_hash)), errc::invalid_argument);
    for (int i = 0; i < 5; ++i)
        given("contrib", file(task, "f" + std::to_string(i) + ".pdf", 5 * 1024 * 1024));
    EXPECT_EQ(code_of(when("contrib", file(task, "f5.pdf", 1))), errc::limit_exceeded);
    given("contrib", file(task, "f0.pdf", 4 * 1024 * 1024));  // replacing one is fine
    EXPECT_EQ(code_of(when("contrib", file(task, "f1.pdf", 6 * 1024 * 1024 + 1))),
              errc::limit_exceeded)
        << "25 MiB per task";
    EXPECT_EQ(code_of(when("contrib", remove_artifact{task, "f0.pdf"})), errc::permission_denied);
    given("jadmin", remove_artifact{task, "f0.pdf"});
    EXPECT_EQ(code_of(when("jadmin", remove_artifact{task, "f0.pdf"})), errc::not_found);
}

TEST_F(DomainTest, CommentsBelongToTheirAuthors) {
    given("contrib", add_comment{task, "first"});
    given("scontrib", add_comment{task, "second"});
    EXPECT_EQ(code_of(when("scontrib", edit_comment{task, "c1", "mine now"})),
              errc::permission_denied);
    given("contrib", edit_comment{task, "c1", "first, edited"});
    EXPECT_TRUE(node(task.value).comments[0].edited);
    EXPECT_EQ(code_of(when("contrib", delete_comment{task, "c2"})), errc::permission_denied);
    given("scontrib", delete_comment{task, "c2"});
    given("jadmin", delete_comment{task, "c1"});
    EXPECT_EQ(code_of(when("contrib", add_comment{task, ""})), errc::invalid_argument);
    bounds.comments_per_task = 1;
    given("contrib", add_comment{task, "one"});
    EXPECT_EQ(code_of(when("contrib", add_comment{task, "two"})), errc::limit_exceeded);
}

TEST_F(DomainTest, HelpRequestsHaveALifecycleAndALimit) {
    EXPECT_EQ(code_of(when("contrib", request_help{journey, phase.value, help_kind::advice, "x"})),
              errc::invalid_argument);
    given("contrib", request_help{journey, task.value, help_kind::task_assistance, "Need a DBA"});
    const std::string id = "s.j1.h1";
    given("scontrib", accept_help{journey, id});
    EXPECT_EQ(code_of(when("scontrib", accept_help{journey, id})), errc::rule_refused);
    given("scontrib", resolve_help{journey, id, "done"});
    EXPECT_EQ(code_of(when("contrib", cancel_help{journey, id})), errc::rule_refused);
    for (int i = 0; i < 5; ++i)
        given("contrib", request_help{journey, journey.value, help_kind::advice, "q"});
    EXPECT_EQ(
        code_of(when("contrib", request_help{journey, module.value, help_kind::full_service, "q"})),
        errc::limit_exceeded);
    given("contrib", cancel_help{journey, "s.j1.h2"});
    given("contrib", request_help{journey, module.value, help_kind::full_service, "q"});
    EXPECT_EQ(
        code_of(when("outsider", request_help{journey, journey.value, help_kind::advice, "q"})),
        errc::not_found);
}

TEST_F(DomainTest, TeamContributorsWorkOnlyOnTheirTeamsTasks) {
    EXPECT_EQ(code_of(when("teammate", change_task_status{task, task_status::in_progress, "", {}})),
              errc::permission_denied);
    given("contrib", assign_task{task, {}, team});
    given("teammate", change_task_status{task, task_status::in_progress, "", {}});
    given("teammate", change_task_status{subtask, task_status::in_progress, "", {}});
    EXPECT_EQ(code_of(when("teammate", add_phase{journey, "x", "", std::nullopt})),
              errc::permission_denied);
}

TEST_F(DomainTest, TextIsCheckedForLengthAndUtf8) {
    EXPECT_EQ(code_of(when("admin", rename_space{space_id{"s"}, std::string(201, 'x')})),
              errc::invalid_argument);
    EXPECT_EQ(code_of(when("admin", rename_space{space_id{"s"}, "bad \xc3\x28"})),
              errc::invalid_argument);
    EXPECT_EQ(code_of(when("admin", rename_space{space_id{"s"}, "\xed\xa0\x80"})),
              errc::invalid_argument);
    EXPECT_EQ(code_of(when("admin", rename_space{space_id{"s"}, "overlong \xc0\xaf"})),
              errc::invalid_argument);
    given("admin", rename_space{space_id{"s"}, "Ünïcödé 🚀"});
}

TEST_F(DomainTest, TheJourneyTaskLimitHolds) {
    bounds.tasks_per_journey = 3;
    events::task_spec t;
    t.title = "one more";
    given("contrib", add_task{module, t, std::nullopt, std::nullopt});
    EXPECT_EQ(code_of(when("contrib", add_task{module, t, std::nullopt, std::nullopt})),
              errc::limit_exceeded);
}

}  // namespace
}  // namespace migops::engine
