#pragma once
// The /v1 routes. Each handler authenticates the caller, decodes the body,
// turns it into a command for the partition processor and answers once the
// command's events are durable (or with the problem that refused it).

#include "api/auth.h"
#include "api/router.h"
#include "engine/partition_processor.h"
#include "scheduler/clock.h"

namespace migops::api {

// What the routes use; owned by the composition root, which outlives them.
struct route_deps {
    engine::partition_processor& processor;
    const token_verifier& verifier;
    const scheduler::clock& clock;
};

void add_v1_routes(router& r, const route_deps& deps);

}  // namespace migops::api
