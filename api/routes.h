#pragma once
// The /v1 routes. Each handler authenticates the caller, decodes the body,
// turns it into a command for the partition processor and answers once the
// command's events are durable and the board shows them (read your writes),
// or with the problem that refused it. Reads come from the board read model.

#include <rocksdb/db.h>

#include "api/auth.h"
#include "api/idempotency.h"
#include "api/router.h"
#include "engine/artifacts.h"
#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "projections/board.h"
#include "scheduler/clock.h"

namespace migops::api {

// What the routes use; owned by the composition root, which outlives them.
struct route_deps {
    engine::partition_processor& processor;
    const token_verifier& verifier;
    const scheduler::clock& clock;
    projections::board& board;
    projections::runner& board_runner;
    rocksdb::DB& db;
    rocksdb::ColumnFamilyHandle* board_rows;
    engine::blob_store& blobs;
    idempotency_keys& idempotency;
    engine::limits bounds;
};

// The routes keep a reference to deps, which must outlive the router.
void add_v1_routes(router& r, const route_deps& deps);

}  // namespace migops::api
