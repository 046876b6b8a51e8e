#pragma once
// HTTP request and response as plain values, so that handlers and routes
// never include Beast (only http_server.cpp does).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/result.h"

namespace migops::api {

// Where a request body goes instead of memory (an upload streamed to a
// file): the server writes each chunk as it arrives, and the handler takes
// what the sink made. A failed write ends the request with its error.
class body_sink {
  public:
    virtual ~body_sink() = default;
    virtual result<void> write(std::string_view chunk) = 0;
};

struct http_request {
    std::string method;                                        // "GET", "POST", …
    std::string target;                                        // path and query
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;                 // empty when the body went to the sink
    std::shared_ptr<body_sink> sink;  // see http_server_options::sink_for
    // Runs work on the request's connection, where its answer is sent: what
    // a handler does once another thread learnt the answer is ready (empty:
    // on the thread that learnt it).
    std::function<void(std::function<void()>)> on_connection;

    const std::string* header(std::string_view name) const {
        for (const auto& [k, v] : headers)
            if (k == name) return &v;
        return nullptr;
    }
};

struct http_response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // When set, the body is this file, sent from disk as it is read (body is
    // ignored); a file that cannot be opened is answered with a 500 problem.
    std::string file;
};

// Whether the request's If-None-Match names etag (or "*"): the client holds
// that version, and 304 answers it.
inline bool none_match(const http_request& req, std::string_view etag) {
    const auto* h = req.header("if-none-match");
    if (!h) return false;
    std::string_view rest = *h;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.starts_with("W/")) item.remove_prefix(2);
        if (item == "*" || item == etag) return true;
    }
    return false;
}

// A handler answers exactly once through the responder, from any thread.
using responder = std::function<void(http_response)>;
using http_handler = std::function<void(http_request, responder)>;

}  // namespace migops::api
