// Replay and as-of rows (issue: audit), on a log written through the domain
// core so that every event is one the engine really makes:
//   replay.projections  a rebuild of every read model from position 1,
//                       against a raw RocksDB iteration over the same
//                       events in the same run;
//   replay.projections.cpu
//                       the CPU time of that rebuild per event, every
//                       thread of the process counted (RocksDB's too),
//                       against the raw iteration's: on two cores the
//                       rebuild is bound by its CPU, and this figure moves
//                       less with the machine's load than the rate does;
//   replay.decode       the same events read and decoded from the log in
//                       the rebuild's chunks, by one thread as a rebuild's
//                       shared reader does, against the same raw iteration:
//                       a ceiling for replay.projections;
//   replay.model.<name> the CPU time per event of rebuilding one read model
//                       alone from position 1 on one thread (reading and
//                       decoding its own chunks, its rows flushed), every
//                       thread counted, against the CPU time per event of
//                       reading and decoding alone: what each model adds
//                       to a rebuild, which the cores share;
//   as_of.read          an as-of read of a journey with 10,000 events (the
//                       space as it was, rendered as the API renders it),
//                       against the same read from position 1 without
//                       snapshots.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include <boost/json/serialize.hpp>

#include "engine/domain.h"
#include "events/codec.h"
#include "events/rocks_log.h"
#include "projections/as_of.h"
#include "projections/audit_index.h"
#include "projections/board.h"
#include "projections/catalogue.h"
#include "projections/read_models.h"
#include "projections/views.h"
#include "tests/bench/bench.h"

namespace migops::bench {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

constexpr std::uint32_t replay_partitions = 8;
constexpr std::size_t replay_spaces = 16;
constexpr std::size_t tasks_per_journey = 500;
constexpr std::size_t replay_events_goal = 400'000;
constexpr std::size_t as_of_events = 10'000;
constexpr std::size_t as_of_reads = 40;
constexpr double millis_per_second = 1000;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Writes commands through decide and apply, one state per partition, and
// appends their sealed events in batches.
class writer {
  public:
    explicit writer(events::rocks_log& log) : log_(log), states_(replay_partitions) {}

    void run(const space_id& space, const engine::command& c) {
        const auto p = events::partition_of(space, replay_partitions);
        auto& state = states_[p];
        const timestamp now{++clock_};
        auto d = engine::decide(state, {user_id{"admin"}, now, nullptr}, c);
        if (!d) std::abort();
        for (auto& payload : d.value().events) {
            events::envelope e;
            e.event_id = random_id();
            e.partition = p;
            e.pos = state.head.pos + 1;
            e.space = space;
            e.time = now;
            e.actor = user_id{"admin"};
            e.actor_role = "space_admin";
            e.correlation_id = e.event_id;
            e.causation_id = e.event_id;
            e.data = std::move(payload);
            events::seal(e, state.head);
            engine::apply(state, e);
            pending_[p].push_back(std::move(e));
            ++written_;
        }
        if (pending_[p].size() >= batch) flush(p);
    }
    void flush() {
        for (partition_id p = 0; p < replay_partitions; ++p) flush(p);
    }
    std::size_t written() const { return written_; }
    const engine::partition_state& state(const space_id& s) const {
        return states_[events::partition_of(s, replay_partitions)];
    }

  private:
    static constexpr std::size_t batch = 1000;
    void flush(partition_id p) {
        auto& events = pending_[p];
        if (events.empty()) return;
        if (!log_.append(p, events)) std::abort();
        events.clear();
    }
    events::rocks_log& log_;
    std::vector<engine::partition_state> states_;
    std::map<partition_id, std::vector<events::envelope>> pending_;
    std::int64_t clock_ = 0;
    std::size_t written_ = 0;
};

events::template_spec bench_template() {
    events::template_spec tpl{"bench", "1", "Bench", "", {}};
    tpl.phases.push_back({"", "Phase", "", {}});
    for (std::size_t m = 0; m < tasks_per_journey / 100; ++m) {
        events::module_spec mod{"", "Module " + std::to_string(m), "", {}};
        for (std::size_t t = 0; t < 100; ++t) {
            events::task_spec task;
            task.title = "Task " + std::to_string(m * 100 + t);
            mod.tasks.push_back(task);
        }
        tpl.phases[0].modules.push_back(std::move(mod));
    }
    return tpl;
}

// A space with a journey of tasks_per_journey tasks; its task ids.
std::vector<node_id> journey_of_tasks(writer& w, const space_id& s) {
    w.run(s, engine::create_space{s, "Space " + s.value, ""});
    const auto tpl = bench_template();
    w.run(s, engine::create_journey{s, "J", "", std::nullopt, tpl, engine::template_hash(tpl)});
    std::vector<node_id> tasks;
    for (const auto& [id, j] : w.state(s).journeys)
        if (engine::space_of_id(id.value) == s)
            for (const auto& [nid, n] : j.nodes)
                if (n.kind == events::node_kind::task) tasks.push_back(nid);
    return tasks;
}

// Status changes back and forth on the space's tasks, `count` of them.
void churn(writer& w, const space_id& s, const std::vector<node_id>& tasks, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const auto& t = tasks[(i * 7) % tasks.size()];
        const auto* n = w.state(s).node(t);
        const auto next = n->status == events::task_status::in_progress
                              ? events::task_status::planned
                              : events::task_status::in_progress;
        w.run(s, engine::change_task_status{t, next, "", {}});
    }
}

struct opened {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<events::rocks_log> log;
};

opened open_store(const fs::path& dir) {
    auto families = projections::all_column_families();
    families.push_back(events::events_column_family);
    families.push_back(events::meta_column_family);
    auto store =
        events::rocks_store::open({dir, families, nullptr, nullptr, projections::tune_family});
    if (!store) std::abort();
    // Set-up only: the rows measure reading and replay.
    auto log =
        events::rocks_log::open(*store.value(), {.partitions = replay_partitions, .sync = false});
    if (!log) std::abort();
    return {std::move(store.value()), std::move(log.value())};
}

// Waits until RocksDB has no flush or compaction running or pending (or a
// minute has passed), so that what one measure left to do in the
// background is not counted in the next one's CPU time.
void quiesce(rocksdb::DB& db) {
    const auto deadline = clock_type::now() + std::chrono::minutes(1);
    while (clock_type::now() < deadline) {
        std::uint64_t running = 0;
        std::uint64_t pending = 0;
        std::uint64_t n = 0;
        for (const auto* property : {&rocksdb::DB::Properties::kNumRunningFlushes,
                                     &rocksdb::DB::Properties::kNumRunningCompactions}) {
            if (!db.GetIntProperty(*property, &n)) std::abort();
            running += n;
        }
        for (const auto* property : {&rocksdb::DB::Properties::kMemTableFlushPending,
                                     &rocksdb::DB::Properties::kCompactionPending}) {
            if (!db.GetAggregatedIntProperty(*property, &n)) std::abort();
            pending += n;
        }
        if (running == 0 && pending == 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void replay_projections(const fs::path& dir) {
    const auto data = dir / "replay-data";
    fs::remove_all(data);
    auto o = open_store(data);
    {
        writer w(*o.log);
        const auto per_space = replay_events_goal / replay_spaces;
        for (std::size_t k = 0; k < replay_spaces; ++k) {
            const space_id s{"bench" + std::to_string(k)};
            churn(w, s, journey_of_tasks(w, s), per_space);
        }
        w.flush();
    }
    std::size_t total = 0;
    for (partition_id p = 0; p < replay_partitions; ++p) total += o.log->head(p).pos;
    quiesce(o.store->db());

    // Raw iteration: every stored event, in key order. Once to warm the
    // cache, then measured.
    auto* cf = o.store->column_family(events::events_column_family);
    auto raw_pass = [&] {
        std::unique_ptr<rocksdb::Iterator> it(o.store->db().NewIterator({}, cf));
        std::size_t n = 0;
        std::size_t bytes = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            bytes += it->value().size();
            ++n;
        }
        if (!it->status().ok() || n != total || bytes == 0) std::abort();
    };
    raw_pass();
    auto start = clock_type::now();
    auto cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    raw_pass();
    const double raw_rate = static_cast<double>(total) / seconds_since(start);
    const double raw_cpu_us =
        (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) * 1e6 / static_cast<double>(total);

    // Read and decoded, partition by partition, in the chunks a rebuild
    // reads (projections::runner_options::catch_up_events).
    start = clock_type::now();
    cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    std::size_t decoded = 0;
    const std::size_t chunk = projections::runner_options{}.catch_up_events;
    for (partition_id p = 0; p < replay_partitions; ++p)
        for (position from = 1; from <= o.log->head(p).pos; from += chunk) {
            auto events = projections::read_chunk(*o.log, p, from, chunk);
            if (!events || events.value()->empty()) std::abort();
            decoded += events.value()->size();
        }
    if (decoded != total) std::abort();
    const double decode_rate = static_cast<double>(total) / seconds_since(start);
    const double decode_cpu_us =
        (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) * 1e6 / static_cast<double>(total);

    // Every read model rebuilt from position 1 into a new generation, as
    // `migops projections rebuild` does (read_models.h: each model on a
    // thread of its own).
    auto models = projections::read_models::open(*o.store, *o.log);
    if (!models) std::abort();
    start = clock_type::now();
    cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (!models.value()->rebuild()) std::abort();
    const double replay_rate = static_cast<double>(total) / seconds_since(start);
    const double replay_cpu_us =
        (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) * 1e6 / static_cast<double>(total);
    models.value()->stop();
    models.value().reset();
    print({"replay.projections", replay_rate, "events/s", raw_rate, replay_rate / raw_rate,
           ">= 0.5 and >= 1,000,000 events/s"});
    print({"replay.projections.cpu", replay_cpu_us, "us/event", raw_cpu_us,
           raw_cpu_us / replay_cpu_us, "report"});
    print({"replay.decode", decode_rate, "events/s", raw_rate, decode_rate / raw_rate,
           "report: a ceiling for replay.projections"});

    // Each model alone, into a column family of its own (tuned as the
    // model's: a generation no rebuild uses), dropped once measured.
    for (const auto& model : projections::all_projections()) {
        const auto family = projections::column_family_of(*model, ~std::uint64_t{0});
        auto rows_cf = o.store->create_column_family(family);
        if (!rows_cf) std::abort();
        quiesce(o.store->db());
        cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        {
            projections::runner r(*o.store, *o.log, *model, {.column_family = family});
            if (!r.rebuild()) std::abort();
        }
        if (!o.store->db().Flush({}, rows_cf.value()).ok()) std::abort();
        const double model_cpu_us =
            (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) * 1e6 / static_cast<double>(total);
        if (!o.store->drop_column_family(family)) std::abort();
        print({"replay.model." + model->name(), model_cpu_us, "us/event", decode_cpu_us,
               decode_cpu_us / model_cpu_us, "report"});
    }
    o.log.reset();
    o.store.reset();
    fs::remove_all(data);
}

void as_of_read(const fs::path& dir) {
    const auto data = dir / "as-of-data";
    fs::remove_all(data);
    auto o = open_store(data);
    const space_id s{"asof"};
    journey_id journey;
    {
        writer w(*o.log);
        const auto tasks = journey_of_tasks(w, s);
        journey = w.state(s).journeys.begin()->first;
        // Another space in the same partition, events in between.
        space_id other{"asof-other"};
        for (int k = 0; events::partition_of(other, replay_partitions) !=
                        events::partition_of(s, replay_partitions);
             ++k)
            other = space_id{"asof-other" + std::to_string(k)};
        const auto other_tasks = journey_of_tasks(w, other);
        for (std::size_t i = 0; i < as_of_events; i += 1000) {
            churn(w, s, tasks, 1000);
            churn(w, other, other_tasks, 1000);
        }
        w.flush();
    }
    projections::board board;
    projections::audit_index audit;
    for (projections::projection* m : {static_cast<projections::projection*>(&board),
                                       static_cast<projections::projection*>(&audit)}) {
        projections::runner r(*o.store, *o.log, *m);
        if (!r.rebuild()) std::abort();
    }
    auto& db = o.store->db();
    auto* board_cf = o.store->column_family(projections::column_family_of(board));
    auto* audit_cf = o.store->column_family(projections::column_family_of(audit));
    const auto p = events::partition_of(s, replay_partitions);
    const auto head = o.log->head(p).pos;

    // Reads at positions spread over the history, the way the API answers
    // them (fold, render, serialize); the median of as_of_reads.
    auto median_ms = [&](rocksdb::ColumnFamilyHandle* snapshots) {
        std::vector<double> ms;
        for (std::size_t i = 1; i <= as_of_reads; ++i) {
            const position at = head * i / as_of_reads;
            const auto start = clock_type::now();
            auto past = projections::space_as_of(db, snapshots, audit_cf, *o.log, s,
                                                 {.pos = at, .time = {}});
            if (!past) std::abort();
            if (const auto* j = past.value().state.journey(journey)) {
                if (projections::journey_json(*j).empty()) std::abort();
            }
            ms.push_back(seconds_since(start) * millis_per_second);
        }
        std::sort(ms.begin(), ms.end());
        return ms[ms.size() / 2];
    };
    const double with_snapshots = median_ms(board_cf);
    // Without snapshots: the audit index's column family holds none, so
    // every read folds the space from its first event.
    const double from_start = median_ms(audit_cf);
    print(
        {"as_of.read", with_snapshots, "ms", from_start, from_start / with_snapshots, "<= 50 ms"});
    o.log.reset();
    o.store.reset();
    fs::remove_all(data);
}

}  // namespace

void replay_rows(const fs::path& dir) {
    replay_projections(dir);
    as_of_read(dir);
}

}  // namespace migops::bench
