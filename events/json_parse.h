#pragma once
// JSON text parsed into a value once, with the check that a parsed value
// can no longer make: the value keeps only the last of an object's members
// that share a key, so a text naming a key twice would be taken with one of
// its two values, silently.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace migops::events {

struct parsed_json {
    boost::json::value value;  // null unless the text parsed
    // The first key that one object of the text names twice (at any depth,
    // keys compared as they decode): the text is refused, value is null.
    std::optional<std::string> twice;
    boost::system::error_code error;  // not JSON, or deeper than max_depth

    // What is wrong with a text whose key is given twice, for messages.
    std::string twice_detail() const {
        return twice ? "the key \"" + *twice + "\" is given twice in one object" : std::string();
    }
};

// The text parsed as boost::json::parse parses it (no comments, no
// trailing commas, nothing after the value), refusing a key named twice.
parsed_json parse_json(std::string_view text, std::size_t max_depth);

}  // namespace migops::events
