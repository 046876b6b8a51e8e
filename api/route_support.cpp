#include "api/route_support.h"

#include <boost/json/serialize.hpp>

#include "api/problems.h"

namespace migops::api {

namespace {

http_response unauthorized(const std::string& why) {
    auto r = to_response(
        make_problem(401, "/problems/unauthorized", "A valid bearer token is required", why));
    r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return r;
}

}  // namespace

route_handler authed(const token_verifier& verifier, const scheduler::clock& clock,
                     authed_handler h) {
    return [&verifier, &clock, h = std::move(h)](const http_request& req, const path_params& params,
                                                 responder respond) {
        const auto* header = req.header("authorization");
        if (!header) return respond(unauthorized("the Authorization header is missing"));
        auto who = verifier.verify_header(*header, clock.now());
        if (!who) return respond(unauthorized(who.error().message));
        h(req, params, who.value(), std::move(respond));
    };
}

http_response json_response(unsigned status, const boost::json::value& body) {
    http_response r;
    r.status = status;
    r.body = boost::json::serialize(body);
    return r;
}

}  // namespace migops::api
