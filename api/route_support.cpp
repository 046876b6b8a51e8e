#include "api/route_support.h"

#include <algorithm>

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

http_response bad_parameter(const std::string& detail) {
    return to_response(problem_for(make_error(errc::invalid_argument, detail)));
}

std::variant<query_params, http_response> parse_query(std::string_view target,
                                                      std::span<const std::string_view> known,
                                                      std::string_view of) {
    query_params out;
    const auto q = target.find('?');
    if (q == std::string_view::npos) return out;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (part.empty()) continue;
        const auto eq = part.find('=');
        auto name = percent_decode(part.substr(0, eq));
        if (!name) return bad_parameter("a parameter name is not percent-encoded correctly");
        if (std::find(known.begin(), known.end(), *name) == known.end())
            return bad_parameter(*name + " is not a parameter of " + std::string(of));
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
        if (!value) return bad_parameter(*name + " is not percent-encoded correctly");
        if (value->empty()) return bad_parameter(*name + " has no value");
        if (out.contains(*name)) return bad_parameter(*name + " is given more than once");
        out.emplace(std::move(*name), std::move(*value));
    }
    return out;
}

std::optional<std::string> query_value(const query_params& p, std::string_view name) {
    auto it = p.find(name);
    if (it == p.end()) return std::nullopt;
    return it->second;
}

}  // namespace migops::api
