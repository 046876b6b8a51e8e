#pragma once
// Server configuration: defaults, then a config file (YAML or TOML, by
// extension), then MIGOPS_* environment variables, then command-line flags;
// the later source wins. Every setting has one name used by all four:
// key `data_dir` = env MIGOPS_DATA_DIR = flag --data-dir.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "engine/domain.h"
#include "events/result.h"

namespace migops::api {

// Alert notifications (api/notifier.h): email over SMTP and webhooks.
// Nothing is sent, and nothing recorded, when neither is configured.
struct notify_config {
    std::string smtp_url;   // smtp://host[:port] or smtps://host[:port]; off when empty
    std::string smtp_user;  // AUTH when set
    std::string smtp_password;
    std::string smtp_from;        // the sender's address
    std::string smtp_tls;         // none | starttls | tls; empty: by the URL's scheme
    std::string smtp_ca_file;     // PEM certificates trusted for the server's; else the system's
    std::string smtp_recipients;  // a file of user=address lines
    std::string smtp_default_domain;        // user@domain for users not in that file
    std::vector<std::string> webhook_urls;  // each receives every alert as a CloudEvent
    std::string webhook_secret;             // HMAC-SHA256 key of X-Migops-Signature
    std::uint32_t retries = 10;             // after the first attempt
    std::uint32_t backoff_ms = 2000;        // before the first retry, doubling after each
    std::uint32_t backoff_max_ms = 300'000;
    std::uint32_t timeout_ms = 15'000;  // per attempt
    std::string public_url;             // base of the links in messages; default http://<listen>
};

struct config {
    std::string data_dir = "./data";
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    std::uint32_t partitions = 8;
    std::uint32_t http_threads = 2;
    std::uint32_t http_read_timeout = 30;   // seconds a client has to send a whole request
    std::uint32_t http_write_timeout = 30;  // seconds a client may stall while taking an answer
    std::size_t queue_capacity = 4096;
    std::size_t batch_limit = 1024;
    bool verify_all = false;
    std::string templates_dir;            // more templates (our JSON format) to publish at start
    std::string log_format = "text";      // text | json
    std::string log_level = "info";       // trace | debug | info | warn | error
    engine::limits limits;                // the domain's limits (keys limit_*)
    std::string jwt_algorithm = "HS256";  // HS256 or RS256: the only one accepted
    std::string jwt_secret;               // HS256; when empty, <data_dir>/jwt-secret (made once)
    std::string jwt_public_key_file;      // RS256: PEM public key
    std::string jwt_issuer;               // checked when set
    std::string jwt_audience;             // checked when set
    std::vector<std::string> ws_allowed_origins;  // browser origins allowed on /v1/stream
    std::size_t ws_queue_limit = 1024;            // frames waiting per stream client
    // Token subjects who may run operator actions over HTTP (/v1/admin/…).
    std::vector<std::string> operators;
    // Kafka as the log of record (events/kafka/kafka_log.h); the embedded
    // log when kafka_brokers is empty.
    std::string kafka_brokers;
    std::string kafka_topic = "migops.events";
    int kafka_replication = -1;  // when the topic is created; -1: the broker's default
    std::uint32_t kafka_delivery_timeout_ms = 10'000;
    std::uint32_t kafka_request_timeout_ms = 30'000;
    notify_config notify;  // keys smtp_*, webhook_*, notify_*, public_url

    // Signed chain checkpoints (scheduler/checkpointer.h) when a key is set.
    std::string signing_key_file;            // Ed25519 private key (PEM)
    std::uint32_t checkpoint_interval = 60;  // seconds between checkpoints

    // The dashboard (api/static_files.h, api/demo.h).
    std::string web_dir;  // its files; empty: the source tree's web/ (default_web_dir())
    bool demo = false;    // a demo space and journey, and the sign-in shortcut on loopback
};

// The URL at which a process on this host reaches a server listening on
// host:port: a wildcard address (0.0.0.0, ::) on loopback, an IPv6 address
// in brackets.
std::string local_url(std::string_view host, std::uint16_t port);

// The token settings, reading the key file or the data directory's secret
// (created with 32 random bytes, mode 0600, the first time it is needed).
result<auth_options> resolve_auth(const config& c);

struct setting {
    std::string key;          // config-file key
    std::string description;  // shown by --help
};

// Every setting, in the order --help lists them.
const std::vector<setting>& settings();

inline std::string env_name(const std::string& key) {
    std::string out = "MIGOPS_";
    for (char c : key) out.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
    return out;
}
inline std::string flag_name(const std::string& key) {
    std::string out = "--";
    for (char c : key) out.push_back(c == '_' ? '-' : c);
    return out;
}

// Sets one value by key; refuses unknown keys and bad values.
result<void> set_value(config& c, const std::string& key, const std::string& value);

// Reads key/value pairs from a YAML (.yaml, .yml) or TOML (.toml) file.
result<std::map<std::string, std::string>> read_config_file(const std::string& path);

// Builds the configuration from the file (may be empty), the environment
// and the flags given on the command line (key → value).
result<config> load_config(const std::string& file, char** environ_vars,
                           const std::map<std::string, std::string>& flags);

}  // namespace migops::api
