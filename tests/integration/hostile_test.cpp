// The hostile-input corpus (tests/corpus/hostile/*.jsonl) replayed against
// the real binary: every case gets its documented 4xx as problem+json (or,
// for a slow client, its connection closed), appends nothing (the events
// appended stay as they were and each space's last event is the same), and
// the server then serves a good request.

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>

#include "api/auth.h"
#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace testing_support;
using namespace std::chrono_literals;

const std::string secret = "hostile-corpus-secret-0123456789abcdef";
const std::string issuer = "migops-test";
const std::string audience = "migops";
// The server is started with these (see SetUp); the corpus's cases count on them.
constexpr int read_timeout_seconds = 2;
constexpr std::size_t bytes_per_task = 1024 * 1024;
constexpr auto exchange_timeout = 20s;

// ---- tokens ----------------------------------------------------------------------

std::string base64url(std::string_view in) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (unsigned char c : in) {
        bits = (bits << 8) | c;
        count += 8;
        while (count >= 6) {
            count -= 6;
            out.push_back(alphabet[(bits >> count) & 0x3f]);
        }
    }
    if (count > 0) out.push_back(alphabet[(bits << (6 - count)) & 0x3f]);
    return out;
}

std::string hs256(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
    return base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json::object good_claims(const std::string& user) {
    const auto now = unix_now();
    return json::object{
        {"sub", user}, {"iat", now}, {"exp", now + 3600}, {"iss", issuer}, {"aud", audience}};
}

// header.payload.signature, signed with key (HS256) whatever the header says.
std::string jwt(const json::object& header, const json::object& claims,
                std::string_view key = secret) {
    const auto signing =
        base64url(json::serialize(header)) + "." + base64url(json::serialize(claims));
    return signing + "." + hs256(key, signing);
}

const json::object hs256_header{{"alg", "HS256"}, {"typ", "JWT"}};

// The Authorization header a corpus case's user sends; nullopt: none.
std::optional<std::string> authorization_for(const std::string& user) {
    if (!user.starts_with("token:")) {
        api::auth_options o;
        o.secret = secret;
        o.issuer = issuer;
        o.audience = audience;
        auto t = api::issue_token(o, user_id{user}, timestamp{unix_now() * 1'000'000});
        return "Bearer " + t.value();
    }
    const auto kind = user.substr(6);
    auto claims = good_claims("alice");
    auto with = [&](const char* key, json::value v) {
        auto c = claims;
        c[key] = std::move(v);
        return "Bearer " + jwt(hs256_header, c);
    };
    auto without = [&](const char* key) {
        auto c = claims;
        c.erase(key);
        return "Bearer " + jwt(hs256_header, c);
    };
    auto alg = [&](const char* name, bool signed_too) {
        auto t = jwt(json::object{{"alg", name}, {"typ", "JWT"}}, claims);
        if (!signed_too) t = t.substr(0, t.rfind('.') + 1);
        return "Bearer " + t;
    };
    const auto good = jwt(hs256_header, claims);
    const auto dot = good.find('.');
    const auto last = good.rfind('.');
    if (kind == "none") return std::nullopt;
    if (kind == "empty-bearer") return "Bearer ";
    if (kind == "basic") return "Basic YWxpY2U6cHc=";
    if (kind == "bearer-only-spaces") return "Bearer     ";
    if (kind == "garbage") return "Bearer not.a.token";
    if (kind == "two-parts") return "Bearer " + good.substr(0, last);
    if (kind == "four-parts") return "Bearer " + good + ".x";
    if (kind == "wrong-key")
        return "Bearer " + jwt(hs256_header, claims, "another-secret-0123456789abcdefghij");
    if (kind == "expired") {
        claims["iat"] = unix_now() - 7200;
        return with("exp", unix_now() - 3600);
    }
    if (kind == "not-yet-valid") return with("nbf", unix_now() + 3600);
    if (kind == "alg-none") return alg("none", false);
    if (kind == "alg-none-signed") return alg("none", true);
    if (kind == "alg-None") return alg("None", false);
    if (kind == "alg-NONE") return alg("NONE", false);
    if (kind == "alg-hs512") return alg("HS512", true);
    if (kind == "alg-rs256-with-hmac") return alg("RS256", true);
    if (kind == "alg-missing") return "Bearer " + jwt(json::object{{"typ", "JWT"}}, claims);
    if (kind == "no-exp") return without("exp");
    if (kind == "exp-string") return with("exp", json::string(std::to_string(unix_now() + 3600)));
    if (kind == "no-sub") return without("sub");
    if (kind == "sub-empty") return with("sub", "");
    if (kind == "sub-number") return with("sub", 5);
    if (kind == "wrong-issuer") return with("iss", "evil");
    if (kind == "no-issuer") return without("iss");
    if (kind == "wrong-audience") return with("aud", "other");
    if (kind == "audience-list-without-ours") return with("aud", json::array{"a", "b"});
    if (kind == "tampered-sub") {
        const auto bob = jwt(hs256_header, good_claims("bob"));
        return "Bearer " + good.substr(0, dot) + "." + base64url(json::serialize(claims)) +
               bob.substr(bob.rfind('.'));
    }
    if (kind == "signature-stripped") return "Bearer " + good.substr(0, last + 1);
    if (kind == "signature-of-other-token") {
        const auto bob = jwt(hs256_header, good_claims("bob"));
        return "Bearer " + good.substr(0, last) + bob.substr(bob.rfind('.'));
    }
    if (kind == "huge") return with("pad", json::string(std::string(9 * 1024, 'p')));
    if (kind == "header-not-json")
        return "Bearer " + base64url("not json") + good.substr(dot, last - dot) + ".sig";
    if (kind == "payload-not-json") {
        const auto signing = good.substr(0, dot) + "." + base64url("not json");
        return "Bearer " + signing + "." + hs256(secret, signing);
    }
    if (kind == "payload-array") {
        const auto signing = good.substr(0, dot) + "." + base64url("[1]");
        return "Bearer " + signing + "." + hs256(secret, signing);
    }
    if (kind == "bad-base64") return "Bearer ab$c.de$f.gh$i";
    if (kind == "padded-base64")
        return "Bearer " + good.substr(0, dot) + "==" + good.substr(dot, last - dot) +
               "==" + good.substr(last);
    if (kind == "jwe-five-parts") return "Bearer a.b.c.d.e";
    if (kind == "lowercase-scheme-garbage") return "bearer garbage";
    if (kind == "kid-path-traversal")
        return "Bearer " +
               jwt(json::object{{"alg", "HS256"}, {"kid", "../../../../dev/null"}}, claims, "");
    if (kind == "jku-remote-key")
        return "Bearer " +
               jwt(json::object{{"alg", "HS256"}, {"jku", "http://127.0.0.1:1/keys.json"}}, claims,
                   "attacker-key-0123456789abcdefghijklmnop");
    ADD_FAILURE() << "unknown token kind " << kind;
    return std::nullopt;
}

// ---- HTTP on a plain socket --------------------------------------------------------

struct reply {
    bool answered = false;  // a whole status line came back
    int status = 0;
    std::string head;  // status line and headers
    std::string body;
    std::string header(const std::string& name) const {
        std::string lower = head;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        std::string key = "\r\n" + name + ":";
        std::transform(key.begin(), key.end(), key.begin(), ::tolower);
        const auto at = lower.find(key);
        if (at == std::string::npos) return {};
        const auto from = head.find_first_not_of(' ', at + key.size());
        return head.substr(from, head.find("\r\n", from) - from);
    }
};

reply parse_reply(const std::string& bytes) {
    reply r;
    const auto end = bytes.find("\r\n\r\n");
    if (!bytes.starts_with("HTTP/1.1 ") || end == std::string::npos || bytes.size() < 12) return r;
    r.answered = true;
    r.status = std::stoi(bytes.substr(9, 3));
    r.head = bytes.substr(0, end);
    r.body = bytes.substr(end + 4);
    return r;
}

// Sends request (stopping early when the server answers first, as it does
// for a body it refuses by its head) and reads until the server closes.
reply send_and_read(std::uint16_t port, const std::string& request) {
    const int fd = connect_loopback(port);
    if (fd < 0) return {};
    std::string got;
    std::size_t sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + exchange_timeout;
    bool open = true;
    while (open && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, static_cast<short>(POLLIN | (sent < request.size() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[65536];
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                open = false;
            } else {
                got.append(buf, static_cast<std::size_t>(n));
            }
            continue;
        }
        if (p.revents & POLLOUT) {
            const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR) sent = request.size();
            } else {
                sent += static_cast<std::size_t>(n);
            }
        }
    }
    ::close(fd);
    return parse_reply(got);
}

// ---- the corpus ----------------------------------------------------------------------

struct corpus_case {
    std::string id;
    json::object spec;
};

std::vector<corpus_case> load_corpus() {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(MIGOPS_HOSTILE_CORPUS))
        if (e.path().extension() == ".jsonl") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<corpus_case> out;
    for (const auto& f : files) {
        std::ifstream in(f);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            auto o = json::parse(line).as_object();
            out.push_back({std::string(o.at("id").as_string()), std::move(o)});
        }
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

class HostileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        port_ = free_port();
        server_ = start_process(MIGOPS_BINARY,
                                {"serve", "--data-dir", (dir_.path() / "data").string(), "--listen",
                                 "127.0.0.1:" + std::to_string(port_), "--jwt-secret", secret,
                                 "--jwt-issuer", issuer, "--jwt-audience", audience,
                                 "--http-read-timeout", std::to_string(read_timeout_seconds),
                                 "--limit-bytes-per-task", std::to_string(bytes_per_task)},
                                dir_.path() / "serve.log");
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void TearDown() override {
        ::kill(server_.pid, SIGTERM);
        EXPECT_EQ(wait_exit(server_, 25s), 0) << server_.stderr_text();
    }

    http_reply call(const std::string& user, const std::string& method, const std::string& path,
                    const std::string& body = {}) {
        std::vector<std::string> headers{"Authorization: " + *authorization_for(user)};
        if (!body.empty()) headers.emplace_back("Content-Type: application/json");
        return http_call(port_, method, path, headers, body);
    }
    json::object made(const std::string& user, const std::string& method, const std::string& path,
                      const std::string& body = {}) {
        auto r = call(user, method, path, body);
        EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.body;
        return r.body.empty() ? json::object{} : json::parse(r.body).as_object();
    }

    // Two spaces with a journey each, and users holding every kind of role.
    void populate() {
        const auto a = made("alice", "POST", "/v1/spaces", R"({"name":"DC exit"})");
        names_["{space}"] = std::string(a.at("id").as_string());
        const auto j = made("alice", "POST", "/v1/spaces/" + names_["{space}"] + "/journeys",
                            R"({"name":"Wave 1","template_id":"migops-quick-start"})");
        name_tree(j, "");
        made("alice", "PUT", "/v1/spaces/" + names_["{space}"] + "/members/bob",
             R"({"role":"space_contributor"})");
        made("alice", "PUT", "/v1/journeys/" + names_["{journey}"] + "/members/carol",
             R"({"role":"journey_contributor"})");
        const auto team = made("alice", "POST", "/v1/spaces/" + names_["{space}"] + "/teams",
                               R"({"name":"Crew"})");
        names_["{team}"] = std::string(team.at("teams").as_array().back().at("id").as_string());
        made("alice", "PUT", "/v1/teams/" + names_["{team}"] + "/members/dave");
        made("alice", "PUT", "/v1/journeys/" + names_["{journey}"] + "/teams/" + names_["{team}"],
             R"({"role":"team_contributor"})");

        const auto b = made("eve", "POST", "/v1/spaces", R"({"name":"Other"})");
        names_["{other_space}"] = std::string(b.at("id").as_string());
        const auto jb = made("eve", "POST", "/v1/spaces/" + names_["{other_space}"] + "/journeys",
                             R"({"name":"Theirs","template_id":"migops-quick-start"})");
        name_tree(jb, "other_");
        const auto tb = made("eve", "POST", "/v1/spaces/" + names_["{other_space}"] + "/teams",
                             R"({"name":"Theirs"})");
        names_["{other_team}"] = std::string(tb.at("teams").as_array().back().at("id").as_string());
    }
    void name_tree(const json::object& journey, const std::string& prefix) {
        names_["{" + prefix + "journey}"] = std::string(journey.at("id").as_string());
        const auto& phase = journey.at("phases").as_array().at(0).as_object();
        names_["{" + prefix + "phase}"] = std::string(phase.at("id").as_string());
        const auto& module = phase.at("modules").as_array().at(0).as_object();
        names_["{" + prefix + "module}"] = std::string(module.at("id").as_string());
        const auto& tasks = module.at("tasks").as_array();
        names_["{" + prefix + "task}"] = std::string(tasks.at(0).at("id").as_string());
        if (prefix.empty()) names_["{task2}"] = std::string(tasks.at(1).at("id").as_string());
    }

    std::string substitute(std::string s) const {
        for (const auto& [name, value] : names_) {
            for (auto at = s.find(name); at != std::string::npos; at = s.find(name, at))
                s.replace(at, name.size(), value);
        }
        for (auto at = s.find("{auth:"); at != std::string::npos; at = s.find("{auth:")) {
            const auto end = s.find('}', at);
            s.replace(at, end + 1 - at, *authorization_for(s.substr(at + 6, end - at - 6)));
        }
        return s;
    }

    std::string request_of(const json::object& c) const {
        if (const auto* raw = c.if_contains("raw"))
            return substitute(std::string(raw->as_string()));
        std::string body;
        if (const auto* b = c.if_contains("body")) body = substitute(std::string(b->as_string()));
        if (const auto* h = c.if_contains("body_hex")) body = from_hex(h->as_string());
        if (const auto* parts = c.if_contains("body_parts"))
            for (const auto& p : parts->as_array())
                for (std::int64_t i = 0; i < p.as_array().at(1).as_int64(); ++i)
                    body += p.as_array().at(0).as_string();
        std::string req = std::string(c.at("method").as_string()) + " " +
                          substitute(std::string(c.at("path").as_string())) +
                          " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
        if (auto auth = authorization_for(std::string(c.at("user").as_string())))
            req += "Authorization: " + *auth + "\r\n";
        if (const auto* t = c.if_contains("content_type"); t && !t->as_string().empty())
            req += "Content-Type: " + std::string(t->as_string()) + "\r\n";
        if (const auto* hs = c.if_contains("headers"))
            for (const auto& h : hs->as_array())
                req += substitute(std::string(h.as_string())) + "\r\n";
        return req + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }

    // What must not move: the events appended, and each space's last event.
    std::string chain_state() {
        std::string state;
        const auto metrics = http_get(port_, "/metrics").body;
        std::istringstream lines(metrics);
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with("migops_events_appended_total")) state += line + "\n";
        for (const auto& [user, space] :
             {std::pair{"alice", "{space}"}, {"eve", "{other_space}"}}) {
            auto r = call(user, "GET", "/v1/events?limit=1000&space=" + names_.at(space));
            if (r.status != 200) return "history answered " + std::to_string(r.status);
            const auto events = json::parse(r.body).at("events").as_array();
            const auto& last = events.back().as_object();
            state += std::to_string(events.size()) + " " + json::serialize(last.at("migopshash")) +
                     " " + json::serialize(last.at("migopsposition")) + "\n";
        }
        return state;
    }

    // Opens a connection, sends the start of a request and waits for the
    // server to close it: true when it did so within the read timeout and a
    // margin, having answered nothing but a failure.
    bool closed_while_slow(const std::string& partial) {
        const int fd = connect_loopback(port_);
        if (fd < 0) return false;
        ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
        std::string got;
        bool closed = false;
        const auto deadline = std::chrono::steady_clock::now() + 3 * read_timeout_seconds * 1s;
        while (!closed && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[4096];
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                closed = true;
            else
                got.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        return closed && !got.starts_with("HTTP/1.1 2");
    }

    temp_dir dir_;
    std::uint16_t port_ = 0;
    child_process server_;
    std::map<std::string, std::string> names_;
};

TEST_F(HostileTest, EveryCaseIsRefusedAsDocumentedAndChangesNothing) {
    populate();
    const auto corpus = load_corpus();
    ASSERT_GE(corpus.size(), 500u);
    // Slow clients hold their connections while the other cases run.
    std::vector<std::pair<std::string, std::future<bool>>> slow;
    for (const auto& c : corpus)
        if (c.spec.contains("slow"))
            slow.emplace_back(c.id, std::async(std::launch::async, [this, &c] {
                                  return closed_while_slow(request_of(c.spec));
                              }));
    auto before = chain_state();
    const auto good = "/v1/spaces/" + names_.at("{space}");
    std::size_t replayed = 0;
    for (const auto& c : corpus) {
        if (c.spec.contains("slow")) continue;
        ++replayed;
        const auto expect = c.spec.at("expect").as_int64();
        const auto r = send_and_read(port_, request_of(c.spec));
        if (!r.answered) {
            ADD_FAILURE() << c.id << ": no answer";
            ASSERT_EQ(http_get(port_, "/healthz").status, 200) << server_.stderr_text();
            continue;
        }
        EXPECT_EQ(r.status, expect) << c.id << ": " << r.body.substr(0, 300);
        EXPECT_EQ(r.header("content-type"), "application/problem+json") << c.id;
        boost::system::error_code ec;
        const auto problem = json::parse(r.body, ec);
        if (ec || !problem.is_object()) {
            ADD_FAILURE() << c.id
                          << ": the problem is not a JSON object: " << r.body.substr(0, 300);
        } else {
            const auto* status = problem.as_object().if_contains("status");
            EXPECT_TRUE(status && status->is_int64() && status->as_int64() == r.status) << c.id;
            const auto* type = c.spec.if_contains("problem");
            const auto* got = problem.as_object().if_contains("type");
            if (type && type->is_string()) {
                EXPECT_TRUE(got && *got == *type) << c.id << ": " << r.body.substr(0, 300);
            }
        }
        if (r.status == 401) {
            EXPECT_NE(r.header("www-authenticate"), "") << c.id;
        }
        if (const auto now = chain_state(); now != before) {
            ADD_FAILURE() << c.id << " appended events";
            before = now;  // the next cases are judged on their own
        }
        ASSERT_EQ(call("alice", "GET", good).status, 200) << "after " << c.id;
    }
    for (auto& [id, done] : slow) EXPECT_TRUE(done.get()) << id << ": not closed";
    EXPECT_EQ(replayed + slow.size(), corpus.size());
    // Writes are still taken, and they move the chain.
    EXPECT_EQ(call("alice", "POST", "/v1/tasks/" + names_.at("{task}") + "/comments",
                   R"({"text":"still here"})")
                  .status,
              201);
    EXPECT_NE(chain_state(), before);
}

}  // namespace
}  // namespace migops
