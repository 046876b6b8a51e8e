#pragma once
// Operator actions over HTTP, for the users named in the `operators`
// setting (others get 403):
//   POST /v1/admin/projections/rebuild  rebuilds the read models beside the
//        live ones while the server serves, then switches to them
//        (projections/read_models.h); 202 with the status, 409 while a
//        rebuild runs;
//   GET  /v1/admin/projections          the live generation and what the
//        last rebuild did or is doing: progress and rate.

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "api/auth.h"
#include "api/router.h"
#include "projections/read_models.h"
#include "scheduler/clock.h"

namespace migops::api {

struct admin_deps {
    const token_verifier& verifier;
    const scheduler::clock& clock;
    projections::read_models& models;
    std::vector<std::string> operators;
};

// The routes keep a copy of deps; what it refers to must outlive the router.
void add_admin_routes(router& r, const admin_deps& deps);

// The status document GET /v1/admin/projections answers.
boost::json::object projections_status(const projections::rebuild_status& s);

}  // namespace migops::api
