#pragma once
// JSON text written as it goes, for what is rendered often (read-model
// rows, canonical event encodings): no document is built. Strings are
// escaped as Boost.JSON's serializer escapes them, so that the same value
// gives the same bytes either way.

#include <cstdint>
#include <string>
#include <string_view>

namespace migops::events {

// s as a JSON string, quotes included: '"', '\\' and control characters
// escaped (\b \t \n \f \r, else \u00xx), everything else as it is.
void append_json_string(std::string& out, std::string_view s);
// n's decimal digits, as Boost.JSON's serializer writes an integer.
void append_json_number(std::string& out, std::int64_t n);
void append_json_number(std::string& out, std::uint64_t n);

// Values, arrays and objects appended to a string, with the commas between
// them. Inside an object each value follows its key(). The caller pairs
// begin and end; nothing is checked.
class json_text {
  public:
    explicit json_text(std::string& out) : out_(out) {}
    // Carries on an object whose text so far is out without its closing
    // brace and holds at least one member: what follows is its next member.
    static json_text continuing(std::string& out) {
        json_text w(out);
        w.comma_ = true;
        return w;
    }

    json_text& begin_object() { return open('{'); }
    json_text& end_object() { return close('}'); }
    json_text& begin_array() { return open('['); }
    json_text& end_array() { return close(']'); }
    json_text& key(std::string_view name);
    json_text& string(std::string_view s);
    // A string, or null when it is empty (an id that is not set).
    json_text& string_or_null(std::string_view s) { return s.empty() ? null() : string(s); }
    json_text& number(std::int64_t n);
    json_text& number(std::uint64_t n);
    json_text& number(std::int32_t n) { return number(static_cast<std::int64_t>(n)); }
    json_text& number(std::uint32_t n) { return number(static_cast<std::uint64_t>(n)); }
    json_text& boolean(bool b);
    json_text& null();

  private:
    void next() {
        if (comma_) out_.push_back(',');
        comma_ = true;
    }
    json_text& open(char c) {
        next();
        out_.push_back(c);
        comma_ = false;
        return *this;
    }
    json_text& close(char c) {
        out_.push_back(c);
        comma_ = true;
        return *this;
    }

    std::string& out_;
    bool comma_ = false;  // a value or member came before, in this array or object
};

}  // namespace migops::events
