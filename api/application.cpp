#include "api/application.h"

#include <spdlog/spdlog.h>

#include "api/http_server.h"
#include "engine/partition_processor.h"
#include "engine/template_catalog.h"
#include "events/rocks_log.h"

#include <future>

namespace migops::api {

struct application::parts {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<events::rocks_log> log;
    std::unique_ptr<engine::partition_processor> processor;
    std::unique_ptr<http_server> server;
};

namespace {

http_response json_response(unsigned status, std::string body) {
    http_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

http_response not_found(const std::string& target) {
    http_response r;
    r.status = 404;
    r.content_type = "application/problem+json";
    std::string escaped;
    for (char c : target)
        if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
    r.body = R"({"type":"/problems/not-found","title":"No such resource","status":404,"detail":")" +
             escaped + "\"}";
    return r;
}

}  // namespace

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

application::application(config c) : config_(std::move(c)), parts_(std::make_unique<parts>()) {}

application::~application() {
    stop();
}

result<void> application::start() {
    auto store = events::rocks_store::open(
        {config_.data_dir, {events::events_column_family, events::meta_column_family}, nullptr});
    if (!store) return failure(store.error());
    parts_->store = std::move(store).value();

    spdlog::info("verifying the hash chain{}", config_.verify_all ? " (all events)" : " tails");
    auto log = events::rocks_log::open(
        *parts_->store, {.partitions = config_.partitions, .verify_all = config_.verify_all});
    if (!log) return failure(log.error());
    parts_->log = std::move(log).value();

    engine::processor_options processing;
    processing.queue_capacity = config_.queue_capacity;
    processing.batch_limit = config_.batch_limit;
    processing.bounds = config_.limits;
    parts_->processor = std::make_unique<engine::partition_processor>(*parts_->log, processing);
    if (auto r = parts_->processor->start(); !r) return r;
    std::uint64_t events = 0;
    for (partition_id p = 0; p < parts_->log->partitions(); ++p) events += parts_->log->head(p).pos;
    spdlog::info("loaded {} partitions, {} events", parts_->log->partitions(), events);
    if (auto r = publish_templates(); !r) return r;

    parts_->server = std::make_unique<http_server>(
        http_server_options{.host = config_.listen_host,
                            .port = config_.listen_port,
                            .threads = config_.http_threads},
        [this](const http_request& req, const responder& respond) {
            const std::string path = req.target.substr(0, req.target.find('?'));
            if (req.method == "GET" && path == "/healthz")
                return respond(json_response(200, R"({"status":"ok"})"));
            if (req.method == "GET" && path == "/readyz")
                return respond(ready_ ? json_response(200, R"({"status":"ready"})")
                                      : json_response(503, R"({"status":"starting"})"));
            respond(not_found(path));
        });
    auto port = parts_->server->start();
    if (!port) return failure(port.error());
    port_ = port.value();
    ready_ = true;
    spdlog::info("serving http://{}:{} with data in {}", config_.listen_host, port_,
                 config_.data_dir);
    return success();
}

void application::stop() {
    ready_ = false;
    if (parts_->server) {
        spdlog::info("stopping: no new connections, answering requests in flight");
        parts_->server->stop();
        parts_->server.reset();
    }
    if (parts_->processor) {
        parts_->processor->stop();
        parts_->processor.reset();
    }
    parts_->log.reset();
    if (parts_->store) {
        parts_->store.reset();
        spdlog::info("stopped: data directory closed");
    }
}

}  // namespace migops::api
