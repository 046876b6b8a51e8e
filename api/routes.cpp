#include "api/routes.h"

#include <chrono>

#include <boost/json/parse.hpp>

#include "api/as_of_routes.h"
#include "api/command_bodies.h"
#include "api/idempotency.h"
#include "api/json_body.h"
#include "api/metrics.h"
#include "api/problems.h"
#include "api/route_support.h"
#include "engine/commands.h"
#include "events/fields.h"

namespace migops::api {

namespace {

namespace ev = events;
using boost::json::object;

constexpr std::size_t max_list_page = 500;
constexpr std::size_t space_id_hex_digits = 16;
constexpr std::size_t artifact_head_bytes = 512;

using after_fn = std::function<void(const std::vector<ev::envelope>&, const responder&)>;

void fail(const responder& respond, const error& e) {
    respond(to_response(problem_for(e)));
}

http_response not_found(const std::string& what) {
    return to_response(make_problem(404, "/problems/not-found", "No such resource",
                                    what + " does not exist or is not visible to you"));
}

http_response no_content() {
    http_response r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

// If-Match: "\"12\"", W/"12" or 12; "*" matches any version.
result<std::optional<position>> if_match_of(const http_request& req) {
    const auto* h = req.header("if-match");
    if (!h) return std::optional<position>{};
    std::string_view v = *h;
    if (v == "*") return std::optional<position>{};
    if (v.starts_with("W/")) v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    position p = 0;
    if (v.empty() || v.size() > 20 || v.find_first_not_of("0123456789") != std::string_view::npos)
        return failure(errc::invalid_argument, "If-Match must be an ETag this server gave");
    for (char c : v) p = p * 10 + static_cast<position>(c - '0');
    return std::optional<position>{p};
}

// A view row starts with {"version":N, (see projections/views.h).
std::string etag_of(const std::string& row) {
    constexpr std::string_view prefix = R"({"version":)";
    if (!row.starts_with(prefix)) return {};
    const auto end = row.find_first_not_of("0123456789", prefix.size());
    return "\"" + row.substr(prefix.size(), end - prefix.size()) + "\"";
}

http_response row_response(const route_deps& deps, const std::string& key, unsigned status,
                           const std::string& what) {
    auto row = projections::board::get(deps.db, deps.board_rows(), key);
    if (!row) return to_response(problem_for(row.error()));
    if (!row.value()) return not_found(what);
    http_response r;
    r.status = status;
    r.body = std::move(*row.value());
    if (auto tag = etag_of(r.body); !tag.empty()) r.headers.emplace_back("ETag", tag);
    return r;
}

// After the command: the entity as the board shows it now.
after_fn show(const route_deps& deps, std::string key, unsigned status = 200,
              std::string location = {}) {
    return [&deps, key = std::move(key), status, location = std::move(location)](
               const std::vector<ev::envelope>&, const responder& respond) {
        auto r = row_response(deps, key, status, key);
        if (!location.empty() && r.status == status) r.headers.emplace_back("Location", location);
        respond(std::move(r));
    };
}

after_fn nothing_to_show() {
    return
        [](const std::vector<ev::envelope>&, const responder& respond) { respond(no_content()); };
}

// Longer X-Request-Id values are cut to this (they become correlation ids).
constexpr std::size_t max_request_id_bytes = 128;

// The request's W3C trace context (traceparent header), when it is well
// formed; anything else is ignored, as the Trace Context spec asks.
std::string traceparent_of(const http_request& req) {
    constexpr std::size_t length = 55;  // version 00: 2-32-16-2 hex digits
    const auto* h = req.header("traceparent");
    if (!h || h->size() != length) return {};
    const std::string& t = *h;
    for (std::size_t i = 0; i < length; ++i) {
        const bool dash = i == 2 || i == 35 || i == 52;
        const char c = t[i];
        if (dash != (c == '-')) return {};
        if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    }
    const auto all_zero = [&](std::size_t from, std::size_t n) {
        return t.find_first_not_of('0', from) >= from + n;
    };
    if (t.starts_with("ff") || all_zero(3, 32) || all_zero(36, 16)) return {};
    return t;
}

// Submits a command for the caller; once its events are durable and the
// board and the audit index have applied them, `after` answers: what the
// answer says is what the next read (a board, the history) shows.
void submit(const route_deps& deps, const http_request& req, const principal& who,
            engine::command cmd, const after_fn& after, const responder& respond) {
    auto expected = if_match_of(req);
    if (!expected) return fail(respond, expected.error());
    const auto* request_id = req.header("x-request-id");
    engine::submission sub;
    sub.cmd = std::move(cmd);
    sub.actor = who.user;
    sub.time = deps.clock.now();
    if (request_id) sub.correlation_id = request_id->substr(0, max_request_id_bytes);
    sub.if_match = expected.value();
    sub.command_id = command_id_for(req, who.user);
    sub.traceparent = traceparent_of(req);
    using clock = std::chrono::steady_clock;
    auto queued = deps.processor.submit(
        std::move(sub), [&models = deps.models, &stats = deps.stats, submitted = clock::now(),
                         respond, after, on_connection = req.on_connection](auto outcome) {
            if (!outcome) return fail(respond, outcome.error());
            auto events = std::move(outcome).value();
            if (events.empty()) return after(events, respond);
            const auto partition = events.back().partition;
            const auto pos = events.back().pos;
            models.when_applied(
                partition, pos,
                [events = std::move(events), respond, after, on_connection, &stats, submitted,
                 durable = clock::now()](const auto&) mutable {
                    stats.command_stages(durable - submitted, clock::now() - durable);
                    // The answer is read on the connection's thread, not on the
                    // read model's that applied the events.
                    if (!on_connection) return after(events, respond);
                    on_connection(
                        [events = std::move(events), respond, after] { after(events, respond); });
                });
        });
    if (!queued) fail(respond, queued.error());
}

// The JSON object body decoded by one of command_bodies.h's decoders;
// answers the problem and returns nullopt when it is not acceptable.
template <class Decode>
auto body_of(const http_request& req, const responder& respond, const Decode& decode)
    -> std::optional<typename std::invoke_result_t<Decode, const object&>::value_type> {
    auto body = json_object_body(req);
    if (auto* p = std::get_if<problem>(&body)) {
        respond(to_response(*p));
        return std::nullopt;
    }
    auto decoded = decode(std::get<object>(body));
    if (!decoded) {
        fail(respond, decoded.error());
        return std::nullopt;
    }
    return std::move(decoded).value();
}

std::string param(const path_params& p, const char* name) {
    return p.find(name)->second;
}

// Reads of a row that belongs to a space the caller must be able to read.
void read_in_space(const route_deps& deps, const principal& who, const space_id& space,
                   const std::string& key, const std::string& what, const responder& respond) {
    if (!deps.may_read(who.user, space)) return respond(not_found(what));
    respond(row_response(deps, key, 200, what));
}

// ---- spaces ------------------------------------------------------------------

void create_space(const route_deps& deps, const http_request& req, const principal& who,
                  const responder& respond) {
    const space_id id{random_id().substr(0, space_id_hex_digits)};
    auto cmd = body_of(req, respond, [&](const object& o) { return create_space_body(o, id); });
    if (!cmd) return;
    submit(deps, req, who, std::move(*cmd),
           show(deps, "space/" + id.value, 201, "/v1/spaces/" + id.value), respond);
}

void list_spaces(const route_deps& deps, const principal& who, const responder& respond) {
    const std::string prefix = "reader/" + who.user.value + "/";
    // One generation's rows for the whole answer.
    auto* const board_rows = deps.board_rows();
    auto readable = projections::board::scan(deps.db, board_rows, prefix, max_list_page);
    if (!readable) return fail(respond, readable.error());
    boost::json::array spaces;
    for (const auto& row : readable.value()) {
        auto space =
            projections::board::get(deps.db, board_rows, "space/" + row.key.substr(prefix.size()));
        if (!space) return fail(respond, space.error());
        if (space.value()) spaces.push_back(boost::json::parse(*space.value()));
    }
    respond(json_response(200, object{{"spaces", std::move(spaces)}}));
}

void edit_space(const route_deps& deps, const http_request& req, const space_id& space,
                const principal& who, const responder& respond) {
    auto cmd = body_of(req, respond, [&](const object& o) { return edit_space_body(o, space); });
    if (!cmd) return;
    submit(deps, req, who, std::move(*cmd), show(deps, "space/" + space.value), respond);
}

// Grants on a space or journey to a user or team; revokes with DELETE.
void grant(const route_deps& deps, const http_request& req, const principal& who,
           const space_id& space, const journey_id& journey, const user_id& user,
           const team_id& team, const responder& respond) {
    auto r = body_of(req, respond, role_body);
    if (!r) return;
    const std::string shown = journey.empty() ? "space/" + space.value : "journey/" + journey.value;
    submit(deps, req, who, engine::grant_role{space, journey, user, team, *r}, show(deps, shown),
           respond);
}

// ---- journeys ----------------------------------------------------------------

// Version strings compare as numbers part by part ("2.10" > "2.9").
bool version_less(std::string_view a, std::string_view b) {
    auto part = [](std::string_view& s) {
        const auto dot = s.find('.');
        auto head = s.substr(0, dot);
        s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
        return head;
    };
    while (!a.empty() || !b.empty()) {
        auto x = part(a);
        auto y = part(b);
        if (x.size() != y.size() && x.find_first_not_of("0123456789") == std::string_view::npos &&
            y.find_first_not_of("0123456789") == std::string_view::npos)
            return x.size() < y.size();
        if (x != y) return x < y;
    }
    return false;
}

// A published template (the latest version when version is empty).
result<object> find_template(const route_deps& deps, const std::string& id,
                             const std::string& version) {
    if (!version.empty()) {
        auto row =
            projections::board::get(deps.db, deps.board_rows(), "template/" + id + "/" + version);
        if (!row) return failure(row.error());
        if (!row.value())
            return failure(errc::not_found, "template " + id + " " + version + " does not exist");
        return boost::json::parse(*row.value()).as_object();
    }
    auto rows =
        projections::board::scan(deps.db, deps.board_rows(), "template/" + id + "/", max_list_page);
    if (!rows) return failure(rows.error());
    if (rows.value().empty()) return failure(errc::not_found, "template " + id + " does not exist");
    std::optional<object> best;
    for (const auto& row : rows.value()) {
        auto o = boost::json::parse(row.value).as_object();
        if (!best || version_less(best->at("version").as_string(), o.at("version").as_string()))
            best = std::move(o);
    }
    return std::move(*best);
}

// A created or copied journey: 201 with its board and Location.
after_fn show_new_journey(const route_deps& deps) {
    return [&deps](const std::vector<ev::envelope>& events, const responder& done) {
        const auto id = std::get<ev::journey_created>(events.front().data).journey.value;
        auto r = row_response(deps, "journey/" + id, 201, id);
        r.headers.emplace_back("Location", "/v1/journeys/" + id);
        done(std::move(r));
    };
}

void create_journey(const route_deps& deps, const http_request& req, const space_id& space,
                    const principal& who, const responder& respond) {
    auto body =
        body_of(req, respond, [&](const object& o) { return create_journey_body(o, space); });
    if (!body) return;
    auto& cmd = body->cmd;
    if (body->template_id) {
        auto t = find_template(deps, *body->template_id, body->template_version);
        if (!t) return fail(respond, t.error());
        ev::template_spec spec;
        try {
            ev::from_json_value(t.value().at("content"), spec, "template");
        } catch (const std::exception& e) {
            return fail(respond, make_error(errc::corruption, e.what()));
        }
        cmd.from_template = std::move(spec);
        cmd.template_hash = t.value().at("content_hash").as_string();
    }
    submit(deps, req, who, std::move(cmd), show_new_journey(deps), respond);
}

void edit_journey(const route_deps& deps, const http_request& req, const journey_id& journey,
                  const principal& who, const responder& respond) {
    auto cmd =
        body_of(req, respond, [&](const object& o) { return edit_journey_body(o, journey); });
    if (!cmd) return;
    submit(deps, req, who, std::move(*cmd), show(deps, "journey/" + journey.value), respond);
}

// ---- the tree and tasks ------------------------------------------------------

void add_node(const route_deps& deps, const http_request& req, const std::string& parent,
              bool phase, const principal& who, const responder& respond) {
    auto cmd =
        body_of(req, respond, [&](const object& o) { return add_node_body(o, parent, phase); });
    if (!cmd) return;
    submit(
        deps, req, who, std::move(*cmd),
        [&deps](const std::vector<ev::envelope>& events, const responder& done) {
            const auto& added = std::get<ev::node_added>(events.front().data);
            const auto journey = engine::journey_of_id(added.node.value).value;
            auto r = row_response(deps, "journey/" + journey, 201, journey);
            r.headers.emplace_back("Location", "/v1/nodes/" + added.node.value);
            done(std::move(r));
        },
        respond);
}

void add_task(const route_deps& deps, const http_request& req, const node_id& parent,
              ev::node_kind under, const principal& who, const responder& respond) {
    auto cmd =
        body_of(req, respond, [&](const object& o) { return add_task_body(o, parent, under); });
    if (!cmd) return;
    submit(
        deps, req, who, std::move(*cmd),
        [&deps](const std::vector<ev::envelope>& events, const responder& done) {
            const auto& added = std::get<ev::node_added>(events.front().data);
            auto r = row_response(deps, "task/" + added.node.value, 201, added.node.value);
            r.headers.emplace_back("Location", "/v1/tasks/" + added.node.value);
            done(std::move(r));
        },
        respond);
}

// One change a request, so a request is one command and all or nothing.
void edit_node(const route_deps& deps, const http_request& req, const node_id& node,
               const principal& who, const responder& respond) {
    auto cmd = body_of(req, respond, [&](const object& o) { return edit_node_body(o, node); });
    if (!cmd) return;
    auto shown = [&deps, node](const std::vector<ev::envelope>& events, const responder& done) {
        auto r = row_response(deps, "task/" + node.value, 200, node.value);
        if (r.status == 404)  // a phase or module: show its journey
            r = row_response(deps, "journey/" + engine::journey_of_id(node.value).value, 200,
                             node.value);
        (void)events;
        done(std::move(r));
    };
    submit(deps, req, who, std::move(*cmd), shown, respond);
}

void assign(const route_deps& deps, const http_request& req, const node_id& task,
            const principal& who, const responder& respond) {
    auto cmd = body_of(req, respond, [&](const object& o) { return assign_body(o, task); });
    if (!cmd) return;
    submit(deps, req, who, std::move(*cmd), show(deps, "task/" + task.value), respond);
}

void change_status(const route_deps& deps, const http_request& req, const node_id& task,
                   const principal& who, const responder& respond) {
    auto cmd = body_of(req, respond, [&](const object& o) { return status_body(o, task); });
    if (!cmd) return;
    submit(deps, req, who, std::move(*cmd), show(deps, "task/" + task.value), respond);
}

// ---- artifacts ---------------------------------------------------------------

// An upload on its way into the blob store: a task's byte allowance at
// most, its first bytes kept for the type check.
class artifact_upload final : public body_sink {
  public:
    artifact_upload(std::unique_ptr<engine::blob_writer> writer, std::uint64_t limit)
        : writer_(std::move(writer)), limit_(limit) {}

    result<void> write(std::string_view chunk) override {
        size_ += chunk.size();
        if (size_ > limit_)
            return failure(errc::limit_exceeded,
                           "a task holds at most " + std::to_string(limit_) + " bytes of files");
        if (head_.size() < artifact_head_bytes)
            head_.append(chunk.substr(0, artifact_head_bytes - head_.size()));
        return writer_->write(chunk);
    }
    std::string_view head() const { return head_; }
    result<engine::blob_info> commit() { return writer_->commit(); }

  private:
    std::unique_ptr<engine::blob_writer> writer_;
    std::uint64_t limit_;
    std::uint64_t size_ = 0;
    std::string head_;
};

result<std::shared_ptr<artifact_upload>> begin_upload(const route_deps& deps) {
    auto writer = deps.blobs.begin(deps.bounds.bytes_per_task);
    if (!writer) return failure(writer.error());
    return std::make_shared<artifact_upload>(std::move(writer).value(), deps.bounds.bytes_per_task);
}

void upload(const route_deps& deps, const http_request& req, const node_id& task,
            const std::string& name, const principal& who, const responder& respond) {
    // Streamed by the server (upload_sink_for), or, when it was not, from
    // the body in memory.
    auto file = std::dynamic_pointer_cast<artifact_upload>(req.sink);
    if (!file) {
        auto begun = begin_upload(deps);
        if (!begun) return fail(respond, begun.error());
        file = std::move(begun).value();
        if (auto w = file->write(req.body); !w) return fail(respond, w.error());
    }
    auto media = engine::detect_media_type(name, file->head());
    if (!media) return fail(respond, media.error());
    if (const auto d = media_type_of(req);
        !d.empty() && d != "application/octet-stream" && d != media.value())
        return respond(to_response(make_problem(415, "/problems/unsupported-media-type",
                                                "The content type does not match",
                                                "the file is " + media.value() + ", not " + d)));
    auto blob = file->commit();
    if (!blob) return fail(respond, blob.error());
    submit(
        deps, req, who,
        engine::upload_artifact{task, name, media.value(), blob.value().size, blob.value().sha256},
        show(deps, "task/" + task.value), respond);
}

void download(const route_deps& deps, const http_request& req, const node_id& task,
              const std::string& name, const principal& who, const responder& respond) {
    if (!deps.may_read(who.user, engine::space_of_id(task.value)))
        return respond(not_found(task.value));
    auto row = projections::board::get(deps.db, deps.board_rows(), "task/" + task.value);
    if (!row) return fail(respond, row.error());
    if (!row.value()) return respond(not_found(task.value));
    auto t = boost::json::parse(*row.value()).as_object();
    for (const auto& a : t.at("artifacts").as_array()) {
        const auto& o = a.as_object();
        if (o.at("name").as_string() != name) continue;
        auto path = deps.blobs.locate(std::string(o.at("sha256").as_string()));
        if (!path) return fail(respond, path.error());
        http_response r;
        const std::string etag = "\"" + std::string(o.at("sha256").as_string()) + "\"";
        r.headers.emplace_back("ETag", etag);
        // The file is content-addressed: the same ETag is the same bytes.
        if (none_match(req, etag)) {
            r.status = 304;
            return respond(std::move(r));
        }
        r.file = path.value();  // sent from disk by the server as it is read
        r.content_type = o.at("media_type").as_string();
        r.headers.emplace_back("Content-Disposition", "attachment");
        return respond(std::move(r));
    }
    respond(not_found("artifact " + name));
}

// ---- my tasks ----------------------------------------------------------------

void my_tasks(const route_deps& deps, const principal& who, const responder& respond) {
    boost::json::array tasks;
    std::set<std::string> seen;
    // One generation's rows and readers for the whole answer.
    const auto live = deps.models.current();
    auto add_rows = [&](const std::string& prefix) -> result<void> {
        auto rows = projections::board::scan(deps.db, live->board_rows, prefix, max_list_page);
        if (!rows) return failure(rows.error());
        for (const auto& row : rows.value()) {
            const auto id = row.key.substr(prefix.size());
            if (!seen.insert(id).second) continue;
            if (!live->board_model->may_read(who.user, engine::space_of_id(id))) continue;
            tasks.push_back(boost::json::parse(row.value));
        }
        return success();
    };
    if (auto r = add_rows("assigned/u/" + who.user.value + "/"); !r)
        return fail(respond, r.error());
    const std::string teams_prefix = "team_of/" + who.user.value + "/";
    auto teams = projections::board::scan(deps.db, live->board_rows, teams_prefix, max_list_page);
    if (!teams) return fail(respond, teams.error());
    for (const auto& t : teams.value())
        if (auto r = add_rows("assigned/t/" + t.key.substr(teams_prefix.size()) + "/"); !r)
            return fail(respond, r.error());
    respond(json_response(200, object{{"tasks", std::move(tasks)}}));
}

// ---- help --------------------------------------------------------------------

void request_help(const route_deps& deps, const http_request& req, const journey_id& journey,
                  const std::string& target, const principal& who, const responder& respond) {
    auto cmd =
        body_of(req, respond, [&](const object& o) { return help_body(o, journey, target); });
    if (!cmd) return;
    submit(
        deps, req, who, std::move(*cmd),
        [&deps, journey](const std::vector<ev::envelope>& events, const responder& done) {
            const auto& asked = std::get<ev::help_requested>(events.front().data);
            auto r = row_response(deps, "journey/" + journey.value, 201, journey.value);
            r.headers.emplace_back("Location", "/v1/help-requests/" + asked.request);
            done(std::move(r));
        },
        respond);
}

void help_step(const route_deps& deps, const http_request& req, const std::string& request,
               const std::string& step, const principal& who, const responder& respond) {
    const auto journey = engine::journey_of_id(request);
    engine::command cmd;
    if (step == "accept") {
        cmd = engine::accept_help{journey, request};
    } else if (step == "cancel") {
        cmd = engine::cancel_help{journey, request};
    } else {
        std::string note;
        if (!req.body.empty()) {
            auto n = body_of(req, respond, help_note_body);
            if (!n) return;
            note = std::move(*n);
        }
        cmd = engine::resolve_help{journey, request, note};
    }
    submit(deps, req, who, std::move(cmd), show(deps, "journey/" + journey.value), respond);
}

// ---- templates ---------------------------------------------------------------

void list_templates(const route_deps& deps, const responder& respond) {
    auto rows =
        projections::board::scan(deps.db, deps.board_rows(), "template/", max_list_page * 4);
    if (!rows) return fail(respond, rows.error());
    boost::json::array out;
    for (const auto& row : rows.value()) {
        auto o = boost::json::parse(row.value).as_object();
        o.erase("content");
        out.push_back(std::move(o));
    }
    respond(json_response(200, object{{"templates", std::move(out)}}));
}

void publish(const route_deps& deps, const http_request& req, const principal& who,
             const responder& respond) {
    auto body = json_object_body(req);
    if (auto* p = std::get_if<problem>(&body)) return respond(to_response(*p));
    auto spec = template_body(req.body, deps.bounds);
    if (!spec) return fail(respond, spec.error());
    std::string key = "template/" + spec.value().template_id + "/" + spec.value().template_version;
    submit(
        deps, req, who, engine::publish_template{std::move(spec).value()},
        [&deps, key = std::move(key)](const std::vector<ev::envelope>& events,
                                      const responder& done) {
            auto r = row_response(deps, key, events.empty() ? 200 : 201, key);
            done(std::move(r));
        },
        respond);
}

// ---- alerts ------------------------------------------------------------------

void journey_alerts(const route_deps& deps, const std::string& journey, const principal& who,
                    const responder& respond) {
    if (!deps.may_read(who.user, engine::space_of_id(journey)))
        return respond(not_found("journey " + journey));
    auto row = projections::board::get(deps.db, deps.board_rows(), "journey/" + journey);
    if (!row) return fail(respond, row.error());
    if (!row.value()) return respond(not_found("journey " + journey));
    auto j = boost::json::parse(*row.value()).as_object();
    boost::json::array alerts;
    boost::json::array failed;
    std::function<void(const boost::json::value&)> collect = [&](const boost::json::value& t) {
        for (const auto& a : t.at("alerts").as_array()) {
            auto o = a.as_object();
            o["task"] = t.at("id");
            o["title"] = t.at("title");
            o["status"] = t.at("status");
            o["assignee"] = t.at("assignee");
            o["due"] = t.at("due");
            alerts.push_back(std::move(o));
        }
        // Rows written before tasks carried their failed notifications have none.
        if (const auto* f = t.as_object().if_contains("failed_notifications"))
            for (const auto& n : f->as_array()) {
                auto o = n.as_object();
                o["task"] = t.at("id");
                o["title"] = t.at("title");
                failed.push_back(std::move(o));
            }
        for (const auto& sub : t.at("subtasks").as_array()) collect(sub);
    };
    for (const auto& phase : j.at("phases").as_array())
        for (const auto& module : phase.at("modules").as_array())
            for (const auto& task : module.at("tasks").as_array()) collect(task);
    respond(json_response(200, object{{"journey", journey},
                                      {"version", j.at("version")},
                                      {"rules", j.at("alert_rules")},
                                      {"alerts", std::move(alerts)},
                                      {"failed_notifications", std::move(failed)}}));
}

void set_rules(const route_deps& deps, const http_request& req, const journey_id& journey,
               const principal& who, const responder& respond) {
    auto rules = body_of(req, respond, alert_rules_body);
    if (!rules) return;
    submit(deps, req, who, engine::set_alert_rules{journey, std::move(*rules)},
           show(deps, "journey/" + journey.value), respond);
}

}  // namespace

void add_v1_routes(router& routes, const route_deps& d) {
    const auto* deps = &d;
    // Every route authenticates; every POST also honours Idempotency-Key.
    auto add = [&](const char* method, const char* pattern, const char* name, authed_handler h) {
        if (std::string_view(method) == "POST") h = deps->idempotency.wrap(std::move(h));
        routes.add(method, pattern, name, authed(deps->verifier, deps->clock, std::move(h)));
    };
    using req_t = const http_request&;
    using par_t = const path_params&;
    using who_t = const principal&;
    using res_t = const responder&;

    // spaces, members, teams
    add("POST", "/v1/spaces", "create_space",
        [deps](req_t req, par_t, who_t who, res_t res) { create_space(*deps, req, who, res); });
    add("GET", "/v1/spaces", "list_spaces",
        [deps](req_t, par_t, who_t who, res_t res) { list_spaces(*deps, who, res); });
    add("GET", "/v1/spaces/{space}", "get_space", [deps](req_t, par_t p, who_t who, res_t res) {
        const space_id s{param(p, "space")};
        read_in_space(*deps, who, s, "space/" + s.value, "space " + s.value, res);
    });
    add("PATCH", "/v1/spaces/{space}", "edit_space",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            edit_space(*deps, req, space_id{param(p, "space")}, who, res);
        });
    add("DELETE", "/v1/spaces/{space}", "delete_space",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            submit(*deps, req, who, engine::delete_space{space_id{param(p, "space")}},
                   nothing_to_show(), res);
        });
    add("GET", "/v1/spaces/{space}/members", "list_space_members",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            space_members(*deps, req, who, space_id{param(p, "space")}, res);
        });
    add("PUT", "/v1/spaces/{space}/members/{user}", "grant_space_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            grant(*deps, req, who, space_id{param(p, "space")}, {}, user_id{param(p, "user")}, {},
                  res);
        });
    add("DELETE", "/v1/spaces/{space}/members/{user}", "revoke_space_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            submit(
                *deps, req, who,
                engine::revoke_role{space_id{param(p, "space")}, {}, user_id{param(p, "user")}, {}},
                nothing_to_show(), res);
        });
    add("POST", "/v1/spaces/{space}/teams", "create_team",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            auto name = body_of(req, res, name_body);
            if (!name) return;
            const space_id s{param(p, "space")};
            submit(*deps, req, who, engine::create_team{s, std::move(*name)},
                   show(*deps, "space/" + s.value, 201), res);
        });
    add("DELETE", "/v1/teams/{team}", "delete_team",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            submit(*deps, req, who, engine::delete_team{team_id{param(p, "team")}},
                   nothing_to_show(), res);
        });
    add("PUT", "/v1/teams/{team}/members/{user}", "add_team_member",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const team_id t{param(p, "team")};
            submit(*deps, req, who, engine::add_team_member{t, user_id{param(p, "user")}},
                   show(*deps, "space/" + engine::space_of_id(t.value).value), res);
        });
    add("DELETE", "/v1/teams/{team}/members/{user}", "remove_team_member",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            submit(*deps, req, who,
                   engine::remove_team_member{team_id{param(p, "team")}, user_id{param(p, "user")}},
                   nothing_to_show(), res);
        });
    add("PUT", "/v1/teams/{team}/role", "grant_team_space_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const team_id t{param(p, "team")};
            grant(*deps, req, who, engine::space_of_id(t.value), {}, {}, t, res);
        });
    add("DELETE", "/v1/teams/{team}/role", "revoke_team_space_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const team_id t{param(p, "team")};
            submit(*deps, req, who, engine::revoke_role{engine::space_of_id(t.value), {}, {}, t},
                   nothing_to_show(), res);
        });

    // templates
    add("GET", "/v1/templates", "list_templates",
        [deps](req_t, par_t, who_t, res_t res) { list_templates(*deps, res); });
    add("GET", "/v1/templates/{template}", "get_template",
        [deps](req_t req, par_t p, who_t, res_t res) {
            std::string version;
            if (auto q = req.target.find("?version="); q != std::string::npos)
                version = percent_decode(req.target.substr(q + 9)).value_or("");
            auto t = find_template(*deps, param(p, "template"), version);
            if (!t) return fail(res, t.error());
            res(json_response(200, t.value()));
        });
    add("POST", "/v1/templates", "publish_template",
        [deps](req_t req, par_t, who_t who, res_t res) { publish(*deps, req, who, res); });

    // journeys
    add("POST", "/v1/spaces/{space}/journeys", "create_journey",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            create_journey(*deps, req, space_id{param(p, "space")}, who, res);
        });
    add("GET", "/v1/journeys/{journey}", "get_journey",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const auto j = param(p, "journey");
            if (has_query(req.target)) return journey_as_of(*deps, req, who, journey_id{j}, res);
            read_in_space(*deps, who, engine::space_of_id(j), "journey/" + j, "journey " + j, res);
        });
    add("PATCH", "/v1/journeys/{journey}", "edit_journey",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            edit_journey(*deps, req, journey_id{param(p, "journey")}, who, res);
        });
    add("DELETE", "/v1/journeys/{journey}", "delete_journey",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            submit(*deps, req, who, engine::delete_journey{journey_id{param(p, "journey")}},
                   nothing_to_show(), res);
        });
    add("POST", "/v1/journeys/{journey}/copies", "copy_journey",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            auto name = body_of(req, res, name_body);
            if (!name) return;
            submit(*deps, req, who,
                   engine::copy_journey{journey_id{param(p, "journey")}, std::move(*name)},
                   show_new_journey(*deps), res);
        });
    add("PUT", "/v1/journeys/{journey}/members/{user}", "grant_journey_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const journey_id j{param(p, "journey")};
            grant(*deps, req, who, engine::space_of_id(j.value), j, user_id{param(p, "user")}, {},
                  res);
        });
    add("DELETE", "/v1/journeys/{journey}/members/{user}", "revoke_journey_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const journey_id j{param(p, "journey")};
            submit(
                *deps, req, who,
                engine::revoke_role{engine::space_of_id(j.value), j, user_id{param(p, "user")}, {}},
                nothing_to_show(), res);
        });
    add("PUT", "/v1/journeys/{journey}/teams/{team}", "grant_journey_team_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const journey_id j{param(p, "journey")};
            grant(*deps, req, who, engine::space_of_id(j.value), j, {}, team_id{param(p, "team")},
                  res);
        });
    add("DELETE", "/v1/journeys/{journey}/teams/{team}", "revoke_journey_team_role",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const journey_id j{param(p, "journey")};
            submit(
                *deps, req, who,
                engine::revoke_role{engine::space_of_id(j.value), j, {}, team_id{param(p, "team")}},
                nothing_to_show(), res);
        });
    add("POST", "/v1/journeys/{journey}/phases", "add_phase",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            add_node(*deps, req, param(p, "journey"), true, who, res);
        });
    add("POST", "/v1/phases/{phase}/modules", "add_module",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            add_node(*deps, req, param(p, "phase"), false, who, res);
        });
    add("POST", "/v1/journeys/{journey}/help-requests", "request_journey_help",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const journey_id j{param(p, "journey")};
            request_help(*deps, req, j, j.value, who, res);
        });

    // nodes (phases and modules) and tasks
    for (const char* pattern : {"/v1/nodes/{task}", "/v1/tasks/{task}"}) {
        const bool task = std::string_view(pattern).starts_with("/v1/tasks");
        add("PATCH", pattern, task ? "edit_task" : "edit_node",
            [deps](req_t req, par_t p, who_t who, res_t res) {
                edit_node(*deps, req, node_id{param(p, "task")}, who, res);
            });
        add("DELETE", pattern, task ? "delete_task" : "delete_node",
            [deps](req_t req, par_t p, who_t who, res_t res) {
                submit(*deps, req, who, engine::delete_node{node_id{param(p, "task")}},
                       nothing_to_show(), res);
            });
    }
    add("POST", "/v1/modules/{module}/tasks", "add_task",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            add_task(*deps, req, node_id{param(p, "module")}, ev::node_kind::module, who, res);
        });
    add("POST", "/v1/tasks/{task}/subtasks", "add_subtask",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            add_task(*deps, req, node_id{param(p, "task")}, ev::node_kind::task, who, res);
        });
    add("GET", "/v1/tasks/{task}", "get_task", [deps](req_t, par_t p, who_t who, res_t res) {
        const auto t = param(p, "task");
        read_in_space(*deps, who, engine::space_of_id(t), "task/" + t, "task " + t, res);
    });
    add("PUT", "/v1/tasks/{task}/assignee", "assign_task",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            assign(*deps, req, node_id{param(p, "task")}, who, res);
        });
    add("POST", "/v1/tasks/{task}/status", "change_task_status",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            change_status(*deps, req, node_id{param(p, "task")}, who, res);
        });
    add("POST", "/v1/tasks/{task}/approvals", "approve_task",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::approve_task{t}, show(*deps, "task/" + t.value), res);
        });
    add("POST", "/v1/tasks/{task}/dependencies", "add_dependency",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            auto other = body_of(req, res, dependency_body);
            if (!other) return;
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::add_dependency{t, std::move(*other)},
                   show(*deps, "task/" + t.value), res);
        });
    add("DELETE", "/v1/tasks/{task}/dependencies/{other}", "remove_dependency",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::remove_dependency{t, node_id{param(p, "other")}},
                   show(*deps, "task/" + t.value), res);
        });
    add("POST", "/v1/tasks/{task}/steps", "add_step",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            auto text = body_of(req, res, text_body);
            if (!text) return;
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::add_step{t, *text}, show(*deps, "task/" + t.value, 201),
                   res);
        });
    add("PATCH", "/v1/tasks/{task}/steps/{step}", "edit_step",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const node_id t{param(p, "task")};
            const auto step = param(p, "step");
            auto cmd =
                body_of(req, res, [&](const object& o) { return edit_step_body(o, t, step); });
            if (!cmd) return;
            submit(*deps, req, who, std::move(*cmd), show(*deps, "task/" + t.value), res);
        });
    add("DELETE", "/v1/tasks/{task}/steps/{step}", "remove_step",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::remove_step{t, param(p, "step")},
                   show(*deps, "task/" + t.value), res);
        });
    add("PUT", "/v1/tasks/{task}/artifacts/{name}", "upload_artifact",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            upload(*deps, req, node_id{param(p, "task")}, param(p, "name"), who, res);
        });
    add("GET", "/v1/tasks/{task}/artifacts/{name}", "download_artifact",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            download(*deps, req, node_id{param(p, "task")}, param(p, "name"), who, res);
        });
    add("DELETE", "/v1/tasks/{task}/artifacts/{name}", "remove_artifact",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::remove_artifact{t, param(p, "name")},
                   show(*deps, "task/" + t.value), res);
        });
    add("POST", "/v1/tasks/{task}/comments", "add_comment",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            auto text = body_of(req, res, text_body);
            if (!text) return;
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::add_comment{t, *text},
                   show(*deps, "task/" + t.value, 201), res);
        });
    add("PATCH", "/v1/tasks/{task}/comments/{comment}", "edit_comment",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            auto text = body_of(req, res, text_body);
            if (!text) return;
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::edit_comment{t, param(p, "comment"), *text},
                   show(*deps, "task/" + t.value), res);
        });
    add("DELETE", "/v1/tasks/{task}/comments/{comment}", "delete_comment",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const node_id t{param(p, "task")};
            submit(*deps, req, who, engine::delete_comment{t, param(p, "comment")},
                   show(*deps, "task/" + t.value), res);
        });
    add("POST", "/v1/tasks/{task}/help-requests", "request_task_help",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            const auto t = param(p, "task");
            request_help(*deps, req, engine::journey_of_id(t), t, who, res);
        });
    for (const char* step : {"accept", "resolve", "cancel"}) {
        const std::string pattern = std::string("/v1/help-requests/{request}/") + step;
        const std::string name = std::string(step) + "_help";
        add("POST", pattern.c_str(), name.c_str(),
            [deps, step = std::string(step)](req_t req, par_t p, who_t who, res_t res) {
                help_step(*deps, req, param(p, "request"), step, who, res);
            });
    }

    add("GET", "/v1/journeys/{journey}/alerts", "journey_alerts",
        [deps](req_t, par_t p, who_t who, res_t res) {
            journey_alerts(*deps, param(p, "journey"), who, res);
        });
    add("PUT", "/v1/journeys/{journey}/alert-rules", "set_alert_rules",
        [deps](req_t req, par_t p, who_t who, res_t res) {
            set_rules(*deps, req, journey_id{param(p, "journey")}, who, res);
        });
    add("GET", "/v1/me/tasks", "my_tasks",
        [deps](req_t, par_t, who_t who, res_t res) { my_tasks(*deps, who, res); });
}

bool is_artifact_upload(std::string_view method, std::string_view target) {
    const auto path = target.substr(0, target.find('?'));
    return method == "PUT" && path.starts_with("/v1/tasks/") &&
           path.find("/artifacts/") != std::string_view::npos;
}

std::shared_ptr<body_sink> upload_sink_for(const route_deps& deps, const http_request& head) {
    if (!is_artifact_upload(head.method, head.target)) return nullptr;
    auto begun = begin_upload(deps);
    // Without a writer the body is read into memory and the handler meets
    // the same failure.
    return begun ? std::move(begun).value() : nullptr;
}

}  // namespace migops::api
