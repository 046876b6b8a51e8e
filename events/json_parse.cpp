#include "events/json_parse.h"

#include <cstdint>
#include <set>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace migops::events {

namespace {

// Builds the value as boost::json::parser does (on a value_stack), keeping
// the keys of each open object to stop at the first one given twice.
class checked_builder {
  public:
    using error_code = boost::system::error_code;
    using string_view = boost::json::string_view;
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    boost::json::value_stack stack;
    std::optional<std::string> twice;

    bool on_document_begin(error_code&) {
        stack.reset();
        return true;
    }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t n, error_code&) {
        stack.push_array(n);
        return true;
    }
    bool on_object_begin(error_code&) {
        objects_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t n, error_code&) {
        objects_.pop_back();
        stack.push_object(n);
        return true;
    }
    bool on_string_part(string_view s, std::size_t, error_code&) {
        stack.push_chars(s);
        return true;
    }
    bool on_string(string_view s, std::size_t, error_code&) {
        stack.push_string(s);
        return true;
    }
    bool on_key_part(string_view s, std::size_t, error_code&) {
        key_.append(s.data(), s.size());
        stack.push_chars(s);
        return true;
    }
    bool on_key(string_view s, std::size_t, error_code& ec) {
        key_.append(s.data(), s.size());
        if (!objects_.back().insert(key_).second) {
            twice = std::move(key_);
            ec = boost::json::error::syntax;  // stops the parse
            return false;
        }
        key_.clear();
        stack.push_key(s);
        return true;
    }
    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t i, string_view, error_code&) {
        stack.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, string_view, error_code&) {
        stack.push_uint64(u);
        return true;
    }
    bool on_double(double d, string_view, error_code&) {
        stack.push_double(d);
        return true;
    }
    bool on_bool(bool b, error_code&) {
        stack.push_bool(b);
        return true;
    }
    bool on_null(error_code&) {
        stack.push_null();
        return true;
    }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }

  private:
    std::vector<std::set<std::string, std::less<>>> objects_;  // the keys of each open object
    std::string key_;
};

}  // namespace

parsed_json parse_json(std::string_view text, std::size_t max_depth) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::basic_parser<checked_builder> parser(options);
    parsed_json out;
    const auto used = parser.write_some(false, text.data(), text.size(), out.error);
    out.twice = std::move(parser.handler().twice);
    if (out.twice) {
        out.error = {};
        return out;
    }
    if (!out.error && used < text.size()) out.error = boost::json::error::extra_data;
    if (!out.error) out.value = parser.handler().stack.release();
    return out;
}

}  // namespace migops::events
