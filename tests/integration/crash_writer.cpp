// A child for the crash test: appends through the partition processor with
// 64 concurrent submitters until it is killed. For every acknowledged command
// it prints "ACK <partition> <position> <event id>" after the completion
// (that is, after the events are durable).
//
// usage: migops_crash_writer DATA_DIR RUN_TAG

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/partition_processor.h"
#include "events/rocks_log.h"

using namespace migops;

namespace {

constexpr int submitters = 64;
constexpr std::uint32_t partitions = 4;

void write_line(const std::string& line) {
    static std::mutex m;
    std::lock_guard lock(m);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDOUT_FILENO, p, left);
        if (n <= 0) std::_Exit(3);
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s DATA_DIR RUN_TAG\n", argv[0]);
        return 2;
    }
    auto store = events::rocks_store::open(
        {argv[1], {events::events_column_family, events::meta_column_family}});
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().message.c_str());
        return 1;
    }
    auto log = events::rocks_log::open(*store.value(), {.partitions = partitions});
    if (!log) {
        std::fprintf(stderr, "%s\n", log.error().message.c_str());
        return 1;
    }
    engine::partition_processor proc(*log.value(), {});
    if (auto r = proc.start(); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
    }
    write_line("READY\n");

    const std::string tag = argv[2];
    std::atomic<std::uint64_t> counter{0};
    std::function<void(int)> next = [&](int who) {
        const auto n = counter.fetch_add(1);
        const space_id s{tag + "-" + std::to_string(who) + "-" + std::to_string(n)};
        engine::submission sub{
            engine::create_space{s, std::string(120, 'n'), std::string(100, 'd')},
            user_id{"writer"}, timestamp{static_cast<std::int64_t>(n)}, ""};
        auto queued = proc.submit(std::move(sub), [&, who](auto r) {
            if (!r) {
                std::fprintf(stderr, "refused: %s\n", r.error().message.c_str());
                std::_Exit(1);
            }
            for (const auto& e : r.value())
                write_line("ACK " + std::to_string(e.partition) + " " + std::to_string(e.pos) +
                           " " + e.event_id + "\n");
            next(who);
        });
        if (!queued) std::_Exit(1);
    };
    for (int i = 0; i < submitters; ++i) next(i);
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}
