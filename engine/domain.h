#pragma once
// The pure domain core: decide(state, command) → events | error, and
// apply(state, event) → state. No I/O, no clock: time comes from the
// command's context.

#include <vector>

#include "engine/commands.h"
#include "engine/state.h"
#include "events/catalogue.h"
#include "events/result.h"

namespace migops::engine {

// Who asks, and when (the time the API received the command).
struct command_context {
    user_id actor;
    timestamp time;
};

// Limits on user-supplied values (named, configurable later).
inline constexpr std::size_t max_name_length = 200;
inline constexpr std::size_t max_description_length = 20000;

result<std::vector<events::payload>> decide(const partition_state& state,
                                            const command_context& ctx, const command& cmd);

void apply(partition_state& state, const events::envelope& e);

}  // namespace migops::engine
