#include "api/idempotency.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/problems.h"
#include "engine/partition_processor.h"
#include "events/codec.h"
#include "events/rocks_store.h"

namespace migops::api {

namespace {

constexpr std::size_t max_key_bytes = 255;
constexpr unsigned first_server_error = 500;

bool valid_key(const std::string& k) {
    if (k.empty() || k.size() > max_key_bytes) return false;
    for (char c : k)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

std::string record_of(const std::string& fingerprint, const http_response& r) {
    boost::json::array headers;
    for (const auto& [k, v] : r.headers) headers.push_back(boost::json::array{k, v});
    return boost::json::serialize(boost::json::object{{"fingerprint", fingerprint},
                                                      {"status", r.status},
                                                      {"content_type", r.content_type},
                                                      {"headers", std::move(headers)},
                                                      {"body", r.body}});
}

http_response response_of(const boost::json::object& o) {
    http_response r;
    r.status = static_cast<unsigned>(o.at("status").to_number<std::uint64_t>());
    r.content_type = o.at("content_type").as_string();
    for (const auto& h : o.at("headers").as_array())
        r.headers.emplace_back(h.as_array().at(0).as_string(), h.as_array().at(1).as_string());
    r.body = o.at("body").as_string();
    r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
}

std::string fingerprint_of(const http_request& req) {
    return to_hex(events::sha256(req.method + " " + req.target + "\n" + req.body));
}

// A command id's hex digits: 160 bits.
constexpr std::size_t command_id_digits = 40;

}  // namespace

std::string command_id_for(const http_request& req, const user_id& user) {
    if (req.method != "POST") return {};
    const auto* header = req.header("idempotency-key");
    if (!header || !valid_key(*header)) return {};
    const auto digest =
        to_hex(events::sha256(user.value + "\n" + *header + "\n" + fingerprint_of(req)));
    return std::string(engine::remembered_command_prefix) + digest.substr(0, command_id_digits);
}

authed_handler idempotency_keys::wrap(authed_handler inner) {
    return [this, inner = std::move(inner)](const http_request& req, const path_params& params,
                                            const principal& who, const responder& respond) {
        handle(req, params, who, respond, inner);
    };
}

void idempotency_keys::handle(const http_request& req, const path_params& params,
                              const principal& who, const responder& respond,
                              const authed_handler& inner) {
    const auto* header = req.header("idempotency-key");
    if (!header) return inner(req, params, who, respond);
    if (!valid_key(*header))
        return respond(
            to_response(make_problem(400, "/problems/invalid-argument", "The request is not valid",
                                     "Idempotency-Key must be 1 to 255 visible ASCII characters")));
    const std::string key = who.user.value + "\n" + *header;
    const std::string fingerprint = fingerprint_of(req);
    {
        std::lock_guard lock(mutex_);
        if (!in_flight_.insert(key).second)
            return respond(to_response(make_problem(
                409, "/problems/idempotency-in-flight", "The first request is still running",
                "a request with this Idempotency-Key is still being answered; retry shortly")));
    }
    auto release = [this, key] {
        std::lock_guard lock(mutex_);
        in_flight_.erase(key);
    };
    std::string stored;
    auto s = db_.Get(rocksdb::ReadOptions{}, cf_, key, &stored);
    if (s.ok()) {
        release();
        boost::system::error_code ec;
        auto v = boost::json::parse(stored, ec);
        if (ec || !v.is_object())
            return respond(to_response(problem_for(
                make_error(errc::corruption, "an idempotency record does not decode"))));
        const auto& o = v.as_object();
        if (o.at("fingerprint").as_string() != fingerprint)
            return respond(to_response(make_problem(
                422, "/problems/idempotency-key-reused", "The key was used for another request",
                "this Idempotency-Key was first used with a different method, path or body")));
        return respond(response_of(o));
    }
    if (!s.IsNotFound()) {
        release();
        return respond(to_response(problem_for(events::from_status(s, "idempotency keys"))));
    }
    inner(req, params, who, [this, key, fingerprint, respond, release](http_response r) {
        if (r.status < first_server_error) {
            auto w = db_.Put(rocksdb::WriteOptions{}, cf_, key, record_of(fingerprint, r));
            if (!w.ok()) r.headers.emplace_back("Warning", "199 - \"retry not recorded\"");
        }
        release();
        respond(std::move(r));
    });
}

}  // namespace migops::api
