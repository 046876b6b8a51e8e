#include "api/demo.h"

#include <future>

#include <boost/json/parse.hpp>

#include "api/problems.h"
#include "api/route_support.h"
#include "engine/commands.h"
#include "engine/template_catalog.h"

namespace migops::api {

namespace {

namespace ev = events;

constexpr const char* demo_template = "migops-general-migration";
constexpr std::int64_t micros_per_day = std::int64_t{24} * 3600 * 1'000'000;
constexpr std::int64_t target_days = 90;
constexpr std::size_t space_id_hex_digits = 16;

// One command as demo's, answered once the board shows its events.
result<std::vector<ev::envelope>> run(const route_deps& deps, engine::command cmd) {
    std::promise<result<std::vector<ev::envelope>>> decided;
    auto outcome = decided.get_future();
    auto queued = deps.processor.submit(
        engine::submission{std::move(cmd), user_id{demo_user_name}, deps.clock.now(), ""},
        [&decided](auto r) { decided.set_value(std::move(r)); });
    if (!queued) return failure(queued.error());
    auto events = outcome.get();
    if (!events) return failure(events.error());
    if (events.value().empty()) return events;
    std::promise<void> shown;
    deps.models.when_applied(events.value().back().partition, events.value().back().pos,
                             [&shown](const auto&) { shown.set_value(); });
    shown.get_future().wait();
    return events;
}

result<void> run_all(const route_deps& deps, std::vector<engine::command> commands) {
    for (auto& c : commands)
        if (auto r = run(deps, std::move(c)); !r)
            return failure(r.error().code, "demo: " + r.error().message);
    return success();
}

// The space demo reads already, with its first journey, if any.
result<std::optional<demo_info>> existing(const route_deps& deps) {
    const std::string prefix = std::string("reader/") + demo_user_name + "/";
    auto readable = projections::board::scan(deps.db, deps.board_rows(), prefix, 1);
    if (!readable) return failure(readable.error());
    if (readable.value().empty()) return std::optional<demo_info>{};
    demo_info out;
    out.space = space_id{readable.value().front().key.substr(prefix.size())};
    auto row = projections::board::get(deps.db, deps.board_rows(), "space/" + out.space.value);
    if (!row) return failure(row.error());
    if (row.value()) {
        const auto space = boost::json::parse(*row.value());
        const auto& journeys = space.at("journeys").as_array();
        if (!journeys.empty())
            out.journey = journey_id{std::string(journeys.front().at("id").as_string())};
    }
    return std::optional<demo_info>{std::move(out)};
}

// Some work under way, so that the board shows each of its marks.
std::vector<engine::command> work_under_way(const ev::journey_created& journey, timestamp now) {
    std::vector<node_id> tasks;
    for (const auto& phase : journey.phases)
        for (const auto& module : phase.modules)
            for (const auto& task : module.tasks) tasks.push_back(node_id{task.id});
    std::vector<engine::command> out;
    const user_id demo{demo_user_name};
    const user_id sam{"sam"};
    constexpr std::size_t tasks_used = 5;
    if (tasks.size() < tasks_used) return out;
    using ts = ev::task_status;
    out.emplace_back(engine::assign_task{tasks[0], demo, {}});
    out.emplace_back(engine::change_task_status{tasks[0], ts::in_progress, "", {}});
    out.emplace_back(engine::add_comment{tasks[0], "Collectors go live on Monday."});
    out.emplace_back(engine::assign_task{tasks[1], sam, {}});
    out.emplace_back(engine::change_task_status{tasks[1], ts::in_progress, "", {}});
    out.emplace_back(engine::change_task_status{
        tasks[1], ts::blocked, "Waiting for read access to the CMDB", {}});
    out.emplace_back(engine::assign_task{tasks[2], demo, {}});
    out.emplace_back(engine::set_due_date{tasks[2], timestamp{now.micros - micros_per_day}});
    out.emplace_back(engine::add_dependency{tasks[4], tasks[3]});
    return out;
}

std::string host_of(std::string_view host_header) {
    if (host_header.starts_with("[")) {
        const auto close = host_header.find(']');
        return std::string(host_header.substr(1, close == std::string_view::npos ? 0 : close - 1));
    }
    return std::string(host_header.substr(0, host_header.find(':')));
}

http_response demo_off() {
    return to_response(make_problem(
        404, "/problems/not-found", "No such resource",
        "the demo sign-in is offered only by a server started with --demo on loopback"));
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    // 127.x.y.z as digits and dots only: "127.example.com" is a name.
    const bool v4 =
        host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string_view::npos;
    return v4 || host == "localhost" || host == "::1";
}

result<demo_info> prepare_demo(const route_deps& deps, const auth_options& auth) {
    if (auth.algorithm != "HS256")
        return failure(errc::invalid_argument,
                       "demo signs its own tokens and needs jwt_algorithm HS256");
    auto found = existing(deps);
    if (!found) return failure(found.error());
    demo_info demo;
    if (found.value()) {
        demo = std::move(*found.value());
    } else {
        demo.space = space_id{random_id().substr(0, space_id_hex_digits)};
        if (auto r = run_all(
                deps, {engine::create_space{demo.space, "Demo: data centre exit",
                                            "Made by migops serve --demo."},
                       engine::grant_role{
                           demo.space, {}, user_id{"sam"}, {}, ev::role::space_contributor}});
            !r)
            return failure(r.error());
        auto templates = engine::builtin_templates();
        if (!templates) return failure(templates.error());
        auto t = std::find_if(templates.value().begin(), templates.value().end(),
                              [](const auto& s) { return s.template_id == demo_template; });
        if (t == templates.value().end())
            return failure(errc::not_found,
                           std::string("demo: no built-in template ") + demo_template);
        const auto now = deps.clock.now();
        auto hash = engine::template_hash(*t);
        auto created = run(
            deps, engine::create_journey{demo.space, "Wave 1", "The first wave of servers to move.",
                                         timestamp{now.micros + target_days * micros_per_day},
                                         std::move(*t), std::move(hash)});
        if (!created) return failure(created.error().code, "demo: " + created.error().message);
        const auto& journey = std::get<ev::journey_created>(created.value().front().data);
        demo.journey = journey.journey;
        if (auto r = run_all(deps, work_under_way(journey, now)); !r) return failure(r.error());
    }
    auto token = issue_token(auth, user_id{demo_user_name}, deps.clock.now(), demo_token_lifetime);
    if (!token) return failure(token.error());
    demo.token = std::move(token).value();
    return demo;
}

void add_demo_routes(router& r, const route_deps& deps, const auth_options& auth,
                     const std::optional<demo_info>& demo, bool loopback) {
    // Only for a request addressed to a loopback name, while the demo is on.
    auto offered = [&demo, loopback](const http_request& req) {
        const auto* host = req.header("host");
        return demo && loopback && host && is_loopback_host(host_of(*host));
    };
    r.add("GET", "/v1/demo", "demo",
          [&demo, offered](const http_request& req, const path_params&, const responder& respond) {
              if (!offered(req)) return respond(demo_off());
              respond(json_response(200, boost::json::object{{"user", demo_user_name},
                                                             {"space", demo->space.value},
                                                             {"journey", demo->journey.value}}));
          });
    r.add("POST", "/v1/demo/token", "demo_token",
          [&deps, &auth, offered](const http_request& req, const path_params&,
                                  const responder& respond) {
              if (!offered(req)) return respond(demo_off());
              auto token =
                  issue_token(auth, user_id{demo_user_name}, deps.clock.now(), demo_token_lifetime);
              if (!token) return respond(to_response(problem_for(token.error())));
              respond(json_response(
                  200, boost::json::object{{"token", token.value()}, {"user", demo_user_name}}));
          });
}

}  // namespace migops::api
