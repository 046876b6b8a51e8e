#pragma once
// Big-endian integers in keys and small records, so that RocksDB's bytewise
// order is numeric order. Persisted format.

#include <cstdint>

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

}  // namespace migops::events
