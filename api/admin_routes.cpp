#include "api/admin_routes.h"

#include <algorithm>

#include "api/problems.h"
#include "api/route_support.h"
#include "events/types.h"

namespace migops::api {

namespace {

bool is_operator(const admin_deps& deps, const principal& who) {
    return std::find(deps.operators.begin(), deps.operators.end(), who.user.value) !=
           deps.operators.end();
}

http_response not_operator(const principal& who) {
    return to_response(
        make_problem(403, "/problems/not-an-operator", "Operators only",
                     "user " + who.user.value + " is not in the operators setting of this server"));
}

std::string rfc3339_or_empty(std::chrono::system_clock::time_point t) {
    if (t == std::chrono::system_clock::time_point{}) return {};
    return format_rfc3339(timestamp{
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()});
}

}  // namespace

boost::json::object projections_status(const projections::rebuild_status& s) {
    boost::json::object rebuild{{"state", projections::to_string(s.now)}};
    if (s.now != projections::rebuild_status::state::none) {
        rebuild["generation"] = s.generation;
        rebuild["doing"] = s.doing;
        rebuild["replaying"] = s.replaying;
        rebuild["events_done"] = s.events_done;
        rebuild["events_total"] = s.events_total;
        rebuild["events_per_second"] = static_cast<std::uint64_t>(s.events_per_second);
        rebuild["started"] = rfc3339_or_empty(s.started);
        if (s.now != projections::rebuild_status::state::running)
            rebuild["finished"] = rfc3339_or_empty(s.finished);
        if (!s.error.empty()) rebuild["error"] = s.error;
    }
    return boost::json::object{{"generation", s.live_generation}, {"rebuild", std::move(rebuild)}};
}

void add_admin_routes(router& r, const admin_deps& deps) {
    r.add("GET", "/v1/admin/projections", "admin_projections",
          authed(deps.verifier, deps.clock,
                 [deps](const http_request&, const path_params&, const principal& who,
                        const responder& respond) {
                     if (!is_operator(deps, who)) return respond(not_operator(who));
                     respond(json_response(200, projections_status(deps.models.status())));
                 }));
    r.add("POST", "/v1/admin/projections/rebuild", "admin_projections_rebuild",
          authed(deps.verifier, deps.clock,
                 [deps](const http_request&, const path_params&, const principal& who,
                        const responder& respond) {
                     if (!is_operator(deps, who)) return respond(not_operator(who));
                     if (auto started = deps.models.start_rebuild(); !started)
                         return respond(to_response(problem_for(started.error())));
                     auto res = json_response(202, projections_status(deps.models.status()));
                     res.headers.emplace_back("Location", "/v1/admin/projections");
                     respond(std::move(res));
                 }));
}

}  // namespace migops::api
