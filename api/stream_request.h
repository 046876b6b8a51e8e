#pragma once
// What a client of the event stream (/v1/stream) says, as values: the
// upgrade request's query (filters and a cursor to resume from) and the
// first message that carries the token. Pure: no socket, no log, so the
// parsers can be tested and fuzzed on their own (tests/fuzz).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.h"
#include "events/types.h"

namespace migops::api {

// What a client asked for in the query string.
struct stream_filter {
    std::optional<space_id> space{};  // also set when journey or task is given
    std::optional<journey_id> journey{};
    std::optional<node_id> task{};
    std::set<std::uint32_t> types{};  // event type ids; empty: every type
};

struct stream_request {
    stream_filter filter;
    // Per partition, the last position already dealt with; nullopt: from
    // now on (live only).
    std::optional<std::vector<position>> from;
};

// Parses "/v1/stream?space=&journey=&task=&types=&from=": unknown or repeated
// parameters, malformed ids, unknown types and a cursor that does not fit
// the partition count are refused (errc::invalid_argument).
result<stream_request> parse_stream_target(std::string_view target, std::uint32_t partitions);

// Cursors. With a space (or journey, task) filter only the space's partition
// matters and the cursor is its position ("42"); without, it is every
// partition's position joined by '.' ("0.17.3.0.0.9.0.2"). parse_cursor
// accepts both forms: a single number needs a space or one partition.
std::string format_cursor(const std::vector<position>& positions, std::optional<partition_id> only);
result<std::vector<position>> parse_cursor(std::string_view text, std::uint32_t partitions,
                                           std::optional<partition_id> only);

// The token of a client's first message, {"token": "<JWT>"} and nothing
// else; anything else is errc::invalid_argument (the stream closes 1008).
result<std::string> parse_stream_message(std::string_view message);

}  // namespace migops::api
