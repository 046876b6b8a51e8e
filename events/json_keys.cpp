#include "events/json_keys.h"

#include <cstdint>
#include <set>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

namespace migops::events {

namespace {

// A parse that only keeps the keys of the objects it is in, and stops at the
// first one given twice.
class duplicate_keys {
  public:
    using error_code = boost::system::error_code;
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    // The first key found twice in one object, if any.
    std::optional<std::string> twice;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t, error_code&) { return true; }
    bool on_object_begin(error_code&) {
        objects_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, error_code&) {
        objects_.pop_back();
        return true;
    }
    bool on_string_part(boost::json::string_view, std::size_t, error_code&) { return true; }
    bool on_string(boost::json::string_view, std::size_t, error_code&) { return true; }
    bool on_key_part(boost::json::string_view s, std::size_t, error_code&) {
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, error_code& ec) {
        key_.append(s.data(), s.size());
        if (!objects_.back().insert(key_).second) {
            twice = std::move(key_);
            ec = boost::json::error::syntax;  // stops the parse
            return false;
        }
        key_.clear();
        return true;
    }
    bool on_number_part(boost::json::string_view, error_code&) { return true; }
    bool on_int64(std::int64_t, boost::json::string_view, error_code&) { return true; }
    bool on_uint64(std::uint64_t, boost::json::string_view, error_code&) { return true; }
    bool on_double(double, boost::json::string_view, error_code&) { return true; }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(boost::json::string_view, error_code&) { return true; }
    bool on_comment(boost::json::string_view, error_code&) { return true; }

  private:
    std::vector<std::set<std::string, std::less<>>> objects_;  // the keys of each open object
    std::string key_;
};

}  // namespace

std::optional<std::string> key_given_twice(std::string_view json, std::size_t max_depth) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::basic_parser<duplicate_keys> scan(options);
    boost::system::error_code ec;
    scan.write_some(false, json.data(), json.size(), ec);
    return scan.handler().twice;
}

}  // namespace migops::events
