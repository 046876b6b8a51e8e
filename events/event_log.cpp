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

}  // namespace migops::events
