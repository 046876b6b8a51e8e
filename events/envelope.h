#pragma once
// The envelope every event travels in: identity, place in its partition's
// log, who caused it and when, and its link in the partition's hash chain.

#include <cstdint>
#include <string>

#include "events/catalogue.h"
#include "events/types.h"

namespace migops::events {

struct envelope {
    std::string event_id;        // 32 hex digits, unique
    partition_id partition = 0;  // the space's partition
    position pos = 0;            // 1-based, contiguous within the partition
    space_id space;              // the partition key
    timestamp time;              // the command's time
    user_id actor;               // who issued the command ("" for the system)
    std::string actor_role;      // the role that allowed the command
    std::string correlation_id;  // the request that started the work
    std::string causation_id;    // the command that produced this event
    hash_bytes prev_hash{};      // hash of pos - 1 in this partition (zeros at pos 1)
    hash_bytes hash{};           // SHA-256 of the canonical JSON without the hash
    payload data;
    // The W3C trace context of the request that caused it, when known. It
    // travels with the event to Kafka (the CloudEvents `traceparent`
    // extension) but is neither stored nor hashed: it says how the event
    // was made, not what happened.
    std::string traceparent;

    friend bool operator==(const envelope&, const envelope&) = default;
};

// The head of one partition's chain: the last position and its hash.
struct chain_head {
    position pos = 0;
    hash_bytes hash{};
    friend bool operator==(const chain_head&, const chain_head&) = default;
};

}  // namespace migops::events
