#pragma once
// HTTP request and response as plain values, so that handlers and routes
// never include Beast (only http_server.cpp does).

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace migops::api {

struct http_request {
    std::string method;                                        // "GET", "POST", …
    std::string target;                                        // path and query
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;

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
};

// A handler answers exactly once through the responder, from any thread.
using responder = std::function<void(http_response)>;
using http_handler = std::function<void(http_request, responder)>;

}  // namespace migops::api
