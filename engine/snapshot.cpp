#include "engine/snapshot.h"

namespace migops::engine {

space_snapshot snapshot_of(const partition_state& s, const space_id& space, position pos,
                           timestamp latest) {
    space_snapshot out;
    out.pos = pos;
    out.latest = latest;
    if (const auto* sp = s.space(space)) {
        out.space = *sp;
        for (const auto& id : sp->journeys)
            if (const auto* j = s.journey(id)) out.journeys.push_back(*j);
    }
    return out;
}

namespace {

// space_snapshot's encoding (events::save_value of its fields in order),
// from parts that need not be copied into one first.
std::string encode(position pos, timestamp latest, const space_state& space,
                   const std::vector<const journey_state*>& journeys) {
    static_assert(std::tuple_size_v<decltype(space_snapshot::fields())> == 4,
                  "encode() writes pos, latest, space and journeys");
    events::binary_output_archive ar;
    ar(events::format_version_of<space_snapshot>());
    events::save_value(ar, pos);
    events::save_value(ar, latest);
    events::save_value(ar, space);
    ar(static_cast<std::uint32_t>(journeys.size()));
    for (const auto* j : journeys) events::save_value(ar, *j);
    return std::move(ar).take();
}

}  // namespace

std::string encode_snapshot(const space_snapshot& s) {
    std::vector<const journey_state*> journeys;
    for (const auto& j : s.journeys) journeys.push_back(&j);
    return encode(s.pos, s.latest, s.space, journeys);
}

std::string encode_snapshot(const partition_state& s, const space_id& space, position pos,
                            timestamp latest) {
    const auto* sp = s.space(space);
    std::vector<const journey_state*> journeys;
    if (sp)
        for (const auto& id : sp->journeys)
            if (const auto* j = s.journey(id)) journeys.push_back(j);
    return encode(pos, latest, sp ? *sp : space_state{}, journeys);
}

result<space_snapshot> decode_snapshot(std::string_view bytes) {
    try {
        events::binary_input_archive ar(bytes);
        space_snapshot s;
        events::load_value(ar, s);
        if (!ar.at_end()) return failure(errc::corruption, "trailing bytes after the snapshot");
        return s;
    } catch (const std::exception& ex) {
        return failure(errc::corruption, std::string("snapshot does not decode: ") + ex.what());
    }
}

partition_state state_of(space_snapshot s) {
    partition_state out;
    out.head.pos = s.pos;
    for (auto& j : s.journeys) {
        auto id = j.id;
        out.journeys.emplace(std::move(id), std::move(j));
    }
    auto id = s.space.id;
    out.spaces.emplace(std::move(id), std::move(s.space));
    return out;
}

}  // namespace migops::engine
