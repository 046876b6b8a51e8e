#pragma once
// Request bodies: JSON objects only, of a bounded depth, with typed field
// readers whose refusals name the field (HTTP 400) — or 415 for another
// content type.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>

#include "api/http_types.h"
#include "api/problems.h"
#include "events/content.h"
#include "events/result.h"

namespace migops::api {

inline constexpr std::size_t max_json_depth = 32;
// Limits every body and query shares: list fields, free text, and a task's short texts
// (title, tools, link titles), the same when a task is created and edited.
inline constexpr std::size_t max_list_items = 100;
inline constexpr std::size_t max_text_bytes = std::size_t{64} * 1024;
inline constexpr std::size_t max_short_bytes = 2048;
// An id in a body or a query (space, journey, task, user, team).
inline constexpr std::size_t max_id_bytes = 256;

// The body as a JSON object, or the problem to answer (415 or 400).
std::variant<boost::json::object, problem> json_object_body(const http_request& req);

// The media type a Content-Type header names, lowercased, without its
// parameters and surrounding spaces (media types are case-insensitive);
// empty without the header.
std::string media_type_of(const http_request& req);

// Whether text holds a control character other than a tab or a line break
// (NUL, ESC, DEL, …), which no text the API takes may hold.
bool has_control_character(std::string_view s);
// Whether text holds any control character, tabs and line breaks included
// (ids, compared as they are with token subjects).
bool has_any_control_character(std::string_view s);

// A string field: absent is nullopt (or an error when required); wrong
// type, too long, or holding a control character other than a tab or a line
// break (NUL, ESC, DEL, …) is an error naming the field.
result<std::optional<std::string>> string_field(const boost::json::object& o, std::string_view name,
                                                bool required, std::size_t max_bytes);

// Refuses a field not in `known` (400 naming it), so a misspelt field is
// never silently ignored.
result<void> only_fields(const boost::json::object& o,
                         std::initializer_list<std::string_view> known);

result<std::optional<bool>> bool_field(const boost::json::object& o, std::string_view name);
result<std::optional<std::uint32_t>> uint_field(const boost::json::object& o, std::string_view name,
                                                std::uint32_t max);
// An RFC 3339 time: absent is nullopt, null is an engaged nullopt (clear).
result<std::optional<std::optional<timestamp>>> time_field(const boost::json::object& o,
                                                           std::string_view name);
result<std::optional<std::vector<std::string>>> string_list_field(const boost::json::object& o,
                                                                  std::string_view name,
                                                                  std::size_t max_items,
                                                                  std::size_t max_bytes);

// A task (or subtask) as the API shows it: title, description, tools,
// links, acceptance_criteria, steps and subtasks.
result<events::task_spec> task_body(const boost::json::object& o);
result<std::vector<events::criterion_spec>> criteria_body(const boost::json::value& v);
result<std::vector<events::guidance_link>> links_body(const boost::json::value& v);

}  // namespace migops::api
