#pragma once
// Routes: (method, path pattern) → handler. Patterns are literal segments
// and {name} parameters ("/v1/spaces/{space}/members/{user}"); a
// parameter matches one non-empty segment, percent-decoded. The route
// table is also what /openapi.json is checked against.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace migops::api {

using path_params = std::map<std::string, std::string, std::less<>>;
using route_handler = std::function<void(const http_request&, const path_params&, responder)>;

struct route {
    std::string method;
    std::string pattern;
    std::string name;  // for metrics and logs, e.g. "get_space"
    route_handler handler;
    std::vector<std::string> segments;  // the pattern's, split once when added
};

struct route_match {
    const route* matched = nullptr;
    path_params params;
    std::vector<std::string> allowed;  // methods of the path when the method did not match
};

class router {
  public:
    void add(std::string method, std::string pattern, std::string name, route_handler handler);
    // Nothing matched: matched is null and allowed is empty (404) or lists
    // the path's methods (405).
    route_match match(std::string_view method, std::string_view target) const;
    const std::vector<route>& routes() const { return routes_; }

  private:
    std::vector<route> routes_;
};

// "%2F" → "/"; nullopt for a bad escape or a decoded control character (NUL to
// US, and DEL).
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace migops::api
