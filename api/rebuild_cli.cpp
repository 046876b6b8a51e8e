#include "api/rebuild_cli.h"

#include <cstdlib>
#include <iostream>
#include <thread>

#include <curl/curl.h>
#include <boost/json/parse.hpp>

#include "api/admin_routes.h"
#include "api/config.h"
#include "api/curl_support.h"
#include "api/logging.h"
#include "events/rocks_log.h"
#include "projections/catalogue.h"
#include "projections/read_models.h"
#include "scheduler/clock.h"

extern char** environ;

namespace migops::api {

namespace {

constexpr const char* command = "migops projections rebuild";
constexpr auto poll_interval = std::chrono::milliseconds(250);
constexpr long http_timeout_seconds = 30;

// Draws the progress line: what is being done, a bar, events and rate.
class progress_line {
  public:
    void show(const std::string& doing, bool replaying, std::uint64_t done, std::uint64_t total,
              double rate) {
        constexpr int width = 30;
        const int filled =
            total == 0 ? width : static_cast<int>(std::min(done, total) * width / total);
        std::string line = doing;
        if (replaying)
            line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(width - filled), '-') + "] " +
                    std::to_string(done) + "/" + std::to_string(total) + " events, " +
                    std::to_string(static_cast<std::uint64_t>(rate)) + " events/s";
        if (doing != doing_ && !doing_.empty()) std::cerr << "\n";
        doing_ = doing;
        if (line == shown_) return;
        std::cerr << "\r" << line
                  << std::string(shown_.size() > line.size() ? shown_.size() - line.size() : 0, ' ')
                  << std::flush;
        shown_ = std::move(line);
    }
    void end() {
        if (!shown_.empty()) std::cerr << "\n";
        shown_.clear();
        doing_.clear();
    }

  private:
    std::string doing_;
    std::string shown_;
};

int rebuild_here(const config& cfg, events::rocks_store& store) {
    auto log = events::rocks_log::open(store, {.partitions = cfg.partitions});
    if (!log) {
        std::cerr << command << ": " << log.error().message << "\n";
        return 1;
    }
    auto models = projections::read_models::open(store, *log.value());
    if (!models) {
        std::cerr << command << ": " << models.error().message << "\n";
        return 1;
    }
    progress_line line;
    auto rebuilt = models.value()->rebuild([&](const projections::rebuild_status& s) {
        if (s.now == projections::rebuild_status::state::running)
            line.show(s.doing, s.replaying, s.events_done, s.events_total, s.events_per_second);
    });
    line.end();
    const auto s = models.value()->status();
    models.value()->stop();
    if (!rebuilt) {
        std::cerr << command << ": " << rebuilt.error().message << "\n";
        return 1;
    }
    const double secs = std::chrono::duration<double>(s.finished - s.started).count();
    std::cerr << "read models rebuilt in " << secs << " s: generation " << s.live_generation
              << " is live\n";
    return 0;
}

struct http_answer {
    long status = 0;
    std::string body;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

result<http_answer> call(const std::string& method, const std::string& url,
                         const std::string& token) {
    init_curl();
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return failure(errc::io_error, "cannot start an HTTP client");
    http_answer out;
    const std::string auth = "Authorization: Bearer " + token;
    curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(headers, curl_slist_free_all);
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST") curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, http_timeout_seconds);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    if (auto rc = curl_easy_perform(curl.get()); rc != CURLE_OK)
        return failure(errc::unavailable, method + " " + url + ": " + curl_easy_strerror(rc));
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
    return out;
}

// The detail of a problem+json answer, or the body.
std::string detail_of(const http_answer& a) {
    boost::system::error_code ec;
    auto v = boost::json::parse(a.body, ec);
    if (!ec && v.is_object())
        if (const auto* d = v.as_object().if_contains("detail"); d && d->is_string())
            return std::string(d->as_string());
    return a.body.substr(0, 200);
}

// GET /v1/admin/projections's answer, as admin_routes.h writes it.
bool status_document(const boost::json::value& doc) {
    if (!doc.is_object()) return false;
    const auto* generation = doc.as_object().if_contains("generation");
    const auto* rebuild = doc.as_object().if_contains("rebuild");
    if (!generation || !generation->is_number() || !rebuild || !rebuild->is_object()) return false;
    const auto& r = rebuild->as_object();
    const auto* state = r.if_contains("state");
    if (!state || !state->is_string()) return false;
    if (state->as_string() == "none") return true;
    for (const char* text : {"doing", "started"})
        if (const auto* v = r.if_contains(text); !v || !v->is_string()) return false;
    for (const char* n : {"events_done", "events_total", "events_per_second"})
        if (const auto* v = r.if_contains(n); !v || !v->is_number()) return false;
    if (const auto* v = r.if_contains("replaying"); !v || !v->is_bool()) return false;
    if (state->as_string() != "running")
        if (const auto* v = r.if_contains("finished"); !v || !v->is_string()) return false;
    return true;
}

result<std::string> token_for(const config& cfg, const std::string& given) {
    if (!given.empty()) return given;
    if (const char* env = std::getenv("MIGOPS_TOKEN"); env && *env) return std::string(env);
    if (cfg.operators.empty())
        return failure(errc::invalid_argument,
                       "give --token (or MIGOPS_TOKEN) of a user in the server's operators "
                       "setting, or set operators here so that a token can be signed for the "
                       "first of them");
    auto auth = resolve_auth(cfg);
    if (!auth) return failure(auth.error());
    return issue_token(auth.value(), user_id{cfg.operators.front()},
                       scheduler::system_clock_source{}.now(), std::chrono::hours(1));
}

int rebuild_on_server(const config& cfg, const std::string& base, const std::string& given) {
    auto token = token_for(cfg, given);
    if (!token) {
        std::cerr << command << ": " << token.error().message << "\n";
        return 2;
    }
    std::string root = base;
    while (!root.empty() && root.back() == '/') root.pop_back();
    auto started = call("POST", root + "/v1/admin/projections/rebuild", token.value());
    if (!started) {
        std::cerr << command << ": " << started.error().message << "\n";
        return 1;
    }
    if (started.value().status != 202) {
        std::cerr << command << ": the server answered " << started.value().status << ": "
                  << detail_of(started.value()) << "\n";
        return started.value().status == 401 || started.value().status == 403 ? 2 : 1;
    }
    std::cerr << "the server at " << root << " rebuilds its read models while it serves\n";
    progress_line line;
    for (;;) {
        std::this_thread::sleep_for(poll_interval);
        auto now = call("GET", root + "/v1/admin/projections", token.value());
        if (!now || now.value().status != 200) {
            line.end();
            std::cerr << command << ": cannot follow the rebuild: "
                      << (now ? detail_of(now.value()) : now.error().message) << "\n";
            return 1;
        }
        boost::system::error_code ec;
        auto doc = boost::json::parse(now.value().body, ec);
        const auto* rebuild_value =
            !ec && doc.is_object() ? doc.as_object().if_contains("rebuild") : nullptr;
        if (!status_document(doc)) {
            line.end();
            std::cerr << command << ": the server's status is not what this version reads: "
                      << now.value().body.substr(0, 200) << "\n";
            return 1;
        }
        const auto& rebuild = rebuild_value->as_object();
        const std::string state(rebuild.at("state").as_string());
        if (state == "running") {
            line.show(std::string(rebuild.at("doing").as_string()),
                      rebuild.at("replaying").as_bool(),
                      rebuild.at("events_done").to_number<std::uint64_t>(),
                      rebuild.at("events_total").to_number<std::uint64_t>(),
                      rebuild.at("events_per_second").to_number<double>());
            continue;
        }
        line.end();
        if (state == "switched") {
            std::cerr << "read models rebuilt: generation "
                      << doc.as_object().at("generation").to_number<std::uint64_t>()
                      << " is live (started " << std::string(rebuild.at("started").as_string())
                      << ", finished " << std::string(rebuild.at("finished").as_string()) << ")\n";
            return 0;
        }
        const auto* error = rebuild.if_contains("error");
        std::cerr << command << ": the rebuild failed"
                  << (error && error->is_string() ? ": " + std::string(error->as_string()) : "")
                  << "; the server keeps serving the read models it had\n";
        return 1;
    }
}

}  // namespace

int rebuild_projections(const rebuild_request& r) {
    auto cfg = load_config(r.config_file, environ, r.flags);
    if (!cfg) {
        std::cerr << command << ": " << cfg.error().message << "\n";
        return 2;
    }
    if (!r.server.empty()) return rebuild_on_server(cfg.value(), r.server, r.token);
    std::vector<std::string> families{events::events_column_family, events::meta_column_family};
    auto store = events::rocks_store::open(
        {cfg.value().data_dir, families, nullptr, rocksdb_logger(), projections::tune_family});
    if (store) return rebuild_here(cfg.value(), *store.value());
    if (store.error().code != errc::locked) {
        std::cerr << command << ": " << store.error().message << "\n";
        return 1;
    }
    // A server runs on the directory: it rebuilds, asked where it said it
    // serves (or, before it says so, where this configuration listens).
    const auto holder = events::rocks_store::holder(cfg.value().data_dir);
    const bool said = holder && !holder->note.empty();
    const auto url =
        said ? holder->note : local_url(cfg.value().listen_host, cfg.value().listen_port);
    std::cerr << store.error().message << "; asking it to rebuild at " << url
              << (said ? "" : " (it has not said where it serves: the configured address)") << "\n";
    return rebuild_on_server(cfg.value(), url, r.token);
}

}  // namespace migops::api
