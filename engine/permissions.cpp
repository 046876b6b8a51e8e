#include "engine/permissions.h"

#include <algorithm>

namespace migops::engine {

namespace {

// The order in which an allowing role is reported (the strongest first).
constexpr std::array<role, role_count> strength{role::space_admin, role::journey_admin,
                                                role::space_contributor, role::journey_contributor,
                                                role::team_contributor};

void collect(const grants& g, const space_state& space, const user_id& actor,
             std::vector<role>& out) {
    if (auto it = g.users.find(actor); it != g.users.end()) out.push_back(it->second);
    for (const auto& [team, r] : g.teams) {
        auto t = space.teams.find(team);
        if (t != space.teams.end() && t->second.members.contains(actor)) out.push_back(r);
    }
}

}  // namespace

std::string_view to_string(action a) {
    static constexpr std::array<std::string_view, action_count> names{
        "manage the space",   "delete the space",   "manage space members",   "create journeys",
        "manage the journey", "delete the journey", "manage journey members", "edit the work",
        "delete work",        "approve tasks"};
    return names[static_cast<std::size_t>(a)];
}

bool is_space_role(role r) {
    return r == role::space_admin || r == role::space_contributor;
}

std::vector<role> roles_of(const space_state& space, const journey_state* j, const user_id& actor) {
    std::vector<role> out;
    collect(space.members, space, actor, out);
    if (j) collect(j->members, space, actor, out);
    return out;
}

bool may_read(const partition_state& s, const space_state& space, const user_id& actor) {
    if (!roles_of(space, nullptr, actor).empty()) return true;
    return std::any_of(space.journeys.begin(), space.journeys.end(), [&](const journey_id& id) {
        const auto* j = s.journey(id);
        return j && !roles_of(space, j, actor).empty();
    });
}

bool assigned_to(const space_state& space, const journey_state& j, const node_state& task,
                 const user_id& actor) {
    const node_state* t = &task;
    while (t) {
        if (t->assignee_user == actor) return true;
        if (!t->assignee_team.empty()) {
            auto team = space.teams.find(t->assignee_team);
            if (team != space.teams.end() && team->second.members.contains(actor)) return true;
        }
        if (t->kind != node_kind::subtask) break;
        auto parent = j.nodes.find(t->parent);
        t = parent == j.nodes.end() ? nullptr : &parent->second;
    }
    return false;
}

result<role> authorize(const space_state& space, const journey_state* j, const node_state* task,
                       const user_id& actor, action a) {
    const auto held = roles_of(space, j, actor);
    for (role r : strength) {
        if (std::find(held.begin(), held.end(), r) == held.end()) continue;
        switch (allowed(r, a)) {
            case allowance::yes:
                return r;
            case allowance::assigned_only:
                if (j && task && task->is_task() && assigned_to(space, *j, *task, actor)) return r;
                break;
            case allowance::no:
                break;
        }
    }
    if (held.empty())
        return failure(errc::permission_denied,
                       actor.value + " is not a member of " +
                           (j ? "journey " + j->id.value : "space " + space.id.value));
    return failure(errc::permission_denied,
                   actor.value + " may not " + std::string(to_string(a)) + " here");
}

}  // namespace migops::engine
