#pragma once
// A space's part of a partition's state as it was after a position: the
// space, its journeys, and the latest time of the space's events up to
// there. The board stores one now and then (projections/as_of.h), so that
// the board as it was is a snapshot plus a short replay, not a replay from
// the first event.
//
// Stored as cereal portable binary through the field lists of state.h
// (persisted format, with the rules of events/fields.h).

#include <string>
#include <string_view>
#include <vector>

#include "engine/state.h"
#include "events/result.h"

namespace migops::engine {

struct space_snapshot {
    static constexpr std::uint32_t format_version = 1;
    position pos = 0;   // the partition's position the state is at
    timestamp latest;   // the latest time of the space's events up to pos
    space_state space;  // with its journeys, deleted ones included
    std::vector<journey_state> journeys;
    static constexpr auto fields() {
        return std::tuple{
            field("pos", &space_snapshot::pos), field("latest", &space_snapshot::latest),
            field("space", &space_snapshot::space), field("journeys", &space_snapshot::journeys)};
    }
    friend bool operator==(const space_snapshot&, const space_snapshot&) = default;
};

// The snapshot of one space of the state (which must hold it).
space_snapshot snapshot_of(const partition_state& s, const space_id& space, position pos,
                           timestamp latest);

std::string encode_snapshot(const space_snapshot& s);
// The same bytes as encode_snapshot(snapshot_of(s, space, pos, latest)),
// written from the state without copying it.
std::string encode_snapshot(const partition_state& s, const space_id& space, position pos,
                            timestamp latest);
// errc::corruption when the bytes are not a snapshot this build knows.
result<space_snapshot> decode_snapshot(std::string_view bytes);

// A state holding only the snapshot's space and journeys, at its position.
partition_state state_of(space_snapshot s);

}  // namespace migops::engine
