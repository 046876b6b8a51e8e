#include "events/export.h"

#include "events/codec.h"

namespace migops::events {

namespace {

constexpr std::size_t read_chunk = 4096;
// Lines are written in blocks of about this size: one write per block, not
// per line.
constexpr std::size_t write_block = std::size_t{1} << 20;

bool passes(const envelope& e, const export_filter& f) {
    if (f.space && e.space != *f.space && !std::holds_alternative<chain_checkpoint>(e.data))
        return false;
    if (f.since && e.time < *f.since) return false;
    if (f.until && !(e.time < *f.until)) return false;
    return true;
}

}  // namespace

result<export_report> export_events(const event_log& log, const export_filter& filter,
                                    std::ostream& out, const export_progress& progress) {
    std::vector<partition_id> partitions;
    if (filter.space) {
        partitions.push_back(partition_of(*filter.space, log.partitions()));
    } else {
        for (partition_id p = 0; p < log.partitions(); ++p) partitions.push_back(p);
    }
    std::vector<chain_head> heads;
    std::uint64_t total = 0;
    for (const auto p : partitions) {
        heads.push_back(log.head(p));
        total += heads.back().pos;
    }

    export_report report;
    bool space_seen = false;  // an event of the filter's space, at any time
    std::string block;
    block.reserve(write_block + write_block / 4);
    const auto write_out = [&] {
        out.write(block.data(), static_cast<std::streamsize>(block.size()));
        block.clear();
        return static_cast<bool>(out);
    };
    for (std::size_t i = 0; i < partitions.size(); ++i) {
        const partition_id p = partitions[i];
        bool wrote = false;
        position next = 1;
        while (next <= heads[i].pos) {
            const auto want =
                static_cast<std::size_t>(std::min<position>(read_chunk, heads[i].pos - next + 1));
            auto batch = log.read(p, next, want);
            if (!batch) return failure(batch.error());
            if (batch.value().empty())
                return failure(errc::corruption, "partition " + std::to_string(p) +
                                                     " ends before position " +
                                                     std::to_string(next));
            for (const auto& e : batch.value()) {
                ++report.scanned;
                space_seen = space_seen || (filter.space && e.space == *filter.space);
                if (!passes(e, filter)) continue;
                const auto before = block.size();
                append_cloudevent_json(block, e);
                block.push_back('\n');
                report.bytes += block.size() - before;
                ++report.events;
                wrote = true;
            }
            if (block.size() >= write_block && !write_out())
                return failure(errc::io_error, "cannot write the export");
            if (batch.value().back().pos < next)
                return failure(errc::corruption, "partition " + std::to_string(p) +
                                                     ": the event stored at position " +
                                                     std::to_string(next) + " names position " +
                                                     std::to_string(batch.value().back().pos));
            next = batch.value().back().pos + 1;
            if (progress) progress(report.scanned, total);
        }
        if (wrote) ++report.partitions;
    }
    if (filter.space && !space_seen)
        return failure(errc::not_found, "there is no space " + filter.space->value + " in the log");
    if (!write_out() || !out.flush()) return failure(errc::io_error, "cannot write the export");
    if (progress) progress(report.scanned, total);
    return report;
}

}  // namespace migops::events
