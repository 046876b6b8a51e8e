// The permission matrix, cell by cell: a user holding exactly one role tries
// one command of every action; the matrix alone says whether it passes.

#include <gtest/gtest.h>

#include "engine/permissions.h"
#include "tests/unit/domain_fixture.h"

namespace migops::engine {
namespace {

class PermissionMatrixTest : public testing::domain_fixture {
  protected:
    // A space with the sample journey, and user "u" holding only r.
    void with_only(role r) {
        state = {};
        given("admin", create_space{space_id{"s"}, "Exit", ""});
        auto tpl = testing::sample_template();
        given("admin",
              create_journey{space_id{"s"}, "Wave 1", "", std::nullopt, tpl, template_hash(tpl)});
        given("admin",
              grant_role{
                  space_id{"s"}, is_space_role(r) ? journey_id{} : journey, user_id{"u"}, {}, r});
    }

    command sample_of(action a) const {
        switch (a) {
            case action::manage_space:
                return rename_space{space_id{"s"}, "Renamed"};
            case action::delete_space:
                return delete_space{space_id{"s"}};
            case action::manage_space_members:
                return create_team{space_id{"s"}, "Team"};
            case action::create_journey:
                return create_journey{space_id{"s"}, "W2", "", std::nullopt, std::nullopt, ""};
            case action::manage_journey:
                return edit_journey{journey, "Renamed", std::nullopt, std::nullopt};
            case action::delete_journey:
                return delete_journey{journey};
            case action::manage_journey_members:
                return grant_role{
                    space_id{"s"}, journey, user_id{"v"}, {}, role::journey_contributor};
            case action::edit_work:
                return change_task_status{task, events::task_status::in_progress, "", {}};
            case action::delete_work:
                return delete_node{task};
            case action::approve:
                return approve_task{task};
        }
        return rename_space{};
    }

    result<decision> try_as_u(action a) {
        return decide(state, command_context{user_id{"u"}, now, &bounds}, sample_of(a));
    }
};

TEST_F(PermissionMatrixTest, EveryCell) {
    const std::vector<role> roles{role::space_admin, role::space_contributor, role::journey_admin,
                                  role::journey_contributor, role::team_contributor};
    int cells = 0;
    for (role r : roles) {
        for (std::size_t ai = 0; ai < action_count; ++ai) {
            const auto a = static_cast<action>(ai);
            with_only(r);
            const auto expected = allowed(r, a);
            auto got = try_as_u(a);
            const std::string cell = std::string(to_string(r)) + " × " + std::string(to_string(a));
            switch (expected) {
                case allowance::yes:
                    ASSERT_TRUE(got) << cell << ": " << got.error().message;
                    EXPECT_EQ(got.value().allowed_by, r) << cell;
                    break;
                case allowance::no:
                    ASSERT_FALSE(got) << cell;
                    EXPECT_EQ(got.error().code, errc::permission_denied) << cell;
                    break;
                case allowance::assigned_only: {
                    ASSERT_FALSE(got) << cell << " on a task assigned to nobody";
                    EXPECT_EQ(got.error().code, errc::permission_denied) << cell;
                    given("admin", grant_role{space_id{"s"},
                                              journey,
                                              user_id{"assignee"},
                                              {},
                                              role::journey_contributor});
                    given("admin", assign_task{task, user_id{"u"}, {}});
                    got = try_as_u(a);
                    ASSERT_TRUE(got) << cell << " on its own task: " << got.error().message;
                    EXPECT_EQ(got.value().allowed_by, r);
                    break;
                }
            }
            ++cells;
        }
    }
    EXPECT_EQ(cells, 50);
}

// Roles held through a team count like roles held directly.
TEST_F(PermissionMatrixTest, TeamMembersInheritTheTeamsRole) {
    with_only(role::journey_contributor);
    given("admin", create_team{space_id{"s"}, "Ops"});
    given("admin", add_team_member{team_id{"s.t1"}, user_id{"w"}});
    // A team with no role gives its members none: the space is not there
    // for them.
    EXPECT_EQ(
        decide(state, {user_id{"w"}, now, &bounds}, sample_of(action::edit_work)).error().code,
        errc::not_found);
    given("admin", grant_role{space_id{"s"}, journey, {}, team_id{"s.t1"}, role::journey_admin});
    auto r = decide(state, {user_id{"w"}, now, &bounds}, sample_of(action::delete_work));
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().allowed_by, role::journey_admin);
    given("admin", remove_team_member{team_id{"s.t1"}, user_id{"w"}});
    EXPECT_FALSE(decide(state, {user_id{"w"}, now, &bounds}, sample_of(action::edit_work)));
}

// A journey role holds in its journey only.
TEST_F(PermissionMatrixTest, JourneyRolesStayInTheirJourney) {
    with_only(role::journey_admin);
    given("admin", create_journey{space_id{"s"}, "W2", "", std::nullopt, std::nullopt, ""});
    EXPECT_EQ(decide(state, {user_id{"u"}, now, &bounds},
                     edit_journey{journey_id{"s.j2"}, "x", std::nullopt, std::nullopt})
                  .error()
                  .code,
              errc::permission_denied);
}

}  // namespace
}  // namespace migops::engine
