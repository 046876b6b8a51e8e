#pragma once
// History: GET /v1/events answers the CloudEvents of the events that match
// its filters (space, journey, task, actor, type, since, until), a page at a
// time with an opaque cursor, from the audit index (projections/audit_index.h)
// and the log of record. Only events of spaces the caller may read are ever
// answered.

#include <functional>

#include <rocksdb/db.h>

#include "api/auth.h"
#include "api/router.h"
#include "events/event_log.h"
#include "scheduler/clock.h"

namespace migops::api {

// What the history route uses; owned by the composition root, which
// outlives the routes.
struct history_deps {
    const token_verifier& verifier;
    const scheduler::clock& clock;
    rocksdb::DB& db;
    // The audit index's rows, of the read models served now.
    std::function<rocksdb::ColumnFamilyHandle*()> audit_index;
    const events::event_log& log;
    // Whether the user may read the space's history. Called from the HTTP
    // threads, at most once per space and request.
    std::function<bool(const user_id&, const space_id&)> may_read_space;
};

void add_history_routes(router& r, const history_deps& deps);

}  // namespace migops::api
