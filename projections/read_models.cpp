#include "projections/read_models.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include <spdlog/spdlog.h>

#include "events/rocks_log.h"
#include "events/thread_name.h"
#include "projections/audit_index.h"
#include "projections/board.h"
#include "projections/catalogue.h"
#include "projections/shared_reads.h"

namespace migops::projections {

namespace {

// In the log's meta column family: the live generation, in decimal.
constexpr std::string_view generation_key = "projections.generation";
constexpr std::string_view family_prefix = "projection.";
// How long a switch waits for the old generation to have what the new one
// has, so that live listeners miss nothing in between.
constexpr auto switch_wait = std::chrono::seconds(10);
constexpr auto catch_up_poll = std::chrono::milliseconds(200);

result<std::uint64_t> load_generation(events::rocks_store& store) {
    auto* meta = store.column_family(events::meta_column_family);
    if (!meta) return failure(errc::invalid_argument, "the store has no meta column family");
    std::string value;
    auto s = store.db().Get({}, meta, rocksdb::Slice(generation_key.data(), generation_key.size()),
                            &value);
    if (s.IsNotFound()) return std::uint64_t{0};
    if (!s.ok()) return failure(events::from_status(s, "cannot read the read models' generation"));
    std::uint64_t n = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (value.empty() || ec != std::errc{} || ptr != end)
        return failure(errc::corruption,
                       "the read models' generation is not a number: " + value.substr(0, 32));
    return n;
}

result<void> store_generation(events::rocks_store& store, std::uint64_t n) {
    rocksdb::WriteOptions synced;
    synced.sync = true;
    const std::string value = std::to_string(n);
    auto s = store.db().Put(synced, store.column_family(events::meta_column_family),
                            rocksdb::Slice(generation_key.data(), generation_key.size()), value);
    if (!s.ok())
        return failure(events::from_status(s, "cannot record the read models' generation"));
    return success();
}

}  // namespace

std::vector<std::string> column_families_of(std::uint64_t generation) {
    std::vector<std::string> out;
    for (const auto& p : all_projections()) out.push_back(column_family_of(*p, generation));
    return out;
}

generation::~generation() {
    for (auto& r : runners) r->stop();
}

namespace {

// Runs wait(r, time left) for each runner in turn, all within timeout.
bool wait_each(const std::vector<std::unique_ptr<runner>>& runners,
               std::chrono::milliseconds timeout,
               const std::function<bool(runner&, std::chrono::milliseconds)>& wait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& r : runners) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (!wait(*r, std::max(left, std::chrono::milliseconds(0)))) return false;
    }
    return true;
}

}  // namespace

bool generation::wait_caught_up(std::chrono::milliseconds timeout) const {
    return wait_each(runners, timeout, [](runner& r, auto left) { return r.wait_caught_up(left); });
}

bool generation::wait_applied(const checkpoint& to, std::chrono::milliseconds timeout) const {
    return wait_each(runners, timeout,
                     [&to](runner& r, auto left) { return r.wait_applied(to, left); });
}

std::vector<generation::model_lag> generation::lag(const events::event_log& log) const {
    std::vector<model_lag> out;
    for (std::size_t i = 0; i < models.size(); ++i)
        out.push_back({models[i]->name(), events_past(runners[i]->position_now(), log)});
    return out;
}

std::string_view to_string(rebuild_status::state s) {
    switch (s) {
        case rebuild_status::state::none:
            return "none";
        case rebuild_status::state::running:
            return "running";
        case rebuild_status::state::switched:
            return "switched";
        case rebuild_status::state::failed:
            return "failed";
    }
    return "none";
}

read_models::read_models(events::rocks_store& store, events::event_log& log, runner_options o,
                         std::uint64_t live)
    : store_(store), log_(log), options_(std::move(o)) {
    status_.live_generation = live;
    status_.generation = live;
}

result<std::unique_ptr<read_models>> read_models::open(events::rocks_store& store,
                                                       events::event_log& log, runner_options o) {
    auto live = load_generation(store);
    if (!live) return failure(live.error());
    const auto wanted = column_families_of(live.value());
    for (const auto& name : store.column_family_names()) {
        if (!name.starts_with(family_prefix)) continue;
        if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) continue;
        spdlog::info("dropping column family {}: not of the live read models (generation {})", name,
                     live.value());
        if (auto d = store.drop_column_family(name); !d) return failure(d.error());
    }
    // Rows of another format than this build's are replayed from the log.
    for (const auto& m : all_projections()) {
        const auto name = column_family_of(*m, live.value());
        auto* cf = store.column_family(name);
        if (!cf) continue;
        auto held = stored_format(store.db(), cf);
        if (!held) return failure(held.error());
        if (!held.value() || *held.value() == m->format()) continue;
        spdlog::info(
            "dropping column family {}: its rows are of format {}, read model {} is now "
            "of format {}; it replays the log",
            name, *held.value(), m->name(), m->format());
        if (auto d = store.drop_column_family(name); !d) return failure(d.error());
    }
    std::unique_ptr<read_models> out(new read_models(store, log, std::move(o), live.value()));
    auto g = out->make_generation(live.value());
    if (!g) return failure(g.error());
    out->live_ = std::move(g).value();
    return out;
}

read_models::~read_models() {
    stop();
}

result<std::shared_ptr<generation>> read_models::make_generation(std::uint64_t number) {
    auto g = std::make_shared<generation>();
    g->number = number;
    g->models = all_projections();
    for (auto& m : g->models) {
        const auto family = column_family_of(*m, number);
        auto cf = store_.create_column_family(family);
        if (!cf) return failure(cf.error());
        auto o = options_;
        o.column_family = family;
        g->runners.push_back(std::make_unique<runner>(store_, log_, *m, o));
        if (auto* b = dynamic_cast<board*>(m.get())) {
            g->board_model = b;
            g->board_runner = g->runners.back().get();
            g->board_rows = cf.value();
        }
        if (dynamic_cast<audit_index*>(m.get()) != nullptr) {
            g->audit_runner = g->runners.back().get();
            g->audit_rows = cf.value();
        }
    }
    if (!g->board_model || !g->audit_runner)
        return failure(errc::invalid_argument, "the read models lack the board or the audit index");
    // Live listeners hear this generation once it serves (or is about to).
    g->board_model->listen([this, raw = g.get()](std::span<const events::envelope> b) {
        if (raw->serving.load()) forward(b, *raw->board_model);
    });
    return g;
}

result<void> read_models::start(const progress_fn& progress) {
    auto g = std::const_pointer_cast<generation>(current());
    g->serving.store(true);
    for (auto& r : g->runners)
        if (auto s = r->start(progress); !s) return s;
    return success();
}

void read_models::stop() {
    stopping_.store(true);
    {
        std::lock_guard lock(thread_mutex_);
        if (rebuild_thread_.joinable()) rebuild_thread_.join();
    }
    std::shared_ptr<generation> g;
    {
        std::lock_guard lock(mutex_);
        g = live_;
    }
    if (g)
        for (auto& r : g->runners) r->stop();
}

std::shared_ptr<const generation> read_models::current() const {
    std::lock_guard lock(mutex_);
    return live_;
}

void read_models::when_applied(partition_id p, position pos,
                               std::function<void(const std::shared_ptr<const generation>&)> f) {
    std::shared_ptr<const generation> live;
    std::shared_ptr<const generation> next;
    {
        std::lock_guard lock(mutex_);
        live = live_;
        next = next_;
    }
    auto then = std::make_shared<decltype(f)>(std::move(f));
    auto answer = [this, live, next, p, pos, then] {
        bool same = false;
        {
            std::lock_guard lock(mutex_);
            same = live_ == live && next_ == next;
        }
        // A switch began or ended meanwhile (or stopped a generation before
        // it had the events): wait for the generations that serve now.
        if (!same) return when_applied(p, pos, std::move(*then));
        (*then)(live);
    };
    auto after = [p, pos](const std::shared_ptr<const generation>& g, std::function<void()> done) {
        g->board_runner->when_applied(p, pos, [g, p, pos, done = std::move(done)]() mutable {
            g->audit_runner->when_applied(p, pos, std::move(done));
        });
    };
    if (!next) return after(live, std::move(answer));
    after(live,
          [after, next, answer = std::move(answer)]() mutable { after(next, std::move(answer)); });
}

std::uint64_t read_models::listen(listener l) {
    return listeners_.add(std::move(l));
}

void read_models::unlisten(std::uint64_t token) {
    listeners_.remove(token);
}

void read_models::forward(std::span<const events::envelope> batch, const board& from) {
    listeners_.call(batch, from);
}

result<void> read_models::start_rebuild() {
    std::lock_guard lock(thread_mutex_);
    if (auto c = claim(); !c) return c;
    if (rebuild_thread_.joinable()) rebuild_thread_.join();  // the last one, done
    // Marked running before the thread starts, so status() says so at once.
    set_status(
        [](rebuild_status& s) {
            s.now = rebuild_status::state::running;
            s.doing = "starting";
            s.started = std::chrono::system_clock::now();
        },
        {});
    rebuild_thread_ = named_thread("rebuild", [this] {
        if (auto r = run_rebuild({}); !r)
            spdlog::error("rebuilding the read models: {}", r.error().message);
    });
    return success();
}

rebuild_status read_models::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

void read_models::set_status(const std::function<void(rebuild_status&)>& change,
                             const std::function<void(const rebuild_status&)>& progress) {
    rebuild_status now;
    {
        std::lock_guard lock(mutex_);
        change(status_);
        now = status_;
    }
    if (progress) progress(now);
}

// Stops a generation that is no longer served and drops its column
// families; readers holding it keep reading what it held.
void read_models::retire(const std::shared_ptr<generation>& g) {
    for (auto& r : g->runners) r->stop();
    for (auto& m : g->models)
        if (auto d = store_.drop_column_family(column_family_of(*m, g->number)); !d)
            spdlog::warn("cannot drop the column family of {} generation {}: {}", m->name(),
                         g->number, d.error().message);
}

result<void> read_models::claim() {
    if (stopping_.load()) return failure(errc::shutting_down, "the read models are stopping");
    if (rebuilding_.exchange(true))
        return failure(errc::rule_refused, "a rebuild of the read models is already running");
    return success();
}

result<void> read_models::rebuild(const std::function<void(const rebuild_status&)>& progress) {
    if (auto c = claim(); !c) return c;
    return run_rebuild(progress);
}

result<void> read_models::run_rebuild(const std::function<void(const rebuild_status&)>& progress) {
    struct release {
        std::atomic<bool>& flag;
        ~release() { flag.store(false); }
    } released{rebuilding_};

    auto old = std::const_pointer_cast<generation>(current());
    const std::uint64_t number = old->number + 1;
    set_status(
        [&](rebuild_status& s) {
            s = rebuild_status{};
            s.now = rebuild_status::state::running;
            s.live_generation = old->number;
            s.generation = number;
            s.doing = "creating the column families";
            s.started = std::chrono::system_clock::now();
        },
        progress);
    const auto fail = [&](const error& e, const std::shared_ptr<generation>& made) {
        {
            std::lock_guard lock(mutex_);
            next_.reset();
        }
        if (made) retire(made);
        set_status(
            [&](rebuild_status& s) {
                s.now = rebuild_status::state::failed;
                s.error = e.message;
                s.finished = std::chrono::system_clock::now();
            },
            progress);
        return failure(e);
    };
    // What a crash left of this generation before is dropped first.
    for (const auto& family : column_families_of(number))
        if (auto d = store_.drop_column_family(family); !d) return fail(d.error(), nullptr);
    auto made = make_generation(number);
    if (!made) return fail(made.error(), nullptr);
    auto g = std::move(made).value();

    // Every model replays on a thread of its own, all reading each chunk of
    // the log once; the progress told is the slowest one's.
    std::string names;
    for (const auto& m : g->models) names += (names.empty() ? "" : ", ") + m->name();
    set_status(
        [&](rebuild_status& s) {
            s.doing = "replaying " + names;
            s.replaying = true;
            s.events_done = 0;
            s.events_total = events_past(checkpoint(log_.partitions()), log_);
            s.events_per_second = 0;
            s.replay_started = std::chrono::system_clock::now();
        },
        progress);
    const std::size_t n = g->runners.size();
    std::mutex progress_mutex;  // done, totals, and the calls of progress
    std::vector<std::uint64_t> done(n, 0);
    std::vector<std::uint64_t> totals(n, 0);
    std::vector<std::optional<error>> failed(n);
    std::atomic<bool> abandon{false};  // one failed: the others stop too
    shared_reads reads(log_, n);
    {
        std::vector<std::thread> replays;
        replays.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            replays.push_back(named_thread("re-" + g->models[i]->name(), [&, i] {
                auto started = g->runners[i]->start(
                    [&](std::uint64_t applied, std::uint64_t total) {
                        std::lock_guard lock(progress_mutex);
                        done[i] = applied;
                        totals[i] = total;
                        set_status(
                            [&](rebuild_status& s) {
                                s.events_done = *std::min_element(done.begin(), done.end());
                                s.events_total =
                                    std::max(s.events_total,
                                             *std::max_element(totals.begin(), totals.end()));
                                const double secs =
                                    std::chrono::duration<double>(std::chrono::system_clock::now() -
                                                                  s.replay_started)
                                        .count();
                                if (secs > 0)
                                    s.events_per_second = static_cast<double>(s.events_done) / secs;
                            },
                            progress);
                        return !stopping_.load() && !abandon.load();
                    },
                    reads.reader(i));
                reads.done(i);
                if (!started) {
                    failed[i] = started.error();
                    abandon.store(true);
                }
            }));
        for (auto& t : replays) t.join();
    }
    // Every model has replayed what the log held when its replay ended.
    {
        std::uint64_t everywhere = std::numeric_limits<std::uint64_t>::max();
        for (const auto& r : g->runners) {
            std::uint64_t applied = 0;
            const auto now = r->position_now();
            for (partition_id p = 0; p < log_.partitions(); ++p) applied += now.at(p);
            everywhere = std::min(everywhere, applied);
        }
        if (std::none_of(failed.begin(), failed.end(), [](const auto& f) { return f.has_value(); }))
            set_status(
                [&](rebuild_status& s) {
                    s.events_done = everywhere;
                    s.events_total = everywhere;
                },
                progress);
    }
    // The first failure that was not only the others stopping for it.
    for (const auto& f : failed)
        if (f && f->code != errc::shutting_down) return fail(*f, g);
    for (const auto& f : failed)
        if (f) return fail(*f, g);
    // The new generation follows the log; it switches once it has what the
    // log has (and the old one has what the new one showed, so a listener
    // misses nothing between them).
    set_status(
        [&](rebuild_status& s) {
            s.doing = "following the log";
            s.replaying = false;
        },
        progress);
    // Waits for reached() while g follows the log; g failing or a stop ends it.
    const auto follow_until = [&](const std::function<bool()>& reached) -> result<void> {
        while (!reached()) {
            for (const auto& r : g->runners)
                if (auto f = r->failed()) return failure(*f);
            if (stopping_.load())
                return failure(errc::shutting_down, "the read models are stopping");
        }
        return success();
    };
    if (auto r = follow_until([&] { return g->wait_caught_up(catch_up_poll); }); !r)
        return fail(r.error(), g);
    g->serving.store(true);
    if (old->serving.load()) old->wait_caught_up(switch_wait);
    set_status([&](rebuild_status& s) { s.doing = "switching"; }, progress);
    // Readers move to g only once g has everything a writer was told is
    // applied: from here writers wait for both generations, and what the
    // old one answered alone is at most what the log holds now.
    {
        std::lock_guard lock(mutex_);
        next_ = g;
    }
    checkpoint answered(log_.partitions());
    for (partition_id p = 0; p < log_.partitions(); ++p) answered.advance(p, log_.head(p).pos);
    if (auto r = follow_until([&] { return g->wait_applied(answered, catch_up_poll); }); !r)
        return fail(r.error(), g);
    rocksdb::FlushOptions wait;
    wait.wait = true;
    for (auto& m : g->models) {
        auto s = store_.db().Flush(wait, store_.column_family(column_family_of(*m, number)));
        if (!s.ok()) return fail(events::from_status(s, "cannot flush " + m->name()), g);
    }
    if (auto r = store_generation(store_, number); !r) return fail(r.error(), g);
    {
        std::lock_guard lock(mutex_);
        live_ = g;
        next_.reset();
    }
    retire(old);
    set_status(
        [&](rebuild_status& s) {
            s.now = rebuild_status::state::switched;
            s.live_generation = number;
            s.doing = "serving generation " + std::to_string(number);
            s.finished = std::chrono::system_clock::now();
        },
        progress);
    spdlog::info("read models rebuilt: generation {} is live", number);
    return success();
}

}  // namespace migops::projections
