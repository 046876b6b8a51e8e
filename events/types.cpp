#include "events/types.h"

#include <charconv>
#include <chrono>
#include <random>

namespace migops {

namespace {

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t seconds_per_day = 86'400;

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2 ? 1 : 0;
}

// The instants RFC 3339 can write in UTC: its years have four digits. A time
// whose offset moves it past either end could be read but never written
// back, so an event holding it would not decode from its own CloudEvent.
constexpr std::int64_t first_rfc3339_micros =
    -62'167'219'200 * micros_per_second;  // 0000-01-01T00:00:00Z
constexpr std::int64_t last_rfc3339_micros =
    253'402'300'800 * micros_per_second - 1;  // 9999-12-31T23:59:59.999999Z

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::string format_rfc3339(timestamp t) {
    std::string out;
    append_rfc3339(out, t);
    return out;
}

void append_rfc3339(std::string& out, timestamp t) {
    std::int64_t secs = t.micros / micros_per_second;
    std::int64_t frac = t.micros % micros_per_second;
    if (frac < 0) {
        frac += micros_per_second;
        secs -= 1;
    }
    std::int64_t days = secs / seconds_per_day;
    std::int64_t rem = secs % seconds_per_day;
    if (rem < 0) {
        rem += seconds_per_day;
        days -= 1;
    }
    std::int64_t y = 0;
    unsigned m = 0;
    unsigned d = 0;
    civil_from_days(days, y, m, d);
    // The year as printf's "%04lld" writes it (at least four characters, a
    // sign included), then -MM-DDTHH:MM:SS.ffffffZ.
    if (y < 0) out.push_back('-');
    char year[24];
    const auto year_end = std::to_chars(year, year + sizeof year, y < 0 ? -y : y).ptr;
    const auto year_digits = static_cast<std::size_t>(year_end - year);
    const std::size_t width = y < 0 ? 3 : 4;
    if (year_digits < width) out.append(width - year_digits, '0');
    out.append(year, year_end);
    const std::size_t at = out.size();
    out += "-00-00T00:00:00.000000Z";
    const auto put = [&](std::size_t from, std::size_t digits, std::int64_t n) {
        for (std::size_t i = at + from + digits; i > at + from; --i, n /= 10)
            out[i - 1] = static_cast<char>('0' + n % 10);
    };
    put(1, 2, m);
    put(4, 2, d);
    put(7, 2, rem / 3600);
    put(10, 2, rem / 60 % 60);
    put(13, 2, rem % 60);
    put(16, 6, frac);
}

std::optional<timestamp> parse_rfc3339(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, se))
        return std::nullopt;
    static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || h > 23 || mi > 59 || se > 60)
        return std::nullopt;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return std::nullopt;
    std::size_t pos = 19;
    std::int64_t frac = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 6) frac = frac * 10 + (s[pos] - '0');
            ++n;
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (std::size_t i = n; i < 6; ++i) frac *= 10;
    }
    std::int64_t offset = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = 0, om = 0;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = (std::int64_t{oh} * 3600 + std::int64_t{om} * 60) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const std::int64_t days =
        days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    const std::int64_t secs =
        days * seconds_per_day + std::int64_t{h} * 3600 + std::int64_t{mi} * 60 + se - offset;
    const std::int64_t micros = secs * micros_per_second + frac;
    if (micros < first_rfc3339_micros || micros > last_rfc3339_micros) return std::nullopt;
    return timestamp{micros};
}

std::string to_hex(const hash_bytes& h) {
    std::string out;
    append_hex(out, h);
    return out;
}

void append_hex(std::string& out, const hash_bytes& h) {
    static constexpr char digits_hex[] = "0123456789abcdef";
    const std::size_t at = out.size();
    out.resize(at + h.size() * 2);
    for (std::size_t i = 0; i < h.size(); ++i) {
        out[at + 2 * i] = digits_hex[h[i] >> 4];
        out[at + 2 * i + 1] = digits_hex[h[i] & 0xf];
    }
}

std::optional<hash_bytes> hash_from_hex(std::string_view hex) {
    hash_bytes out{};
    if (hex.size() != out.size() * 2) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

std::string random_id() {
    thread_local std::mt19937_64 gen{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64{seq};
    }()};
    static constexpr char digits_hex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t v = gen();
        for (std::size_t i = 0; i < 16; ++i) {
            out[half * 16 + i] = digits_hex[v & 0xf];
            v >>= 4;
        }
    }
    return out;
}

}  // namespace migops
