#pragma once
// Request bodies: JSON objects only, of a bounded depth, with typed field
// readers whose refusals name the field (HTTP 400) — or 415 for another
// content type.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>

#include "api/http_types.h"
#include "api/problems.h"
#include "events/result.h"

namespace migops::api {

inline constexpr std::size_t max_json_depth = 32;

// The body as a JSON object, or the problem to answer (415 or 400).
std::variant<boost::json::object, problem> json_object_body(const http_request& req);

// A string field: absent is nullopt (or an error when required); wrong
// type, invalid UTF-8 or too long is an error naming the field.
result<std::optional<std::string>> string_field(const boost::json::object& o, std::string_view name,
                                                bool required, std::size_t max_bytes);

}  // namespace migops::api
