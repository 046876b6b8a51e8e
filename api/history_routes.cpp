#include "api/history_routes.h"

#include <algorithm>
#include <map>
#include <optional>
#include <variant>

#include "api/problems.h"
#include "api/route_support.h"
#include "engine/commands.h"
#include "events/codec.h"
#include "events/json_text.h"
#include "projections/audit_index.h"

namespace migops::api {

namespace {

constexpr std::size_t default_limit = 100;
constexpr std::size_t max_limit_digits = 7;

constexpr std::string_view known_params[] = {"space", "journey", "task",   "actor", "type",
                                             "since", "until",   "cursor", "limit"};

// The query of a request, or the problem with its parameters.
std::variant<projections::audit_query, http_response> to_query(const query_params& p) {
    projections::audit_query q;
    if (auto v = query_value(p, "space")) q.space = space_id{*v};
    if (auto v = query_value(p, "journey")) q.journey = journey_id{*v};
    if (auto v = query_value(p, "task")) q.task = node_id{*v};
    if (auto v = query_value(p, "actor")) q.actor = user_id{*v};
    if (auto v = query_value(p, "type")) {
        q.type_id = projections::event_type_id(*v);
        if (!q.type_id)
            return bad_parameter("type " + *v +
                                 " is not an event type (e.g. io.migops.task.status_changed.v1 "
                                 "or task.status_changed)");
    }
    for (const std::string_view name : {"since", "until"}) {
        auto v = query_value(p, name);
        if (!v) continue;
        auto t = parse_rfc3339(*v);
        if (!t) return bad_parameter(std::string(name) + " must be an RFC 3339 date-time");
        (name == "since" ? q.since : q.until) = *t;
    }
    if (auto v = query_value(p, "cursor")) q.after_cursor = *v;
    q.limit = default_limit;
    if (auto v = query_value(p, "limit")) {
        const bool digits =
            v->size() <= max_limit_digits &&
            std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
        const auto n = digits ? std::stoul(*v) : 0;
        if (n < 1 || n > projections::audit_max_limit)
            return bad_parameter("limit must be an integer from 1 to " +
                                 std::to_string(projections::audit_max_limit));
        q.limit = n;
    }
    return q;
}

http_response not_readable(std::string_view what, std::string_view id) {
    return to_response(make_problem(404, "/problems/not-found", "No such resource",
                                    "there is no " + std::string(what) + " " + std::string(id) +
                                        " whose history you may read"));
}

void history_route(const history_deps& deps, const http_request& req, const principal& who,
                   const responder& respond) {
    auto parsed = parse_query(req.target, known_params, "/v1/events");
    if (auto* r = std::get_if<http_response>(&parsed)) return respond(std::move(*r));
    auto query = to_query(std::get<query_params>(parsed));
    if (auto* r = std::get_if<http_response>(&query)) return respond(std::move(*r));
    auto& q = std::get<projections::audit_query>(query);

    // One membership check per space and request.
    std::map<space_id, bool> readable;
    auto may_read = [&](const space_id& s) {
        auto it = readable.find(s);
        if (it == readable.end()) it = readable.emplace(s, deps.may_read_space(who.user, s)).first;
        return it->second;
    };
    // Naming something in a space the caller may not read answers as if it
    // did not exist, so that other spaces' ids are not disclosed.
    if (!q.space.empty() && !may_read(q.space))
        return respond(not_readable("space", q.space.value));
    if (!q.journey.empty() && !may_read(engine::space_of_id(q.journey.value)))
        return respond(not_readable("journey", q.journey.value));
    if (!q.task.empty() && !may_read(engine::space_of_id(q.task.value)))
        return respond(not_readable("task", q.task.value));
    q.space_allowed = may_read;

    auto page = projections::query_audit_index(deps.db, deps.audit_index(), q);
    if (!page) return respond(to_response(problem_for(page.error())));
    // A first page with nothing on it: a journey or task named that the
    // history has never seen does not exist (one whose events the other
    // conditions leave out is an empty page).
    if (page.value().hits.empty() && !page.value().next_cursor && q.after_cursor.empty()) {
        // Whether a query for the one id `name` sets finds nothing at all.
        const auto never_seen = [&](const auto& name) -> result<bool> {
            projections::audit_query only;
            name(only);
            only.limit = 1;
            auto seen = projections::query_audit_index(deps.db, deps.audit_index(), only);
            if (!seen) return failure(seen.error());
            return seen.value().hits.empty() && !seen.value().next_cursor;
        };
        if (!q.journey.empty()) {
            auto unknown = never_seen([&](auto& only) { only.journey = q.journey; });
            if (!unknown) return respond(to_response(problem_for(unknown.error())));
            if (unknown.value()) return respond(not_readable("journey", q.journey.value));
        }
        if (!q.task.empty()) {
            auto unknown = never_seen([&](auto& only) { only.task = q.task; });
            if (!unknown) return respond(to_response(problem_for(unknown.error())));
            if (unknown.value()) return respond(not_readable("task", q.task.value));
        }
    }
    // {"events":[CloudEvent...],"next":cursor or null}, written as text.
    http_response answer;
    std::string& body = answer.body;
    body = R"({"events":[)";
    bool first = true;
    for (const auto& hit : page.value().hits) {
        auto event = events::read_event(deps.log, hit.partition, hit.pos);
        if (!event) return respond(to_response(problem_for(event.error())));
        if (!first) body.push_back(',');
        first = false;
        events::append_cloudevent_json(body, event.value());
    }
    body += R"(],"next":)";
    if (page.value().next_cursor)
        events::append_json_string(body, *page.value().next_cursor);
    else
        body += "null";
    body.push_back('}');
    respond(std::move(answer));
}

}  // namespace

void add_history_routes(router& r, const history_deps& deps) {
    r.add("GET", "/v1/events", "list_events",
          authed(deps.verifier, deps.clock,
                 [deps](const http_request& req, const path_params&, const principal& who,
                        const responder& respond) { history_route(deps, req, who, respond); }));
}

}  // namespace migops::api
