#pragma once
// Names a thread, so that top -H, perf, gdb and /proc/<pid>/task/*/comm
// say which part of the server it is (log-writer, partition-3, board,
// http-1, …). Named by its creator right after it starts, so the name is
// there once the part that started it is. Linux keeps the first 15 bytes.

#include <string>
#include <string_view>
#include <thread>

namespace migops {

// Does nothing to a std::thread that holds no thread.
void name_thread(std::thread& t, std::string_view name);
// The thread's name, as the kernel keeps it ("" for no thread).
std::string thread_name(std::thread& t);

}  // namespace migops
