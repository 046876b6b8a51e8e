#pragma once
// One benchmark row: migops's figure, the baseline measured in the same run,
// their ratio and the goal, printed as one JSON object per line.

#include <time.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace migops::bench {

struct row {
    std::string name;
    double value;
    std::string unit;
    double baseline;
    double ratio;
    std::string goal;
};

inline void print(const row& r) {
    std::printf(
        "{\"row\":\"%s\",\"value\":%.3f,\"unit\":\"%s\",\"baseline\":%.3f,\"ratio\":%.3f,"
        "\"goal\":\"%s\"}\n",
        r.name.c_str(), r.value, r.unit.c_str(), r.baseline, r.ratio, r.goal.c_str());
    std::fflush(stdout);
}

// CPU seconds so far on a clock: CLOCK_THREAD_CPUTIME_ID for the calling
// thread, CLOCK_PROCESS_CPUTIME_ID for every thread of the process.
inline double cpu_seconds(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// decide + apply of task status changes on a journey of 1000 tasks.
void domain_status_changes();

// The alert scheduler with 1,000,000 open tasks (scheduler_bench.cpp); its
// logs live under dir.
void scheduler_rows(const std::filesystem::path& dir);

// `migops export --all` to a file against a raw RocksDB iteration, in MB/s.
void export_rate(const std::filesystem::path& dir);

// replay.projections, replay.decode, replay.model.<name> and as_of.read
// (replay_bench.cpp).
void replay_rows(const std::filesystem::path& dir);

}  // namespace migops::bench
