#pragma once
// Value types shared by every layer: strong ids, timestamps, hashes,
// partition positions. All are persisted: their encodings never change.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace migops {

// An opaque string id with a tag, so that a task id is never passed where a
// space id is expected.
template <class Tag>
struct id {
    std::string value;

    bool empty() const { return value.empty(); }
    friend auto operator<=>(const id&, const id&) = default;
    friend bool operator==(const id&, const id&) = default;
};

struct space_tag {};
struct user_tag {};
struct team_tag {};
struct journey_tag {};
struct node_tag {};
struct command_tag {};

using space_id = id<space_tag>;
using user_id = id<user_tag>;
using team_id = id<team_tag>;
using journey_id = id<journey_tag>;
using node_id = id<node_tag>;  // a phase, module, task or subtask
using command_id = id<command_tag>;

// Partitions are numbered from 0; positions within a partition from 1.
using partition_id = std::uint32_t;
using position = std::uint64_t;

// Microseconds since the Unix epoch, UTC.
struct timestamp {
    std::int64_t micros = 0;
    friend auto operator<=>(const timestamp&, const timestamp&) = default;
};

// RFC 3339 in UTC with six fractional digits: 2026-11-25T21:16:06.123456Z.
std::string format_rfc3339(timestamp t);
// The same, appended to out.
void append_rfc3339(std::string& out, timestamp t);
// Accepts any RFC 3339 date-time (offsets, 0-9 fractional digits).
std::optional<timestamp> parse_rfc3339(std::string_view text);

using hash_bytes = std::array<std::uint8_t, 32>;
std::string to_hex(const hash_bytes& h);
void append_hex(std::string& out, const hash_bytes& h);
std::optional<hash_bytes> hash_from_hex(std::string_view hex);

// A new random id: 128 bits as 32 lower-case hex digits.
std::string random_id();

}  // namespace migops

template <class Tag>
struct std::hash<migops::id<Tag>> {
    std::size_t operator()(const migops::id<Tag>& i) const noexcept {
        return std::hash<std::string>{}(i.value);
    }
};
