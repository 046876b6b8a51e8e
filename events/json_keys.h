#pragma once
// Checks on JSON text that a parsed value can no longer make: the value
// keeps only the last of an object's members that share a key.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace migops::events {

// The first key that one object of the JSON text names twice (at any depth,
// keys compared as they decode), or nothing. The text is expected to be
// valid JSON of at most max_depth levels; on text that is not, the answer
// is what was found before the parse stopped.
std::optional<std::string> key_given_twice(std::string_view json, std::size_t max_depth);

}  // namespace migops::events
