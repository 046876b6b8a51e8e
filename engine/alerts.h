#pragma once
// The alert rules as pure functions of a journey's state and a time: which
// alerts a task should carry now (and at which rung of the escalation
// ladder), and when that next changes by the clock alone. The scheduler
// reviews a task at that time; decide turns a review into events.

#include <optional>
#include <string>
#include <vector>

#include "engine/state.h"

namespace migops::engine {

struct wanted_alert {
    events::alert_kind kind{};
    std::string reason;
    std::uint32_t level = 0;  // for an active alert: the rung it should be on
};

// The due date moved later by the time the task waited on open expert-help
// requests made on it (the overdue clock pauses meanwhile); nullopt while
// such a request is open, or when the task has no due date.
std::optional<timestamp> effective_due(const journey_state& j, const node_state& n);

// What the rules want the task to carry at `now`.
std::vector<wanted_alert> wanted_alerts(const journey_state& j, const node_state& n, timestamp now);

// True when the task carries exactly the alerts wanted_alerts names, each
// on its rung or a higher one: a review would change nothing. Builds no
// reason texts (the scheduler asks this of every task it plans).
bool carries_wanted_alerts(const journey_state& j, const node_state& n, timestamp now);

// The first time after `now` at which wanted_alerts changes by the clock
// alone (events change it too: the scheduler reviews a task after those).
std::optional<timestamp> next_review(const journey_state& j, const node_state& n, timestamp now);

// The tasks of the journey that depend on id.
std::vector<node_id> dependents_of(const journey_state& j, const node_id& id);

}  // namespace migops::engine
