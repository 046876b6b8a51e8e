#pragma once
// The in-memory state of one partition: a fold of its events (DESIGN.md
// invariant 1). Owned and mutated only by the partition's thread.

#include <string>
#include <unordered_map>

#include "events/envelope.h"
#include "events/types.h"

namespace migops::engine {

struct space_state {
    space_id id;
    std::string name;
    std::string description;
    user_id created_by;
    timestamp created_at;
    bool deleted = false;
    position version = 0;  // position of the last event that changed it

    friend bool operator==(const space_state&, const space_state&) = default;
};

struct partition_state {
    std::unordered_map<space_id, space_state> spaces;
    events::chain_head head;

    friend bool operator==(const partition_state&, const partition_state&) = default;
};

}  // namespace migops::engine
