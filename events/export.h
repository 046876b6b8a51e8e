#pragma once
// The audit export: events as CloudEvents JSON lines (to_cloudevent() of
// codec.h, the same JSON as GET /v1/events and the WebSocket), one event per
// line, partition by partition, each in position order. Every line carries
// the chain attributes (migopspartition, migopsposition, migopsprevhash,
// migopshash) and everything the hash covers, so the file alone can be
// verified (chain_verifier.h, or the README's Python recipe).
//
// A filtered export (one space, a time range) leaves gaps in the chains:
// see chain_verifier.h for what it still proves.

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>

#include "events/event_log.h"

namespace migops::events {

struct export_filter {
    // Only this space's events, from its partition (with that partition's
    // chain.checkpoint events, which belong to no space).
    std::optional<space_id> space;
    std::optional<timestamp> since;  // time >= since
    std::optional<timestamp> until;  // time < until
};

struct export_report {
    std::uint64_t events = 0;      // lines written
    std::uint64_t bytes = 0;       // bytes written
    std::uint64_t scanned = 0;     // events read from the log
    std::uint32_t partitions = 0;  // partitions with at least one line
};

// Called now and then with the events read so far and the number to read.
using export_progress = std::function<void(std::uint64_t scanned, std::uint64_t total)>;

// Writes the events of log that pass filter to out. The log's heads when
// this starts bound what is written. A space filter that names a space of
// which the log holds no event is errc::not_found.
result<export_report> export_events(const event_log& log, const export_filter& filter,
                                    std::ostream& out, const export_progress& progress = {});

}  // namespace migops::events
