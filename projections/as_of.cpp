#include "projections/as_of.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "engine/domain.h"
#include "engine/snapshot.h"
#include "events/big_endian.h"
#include "projections/audit_index.h"

namespace migops::projections {

namespace {

constexpr int position_bytes = 8;
constexpr int time_bytes = 8;
// Events read from the audit index at a time while replaying.
constexpr std::size_t replay_page = 1024;

std::string snapshot_prefix(const space_id& space) {
    return "snapshot/" + space.value + "/";
}

std::string time_prefix(const space_id& space) {
    return "snapshot_time/" + space.value + "/";
}

// The newest snapshot at or before the moment that decodes, if any.
result<std::optional<engine::space_snapshot>> find_snapshot(rocksdb::DB& db,
                                                            rocksdb::ColumnFamilyHandle* cf,
                                                            const space_id& space,
                                                            const as_of_point& at) {
    const auto by_time = !at.pos && at.time;
    const auto prefix = by_time ? time_prefix(space) : snapshot_prefix(space);
    const auto start =
        by_time ? snapshot_time_key(space, *at.time, std::numeric_limits<position>::max())
                : snapshot_key(space, at.pos.value_or(0));
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions{}, cf));
    for (it->SeekForPrev(start); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
        std::string bytes;
        if (by_time) {
            const auto key = it->key();
            if (key.size() != prefix.size() + time_bytes + position_bytes) continue;
            const auto pos =
                events::get_big_endian(key.data() + prefix.size() + time_bytes, position_bytes);
            auto s = db.Get(rocksdb::ReadOptions{}, cf, snapshot_key(space, pos), &bytes);
            if (s.IsNotFound()) continue;
            if (!s.ok()) return failure(events::from_status(s, "cannot read a snapshot"));
        } else {
            bytes = it->value().ToString();
        }
        // A snapshot this build cannot read is passed over: an older one,
        // or the replay from the start, gives the same state.
        if (auto snap = engine::decode_snapshot(bytes))
            return std::optional<engine::space_snapshot>(std::move(snap.value()));
    }
    if (!it->status().ok())
        return failure(events::from_status(it->status(), "cannot read the snapshots"));
    return std::optional<engine::space_snapshot>{};
}

}  // namespace

std::string snapshot_key(const space_id& space, position pos) {
    auto k = snapshot_prefix(space);
    events::append_big_endian(k, pos, position_bytes);
    return k;
}

std::string snapshot_time_key(const space_id& space, timestamp latest, position pos) {
    auto k = time_prefix(space);
    events::append_big_endian(k, events::ordered_time_bits(latest), time_bytes);
    events::append_big_endian(k, pos, position_bytes);
    return k;
}

result<past_space> space_as_of(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* board_cf,
                               rocksdb::ColumnFamilyHandle* audit_cf, const events::event_log& log,
                               const space_id& space, const as_of_point& at) {
    if (at.pos.has_value() == at.time.has_value())
        return failure(errc::invalid_argument, "an as-of read takes a position or a time");
    const auto partition = events::partition_of(space, log.partitions());
    auto snap = find_snapshot(db, board_cf, space, at);
    if (!snap) return failure(snap.error());

    past_space out;
    if (snap.value()) {
        out.pos = snap.value()->pos;
        out.time = snap.value()->latest;
        out.state = engine::state_of(std::move(*snap.value()));
    }
    const position up_to = at.pos.value_or(std::numeric_limits<position>::max());
    for (;;) {
        auto page = space_events(db, audit_cf, space, out.pos, up_to, replay_page);
        if (!page) return failure(page.error());
        for (const auto& ev : page.value()) {
            const auto latest = out.time ? std::max(*out.time, ev.time) : ev.time;
            if (at.time && *at.time < latest) return out;
            auto event = events::read_event(log, partition, ev.pos);
            if (!event) return failure(event.error());
            engine::apply(out.state, event.value());
            out.pos = ev.pos;
            out.time = latest;
            ++out.replayed;
        }
        if (page.value().size() < replay_page) return out;
    }
}

}  // namespace migops::projections
