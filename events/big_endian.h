#pragma once
// Big-endian integers in keys and small records, so that RocksDB's bytewise
// order is numeric order. Persisted format.

#include <cstdint>
#include <string>

#include "events/types.h"

namespace migops::events {

inline void put_big_endian(char* out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
}

inline std::uint64_t get_big_endian(const char* in, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(in[i]);
    return v;
}

// Appends v's low `bytes` bytes, most significant first.
inline void append_big_endian(std::string& out, std::uint64_t v, int bytes) {
    const auto at = out.size();
    out.resize(at + static_cast<std::size_t>(bytes));
    put_big_endian(out.data() + at, v, bytes);
}

// A time as 64 bits whose unsigned order is time order (the sign bit
// flipped), for keys.
inline std::uint64_t ordered_time_bits(timestamp t) {
    return static_cast<std::uint64_t>(t.micros) ^ (std::uint64_t{1} << 63);
}

inline timestamp time_from_ordered_bits(std::uint64_t bits) {
    return timestamp{static_cast<std::int64_t>(bits ^ (std::uint64_t{1} << 63))};
}

}  // namespace migops::events
