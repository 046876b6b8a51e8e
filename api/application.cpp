#include "api/application.h"

#include <spdlog/spdlog.h>

#include "api/admin_routes.h"
#include "api/demo.h"
#include "api/history_routes.h"
#include "api/http_server.h"
#include "api/idempotency.h"
#include "api/logging.h"
#include "api/metrics.h"
#include "api/notifier.h"
#include "api/openapi.h"
#include "api/problems.h"
#include "api/route_support.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/static_files.h"
#include "api/stream.h"
#include "engine/partition_processor.h"
#include "engine/template_catalog.h"
#include "events/kafka/kafka_log.h"
#include "events/rocks_log.h"
#include "projections/catalogue.h"
#include "projections/read_models.h"
#include "scheduler/alert_scheduler.h"
#include "scheduler/checkpointer.h"

#include <future>

namespace migops::api {

struct application::parts {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<engine::blob_store> blobs;
    std::unique_ptr<idempotency_keys> idempotency;
    std::unique_ptr<events::event_log> log;
    std::unique_ptr<engine::partition_processor> processor;
    std::unique_ptr<scheduler::alert_scheduler> alerts;
    std::unique_ptr<notifier> notifications;
    std::optional<events::checkpoint_signer> signer;
    std::unique_ptr<scheduler::checkpointer> checkpoints;
    std::unique_ptr<projections::read_models> models;
    std::optional<token_verifier> verifier;
    std::optional<auth_options> auth;  // the demo signs demo's tokens with it
    std::optional<demo_info> demo;
    metrics stats;
    router routes;
    std::optional<route_deps> deps;  // what the routes refer to
    std::unique_ptr<stream_hub> stream;
    std::unique_ptr<http_server> server;
};

// The built-in templates and those of the configured directory are
// published before the server takes requests; a version already published
// with the same content appends nothing.
result<void> application::publish_templates() {
    auto templates = engine::builtin_templates();
    if (!templates) return failure(templates.error());
    if (!config_.templates_dir.empty()) {
        auto extra = engine::load_template_dir(config_.templates_dir);
        if (!extra) return failure(extra.error());
        for (auto& t : extra.value()) templates.value().push_back(std::move(t));
    }
    std::size_t appended = 0;
    for (auto& t : templates.value()) {
        std::promise<result<std::vector<events::envelope>>> done;
        auto outcome = done.get_future();
        const std::string name = t.template_id + " " + t.template_version;
        auto queued =
            parts_->processor->submit(engine::submission{engine::publish_template{std::move(t)},
                                                         user_id{"migops"}, clock_.now(), ""},
                                      [&done](auto r) { done.set_value(std::move(r)); });
        if (!queued) return failure(queued.error());
        auto r = outcome.get();
        if (!r) return failure(r.error().code, "template " + name + ": " + r.error().message);
        appended += r.value().size();
    }
    spdlog::info("{} templates offered, {} newly published", templates.value().size(), appended);
    return success();
}

void application::add_routes() {
    auto& r = parts_->routes;
    r.add("GET", "/healthz", "healthz",
          [](const http_request&, const path_params&, const responder& respond) {
              respond(json_response(200, boost::json::object{{"status", "ok"}}));
          });
    r.add("GET", "/readyz", "readyz",
          [this](const http_request&, const path_params&, const responder& respond) {
              // Served once start() is done; starting_response() answers before
              // and while stopping. Ready means commands are taken: not while
              // a partition's log write failed and its log has not recovered
              // (a full disk, an I/O error, a broker away).
              const auto down = parts_->processor->unavailable_partitions();
              if (down.empty())
                  return respond(json_response(200, boost::json::object{{"status", "ready"}}));
              boost::json::array ids;
              for (const auto p : down) ids.push_back(p);
              respond(json_response(
                  503,
                  boost::json::object{{"status", "unavailable"},
                                      {"doing", "waiting for the event log to take writes again"},
                                      {"partitions", std::move(ids)}}));
          });
    r.add("GET", "/metrics", "metrics",
          [this](const http_request&, const path_params&, const responder& respond) {
              http_response m;
              m.content_type = "text/plain; version=0.0.4";
              m.body = parts_->stats.render();
              respond(std::move(m));
          });
    r.add("GET", "/openapi.json", "openapi",
          [](const http_request&, const path_params&, const responder& respond) {
              http_response doc;
              doc.body = openapi_document();
              respond(std::move(doc));
          });
    parts_->deps.emplace(route_deps{*parts_->processor, *parts_->verifier, clock_, *parts_->models,
                                    parts_->store->db(), *parts_->log, *parts_->blobs,
                                    *parts_->idempotency, config_.limits, parts_->stats});
    add_v1_routes(r, *parts_->deps);
    add_demo_routes(r, *parts_->deps, *parts_->auth, parts_->demo,
                    is_loopback_host(config_.listen_host));
    const std::filesystem::path web_dir =
        config_.web_dir.empty() ? default_web_dir() : std::filesystem::path(config_.web_dir);
    if (std::error_code ec; !std::filesystem::is_directory(web_dir, ec))
        spdlog::warn("the dashboard's files are not at {}; set web_dir to serve it",
                     web_dir.string());
    add_static_routes(r, web_dir);
    // History answers only the spaces the board says the caller may read.
    add_history_routes(
        r, history_deps{*parts_->verifier, clock_, parts_->store->db(),
                        [models = parts_->models.get()] { return models->current()->audit_rows; },
                        *parts_->log,
                        [deps = &*parts_->deps](const user_id& u, const space_id& s) {
                            return deps->may_read(u, s);
                        }});
    add_admin_routes(r, admin_deps{*parts_->verifier, clock_, *parts_->models, config_.operators});
    // The stream is a WebSocket (stream.h); a plain GET is told so.
    r.add("GET", "/v1/stream", "stream",
          [](const http_request&, const path_params&, const responder& respond) {
              auto res = to_response(make_problem(
                  426, "/problems/upgrade-required", "Upgrade required",
                  "/v1/stream is a WebSocket: send Connection: Upgrade and Upgrade: websocket"));
              res.headers.emplace_back("Upgrade", "websocket");
              res.headers.emplace_back("Connection", "Upgrade");
              respond(std::move(res));
          });
}

// Uploads may be as large as a task's files may be; other bodies are small.
std::size_t application::body_limit_for(std::string_view method, std::string_view target) const {
    constexpr std::size_t envelope_slack = std::size_t{64} * 1024;
    constexpr std::size_t default_limit = std::size_t{1024} * 1024;
    constexpr std::size_t template_limit = std::size_t{8} * 1024 * 1024;
    const auto path = target.substr(0, target.find('?'));
    if (is_artifact_upload(method, target)) return config_.limits.bytes_per_task + envelope_slack;
    if (method == "POST" && path == "/v1/templates") return template_limit;
    return default_limit;
}

const router& application::routes() const {
    return parts_->routes;
}

application::application(config c) : config_(std::move(c)), parts_(std::make_unique<parts>()) {}

application::~application() {
    stop();
}

// Until start() is done the server answers only /healthz (200) and /readyz
// (503 with what it is doing); everything else is 503 with Retry-After.
http_response application::starting_response(const http_request& req) const {
    const std::string path = req.target.substr(0, req.target.find('?'));
    if (path == "/healthz") return json_response(200, boost::json::object{{"status", "ok"}});
    std::string doing;
    {
        std::lock_guard lock(phase_mutex_);
        doing = phase_;
    }
    if (path == "/readyz")
        return json_response(503, boost::json::object{{"status", "starting"}, {"doing", doing}});
    auto r = to_response(make_problem(503, "/problems/starting", "The server is starting",
                                      "the server is " + doing + "; retry shortly"));
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

void application::set_phase(std::string doing) {
    spdlog::info("{}", doing);
    std::lock_guard lock(phase_mutex_);
    phase_ = std::move(doing);
}

// The server listens from early on, so that /readyz tells a load balancer
// or an operator what a long start (a catch-up with Kafka, a rebuild of the
// read models) is doing; the routes are served once ready_ is set, after
// every part they use exists.
result<void> application::start_listening() {
    parts_->server = std::make_unique<http_server>(
        http_server_options{
            .host = config_.listen_host,
            .port = config_.listen_port,
            .threads = config_.http_threads,
            .body_limit_for =
                [this](std::string_view method, std::string_view target) {
                    return body_limit_for(method, target);
                },
            .sink_for = [this](const http_request& head) -> std::shared_ptr<body_sink> {
                if (!ready_.load(std::memory_order_acquire) || !parts_->deps) return nullptr;
                return upload_sink_for(*parts_->deps, head);
            },
            .read_timeout = std::chrono::seconds(config_.http_read_timeout),
            .write_timeout = std::chrono::seconds(config_.http_write_timeout)},
        [this](const http_request& req, const responder& respond) {
            if (!ready_.load(std::memory_order_acquire) || !parts_->deps)
                return respond(starting_response(req));
            serve(req, respond);
        },
        [this](const http_request& req) -> ws_upgrade_result {
            if (!ready_.load(std::memory_order_acquire) || !parts_->stream)
                return starting_response(req);
            return parts_->stream->upgrade(req);
        });
    auto port = parts_->server->start();
    if (!port) return failure(port.error());
    port_ = port.value();
    spdlog::info("listening on http://{}:{}", config_.listen_host, port_);
    // Where the commands run on the data directory find this server.
    return parts_->store->note_holder(local_url(config_.listen_host, port_));
}

void application::serve(const http_request& req, const responder& respond) {
    auto m = parts_->routes.match(req.method, req.target);
    if (m.matched) {
        // Requests are counted per route, when answered.
        const auto started = std::chrono::steady_clock::now();
        return m.matched->handler(req, m.params,
                                  [this, started, route = m.matched->name, method = req.method,
                                   respond](http_response r) {
                                      parts_->stats.request(
                                          route, method, r.status,
                                          std::chrono::steady_clock::now() - started);
                                      respond(std::move(r));
                                  });
    }
    if (m.allowed.empty()) {
        const std::string path = req.target.substr(0, req.target.find('?'));
        return respond(to_response(make_problem(404, "/problems/not-found", "No such resource",
                                                "nothing is served at " + path)));
    }
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    auto r = to_response(make_problem(405, "/problems/method-not-allowed", "Method not allowed",
                                      req.method + " is not served here; use " + allow));
    r.headers.emplace_back("Allow", allow);
    respond(std::move(r));
}

// The log of record: the data directory's RocksDB, or Kafka with the data
// directory as its local copy, caught up with the topic before the engine
// loads its state from it.
result<void> application::open_log() {
    set_phase(config_.verify_all ? "verifying the hash chain (all events)"
                                 : "verifying the hash chain tails");
    // As Kafka's local copy the store needs no sync of its own: the broker
    // confirmed the events before they are written here, and the offsets
    // written with them make catch-up (before anything reads the store)
    // re-read what a machine crash took.
    auto local = events::rocks_log::open(*parts_->store, {.partitions = config_.partitions,
                                                          .verify_all = config_.verify_all,
                                                          .sync = config_.kafka_brokers.empty()});
    if (!local) return failure(local.error());
    if (config_.kafka_brokers.empty()) {
        parts_->log = std::move(local).value();
        return success();
    }
    set_phase("connecting to Kafka at " + config_.kafka_brokers);
    events::kafka::kafka_log_options options;
    options.brokers = config_.kafka_brokers;
    options.topic = config_.kafka_topic;
    options.replication = config_.kafka_replication;
    options.delivery_timeout = std::chrono::milliseconds(config_.kafka_delivery_timeout_ms);
    options.request_timeout = std::chrono::milliseconds(config_.kafka_request_timeout_ms);
    options.on_log = [](int level, std::string_view line) {
        // librdkafka's levels are syslog's: 3 error, 4 warning, 6 info, 7 debug.
        constexpr int syslog_error = 3;
        constexpr int syslog_warning = 4;
        if (level <= syslog_error)
            spdlog::error("kafka: {}", line);
        else if (level == syslog_warning)
            spdlog::warn("kafka: {}", line);
        else
            spdlog::debug("kafka: {}", line);
    };
    auto kafka = events::kafka::kafka_log::open(std::move(local).value(), options);
    if (!kafka) return failure(kafka.error());
    set_phase("catching up with Kafka topic " + config_.kafka_topic);
    auto caught = kafka.value()->catch_up();
    if (!caught) return failure(caught.error());
    spdlog::info("caught up with Kafka topic {}: {} events added, {} duplicates dropped",
                 config_.kafka_topic, caught.value().appended, caught.value().duplicates);
    parts_->log = std::move(kafka).value();
    return success();
}

result<void> application::start() {
    // Token settings are checked before anything opens: a bad key stops the
    // start with a clear message.
    auto auth = resolve_auth(config_);
    if (!auth) return failure(auth.error());
    auto verifier = token_verifier::create(auth.value());
    if (!verifier) return failure(verifier.error());
    parts_->verifier.emplace(std::move(verifier).value());
    parts_->auth = std::move(auth).value();
    if (!config_.signing_key_file.empty()) {
        auto signer = events::checkpoint_signer::load(config_.signing_key_file);
        if (!signer)
            return failure(signer.error().code, "signing_key_file: " + signer.error().message);
        parts_->signer.emplace(std::move(signer).value());
    }

    std::vector<std::string> families{events::events_column_family, events::meta_column_family};
    families.emplace_back(idempotency_column_family);
    auto store = events::rocks_store::open(
        {config_.data_dir, families, nullptr, rocksdb_logger(), projections::tune_family});
    if (!store) return failure(store.error());
    parts_->store = std::move(store).value();
    if (auto r = start_listening(); !r) return r;
    parts_->idempotency = std::make_unique<idempotency_keys>(
        parts_->store->db(), parts_->store->column_family(idempotency_column_family));
    auto blobs = engine::open_file_blob_store(std::filesystem::path(config_.data_dir) / "blobs");
    if (!blobs) return failure(blobs.error());
    parts_->blobs = std::move(blobs).value();

    if (auto r = open_log(); !r) return r;

    engine::processor_options processing;
    processing.queue_capacity = config_.queue_capacity;
    processing.batch_limit = config_.batch_limit;
    processing.bounds = config_.limits;
    processing.on_group = [this](const engine::group_report& g) { parts_->stats.group(g); };
    parts_->processor = std::make_unique<engine::partition_processor>(*parts_->log, processing);
    auto models = projections::read_models::open(*parts_->store, *parts_->log);
    if (!models) return failure(models.error());
    parts_->models = std::move(models).value();
    // The partitions load and the read models catch up (before the server
    // takes requests; then they follow the log) at the same time: both only
    // read the log, which nothing appends to before the routes are served.
    set_phase("loading the partitions and bringing the read models up to date");
    auto caught_up =
        std::async(std::launch::async, [&models = *parts_->models] { return models.start(); });
    auto loaded = parts_->processor->start();
    auto caught = caught_up.get();
    if (!loaded) return loaded;
    if (!caught) return caught;
    spdlog::info(
        "loaded {} partitions, {} events; the read models are up to date",
        parts_->log->partitions(),
        projections::events_past(projections::checkpoint(parts_->log->partitions()), *parts_->log));
    set_phase("publishing the templates");
    if (auto r = publish_templates(); !r) return r;
    // Alerts go out by email and webhook, when configured; started before
    // the scheduler and the server, while the state is all durable.
    {
        const auto& host = config_.listen_host;
        auto setup = resolve_notifier(
            config_, "http://" + (host.find(':') == std::string::npos ? host : "[" + host + "]") +
                         ":" + std::to_string(port_));
        if (!setup) return failure(setup.error());
        if (auto& s = setup.value()) {
            parts_->notifications = std::make_unique<notifier>(
                *parts_->processor, *parts_->log, clock_, std::move(s->options), std::move(s->mail),
                std::move(s->webhooks));
            if (auto r = parts_->notifications->start(); !r) return r;
            parts_->stats.sample(
                "migops_notifications_pending",
                "Alert messages queued, being sent or being recorded",
                [this] { return static_cast<double>(parts_->notifications->stats().pending); });
        }
    }
    // Alerts follow time and state from here on.
    parts_->alerts =
        std::make_unique<scheduler::alert_scheduler>(*parts_->processor, *parts_->log, clock_);
    if (auto r = parts_->alerts->start(); !r) return r;
    if (parts_->signer) {
        parts_->checkpoints = std::make_unique<scheduler::checkpointer>(
            *parts_->processor, clock_, *parts_->signer,
            scheduler::checkpointer_options{std::chrono::seconds(config_.checkpoint_interval)});
        parts_->checkpoints->start();
    }

    parts_->stream =
        std::make_unique<stream_hub>(*parts_->models, *parts_->log, *parts_->verifier, clock_,
                                     stream_options{.queue_limit = config_.ws_queue_limit,
                                                    .allowed_origins = config_.ws_allowed_origins});
    parts_->stream->start();
    parts_->stream->set_own_origin(config_.listen_host, port_);
    add_routes();
    if (config_.demo) {
        auto demo = prepare_demo(*parts_->deps, *parts_->auth);
        if (!demo) return failure(demo.error());
        parts_->demo = std::move(demo).value();
        demo_link_ = local_url(config_.listen_host, port_) + "/#token=" + parts_->demo->token +
                     "&to=/journeys/" + parts_->demo->journey.value;
    }
    parts_->stats.sample("migops_command_queue_depth", "Commands waiting in the partition queues",
                         [this] { return static_cast<double>(parts_->processor->queue_depth()); });
    // The live generation's, whichever it is at the scrape (a rebuild
    // switches to one with the same models).
    for (const auto& m : parts_->models->current()->models) {
        parts_->stats.sample("migops_projection_lag_events",
                             "Events in the log that the read model has yet to apply",
                             [this, name = m->name()] {
                                 for (const auto& l : parts_->models->current()->lag(*parts_->log))
                                     if (l.model == name) return static_cast<double>(l.events);
                                 return 0.0;
                             },
                             {{"model", m->name()}});
    }
    parts_->stats.sample("migops_http_connections", "Open HTTP connections",
                         [this] { return static_cast<double>(parts_->server->connections()); });
    parts_->stats.sample("migops_stream_clients", "Clients connected to the event stream",
                         [this] { return static_cast<double>(parts_->stream->clients()); });
    ready_.store(true, std::memory_order_release);
    spdlog::info("serving http://{}:{} with data in {}{}", config_.listen_host, port_,
                 config_.data_dir,
                 config_.kafka_brokers.empty()
                     ? ""
                     : ", Kafka topic " + config_.kafka_topic + " at " + config_.kafka_brokers);
    return success();
}

std::size_t application::stream_clients() const {
    return parts_->stream ? parts_->stream->clients() : 0;
}

std::uint64_t application::stream_overflows() const {
    return parts_->stream ? parts_->stream->overflows() : 0;
}

void application::stop() {
    {
        std::lock_guard lock(phase_mutex_);
        phase_ = "stopping";
    }
    ready_ = false;
    if (parts_->server) {
        spdlog::info("stopping: no new connections, answering requests in flight");
        parts_->server->stop();
    }
    // After the server closed the stream's connections, before it is
    // destroyed: subscriptions let go of their connections.
    if (parts_->stream) {
        parts_->stream->stop();
        parts_->stream.reset();
    }
    if (parts_->alerts) {
        parts_->alerts->stop();
        parts_->alerts.reset();
    }
    if (parts_->notifications) {
        parts_->notifications->stop();
        parts_->notifications.reset();
    }
    // The last signed checkpoints, while the processor still takes them.
    if (parts_->checkpoints) {
        parts_->checkpoints->stop();
        parts_->checkpoints.reset();
    }
    if (parts_->processor) {
        parts_->processor->stop();
        parts_->processor.reset();
    }
    if (parts_->models) {
        parts_->models->stop();
        parts_->models.reset();
    }
    // Destroyed only now: the processor's and the read models' threads
    // release the completions of answered requests, which hold their
    // connections, and a connection must not outlive its server.
    parts_->server.reset();
    parts_->log.reset();
    if (parts_->store) {
        parts_->store.reset();
        spdlog::info("stopped: data directory closed");
    }
}

}  // namespace migops::api
