#include "api/config.h"

#include <charconv>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include <toml++/toml.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <openssl/rand.h>

#include "api/json_body.h"
#include "api/smtp.h"
#include "api/webhook.h"

namespace migops::api {

namespace {

constexpr std::uint32_t max_checkpoint_interval = 24 * 60 * 60;
constexpr std::uint32_t max_http_timeout_seconds = 3600;

template <class N>
result<N> number(const std::string& key, const std::string& value, N min, N max) {
    N n{};
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || ptr != value.data() + value.size() || n < min || n > max)
        return failure(errc::invalid_argument, key + " must be a whole number from " +
                                                   std::to_string(min) + " to " +
                                                   std::to_string(max) + ", not \"" + value + "\"");
    return n;
}

result<bool> boolean(const std::string& key, const std::string& value) {
    if (value == "true" || value == "1" || value == "yes") return true;
    if (value == "false" || value == "0" || value == "no") return false;
    return failure(errc::invalid_argument, key + " must be true or false, not \"" + value + "\"");
}

result<void> one_of(const std::string& key, const std::string& value,
                    std::initializer_list<const char*> allowed) {
    std::string names;
    for (const char* a : allowed) {
        if (value == a) return success();
        if (!names.empty()) names += ", ";
        names += a;
    }
    return failure(errc::invalid_argument,
                   key + " must be one of " + names + ", not \"" + value + "\"");
}

// "a, b ,,c" → {"a", "b", "c"}: the items of a comma-separated value,
// trimmed of spaces, empty ones left out.
std::vector<std::string> comma_list(const std::string& value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto comma = value.find(',', start);
        std::string item =
            value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) out.push_back(std::move(item));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

// "https://a.example, http://localhost:3000" → the origins; each is "*" or
// scheme://host[:port] as a browser sends it in Origin (no path, no slash).
result<std::vector<std::string>> origin_list(const std::string& value) {
    auto out = comma_list(value);
    for (const auto& o : out) {
        const auto scheme = o.find("://");
        const bool ok =
            o == "*" || (scheme != std::string::npos && scheme > 0 && o.size() > scheme + 3 &&
                         o.find('/', scheme + 3) == std::string::npos);
        if (!ok)
            return failure(errc::invalid_argument,
                           "ws_allowed_origins: \"" + o +
                               "\" is not an origin like https://ops.example.com or *");
    }
    return out;
}

// "alice, ops-bot" → the user ids.
result<std::vector<std::string>> user_list(const std::string& key, const std::string& value) {
    auto out = comma_list(value);
    for (const auto& u : out)
        if (u.size() > max_id_bytes || has_any_control_character(u))
            return failure(errc::invalid_argument,
                           key + ": \"" + u.substr(0, 64) + "\" is not a user id (at most " +
                               std::to_string(max_id_bytes) + " bytes, no control characters)");
    return out;
}

// The configurable domain limits: key, member, description.
struct limit_setting {
    const char* key;
    std::uint64_t min;
    std::uint64_t max;
    const char* description;
    void (*set)(engine::limits&, std::uint64_t);
};

const std::vector<limit_setting>& limit_settings() {
    static const std::vector<limit_setting> all = {
        {"limit_tasks_per_journey", 1, 100'000, "tasks and subtasks per journey (1000)",
         [](engine::limits& l, std::uint64_t v) {
             l.tasks_per_journey = static_cast<std::uint32_t>(v);
         }},
        {"limit_subtasks_and_steps_per_task", 1, 1000, "subtasks and steps per task (20)",
         [](engine::limits& l, std::uint64_t v) {
             l.subtasks_and_steps_per_task = static_cast<std::uint32_t>(v);
         }},
        {"limit_files_per_task", 1, 1000, "files per task (5)",
         [](engine::limits& l, std::uint64_t v) {
             l.files_per_task = static_cast<std::uint32_t>(v);
         }},
        {"limit_bytes_per_task", 1, 1ULL << 40, "bytes of files per task (26214400)",
         [](engine::limits& l, std::uint64_t v) { l.bytes_per_task = v; }},
        {"limit_comments_per_task", 1, 10'000, "comments per task (50)",
         [](engine::limits& l, std::uint64_t v) {
             l.comments_per_task = static_cast<std::uint32_t>(v);
         }},
        {"limit_active_help_per_journey", 1, 1000, "open or accepted help requests per journey (5)",
         [](engine::limits& l, std::uint64_t v) {
             l.active_help_per_journey = static_cast<std::uint32_t>(v);
         }},
        {"limit_dependencies_per_task", 1, 1000, "dependencies per task (20)",
         [](engine::limits& l, std::uint64_t v) {
             l.dependencies_per_task = static_cast<std::uint32_t>(v);
         }},
    };
    return all;
}

// The notification settings (api/notifier.h): key, description, setter.
// Each value is checked alone here; how they fit together is checked when
// the server starts (resolve_notifier).
struct notify_setting {
    const char* key;
    const char* description;
    result<void> (*set)(notify_config&, const std::string& key, const std::string& value);
};

template <std::uint32_t notify_config::*member, std::uint32_t min, std::uint32_t max>
result<void> set_notify_number(notify_config& n, const std::string& key, const std::string& value) {
    auto v = number<std::uint32_t>(key, value, min, max);
    if (!v) return failure(v.error());
    n.*member = v.value();
    return success();
}

template <std::string notify_config::*member>
result<void> set_notify_text(notify_config& n, const std::string&, const std::string& value) {
    n.*member = value;
    return success();
}

result<void> set_smtp_url(notify_config& n, const std::string&, const std::string& value) {
    // The URL alone; how the TLS mode fits it is checked at start.
    if (!value.empty())
        if (auto r = check_smtp_url(value); !r) return r;
    n.smtp_url = value;
    return success();
}

result<void> set_smtp_tls(notify_config& n, const std::string& key, const std::string& value) {
    if (auto r = one_of(key, value, {"none", "starttls", "tls"}); !r) return r;
    n.smtp_tls = value;
    return success();
}

result<void> set_webhook_urls(notify_config& n, const std::string&, const std::string& value) {
    auto urls = comma_list(value);
    for (const auto& u : urls)
        if (auto r = check_webhook_url(u); !r) return r;
    n.webhook_urls = std::move(urls);
    return success();
}

result<void> set_public_url(notify_config& n, const std::string&, const std::string& value) {
    const bool ok =
        value.empty() || ((value.starts_with("http://") || value.starts_with("https://")) &&
                          value.find_first_of(" ?#") == std::string::npos);
    if (!ok)
        return failure(
            errc::invalid_argument,
            "public_url: \"" + value + "\" is not a base URL like https://migops.example.com");
    n.public_url = value;
    return success();
}

constexpr std::uint32_t max_retries = 1000;
constexpr std::uint32_t max_millis = 24 * 3600 * 1000;

const std::vector<notify_setting>& notify_settings() {
    static const std::vector<notify_setting> all = {
        {"smtp_url", "SMTP server for alert emails: smtp://host[:port] or smtps://host[:port]",
         set_smtp_url},
        {"smtp_tls",
         "none, starttls or tls (smtps://); default starttls for smtp://, tls for smtps://",
         set_smtp_tls},
        {"smtp_ca_file",
         "PEM file of the certificates trusted for the SMTP server's (default: the system's)",
         set_notify_text<&notify_config::smtp_ca_file>},
        {"smtp_user", "SMTP user name (AUTH), when the server asks for one",
         set_notify_text<&notify_config::smtp_user>},
        {"smtp_password", "SMTP password", set_notify_text<&notify_config::smtp_password>},
        {"smtp_from", "sender address of alert emails", set_notify_text<&notify_config::smtp_from>},
        {"smtp_recipients", "file of user=address lines: where each user's email goes",
         set_notify_text<&notify_config::smtp_recipients>},
        {"smtp_default_domain", "user@domain for users not in smtp_recipients",
         set_notify_text<&notify_config::smtp_default_domain>},
        {"webhook_urls", "URLs that receive every alert as a signed CloudEvent, comma-separated",
         set_webhook_urls},
        {"webhook_secret", "HMAC-SHA256 key of the webhooks' X-Migops-Signature header",
         set_notify_text<&notify_config::webhook_secret>},
        {"notify_retries", "retries of a failed email or webhook before it is recorded as failed",
         set_notify_number<&notify_config::retries, 0, max_retries>},
        {"notify_backoff_ms", "wait before the first retry, in ms; doubles after each",
         set_notify_number<&notify_config::backoff_ms, 1, max_millis>},
        {"notify_backoff_max_ms", "longest wait between retries, in ms",
         set_notify_number<&notify_config::backoff_max_ms, 1, max_millis>},
        {"notify_timeout_ms", "time allowed to one email or webhook attempt, in ms",
         set_notify_number<&notify_config::timeout_ms, 1, max_millis>},
        {"public_url", "base URL of the links in alert messages (default http://<listen>)",
         set_public_url},
    };
    return all;
}

}  // namespace

const std::vector<setting>& settings() {
    static const std::vector<setting> all = {
        {"data_dir", "data directory (RocksDB, blobs)"},
        {"listen", "HOST:PORT to serve HTTP on"},
        {"partitions", "number of partitions (fixed when the data directory is created)"},
        {"http_threads", "threads serving HTTP"},
        {"http_read_timeout",
         "seconds a client has to send a whole request before its connection is closed"},
        {"http_write_timeout",
         "seconds a client may take to accept any part of an answer before its connection is "
         "closed"},
        {"queue_capacity", "commands waiting per partition before the server answers busy"},
        {"batch_limit", "commands decided and appended together"},
        {"verify_all", "verify the whole hash chain at start (not only the tail)"},
        {"templates_dir", "a directory of templates (our JSON format) to publish at start"},
        {"log_format", "text or json"},
        {"log_level", "trace, debug, info, warn or error"},
        {"jwt_algorithm", "HS256 or RS256: the only token algorithm accepted"},
        {"jwt_secret", "HS256 secret, 32 bytes or more (default: <data_dir>/jwt-secret)"},
        {"jwt_public_key_file", "RS256 public key (PEM)"},
        {"jwt_issuer", "required token issuer (iss)"},
        {"jwt_audience", "required token audience (aud)"},
        {"ws_allowed_origins",
         "browser origins allowed to open /v1/stream, comma-separated (\"*\" for any); the "
         "server's own origin always is"},
        {"ws_queue_limit", "frames waiting per /v1/stream client before it is closed (overflow)"},
        {"operators",
         "users (token subjects), comma-separated, who may rebuild the read models over HTTP "
         "(/v1/admin/projections)"},
        {"kafka_brokers",
         "HOST:PORT[,HOST:PORT…] of Kafka brokers: Kafka becomes the log of record (default: "
         "none, the embedded log)"},
        {"kafka_topic", "the Kafka topic of the events (created when missing)"},
        {"kafka_replication",
         "replication factor of the topic when it is created (-1: the broker's default)"},
        {"kafka_delivery_timeout_ms",
         "a write not confirmed by Kafka within this fails (503) and is retried by the client"},
        {"kafka_request_timeout_ms",
         "metadata, topic creation and catch-up give up after this long without progress"},
        {"signing_key_file",
         "Ed25519 private key (PEM) that signs a checkpoint of each partition's chain head"},
        {"checkpoint_interval", "seconds between signed checkpoints (with signing_key_file)"},
        {"web_dir", "the dashboard's files, served at / (default: the source tree's web/)"},
        {"demo",
         "create a demo space and journey for the user demo and print a dashboard link with "
         "its token; on loopback the sign-in page offers to sign in as demo"},
    };
    static const std::vector<setting> with_limits = [] {
        auto out = all;
        for (const auto& l : limit_settings()) out.push_back({l.key, l.description});
        for (const auto& n : notify_settings()) out.push_back({n.key, n.description});
        return out;
    }();
    return with_limits;
}

result<void> set_value(config& c, const std::string& key, const std::string& value) {
    if (key == "data_dir") {
        if (value.empty()) return failure(errc::invalid_argument, "data_dir must not be empty");
        c.data_dir = value;
    } else if (key == "listen") {
        const auto colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0)
            return failure(errc::invalid_argument,
                           "listen must be HOST:PORT, not \"" + value + "\"");
        auto port = number<std::uint16_t>("listen port", value.substr(colon + 1), 0, 65535);
        if (!port) return failure(port.error());
        std::string host = value.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        c.listen_host = host;
        c.listen_port = port.value();
    } else if (key == "partitions") {
        auto n = number<std::uint32_t>(key, value, 1, 4096);
        if (!n) return failure(n.error());
        c.partitions = n.value();
    } else if (key == "http_threads") {
        auto n = number<std::uint32_t>(key, value, 1, 64);
        if (!n) return failure(n.error());
        c.http_threads = n.value();
    } else if (key == "http_read_timeout") {
        auto n = number<std::uint32_t>(key, value, 1, max_http_timeout_seconds);
        if (!n) return failure(n.error());
        c.http_read_timeout = n.value();
    } else if (key == "http_write_timeout") {
        auto n = number<std::uint32_t>(key, value, 1, max_http_timeout_seconds);
        if (!n) return failure(n.error());
        c.http_write_timeout = n.value();
    } else if (key == "queue_capacity") {
        auto n = number<std::size_t>(key, value, 1, 1'000'000);
        if (!n) return failure(n.error());
        c.queue_capacity = n.value();
    } else if (key == "batch_limit") {
        auto n = number<std::size_t>(key, value, 1, 100'000);
        if (!n) return failure(n.error());
        c.batch_limit = n.value();
    } else if (key == "verify_all") {
        auto b = boolean(key, value);
        if (!b) return failure(b.error());
        c.verify_all = b.value();
    } else if (key == "jwt_algorithm") {
        if (auto r = one_of(key, value, {"HS256", "RS256"}); !r) return r;
        c.jwt_algorithm = value;
    } else if (key == "jwt_secret") {
        c.jwt_secret = value;
    } else if (key == "jwt_public_key_file") {
        c.jwt_public_key_file = value;
    } else if (key == "jwt_issuer") {
        c.jwt_issuer = value;
    } else if (key == "jwt_audience") {
        c.jwt_audience = value;
    } else if (key == "ws_allowed_origins") {
        auto origins = origin_list(value);
        if (!origins) return failure(origins.error());
        c.ws_allowed_origins = std::move(origins).value();
    } else if (key == "operators") {
        auto users = user_list(key, value);
        if (!users) return failure(users.error());
        c.operators = std::move(users).value();
    } else if (key == "ws_queue_limit") {
        auto n = number<std::size_t>(key, value, 1, 1'000'000);
        if (!n) return failure(n.error());
        c.ws_queue_limit = n.value();
    } else if (key == "kafka_brokers") {
        c.kafka_brokers = value;
    } else if (key == "kafka_topic") {
        if (value.empty()) return failure(errc::invalid_argument, "kafka_topic must not be empty");
        c.kafka_topic = value;
    } else if (key == "kafka_replication") {
        auto n = number<std::int32_t>(key, value, -1, 32767);
        if (!n) return failure(n.error());
        if (n.value() == 0)
            return failure(errc::invalid_argument, "kafka_replication must be -1 or at least 1");
        c.kafka_replication = n.value();
    } else if (key == "kafka_delivery_timeout_ms") {
        auto n = number<std::uint32_t>(key, value, 100, 3'600'000);
        if (!n) return failure(n.error());
        c.kafka_delivery_timeout_ms = n.value();
    } else if (key == "kafka_request_timeout_ms") {
        auto n = number<std::uint32_t>(key, value, 100, 3'600'000);
        if (!n) return failure(n.error());
        c.kafka_request_timeout_ms = n.value();
    } else if (key == "signing_key_file") {
        c.signing_key_file = value;
    } else if (key == "checkpoint_interval") {
        auto n = number<std::uint32_t>(key, value, 1, max_checkpoint_interval);
        if (!n) return failure(n.error());
        c.checkpoint_interval = n.value();
    } else if (key == "web_dir") {
        if (value.empty()) return failure(errc::invalid_argument, "web_dir must not be empty");
        c.web_dir = value;
    } else if (key == "demo") {
        auto b = boolean(key, value);
        if (!b) return failure(b.error());
        c.demo = b.value();
    } else if (key == "templates_dir") {
        c.templates_dir = value;
    } else if (key == "log_format") {
        if (auto r = one_of(key, value, {"text", "json"}); !r) return r;
        c.log_format = value;
    } else if (key == "log_level") {
        if (auto r = one_of(key, value, {"trace", "debug", "info", "warn", "error"}); !r) return r;
        c.log_level = value;
    } else {
        for (const auto& n : notify_settings())
            if (key == n.key) return n.set(c.notify, key, value);
        for (const auto& l : limit_settings()) {
            if (key != l.key) continue;
            auto n = number<std::uint64_t>(key, value, l.min, l.max);
            if (!n) return failure(n.error());
            l.set(c.limits, n.value());
            return success();
        }
        return failure(errc::invalid_argument, "unknown setting \"" + key + "\"");
    }
    return success();
}

result<std::map<std::string, std::string>> read_config_file(const std::string& path) {
    std::map<std::string, std::string> out;
    const auto ext = std::filesystem::path(path).extension().string();
    if (!std::filesystem::exists(path))
        return failure(errc::invalid_argument, "config file " + path + " does not exist");
    try {
        if (ext == ".yaml" || ext == ".yml") {
            const YAML::Node root = YAML::LoadFile(path);
            if (!root.IsMap() && !root.IsNull())
                return failure(errc::invalid_argument, path + ": expected key: value pairs");
            for (const auto& kv : root) {
                if (!kv.second.IsScalar())
                    return failure(
                        errc::invalid_argument,
                        path + ": " + kv.first.as<std::string>() + " must be a single value");
                out[kv.first.as<std::string>()] = kv.second.as<std::string>();
            }
        } else if (ext == ".toml") {
            const toml::table root = toml::parse_file(path);
            for (const auto& [k, v] : root) {
                const std::string key(k.str());
                if (auto s = v.value<std::string>(); s && v.is_string())
                    out[key] = *s;
                else if (auto i = v.value<std::int64_t>(); i && v.is_integer())
                    out[key] = std::to_string(*i);
                else if (auto b = v.value<bool>(); b && v.is_boolean())
                    out[key] = *b ? "true" : "false";
                else
                    return failure(errc::invalid_argument,
                                   path + ": " + key + " must be a string, integer or boolean");
            }
        } else {
            return failure(errc::invalid_argument,
                           "config file " + path + " must end in .yaml, .yml or .toml");
        }
    } catch (const std::exception& e) {
        return failure(errc::invalid_argument, "cannot read config file " + path + ": " + e.what());
    }
    return out;
}

result<config> load_config(const std::string& file, char** environ_vars,
                           const std::map<std::string, std::string>& flags) {
    config c;
    if (!file.empty()) {
        auto values = read_config_file(file);
        if (!values) return failure(values.error());
        for (const auto& [k, v] : values.value())
            if (auto r = set_value(c, k, v); !r)
                return failure(errc::invalid_argument, file + ": " + r.error().message);
    }
    if (environ_vars) {
        for (const auto& s : settings()) {
            const std::string prefix = env_name(s.key) + "=";
            for (char** e = environ_vars; *e; ++e) {
                const std::string_view entry(*e);
                if (entry.starts_with(prefix))
                    if (auto r = set_value(c, s.key, std::string(entry.substr(prefix.size()))); !r)
                        return failure(errc::invalid_argument,
                                       env_name(s.key) + ": " + r.error().message);
            }
        }
    }
    for (const auto& [k, v] : flags)
        if (auto r = set_value(c, k, v); !r)
            return failure(errc::invalid_argument, flag_name(k) + ": " + r.error().message);
    return c;
}

}  // namespace migops::api

namespace migops::api {

namespace {

result<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return failure(errc::invalid_argument, "cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The data directory's own HS256 secret: 32 random bytes as hex, written once
// with mode 0600 and read on every later start.
result<std::string> data_dir_secret(const std::string& data_dir) {
    const auto path = std::filesystem::path(data_dir) / "jwt-secret";
    if (std::filesystem::exists(path)) {
        auto text = read_text(path.string());
        if (!text) return text;
        auto secret = text.value();
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
            secret.pop_back();
        return secret;
    }
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return failure(errc::io_error, "no randomness for the token secret");
    static constexpr char hex[] = "0123456789abcdef";
    std::string secret;
    for (unsigned char b : bytes) {
        secret.push_back(hex[b >> 4]);
        secret.push_back(hex[b & 0xf]);
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return failure(errc::io_error, "cannot create " + path.string());
    const std::string line = secret + "\n";
    const bool written =
        ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!written) return failure(errc::io_error, "cannot write " + path.string());
    return secret;
}

}  // namespace

std::string local_url(std::string_view host, std::uint16_t port) {
    const std::string_view shown = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
    std::string url = "http://";
    if (shown.find(':') == std::string_view::npos)
        url.append(shown);
    else
        url.append("[").append(shown).append("]");
    return url + ":" + std::to_string(port);
}

result<auth_options> resolve_auth(const config& c) {
    auth_options o;
    o.algorithm = c.jwt_algorithm;
    o.issuer = c.jwt_issuer;
    o.audience = c.jwt_audience;
    if (c.jwt_algorithm == "RS256") {
        if (c.jwt_public_key_file.empty())
            return failure(errc::invalid_argument, "jwt_algorithm RS256 needs jwt_public_key_file");
        auto pem = read_text(c.jwt_public_key_file);
        if (!pem) return failure(pem.error());
        o.public_key_pem = pem.value();
    } else if (!c.jwt_secret.empty()) {
        o.secret = c.jwt_secret;
    } else {
        auto secret = data_dir_secret(c.data_dir);
        if (!secret) return failure(secret.error());
        o.secret = secret.value();
    }
    return o;
}

}  // namespace migops::api
