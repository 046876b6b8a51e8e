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
    // The as-of reads: the log of record and the audit index with its runner.
    const events::event_log& log;
    rocksdb::ColumnFamilyHandle* audit_index;
    projections::runner& audit_runner;
    engine::blob_store& blobs;
    idempotency_keys& idempotency;
    engine::limits bounds;
};

// The routes keep a reference to deps, which must outlive the router.
void add_v1_routes(router& r, const route_deps& deps);

// Whether a request is a file upload (PUT /v1/tasks/{task}/artifacts/{name}),
// whose body may be as large as a task's files and is streamed.
bool is_artifact_upload(std::string_view method, std::string_view target);

// The sink of an upload's body: the blob store's temporary file, hashed as
// it streams (the server's sink_for). Null for other requests.
std::shared_ptr<body_sink> upload_sink_for(const route_deps& deps, const http_request& head);

}  // namespace migops::api
