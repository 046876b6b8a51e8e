// Benchmarks of the log of record and the partition processor. Each row
// measures migops and a baseline in the same run and prints one JSON object
// per line: {"row", "value", "unit", "baseline", "ratio", "goal"}.
// ops/bench runs this and prints the table.
//
// usage: migops_bench DIR [ROW...]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <rocksdb/write_batch.h>

#include "engine/partition_processor.h"
#include "events/codec.h"
#include "events/rocks_log.h"
#include "tests/bench/bench.h"

using namespace migops;
using migops::bench::print;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t event_bytes = 300;
constexpr int throughput_submitters = 64;
constexpr std::size_t throughput_commands = 60'000;
constexpr std::size_t baseline_batch = 1000;
constexpr std::size_t latency_commands = 2'000;

struct open_log {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<events::rocks_log> log;
};

open_log open_fresh(const fs::path& dir, std::uint32_t partitions) {
    fs::remove_all(dir);
    open_log o;
    o.store = std::move(
        events::rocks_store::open({dir, {events::events_column_family, events::meta_column_family}})
            .value());
    o.log = std::move(events::rocks_log::open(*o.store, {.partitions = partitions}).value());
    return o;
}

// A create_space command whose stored event is event_bytes long.
engine::command make_command(const std::string& space, std::size_t description) {
    return engine::create_space{space_id{space}, "Bench space " + space,
                                std::string(description, 'd')};
}

std::size_t description_for_target() {
    events::envelope e;
    e.event_id = random_id();
    e.space = space_id{"bench-0-000000"};
    e.actor = user_id{"bench"};
    e.causation_id = random_id();
    e.correlation_id = e.causation_id;
    e.data = events::space_created{"Bench space bench-0-000000", ""};
    events::seal(e, {});
    const std::size_t base = events::encode_binary(e).size();
    return base < event_bytes ? event_bytes - base : 0;
}

// Raw RocksDB: the same encoded records, WriteBatch of baseline_batch, sync.
double raw_rocksdb_rate(const fs::path& dir, const std::vector<std::string>& records) {
    fs::remove_all(dir);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.IncreaseParallelism(2);
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, dir.string(), &raw).ok()) std::abort();
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < records.size(); i += baseline_batch) {
        rocksdb::WriteBatch batch;
        for (std::size_t j = i; j < std::min(records.size(), i + baseline_batch); ++j) {
            const auto k = events::rocks_log::key(0, j + 1);
            batch.Put(rocksdb::Slice(k.data(), k.size()), records[j]);
        }
        if (!db->Write(wo, &batch).ok()) std::abort();
    }
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    db->Close();
    return static_cast<double>(records.size()) / secs;
}

void throughput(const fs::path& dir) {
    const std::size_t description = description_for_target();
    auto o = open_fresh(dir / "engine", 8);
    engine::partition_processor proc(*o.log, {});
    if (!proc.start()) std::abort();

    std::atomic<std::size_t> issued{0};
    std::atomic<std::size_t> done{0};
    std::promise<void> finished;
    std::function<void()> next = [&] {
        const auto n = issued.fetch_add(1);
        if (n >= throughput_commands) return;
        engine::submission sub{
            make_command("bench-" + std::to_string(n % 8) + "-" + std::to_string(n), description),
            user_id{"bench"}, timestamp{static_cast<std::int64_t>(n)}, ""};
        auto q = proc.submit(std::move(sub), [&](auto r) {
            if (!r) std::abort();
            if (done.fetch_add(1) + 1 == throughput_commands) finished.set_value();
            next();
        });
        if (!q) std::abort();
    };
    const auto start = clock_type::now();
    for (int i = 0; i < throughput_submitters; ++i) next();
    finished.get_future().wait();
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    proc.stop();
    const double ours = static_cast<double>(throughput_commands) / secs;

    // The same records, as stored.
    std::vector<std::string> records;
    records.reserve(throughput_commands);
    for (partition_id p = 0; p < o.log->partitions(); ++p) {
        auto stored = o.log->read(p, 1, throughput_commands);
        for (const auto& e : stored.value()) records.push_back(events::encode_binary(e));
    }
    o = {};
    const double raw = raw_rocksdb_rate(dir / "raw", records);
    print({"log.throughput.64", ours, "events/s", raw, ours / raw, ">= 0.6"});
}

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

void latency(const fs::path& dir) {
    const std::size_t description = description_for_target();
    auto o = open_fresh(dir / "engine", 8);
    engine::partition_processor proc(*o.log, {});
    if (!proc.start()) std::abort();
    std::vector<double> ours;
    ours.reserve(latency_commands);
    for (std::size_t n = 0; n < latency_commands; ++n) {
        std::promise<void> p;
        auto f = p.get_future();
        const auto start = clock_type::now();
        auto q = proc.submit({make_command("lat-" + std::to_string(n), description),
                              user_id{"bench"}, timestamp{static_cast<std::int64_t>(n)}, ""},
                             [&](auto r) {
                                 if (!r) std::abort();
                                 p.set_value();
                             });
        if (!q) std::abort();
        f.wait();
        ours.push_back(
            std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    }
    proc.stop();
    std::string record;
    for (partition_id p = 0; p < o.log->partitions() && record.empty(); ++p) {
        auto first = o.log->read(p, 1, 1);
        if (!first.value().empty()) record = events::encode_binary(first.value().front());
    }
    o = {};

    // The fsync floor: one synced single-key Put per record.
    fs::remove_all(dir / "floor");
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, (dir / "floor").string(), &raw).ok()) std::abort();
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    std::vector<double> floor;
    for (std::size_t n = 0; n < latency_commands; ++n) {
        const auto k = events::rocks_log::key(0, n + 1);
        const auto start = clock_type::now();
        if (!db->Put(wo, rocksdb::Slice(k.data(), k.size()), record).ok()) std::abort();
        floor.push_back(
            std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    }
    db->Close();
    const double p50 = percentile(ours, 0.5), f50 = percentile(floor, 0.5);
    const double p99 = percentile(ours, 0.99), f99 = percentile(floor, 0.99);
    print({"log.latency.p50", p50, "us", f50, p50 / f50, "<= 1.5"});
    print({"log.latency.p99", p99, "us", f99, p99 / f99, "report"});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR [ROW...]\n", argv[0]);
        return 2;
    }
    const fs::path dir = argv[1];
    std::set<std::string> rows(argv + 2, argv + argc);
    auto wanted = [&](const std::string& name) {
        if (rows.empty()) return true;
        for (const auto& r : rows)
            if (name.rfind(r, 0) == 0 || r.rfind(name, 0) == 0) return true;
        return false;
    };
    fs::create_directories(dir);
    if (wanted("log.throughput")) throughput(dir);
    if (wanted("log.latency")) latency(dir);
    if (wanted("domain.status_changes")) migops::bench::domain_status_changes();
    if (wanted("scheduler.")) migops::bench::scheduler_rows(dir);
    if (wanted("export.rate")) migops::bench::export_rate(dir);
    if (wanted("replay.") || wanted("as_of.read")) migops::bench::replay_rows(dir);
    fs::remove_all(dir);
    return 0;
}
