#pragma once
// What every /v1 route file shares: bearer-token authentication in front of
// a handler, and JSON answers.

#include <functional>
#include <string>

#include <boost/json/value.hpp>

#include "api/auth.h"
#include "api/router.h"
#include "scheduler/clock.h"

namespace migops::api {

using authed_handler =
    std::function<void(const http_request&, const path_params&, const principal&, responder)>;

// Checks the bearer token before the handler runs: a missing or refused
// token is a 401 with WWW-Authenticate and nothing else happens. The
// verifier and the clock must outlive the returned handler.
route_handler authed(const token_verifier& verifier, const scheduler::clock& clock,
                     authed_handler h);

// A JSON answer with the given status.
http_response json_response(unsigned status, const boost::json::value& body);

}  // namespace migops::api
