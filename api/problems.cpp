#include "api/problems.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "events/utf8.h"

namespace migops::api {

namespace {

struct mapping {
    errc code;
    unsigned status;
    const char* type;
    const char* title;
    std::optional<unsigned> retry_after;
};

// Persisted in clients: statuses and types never change for a code.
constexpr mapping mappings[] = {
    {errc::invalid_argument, 400, "/problems/invalid-argument", "The request is not valid",
     std::nullopt},
    {errc::not_found, 404, "/problems/not-found", "No such resource", std::nullopt},
    {errc::already_exists, 409, "/problems/already-exists", "The resource exists", std::nullopt},
    {errc::rule_refused, 409, "/problems/rule-refused", "A rule refuses the request", std::nullopt},
    {errc::permission_denied, 403, "/problems/forbidden", "Your role does not allow this",
     std::nullopt},
    {errc::busy, 503, "/problems/busy", "Too busy; retry shortly", 1},
    {errc::unavailable, 503, "/problems/unavailable", "The log of record cannot take writes now",
     5},
    {errc::io_error, 500, "/problems/storage", "Storage failed", std::nullopt},
    {errc::corruption, 500, "/problems/corruption", "Stored data does not verify", std::nullopt},
    {errc::limit_exceeded, 409, "/problems/limit-exceeded", "A limit would be passed",
     std::nullopt},
    {errc::precondition_failed, 412, "/problems/stale-version",
     "The resource changed since you read it", std::nullopt},
    {errc::shutting_down, 503, "/problems/shutting-down", "The server is stopping", 5},
    {errc::locked, 503, "/problems/locked", "The data directory is in use", 5},
};

// Details quote what the client sent, which may not be UTF-8; a problem
// must still be JSON, so each byte that is not part of a valid sequence
// becomes U+FFFD.
std::string replace_invalid_utf8(std::string_view s) {
    constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (const auto n = events::utf8_sequence_length(s, i); n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append(replacement);
            ++i;
        }
    }
    return out;
}

}  // namespace

problem make_problem(unsigned status, std::string type, std::string title, std::string detail) {
    problem p;
    p.status = status;
    p.type = std::move(type);
    p.title = std::move(title);
    p.detail = std::move(detail);
    return p;
}

problem problem_for(const error& e) {
    for (const auto& m : mappings) {
        if (m.code != e.code) continue;
        problem p = make_problem(m.status, m.type, m.title, e.message);
        p.retry_after = m.retry_after;
        if (e.code == errc::rule_refused) p.unmet = e.details;
        return p;
    }
    return make_problem(500, "/problems/internal", "Internal error", e.message);
}

http_response to_response(const problem& p) {
    boost::json::object o;
    o["type"] = p.type;
    o["title"] = p.title;
    o["status"] = p.status;
    if (!p.detail.empty()) o["detail"] = replace_invalid_utf8(p.detail);
    if (!p.unmet.empty()) {
        boost::json::array unmet;
        for (const auto& u : p.unmet) unmet.emplace_back(replace_invalid_utf8(u));
        o["unmet"] = std::move(unmet);
    }
    http_response r;
    r.status = p.status;
    r.content_type = "application/problem+json";
    r.body = boost::json::serialize(o);
    if (p.retry_after) r.headers.emplace_back("Retry-After", std::to_string(*p.retry_after));
    return r;
}

}  // namespace migops::api
