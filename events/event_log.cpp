#include "events/event_log.h"

namespace migops::events {

partition_id partition_of(const space_id& space, std::uint32_t partitions) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : space.value) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return static_cast<partition_id>(h % partitions);
}

result<envelope> read_event(const event_log& log, partition_id p, position pos) {
    auto read = log.read(p, pos, 1);
    if (!read) return failure(read.error());
    if (read.value().empty() || read.value().front().pos != pos)
        return failure(errc::corruption, "partition " + std::to_string(p) + " holds no position " +
                                             std::to_string(pos) + ", which an index names");
    return std::move(read.value().front());
}

}  // namespace migops::events
