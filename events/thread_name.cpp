#include "events/thread_name.h"

#include <pthread.h>

#include <array>

namespace migops {

namespace {
// Linux: 16 bytes with the terminating zero.
constexpr std::size_t name_bytes = 16;
}  // namespace

void detail::name_thread(std::thread& t, std::string_view name) {
    const std::string kept(name.substr(0, name_bytes - 1));
    (void)pthread_setname_np(t.native_handle(), kept.c_str());
}

std::string thread_name(std::thread& t) {
    if (!t.joinable()) return {};
    std::array<char, name_bytes> out{};
    if (pthread_getname_np(t.native_handle(), out.data(), out.size()) != 0) return {};
    return out.data();
}

}  // namespace migops
