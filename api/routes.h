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
#include "projections/read_models.h"
#include "scheduler/clock.h"

namespace migops::api {

class metrics;

// What the routes use; owned by the composition root, which outlives them.
struct route_deps {
    engine::partition_processor& processor;
    const token_verifier& verifier;
    const scheduler::clock& clock;
    // The board and the audit index, of the generation served now.
    projections::read_models& models;
    rocksdb::DB& db;
    // The as-of reads: the log of record.
    const events::event_log& log;
    engine::blob_store& blobs;
    idempotency_keys& idempotency;
    engine::limits bounds;
    // Where the stages of each command's answer are recorded.
    metrics& stats;

    // The live generation's board rows; the handle stays valid for reads
    // after a switch (read_models.h).
    rocksdb::ColumnFamilyHandle* board_rows() const { return models.current()->board_rows; }
    bool may_read(const user_id& u, const space_id& s) const {
        return models.current()->board_model->may_read(u, s);
    }
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
