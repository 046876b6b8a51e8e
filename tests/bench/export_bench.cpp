// export.rate: `migops export --all` (events::export_events over a data
// directory opened as a secondary instance, as the command opens it) writing
// CloudEvents JSON lines to a file, against a raw RocksDB iteration over the
// same events writing their stored values to a file, in the same run.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "events/codec.h"
#include "events/export.h"
#include "events/rocks_log.h"
#include "tests/bench/bench.h"

namespace migops::bench {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

constexpr std::uint32_t export_partitions = 8;
constexpr std::size_t export_events_count = 200'000;
constexpr std::size_t setup_batch = 1000;
constexpr double bytes_per_mb = 1e6;

// Task status changes with a reason, about the size of the real ones.
void fill(const fs::path& dir) {
    auto store = events::rocks_store::open(
        {dir, {events::events_column_family, events::meta_column_family}, nullptr});
    if (!store) std::abort();
    // Set-up only: the rows measure reading.
    auto log =
        events::rocks_log::open(*store.value(), {.partitions = export_partitions, .sync = false});
    if (!log) std::abort();
    std::vector<events::chain_head> heads(export_partitions);
    std::vector<events::envelope> batch;
    for (std::size_t i = 0; i < export_events_count; i += setup_batch) {
        const auto p = static_cast<partition_id>((i / setup_batch) % export_partitions);
        batch.clear();
        for (std::size_t j = 0; j < setup_batch; ++j) {
            events::envelope e;
            e.event_id = random_id();
            e.partition = p;
            e.space = space_id{"bench-space-" + std::to_string(p)};
            e.time = timestamp{static_cast<std::int64_t>(i + j) * 1000};
            e.actor = user_id{"bench-user"};
            e.actor_role = "journey_contributor";
            e.correlation_id = random_id();
            e.causation_id = e.correlation_id;
            e.data =
                events::task_status_changed{node_id{e.space.value + ".j1.n" + std::to_string(j)},
                                            events::task_status::planned,
                                            events::task_status::in_progress,
                                            "started after the kick-off meeting",
                                            {}};
            heads[p] = events::seal(e, heads[p]);
            batch.push_back(std::move(e));
        }
        if (!log.value()->append(p, batch)) std::abort();
    }
}

}  // namespace

void export_rate(const fs::path& dir) {
    const auto data = dir / "export-data";
    fs::remove_all(data);
    fill(data);

    auto store = events::rocks_store::open_reader(
        data, {events::events_column_family, events::meta_column_family});
    if (!store) std::abort();
    auto log = events::rocks_log::open_reader(*store.value());
    if (!log) std::abort();
    auto* cf = store.value()->column_family(events::events_column_family);

    // Raw iteration: every stored value, in key order, to a file. Run once
    // to warm the cache, then measured.
    auto raw_pass = [&](const fs::path& out_path) {
        std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
        std::unique_ptr<rocksdb::Iterator> it(store.value()->db().NewIterator({}, cf));
        std::size_t n = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            out.write(it->value().data(), static_cast<std::streamsize>(it->value().size()));
            ++n;
        }
        if (!it->status().ok() || n != export_events_count || !out) std::abort();
    };
    raw_pass(dir / "raw.bin");
    auto start = clock_type::now();
    raw_pass(dir / "raw.bin");
    const double raw_secs = std::chrono::duration<double>(clock_type::now() - start).count();

    std::uint64_t bytes = 0;
    start = clock_type::now();
    {
        std::ofstream out(dir / "export.jsonl", std::ios::binary | std::ios::trunc);
        auto report = events::export_events(*log.value(), {}, out);
        if (!report || report.value().events != export_events_count) std::abort();
        bytes = report.value().bytes;
    }
    const double export_secs = std::chrono::duration<double>(clock_type::now() - start).count();

    // The baseline is the export's output delivered at the raw read rate.
    const double mb = static_cast<double>(bytes) / bytes_per_mb;
    print(
        {"export.rate", mb / export_secs, "MB/s", mb / raw_secs, raw_secs / export_secs, "report"});
    fs::remove(dir / "raw.bin");
    fs::remove(dir / "export.jsonl");
    log.value().reset();
    store.value().reset();
    fs::remove_all(data);
}

}  // namespace migops::bench
