#include "api/as_of_routes.h"

#include <algorithm>
#include <charconv>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/problems.h"
#include "api/route_support.h"
#include "engine/commands.h"
#include "projections/as_of.h"
#include "projections/views.h"

namespace migops::api {

namespace {

constexpr std::string_view as_of_params[] = {"as_of", "as_of_position"};

http_response not_found_then(const std::string& what) {
    return to_response(
        make_problem(404, "/problems/not-found", "No such resource",
                     what + " did not exist at that moment or is not visible to you"));
}

// The moment a query names, or the problem with it.
std::variant<projections::as_of_point, http_response> moment_of(std::string_view target,
                                                                std::string_view of) {
    auto parsed = parse_query(target, as_of_params, of);
    if (auto* r = std::get_if<http_response>(&parsed)) return std::move(*r);
    const auto& q = std::get<query_params>(parsed);
    const auto time = query_value(q, "as_of");
    const auto pos = query_value(q, "as_of_position");
    if (!time && !pos)
        return bad_parameter(
            "give as_of (an RFC 3339 date-time) or as_of_position (a log position)");
    if (time && pos) return bad_parameter("give as_of or as_of_position, not both");
    projections::as_of_point at;
    if (time) {
        at.time = parse_rfc3339(*time);
        if (!at.time) return bad_parameter("as_of must be an RFC 3339 date-time");
    } else {
        position n = 0;
        const auto* end = pos->data() + pos->size();
        const auto [ptr, ec] = std::from_chars(pos->data(), end, n);
        if (ec != std::errc{} || ptr != end)
            return bad_parameter("as_of_position must be a non-negative integer");
        at.pos = n;
    }
    return at;
}

// Answers what `render` makes of the space as it was at the moment the
// request names (a JSON object's text, to which "as_of" is added), once
// the audit index holds the space's partition up to that moment.
void read_as_of(const route_deps& deps, const http_request& req, const space_id& space,
                const std::string& what, std::string_view of,
                std::function<std::optional<std::string>(const projections::past_space&)> render,
                const responder& respond) {
    auto moment = moment_of(req.target, of);
    if (auto* r = std::get_if<http_response>(&moment)) return respond(std::move(*r));
    const auto at = std::get<projections::as_of_point>(moment);
    // What is yet to come may still change: only the past is answered.
    if (const auto now = deps.clock.now(); at.time && *at.time > now)
        return respond(bad_parameter("as_of " + format_rfc3339(*at.time) +
                                     " is in the future (the server's time is " +
                                     format_rfc3339(now) + ")"));
    const auto p = events::partition_of(space, deps.log.partitions());
    const auto head = deps.log.head(p).pos;
    if (at.pos && *at.pos > head)
        return respond(bad_parameter("as_of_position " + std::to_string(*at.pos) +
                                     " is after the last event of the partition (" +
                                     std::to_string(head) + ")"));
    const auto needed = at.pos.value_or(head);
    deps.models.when_applied(p, needed,
                             [&deps, space, what, at, needed, p, render = std::move(render),
                              respond](const std::shared_ptr<const projections::generation>& g) {
                                 // Only a runner that stopped (the server stops) or failed comes
                                 // here short of the moment.
                                 if (g->audit_runner->position_now().at(p) < needed) {
                                     auto why = g->audit_runner->failed().value_or(make_error(
                                         errc::shutting_down, "the history index has stopped"));
                                     return respond(to_response(problem_for(why)));
                                 }
                                 auto past = projections::space_as_of(
                                     deps.db, g->board_rows, g->audit_rows, deps.log, space, at);
                                 if (!past) return respond(to_response(problem_for(past.error())));
                                 auto body = render(past.value());
                                 if (!body) return respond(not_found_then(what));
                                 boost::json::object as_of{{"position", past.value().pos}};
                                 as_of["time"] =
                                     past.value().time
                                         ? boost::json::value(format_rfc3339(*past.value().time))
                                         : boost::json::value(nullptr);
                                 body->pop_back();
                                 *body += R"(,"as_of":)" + boost::json::serialize(as_of) + "}";
                                 http_response r;
                                 r.body = std::move(*body);
                                 respond(std::move(r));
                             });
}

const engine::space_state* live_space(const projections::past_space& past, const space_id& id) {
    const auto* sp = past.state.space(id);
    return sp && !sp->deleted ? sp : nullptr;
}

}  // namespace

bool has_query(std::string_view target) {
    const auto q = target.find('?');
    return q != std::string_view::npos &&
           target.find_first_not_of('&', q + 1) != std::string_view::npos;
}

void journey_as_of(const route_deps& deps, const http_request& req, const principal& who,
                   const journey_id& journey, const responder& respond) {
    const auto space = engine::space_of_id(journey.value);
    const auto what = "journey " + journey.value;
    if (!deps.may_read(who.user, space)) return respond(not_found_then(what));
    read_as_of(
        deps, req, space, what, "/v1/journeys/{journey}",
        [space, journey](const projections::past_space& past) -> std::optional<std::string> {
            const auto* j = past.state.journey(journey);
            if (!j || !live_space(past, space)) return std::nullopt;
            return projections::journey_json(*j);
        },
        respond);
}

void space_members(const route_deps& deps, const http_request& req, const principal& who,
                   const space_id& space, const responder& respond) {
    const auto what = "space " + space.value;
    if (!deps.may_read(who.user, space)) return respond(not_found_then(what));
    if (!has_query(req.target)) {
        auto members = deps.models.current()->board_model->members_of(space);
        if (!members)
            return respond(to_response(make_problem(404, "/problems/not-found", "No such resource",
                                                    what + " does not exist")));
        return respond(json_response(200, *members));
    }
    read_as_of(
        deps, req, space, what, "/v1/spaces/{space}/members",
        [space](const projections::past_space& past) -> std::optional<std::string> {
            const auto* sp = live_space(past, space);
            if (!sp) return std::nullopt;
            return boost::json::serialize(projections::members_view(past.state, *sp));
        },
        respond);
}

}  // namespace migops::api
