// The alert scheduler with 1,000,000 open tasks with due dates (issue 6):
// the memory of its due-time index, the time to rebuild it on start, and
// the cost of a tick with 1,000 tasks due.
//
// The tasks (1000 journeys of 1000 tasks in 10 spaces, due-soon alerts off,
// task k due at base + 1 h + k s) are written through the partition
// processor into a RocksLog under DIR; a second processor then loads them
// as the server does on start, and the scheduler, on a manual clock, builds
// its index from that state. A tick cycle is the tick that submits the
// reviews of the 1000 tasks that came due (the clock moved 1000 s) plus the
// tick after those reviews are durable, which re-plans the 1000 tasks; the
// reviews themselves are decided on the partitions' threads, not in the
// tick. Memory is heap in use (jemalloc's stats.allocated, or mallinfo2
// without jemalloc), before and after.
//
// A cycle's cost is the CPU time of the thread that runs the ticks (what
// the scheduler itself does); its wall time is reported beside it, and on
// a busy machine also holds the partitions' threads deciding the reviews
// concurrently.
//
// Rows: scheduler.tick.1000 (CPU ms per cycle, against the 1 ms goal),
// scheduler.tick.1000.wall (the same cycle's wall time),
// scheduler.tick.growth (the cycle's CPU time against 10,000 open tasks:
// the tick should not grow with the open tasks), scheduler.rebuild.1m (the
// index's build against the processor's load of the same state) and
// scheduler.memory.1m (the index against the state).

#include <malloc.h>
#include <time.h>
#ifdef MIGOPS_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "scheduler/alert_scheduler.h"
#include "tests/bench/bench.h"

namespace migops::bench {

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

constexpr std::size_t tasks_per_journey = 1000;
constexpr std::size_t modules_per_journey = 10;
constexpr std::size_t journeys_per_space = 100;
constexpr std::uint32_t partitions = 8;
constexpr std::size_t in_flight_max = 8192;
constexpr std::size_t due_per_tick = 1000;
constexpr int tick_rounds = 9;
constexpr double goal_ms_per_1000 = 1.0;
constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t hour = 3600 * micros_per_second;
constexpr double mib = 1024.0 * 1024.0;
const timestamp base{1'800'000'000'000'000};

std::size_t heap_in_use() {
#ifdef MIGOPS_JEMALLOC
    // jemalloc's statistics are a snapshot taken when the epoch advances.
    std::uint64_t epoch = 1;
    std::size_t size = sizeof epoch;
    std::size_t allocated = 0;
    std::size_t allocated_size = sizeof allocated;
    if (mallctl("epoch", &epoch, &size, &epoch, size) != 0 ||
        mallctl("stats.allocated", &allocated, &allocated_size, nullptr, 0) != 0)
        std::abort();
    return allocated;
#else
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
#endif
}

double seconds_since(steady::time_point t) {
    return std::chrono::duration<double>(steady::now() - t).count();
}

struct open_log {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<events::rocks_log> log;
};

open_log open(const fs::path& dir) {
    open_log o;
    o.store = std::move(
        events::rocks_store::open({dir, {events::events_column_family, events::meta_column_family}})
            .value());
    o.log = std::move(events::rocks_log::open(*o.store, {.partitions = partitions}).value());
    return o;
}

// Submits commands with at most in_flight_max unanswered; any refusal
// aborts the benchmark.
class pipeline {
  public:
    explicit pipeline(engine::partition_processor& p) : processor_(p) {}
    void submit(engine::command c, const std::string& actor = "admin") {
        {
            std::unique_lock lock(mutex_);
            idle_.wait(lock, [&] { return in_flight_ < in_flight_max; });
            ++in_flight_;
        }
        auto queued = processor_.submit({std::move(c), user_id{actor}, base, ""}, [this](auto r) {
            if (!r) std::abort();
            std::lock_guard lock(mutex_);
            --in_flight_;
            idle_.notify_all();
        });
        if (!queued) std::abort();
    }
    void drain() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return in_flight_ == 0; });
    }

  private:
    engine::partition_processor& processor_;
    std::mutex mutex_;
    std::condition_variable idle_;
    std::size_t in_flight_ = 0;
};

// Writes `journeys` journeys of open tasks with due dates into the log.
void fill(events::event_log& log, std::size_t journeys) {
    engine::processor_options o;
    o.queue_capacity = in_flight_max * 2;
    engine::partition_processor p(log, o);
    if (!p.start()) std::abort();
    pipeline run(p);
    events::template_spec tpl{"bench", "1", "Bench", "", {}};
    tpl.phases.push_back({"", "Phase", "", {}});
    for (std::size_t m = 0; m < modules_per_journey; ++m) {
        events::module_spec mod{"", "Module " + std::to_string(m), "", {}};
        for (std::size_t t = 0; t < tasks_per_journey / modules_per_journey; ++t) {
            events::task_spec task;
            task.title = "Task " + std::to_string(t);
            mod.tasks.push_back(task);
        }
        tpl.phases[0].modules.push_back(std::move(mod));
    }
    const auto hash = engine::template_hash(tpl);
    const std::size_t spaces = (journeys + journeys_per_space - 1) / journeys_per_space;
    for (std::size_t s = 0; s < spaces; ++s)
        run.submit(engine::create_space{space_id{"s" + std::to_string(s)}, "Bench", ""});
    run.drain();
    for (std::size_t j = 0; j < journeys; ++j)
        run.submit(engine::create_journey{space_id{"s" + std::to_string(j / journeys_per_space)},
                                          "J" + std::to_string(j), "", std::nullopt, tpl, hash});
    run.drain();
    std::vector<journey_id> ids;
    std::vector<node_id> tasks;
    for (partition_id part = 0; part < partitions; ++part) {
        std::promise<void> done;
        auto f = done.get_future();
        if (!p.inspect(part, [&](const engine::partition_state& state) {
                for (const auto& [jid, j] : state.journeys) {
                    ids.push_back(jid);
                    for (const auto& [nid, n] : j.nodes)
                        if (n.kind == events::node_kind::task) tasks.push_back(nid);
                }
                done.set_value();
            }))
            std::abort();
        f.get();
    }
    if (tasks.size() != journeys * tasks_per_journey) std::abort();
    events::alert_rules rules;
    rules.due_soon_minutes = 0;
    for (const auto& j : ids) run.submit(engine::set_alert_rules{j, rules});
    for (std::size_t k = 0; k < tasks.size(); ++k)
        run.submit(engine::set_due_date{
            tasks[k],
            timestamp{base.micros + hour + static_cast<std::int64_t>(k) * micros_per_second}});
    run.drain();
    p.stop();
}

struct measured {
    double load_s = 0;
    double rebuild_s = 0;
    double state_mib = 0;
    double index_mib = 0;
    double tick_ms = 0;       // median cycle, CPU time of the ticking thread
    double tick_wall_ms = 0;  // median cycle, wall time
};

measured measure(const fs::path& dir, std::size_t journeys) {
    fs::remove_all(dir);
    measured out;
    auto o = open(dir);
    fill(*o.log, journeys);
    const auto before_load = heap_in_use();
    auto started = steady::now();
    engine::processor_options options;
    engine::partition_processor processor(*o.log, options);
    if (!processor.start()) std::abort();
    out.load_s = seconds_since(started);
    const auto loaded = heap_in_use();
    out.state_mib = static_cast<double>(loaded - before_load) / mib;

    scheduler::manual_clock time(base);
    scheduler::alert_scheduler s(
        processor, *o.log, time,
        scheduler::scheduler_options{.tick = std::chrono::milliseconds(0)});
    started = steady::now();
    if (!s.start()) std::abort();
    out.rebuild_s = seconds_since(started);
    out.index_mib = static_cast<double>(heap_in_use() - loaded) / mib;
    if (s.planned() != journeys * tasks_per_journey) std::abort();
    if (s.tick() != 0) std::abort();  // nothing due yet

    std::vector<double> cycles;
    std::vector<double> walls;
    for (int r = 0; r < tick_rounds; ++r) {
        // Tasks r*1000 … r*1000+999 come due.
        time.set(
            timestamp{base.micros + hour +
                      static_cast<std::int64_t>((r + 1) * due_per_tick - 1) * micros_per_second});
        const auto t0 = steady::now();
        const double c0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        if (s.tick() != due_per_tick) std::abort();
        const double submitting = seconds_since(t0);
        const double submitting_cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
        while (s.reviews_in_flight() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const auto t1 = steady::now();
        const double c1 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        if (s.tick() != 0) std::abort();  // re-plans the reviewed tasks
        cycles.push_back((submitting_cpu + cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c1) * 1000.0);
        walls.push_back((submitting + seconds_since(t1)) * 1000.0);
    }
    std::sort(cycles.begin(), cycles.end());
    std::sort(walls.begin(), walls.end());
    out.tick_ms = cycles[cycles.size() / 2];
    out.tick_wall_ms = walls[walls.size() / 2];
    s.stop();
    processor.stop();
    return out;
}

}  // namespace

void scheduler_rows(const std::filesystem::path& dir) {
    constexpr std::size_t million_journeys = 1000;  // 1,000,000 tasks
    constexpr std::size_t small_journeys = 10;      // 10,000 tasks
    const auto small = measure(dir / "scheduler-10k", small_journeys);
    const auto big = measure(dir / "scheduler-1m", million_journeys);
    fs::remove_all(dir / "scheduler-10k");
    fs::remove_all(dir / "scheduler-1m");
    print({"scheduler.tick.1000", big.tick_ms, "ms", goal_ms_per_1000,
           big.tick_ms / goal_ms_per_1000, "<= 1.0"});
    print({"scheduler.tick.1000.wall", big.tick_wall_ms, "ms", goal_ms_per_1000,
           big.tick_wall_ms / goal_ms_per_1000, "report"});
    print({"scheduler.tick.growth", big.tick_ms, "ms", small.tick_ms, big.tick_ms / small.tick_ms,
           "report"});
    print({"scheduler.rebuild.1m", big.rebuild_s, "s", big.load_s, big.rebuild_s / big.load_s,
           "report"});
    print({"scheduler.memory.1m", big.index_mib, "MiB", big.state_mib,
           big.index_mib / big.state_mib, "report"});
}

}  // namespace migops::bench
