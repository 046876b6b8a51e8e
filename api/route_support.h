#pragma once
// What every /v1 route file shares: bearer-token authentication in front of
// a handler, and JSON answers.

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

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

// A 400 problem (invalid-argument) with the detail.
http_response bad_parameter(const std::string& detail);

using query_params = std::map<std::string, std::string, std::less<>>;

// The query string's parameters, percent-decoded ('+' stays a plus, so that
// an unescaped time offset such as +02:00 survives). A parameter not in
// `known`, a repeated or an undecodable one, or one with no value, is a
// problem naming it and the resource (`of`).
std::variant<query_params, http_response> parse_query(std::string_view target,
                                                      std::span<const std::string_view> known,
                                                      std::string_view of);

// A parameter's value, if given (parse_query gives none empty).
std::optional<std::string> query_value(const query_params& p, std::string_view name);

}  // namespace migops::api
