#pragma once
// The one place where errors become HTTP answers: each errc has a status
// and a stable problem type (RFC 9457, application/problem+json). Types are
// part of the API contract: they never change meaning.

#include <optional>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "events/result.h"

namespace migops::api {

struct problem {
    unsigned status = 500;
    std::string type;                     // "/problems/rule-refused"
    std::string title;                    // a short, fixed summary of the type
    std::string detail;                   // what went wrong this time
    std::vector<std::string> unmet;       // for refused completions: what is missing
    std::optional<unsigned> retry_after;  // seconds, for 429 and 503
};

problem problem_for(const error& e);
problem make_problem(unsigned status, std::string type, std::string title, std::string detail);

// The problem as an HTTP response (application/problem+json, Retry-After).
http_response to_response(const problem& p);

}  // namespace migops::api
