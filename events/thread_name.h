#pragma once
// Names the calling thread, so that top -H, perf, gdb and
// /proc/<pid>/task/*/comm say which part of the server a thread is
// (log-writer, partition-3, board, http-1, …). Linux keeps the first 15
// bytes of a name.

#include <string>
#include <string_view>

namespace migops {

void name_this_thread(std::string_view name);
// The calling thread's name, as the kernel keeps it.
std::string this_thread_name();

}  // namespace migops
