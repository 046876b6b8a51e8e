#pragma once
// The demo (`migops serve --demo`, config key demo): so that a newcomer sees
// a real board in one step, the server makes sure the user "demo" has a
// space with a journey from a built-in template, with some work under way
// (tasks assigned, started, blocked, overdue, waiting), and prints a link
// to the dashboard with a token for demo. The sign-in page's shortcut
// (GET /v1/demo, POST /v1/demo/token) hands out demo's tokens only while
// the demo is on and the server listens on loopback, and only to requests
// addressed to a loopback name (so a page of another site that a DNS name
// rebound to 127.0.0.1 is refused too); elsewhere those routes answer 404.

#include <optional>
#include <string>

#include "api/auth.h"
#include "api/router.h"
#include "api/routes.h"

namespace migops::api {

inline constexpr const char* demo_user_name = "demo";

struct demo_info {
    space_id space;
    journey_id journey;
    std::string token;  // demo's, valid for demo_token_lifetime
};

inline constexpr std::chrono::hours demo_token_lifetime{12};

// Creates the demo space and journey unless demo can read a space already
// (a restart, or a data directory demo has used): then that space and its
// first journey. Commands go through the processor as demo's and are
// answered once the board shows them. Needs HS256 (the server signs demo's
// token itself).
result<demo_info> prepare_demo(const route_deps& deps, const auth_options& auth);

// Whether a listen host or a Host header's host (without the port) names
// this machine's loopback: 127.0.0.0/8, ::1 or localhost.
bool is_loopback_host(std::string_view host);

// GET /v1/demo and POST /v1/demo/token (no token needed). The shortcut is
// on when demo is set (after prepare_demo) and loopback is true; demo and
// the options must outlive the router.
void add_demo_routes(router& r, const route_deps& deps, const auth_options& auth,
                     const std::optional<demo_info>& demo, bool loopback);

}  // namespace migops::api
