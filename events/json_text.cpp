#include "events/json_text.h"

#include <charconv>
#include <cstring>

namespace migops::events {

namespace {

// The first position from `from` on of a character that JSON escapes (a
// control character, '"' or '\\'); s.size() when there is none. Eight bytes
// at a time while there are eight.
std::size_t next_to_escape(std::string_view s, std::size_t from) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    // Non-zero when some byte of w is zero (it never misses one); such a
    // word is then searched byte by byte.
    const auto zero_byte = [](std::uint64_t w) { return (w - ones) & ~w & highs; };
    std::size_t i = from;
    for (; i + sizeof(std::uint64_t) <= s.size(); i += sizeof(std::uint64_t)) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, sizeof w);
        // Bytes below 0x20: (byte & 0xe0) == 0, i.e. a zero after masking.
        const std::uint64_t found = zero_byte(w & (0xe0 * ones)) | zero_byte(w ^ ('"' * ones)) |
                                    zero_byte(w ^ ('\\' * ones));
        if (found) break;
    }
    for (; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == '"' || c == '\\') return i;
    }
    return s.size();
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    // Runs of characters written as they are go in one append.
    std::size_t plain = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        i = next_to_escape(s, i);
        if (i == s.size()) break;
        const auto c = static_cast<unsigned char>(s[i]);
        out.append(s.data() + plain, i - plain);
        plain = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 0xf]);
        }
    }
    out.append(s.data() + plain, s.size() - plain);
    out.push_back('"');
}

json_text& json_text::key(std::string_view name) {
    next();
    append_json_string(out_, name);
    out_.push_back(':');
    comma_ = false;
    return *this;
}

json_text& json_text::string(std::string_view s) {
    next();
    append_json_string(out_, s);
    return *this;
}

namespace {

template <class N>
void append_number(std::string& out, N n) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
}

}  // namespace

void append_json_number(std::string& out, std::int64_t n) {
    append_number(out, n);
}

void append_json_number(std::string& out, std::uint64_t n) {
    append_number(out, n);
}

json_text& json_text::number(std::int64_t n) {
    next();
    append_json_number(out_, n);
    return *this;
}

json_text& json_text::number(std::uint64_t n) {
    next();
    append_json_number(out_, n);
    return *this;
}

json_text& json_text::boolean(bool b) {
    next();
    out_ += b ? "true" : "false";
    return *this;
}

json_text& json_text::null() {
    next();
    out_ += "null";
    return *this;
}

}  // namespace migops::events
