// Determinism: 10,000 random commands, valid and invalid, from random users;
// then the events they produced, stored and decoded again, replayed into an
// empty state give the identical state.

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/domain_fixture.h"

namespace migops::engine {
namespace {

class Determinism : public testing::domain_fixture {};

TEST_F(Determinism, ReplayGivesTheSameState) {
    std::mt19937 rng(20261125);
    auto pick = [&](auto const& v) {
        return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
    };
    auto n = [&](int hi) { return std::uniform_int_distribution<int>(0, hi)(rng); };
    const std::vector<std::string> users{"admin", "ann", "bob", "cy", "dee", "eve"};
    const std::vector<std::string> spaces{"s", "t", "u"};
    const std::vector<events::task_status> statuses{
        events::task_status::planned, events::task_status::in_progress,
        events::task_status::blocked, events::task_status::completed,
        events::task_status::out_of_scope};
    const std::vector<role> roles{role::space_admin, role::space_contributor, role::journey_admin,
                                  role::journey_contributor, role::team_contributor};
    auto tpl = testing::sample_template();
    const auto hash = template_hash(tpl);
    auto any_space = [&] { return space_id{pick(spaces)}; };
    auto any_journey = [&] {
        return journey_id{pick(spaces) + ".j" + std::to_string(1 + n(2))};
    };  // j3 seldom exists
    auto any_node = [&] { return node_id{any_journey().value + ".n" + std::to_string(1 + n(6))}; };
    auto any_team = [&] { return team_id{pick(spaces) + ".t" + std::to_string(1 + n(1))}; };
    auto any_user = [&] { return user_id{pick(users)}; };

    for (const auto& sp : spaces) {
        given("admin", create_space{space_id{sp}, "Space " + sp, ""});
        given("admin", create_journey{space_id{sp}, "J1", "", std::nullopt, tpl, hash});
        given("admin", create_journey{space_id{sp}, "J2", "", std::nullopt, tpl, hash});
    }
    std::size_t accepted = 0, refused = 0;
    for (int i = 0; i < 10'000; ++i) {
        command c;
        switch (n(24)) {
            case 0:
                c = create_space{any_space(), "Space " + std::to_string(i), ""};
                break;
            case 1:
                c = rename_space{any_space(), n(3) ? "Name " + std::to_string(n(5)) : ""};
                break;
            case 2:
                c = grant_role{
                    any_space(), n(1) ? any_journey() : journey_id{}, any_user(), {}, pick(roles)};
                break;
            case 3:
                c = grant_role{
                    any_space(), n(1) ? any_journey() : journey_id{}, {}, any_team(), pick(roles)};
                break;
            case 4:
                c = revoke_role{any_space(), n(1) ? any_journey() : journey_id{}, any_user(), {}};
                break;
            case 5:
                c = create_team{any_space(), "Team " + std::to_string(n(3))};
                break;
            case 6:
                c = add_team_member{any_team(), any_user()};
                break;
            case 7:
                c = create_journey{
                    any_space(), "J", "", std::nullopt, n(1) ? std::optional{tpl} : std::nullopt,
                    hash};
                break;
            case 8:
                c = change_task_status{any_node(), pick(statuses), n(1) ? "why" : "", {"a2"}};
                break;
            case 9:
                c = assign_task{any_node(), n(1) ? any_user() : user_id{},
                                n(2) ? team_id{} : any_team()};
                break;
            case 10:
                c = upload_artifact{any_node(), n(1) ? "business case.pdf" : "x/../y",
                                    "application/pdf", static_cast<std::uint64_t>(n(1000)),
                                    std::string(64, 'c')};
                break;
            case 11:
                c = approve_task{any_node()};
                break;
            case 12:
                c = add_dependency{any_node(), any_node()};
                break;
            case 13:
                c = add_comment{any_node(), "comment " + std::to_string(i)};
                break;
            case 14:
                c = delete_comment{any_node(), "c" + std::to_string(1 + n(3))};
                break;
            case 15:
                c = check_step{any_node(), "s" + std::to_string(1 + n(2)), n(1) == 1};
                break;
            case 16:
                c = add_phase{any_journey(), "Phase", "", std::nullopt};
                break;
            case 17: {
                events::task_spec t;
                t.title = "Task " + std::to_string(i);
                t.steps.push_back({"", "step"});
                c = add_task{any_node(), t, static_cast<std::uint32_t>(n(3)), std::nullopt};
                break;
            }
            case 18:
                c = n(3) == 0 ? command{delete_node{any_node()}}
                              : command{set_effort{any_node(), static_cast<std::uint32_t>(n(600)),
                                                   std::nullopt}};
                break;
            case 19:
                c = scope_node{any_node(), n(1) == 1};
                break;
            case 20:
                c = move_node{any_node(), static_cast<std::uint32_t>(n(3))};
                break;
            case 21:
                c = set_due_date{any_node(), timestamp{n(1000)}};
                break;
            case 22:
                c = request_help{any_journey(), any_node().value, events::help_kind::advice,
                                 "help"};
                break;
            case 23:
                c = copy_journey{any_journey(), "Copy"};
                break;
            default:
                c = change_journey_status{any_journey(), n(9) == 0
                                                             ? events::journey_status::archived
                                                             : events::journey_status::in_progress};
                break;
        }
        // Mostly admins and members, sometimes anyone.
        auto r = when(n(3) ? "admin" : pick(users), c);
        (r ? accepted : refused)++;
    }
    EXPECT_GT(accepted, 2'000u);
    EXPECT_GT(refused, 2'000u);

    partition_state replayed;
    for (const auto& e : log) {
        auto stored = events::decode_binary(events::encode_binary(e));
        ASSERT_TRUE(stored) << stored.error().message;
        ASSERT_TRUE(events::verify_link(stored.value(), replayed.head)) << "position " << e.pos;
        apply(replayed, stored.value());
    }
    EXPECT_TRUE(replayed == state) << "replay diverged after " << log.size() << " events";
    std::cout << "commands accepted: " << accepted << ", refused: " << refused
              << ", events: " << log.size() << "\n";
}

}  // namespace
}  // namespace migops::engine
