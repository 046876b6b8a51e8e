#include "events/thread_name.h"

#include <pthread.h>

#include <array>

namespace migops {

namespace {
// Linux: 16 bytes with the terminating zero.
constexpr std::size_t name_bytes = 16;
}  // namespace

void name_this_thread(std::string_view name) {
    const std::string kept(name.substr(0, name_bytes - 1));
    (void)pthread_setname_np(pthread_self(), kept.c_str());
}

std::string this_thread_name() {
    std::array<char, name_bytes> out{};
    if (pthread_getname_np(pthread_self(), out.data(), out.size()) != 0) return {};
    return out.data();
}

}  // namespace migops
