#pragma once
// Who may do what: the role × action matrix, as data (DESIGN.md section 3).
//
// Space roles are granted on a space and hold in every journey of it (a
// space admin acts as journey admin everywhere in the space); journey roles
// are granted on one journey. A role granted to a team holds for each of
// its members. Deletes and membership changes need an admin role;
// contributors may do all other work; a team contributor may work only on
// tasks assigned to one of its teams or to itself.

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/commands.h"
#include "engine/state.h"
#include "events/result.h"

namespace migops::engine {

enum class action : std::uint8_t {
    manage_space,  // rename, describe
    delete_space,
    manage_space_members,  // space roles, teams and their members
    create_journey,        // create, copy
    manage_journey,        // edit details, change status, archive
    delete_journey,
    manage_journey_members,  // journey roles
    edit_work,               // the tree, tasks, steps, files, comments, help
    delete_work,             // delete nodes, files, others' comments
    approve,                 // sign off an approval criterion
};
inline constexpr std::size_t action_count = 10;
std::string_view to_string(action a);

enum class allowance : std::uint8_t {
    no,
    yes,
    assigned_only,  // on tasks assigned to the actor or to one of its teams
};

inline constexpr std::size_t role_count = 5;  // space_admin … team_contributor

// matrix[role - 1][action]
inline constexpr std::array<std::array<allowance, action_count>, role_count> permission_matrix{{
    //  manage_space    delete_space   space_members  create_journey manage_journey
    //  delete_journey  journey_members edit_work     delete_work    approve
    /* space_admin */
    {allowance::yes, allowance::yes, allowance::yes, allowance::yes, allowance::yes, allowance::yes,
     allowance::yes, allowance::yes, allowance::yes, allowance::yes},
    /* space_contributor */
    {allowance::no, allowance::no, allowance::no, allowance::no, allowance::no, allowance::no,
     allowance::no, allowance::yes, allowance::no, allowance::no},
    /* journey_admin */
    {allowance::no, allowance::no, allowance::no, allowance::no, allowance::yes, allowance::yes,
     allowance::yes, allowance::yes, allowance::yes, allowance::yes},
    /* journey_contributor */
    {allowance::no, allowance::no, allowance::no, allowance::no, allowance::no, allowance::no,
     allowance::no, allowance::yes, allowance::no, allowance::no},
    /* team_contributor */
    {allowance::no, allowance::no, allowance::no, allowance::no, allowance::no, allowance::no,
     allowance::no, allowance::assigned_only, allowance::no, allowance::no},
}};

inline allowance allowed(role r, action a) {
    if (r == role::none) return allowance::no;
    return permission_matrix[static_cast<std::size_t>(r) - 1][static_cast<std::size_t>(a)];
}

// Space roles may only be granted on spaces, journey roles on journeys.
bool is_space_role(role r);

// The roles the actor holds in the space and, when j is given, in the
// journey: directly and through its teams.
std::vector<role> roles_of(const space_state& space, const journey_state* j, const user_id& actor);

// True when the actor holds a role in the space or in one of its
// journeys, directly or through a team: who may see that the space exists.
bool may_read(const partition_state& s, const space_state& space, const user_id& actor);

// True when the actor may work on the task as assignee (or member of the
// assigned team) of it or of its parent task.
bool assigned_to(const space_state& space, const journey_state& j, const node_state& task,
                 const user_id& actor);

// The role that allows the actor to perform a on this target, or
// permission_denied naming the action.
result<role> authorize(const space_state& space, const journey_state* j, const node_state* task,
                       const user_id& actor, action a);

}  // namespace migops::engine
