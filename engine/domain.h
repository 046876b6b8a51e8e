#pragma once
// The pure domain core: decide(state, command) → events | error, and
// apply(state, event) → state. No I/O, no clock: time comes from the
// command's context, limits from configuration.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/commands.h"
#include "engine/state.h"
#include "events/catalogue.h"
#include "events/result.h"

namespace migops::engine {

// Configurable limits; the defaults follow the public MigOps quotas.
struct limits {
    std::uint32_t tasks_per_journey = 1000;  // tasks + subtasks
    std::uint32_t subtasks_and_steps_per_task = 20;
    std::uint32_t files_per_task = 5;
    std::uint64_t bytes_per_task = 25ULL * 1024 * 1024;
    std::uint32_t comments_per_task = 50;
    std::uint32_t active_help_per_journey = 5;
    std::uint32_t dependencies_per_task = 20;
    std::uint32_t criteria_per_task = 20;
    std::uint32_t journeys_per_space = 200;
    std::uint32_t teams_per_space = 100;
    std::uint32_t members_per_team = 500;
    std::uint32_t grants_per_resource = 1000;
    std::uint32_t phases_per_journey = 50;
    std::uint32_t modules_per_phase = 100;
    std::size_t name_length = 200;   // spaces, journeys, teams, ids
    std::size_t title_length = 500;  // phases, modules, tasks (real templates reach 245)
    std::size_t description_length = 50'000;
    std::size_t comment_length = 10'000;
    std::uint32_t max_effort_minutes = 10'000'000;
};

// Who asks, and when (the time the API received the command).
struct command_context {
    user_id actor;
    timestamp time;
    const limits* bounds = nullptr;  // defaults when null
    // The version (If-Match) the caller last saw of the entity the command
    // acts on: the node, else the journey, else the space it names.
    std::optional<position> if_match{};
};

struct decision {
    std::vector<events::payload> events;
    role allowed_by = role::none;  // the role that allowed the command
};

result<decision> decide(const partition_state& state, const command_context& ctx,
                        const command& cmd);

void apply(partition_state& state, const events::envelope& e);

// What keeps the task from being completed by `completer`: unfinished
// dependencies, then each unmet acceptance criterion (the refusal lists
// these). With evidence, what meets the criteria is recorded in it.
std::vector<std::string> missing_for_completion(const journey_state& j, const node_state& n,
                                                const user_id& completer,
                                                const std::vector<std::string>& acknowledged,
                                                events::completion_evidence* evidence = nullptr);

// What keeps one criterion from being met (empty when it is); what meets
// it is added to evidence. Text criteria are met only by acknowledging them.
std::vector<std::string> unmet_criterion(const journey_state& j, const node_state& n,
                                         const events::criterion_spec& k, const user_id& completer,
                                         const std::vector<std::string>& acknowledged,
                                         events::completion_evidence& evidence);

// The task status transitions, as data: (from, to).
const std::vector<std::pair<events::task_status, events::task_status>>& task_transitions();

// Instantiates a template: assigns node, criterion and step ids inside the
// journey (as journey_created carries them). next_node is advanced.
std::vector<events::phase_spec> instantiate(const std::vector<events::phase_spec>& phases,
                                            const journey_id& journey, std::uint32_t& next_node);

// SHA-256 (hex) of a template's canonical JSON.
std::string template_hash(const events::template_spec& t);

}  // namespace migops::engine
