#pragma once
// Threads named for what they do, so that top -H, perf, gdb and
// /proc/<pid>/task/*/comm say which part of the server a thread is
// (log-writer, partition-3, board, http-1, …). Linux keeps the first 15
// bytes of a name.

#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace migops {

namespace detail {
void name_thread(std::thread& t, std::string_view name);
}  // namespace detail

// Runs f on a new thread, named before this returns: the name is there as
// soon as whoever started the thread is.
template <class F>
std::thread named_thread(std::string_view name, F&& f) {
    std::thread t(std::forward<F>(f));
    detail::name_thread(t, name);
    return t;
}

// The thread's name, as the kernel keeps it ("" for a std::thread without a
// thread).
std::string thread_name(std::thread& t);

}  // namespace migops
