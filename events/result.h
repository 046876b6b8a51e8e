#pragma once
// Expected failures as values: every fallible call in migops returns
// result<T>. Error codes are persisted in problem types and logs: their
// numbers never change; retired numbers stay reserved.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/outcome/result.hpp>

namespace migops {

enum class errc : std::uint16_t {
    invalid_argument = 1,      // the request is malformed or a value is out of range
    not_found = 2,             // the entity does not exist
    already_exists = 3,        // an entity with that id exists
    rule_refused = 4,          // a domain rule refuses the command (HTTP 409)
    permission_denied = 5,     // the actor's role does not allow the command
    busy = 6,                  // a queue is full; retry later (HTTP 503 + Retry-After)
    unavailable = 7,           // the log of record cannot take writes now
    io_error = 8,              // storage failed
    corruption = 9,            // stored data does not decode or verify
    limit_exceeded = 10,       // a configured limit would be passed
    precondition_failed = 11,  // a stale version (If-Match)
    shutting_down = 12,        // the service is stopping
    locked = 13,               // the data directory is used by another process
};

std::string_view to_string(errc code);

// An error: a stable code, a message a person can act on, and for refusals
// the list of what is missing or wrong.
struct error {
    errc code{};
    std::string message;
    std::vector<std::string> details;
};

inline error make_error(errc code, std::string message, std::vector<std::string> details = {}) {
    return error{code, std::move(message), std::move(details)};
}

namespace outcome = boost::outcome_v2;

// Accessing the wrong side of a result is a bug and terminates.
template <class T>
using result = outcome::basic_result<T, error, outcome::policy::terminate>;

inline auto success() {
    return outcome::success();
}
template <class T>
auto success(T&& v) {
    return outcome::success(std::forward<T>(v));
}
inline auto failure(error e) {
    return outcome::failure(std::move(e));
}
inline auto failure(errc code, std::string message, std::vector<std::string> details = {}) {
    return outcome::failure(make_error(code, std::move(message), std::move(details)));
}

}  // namespace migops
