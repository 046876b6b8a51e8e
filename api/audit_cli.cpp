#include "api/audit_cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/config.h"
#include "events/chain_verifier.h"
#include "events/export.h"
#include "events/rocks_log.h"

extern char** environ;

namespace migops::api {

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr double bytes_per_mb = 1e6;

// A bar redrawn on stderr when it is a terminal; nothing otherwise (the
// command prints its summary line either way).
class progress_bar {
  public:
    explicit progress_bar(std::string label)
        : label_(std::move(label)), shown_(::isatty(STDERR_FILENO) == 1) {}

    void update(std::uint64_t done, std::uint64_t total) {
        if (!shown_) return;
        constexpr std::uint64_t width = 30;
        const std::uint64_t filled = total == 0 ? width : std::min(width, done * width / total);
        if (filled == filled_ && done != total) return;  // redraw only when the bar moves
        filled_ = filled;
        std::cerr << "\r" << label_ << " [" << std::string(filled, '#')
                  << std::string(width - filled, '-') << "] " << done << "/" << total << std::flush;
        drawn_ = true;
    }
    // Clears the bar's line before the summary.
    void done() {
        if (drawn_) std::cerr << "\r\033[K" << std::flush;
        drawn_ = false;
    }

  private:
    std::string label_;
    bool shown_;
    bool drawn_ = false;
    std::uint64_t filled_ = ~std::uint64_t{0};
};

struct opened_log {
    std::unique_ptr<events::rocks_store> store;
    std::unique_ptr<events::rocks_log> log;
};

result<opened_log> open_for_reading(const std::string& dir) {
    opened_log o;
    auto store = events::rocks_store::open_reader(
        dir, {events::events_column_family, events::meta_column_family});
    if (!store) return failure(store.error());
    o.store = std::move(store).value();
    auto log = events::rocks_log::open_reader(*o.store);
    if (!log) return failure(log.error());
    o.log = std::move(log).value();
    return o;
}

double seconds_since(steady::time_point start) {
    return std::chrono::duration<double>(steady::now() - start).count();
}

std::string megabytes(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / bytes_per_mb);
    return text;
}

int export_to(const events::rocks_log& log, const events::export_filter& filter, std::ostream& out,
              const std::string& scope) {
    progress_bar bar("migops export");
    const auto started = steady::now();
    auto report = events::export_events(
        log, filter, out,
        [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); });
    bar.done();
    if (!report) {
        std::cerr << "migops export: " << report.error().message << "\n";
        return report.error().code == errc::not_found ? exit_usage : exit_failed;
    }
    const double secs = seconds_since(started);
    const auto& r = report.value();
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", secs);
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f",
                  secs > 0 ? static_cast<double>(r.bytes) / bytes_per_mb / secs : 0.0);
    std::cerr << "migops export: " << r.events << " events (" << megabytes(r.bytes) << ") of "
              << scope << " from " << r.partitions << " partition" << (r.partitions == 1 ? "" : "s")
              << ", " << r.scanned << " read, in " << seconds << " s (" << rate << " MB/s)\n";
    return exit_ok;
}

std::string hex_head(const events::partition_summary& s) {
    return to_hex(s.head);
}

void print_summary(const events::verify_summary& s, const verify_request& r,
                   const events::checkpoint_key* key) {
    std::cout << "ok: " << s.events << " events in " << s.partitions.size() << " partition"
              << (s.partitions.size() == 1 ? "" : "s") << ", " << s.checkpoints << " checkpoint"
              << (s.checkpoints == 1 ? "" : "s");
    if (key)
        std::cout << ", " << s.signatures << " signature" << (s.signatures == 1 ? "" : "s")
                  << " verified with key " << key->key_id();
    else if (s.checkpoints > 0)
        std::cout << " (signatures not checked: no --public-key)";
    std::cout << "\n";
    for (const auto& [p, ps] : s.partitions) {
        std::cout << "partition " << p << ": ";
        if (r.partial)
            std::cout << ps.events << " events between positions " << ps.first << " and " << ps.last
                      << ", " << ps.events - ps.unlinked << " linked to the event before them";
        else
            std::cout << "positions 1-" << ps.last;
        std::cout << ", head " << hex_head(ps) << " at " << ps.last;
        if (key) {
            if (ps.signed_through > 0)
                std::cout << ", positions " << ps.signed_from << "-" << ps.signed_through
                          << " signed";
            else
                std::cout << ", not signed";
        }
        std::cout << "\n";
    }
}

}  // namespace

int run_export(const export_request& r) {
    events::export_filter filter;
    if (r.space) {
        if (r.space->empty()) {
            std::cerr << "migops export: --space needs a space id\n";
            return exit_usage;
        }
        filter.space = space_id{*r.space};
    }
    for (const auto& [name, text, slot] : {std::tuple{"--since", &r.since, &filter.since},
                                           std::tuple{"--until", &r.until, &filter.until}}) {
        if (!*text) continue;
        auto t = parse_rfc3339(**text);
        if (!t) {
            std::cerr << "migops export: " << name << " must be an RFC 3339 date-time, not \""
                      << **text << "\"\n";
            return exit_usage;
        }
        *slot = *t;
    }
    if (filter.since && filter.until && *filter.until < *filter.since) {
        std::cerr << "migops export: --since must not be after --until\n";
        return exit_usage;
    }
    auto cfg = load_config(r.config_file, environ, r.flags);
    if (!cfg) {
        std::cerr << "migops export: " << cfg.error().message << "\n";
        return exit_usage;
    }
    auto opened = open_for_reading(cfg.value().data_dir);
    if (!opened) {
        std::cerr << "migops export: " << opened.error().message << "\n";
        return opened.error().code == errc::not_found ? exit_usage : exit_failed;
    }
    const std::string scope = r.space ? "space " + *r.space : "all spaces";
    if (r.out.empty()) {
        std::ios::sync_with_stdio(false);
        return export_to(*opened.value().log, filter, std::cout, scope);
    }
    // Written beside the target and renamed when complete, so that a failed
    // export never leaves a file that looks whole.
    const fs::path out(r.out);
    const fs::path partial = out.string() + ".partial";
    int status = exit_failed;
    {
        std::ofstream file(partial, std::ios::binary | std::ios::trunc);
        if (!file) {
            std::cerr << "migops export: cannot create " << partial.string() << "\n";
            return exit_failed;
        }
        status = export_to(*opened.value().log, filter, file, scope);
        file.close();
        if (status == exit_ok && !file) {
            std::cerr << "migops export: cannot write " << partial.string() << "\n";
            status = exit_failed;
        }
    }
    std::error_code ec;
    if (status == exit_ok) {
        fs::rename(partial, out, ec);
        if (ec) {
            std::cerr << "migops export: cannot rename " << partial.string() << " to "
                      << out.string() << ": " << ec.message() << "\n";
            status = exit_failed;
        }
    }
    if (status != exit_ok) fs::remove(partial, ec);
    return status;
}

int run_verify(const verify_request& r) {
    std::optional<events::checkpoint_key> key;
    if (!r.public_key_file.empty()) {
        auto k = events::checkpoint_key::load(r.public_key_file);
        if (!k) {
            std::cerr << "migops verify: --public-key: " << k.error().message << "\n";
            return exit_usage;
        }
        key.emplace(std::move(k).value());
    }
    const events::checkpoint_key* key_ptr = key ? &*key : nullptr;
    std::error_code ec;
    const auto status = fs::status(r.target, ec);
    progress_bar bar("migops verify");
    const auto on_progress = [&](std::uint64_t done, std::uint64_t total) {
        bar.update(done, total);
    };
    result<events::verify_summary> verified = failure(errc::invalid_argument, "");
    if (fs::is_directory(status)) {
        if (r.partial) {
            std::cerr << "migops verify: --partial is for export files; a data directory is "
                         "always verified whole\n";
            return exit_usage;
        }
        auto opened = open_for_reading(r.target);
        if (!opened) {
            std::cerr << "migops verify: " << opened.error().message << "\n";
            return opened.error().code == errc::not_found ? exit_usage : exit_failed;
        }
        verified = events::verify_log(*opened.value().log, key_ptr, on_progress);
    } else if (fs::is_regular_file(status)) {
        std::ifstream in(r.target, std::ios::binary);
        if (!in) {
            std::cerr << "migops verify: cannot read " << r.target << "\n";
            return exit_usage;
        }
        verified = events::verify_export(in, {.partial = r.partial, .key = key_ptr},
                                         fs::file_size(r.target, ec), on_progress);
    } else if (!fs::exists(status)) {
        std::cerr << "migops verify: " << r.target << " does not exist\n";
        return exit_usage;
    } else {
        std::cerr << "migops verify: " << r.target
                  << " is neither a data directory nor an export file\n";
        return exit_usage;
    }
    bar.done();
    if (!verified) {
        std::cerr << "migops verify: " << r.target << ": " << verified.error().message << "\n";
        return verified.error().code == errc::invalid_argument ? exit_usage : exit_failed;
    }
    print_summary(verified.value(), r, key_ptr);
    return exit_ok;
}

}  // namespace migops::api
