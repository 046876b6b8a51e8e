#include "engine/snapshot.h"

#include <sstream>

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

std::string encode_snapshot(const space_snapshot& s) {
    std::ostringstream os(std::ios::binary);
    {
        cereal::PortableBinaryOutputArchive ar(os);
        events::save_value(ar, s);
    }
    return std::move(os).str();
}

result<space_snapshot> decode_snapshot(std::string_view bytes) {
    try {
        std::istringstream is(std::string(bytes), std::ios::binary);
        events::bounded_input_archive ar(is, bytes.size());
        space_snapshot s;
        events::load_value(ar, s);
        if (is.peek() != std::char_traits<char>::eof())
            return failure(errc::corruption, "trailing bytes after the snapshot");
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
