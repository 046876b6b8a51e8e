#include "api/routes.h"

#include "api/json_body.h"
#include "api/problems.h"
#include "api/route_support.h"

namespace migops::api {

namespace {

constexpr std::size_t max_name_bytes = 1024;
constexpr std::size_t max_description_bytes = std::size_t{64} * 1024;
constexpr std::size_t space_id_hex_digits = 16;

// Submits a command for the caller; on success answers with what
// on_events makes of the durable events.
void submit(const route_deps& deps, const http_request& req, const principal& who,
            engine::command cmd,
            std::function<http_response(const std::vector<events::envelope>&)> on_events,
            const responder& respond) {
    const auto* request_id = req.header("x-request-id");
    engine::submission sub{std::move(cmd), who.user, deps.clock.now(),
                           request_id ? request_id->substr(0, 128) : std::string{}};
    auto queued = deps.processor.submit(
        std::move(sub), [respond, on_events = std::move(on_events)](auto outcome) {
            if (!outcome) return respond(to_response(problem_for(outcome.error())));
            respond(on_events(outcome.value()));
        });
    if (!queued) respond(to_response(problem_for(queued.error())));
}

void create_space_route(const route_deps& deps, const http_request& req, const path_params&,
                        const principal& who, const responder& respond) {
    auto body = json_object_body(req);
    if (auto* p = std::get_if<problem>(&body)) return respond(to_response(*p));
    const auto& o = std::get<boost::json::object>(body);
    auto name = string_field(o, "name", true, max_name_bytes);
    if (!name) return respond(to_response(problem_for(name.error())));
    auto description = string_field(o, "description", false, max_description_bytes);
    if (!description) return respond(to_response(problem_for(description.error())));
    const space_id id{random_id().substr(0, space_id_hex_digits)};
    submit(
        deps, req, who, engine::create_space{id, *name.value(), description.value().value_or("")},
        [id](const std::vector<events::envelope>& events) {
            const auto& e = events.front();
            const auto& created = std::get<events::space_created>(e.data);
            boost::json::object space;
            space["id"] = id.value;
            space["name"] = created.name;
            space["description"] = created.description;
            space["version"] = e.pos;
            space["created_by"] = e.actor.value;
            space["created_at"] = format_rfc3339(e.time);
            auto r = json_response(201, space);
            r.headers.emplace_back("Location", "/v1/spaces/" + id.value);
            r.headers.emplace_back("ETag", "\"" + std::to_string(e.pos) + "\"");
            return r;
        },
        respond);
}

}  // namespace

void add_v1_routes(router& r, const route_deps& deps) {
    r.add("POST", "/v1/spaces", "create_space",
          authed(deps.verifier, deps.clock,
                 [deps](const http_request& req, const path_params& params, const principal& who,
                        const responder& respond) {
                     create_space_route(deps, req, params, who, respond);
                 }));
}

}  // namespace migops::api
