#include "scheduler/alert_scheduler.h"

#include <algorithm>
#include <charconv>
#include <future>

#include <spdlog/spdlog.h>

#include "engine/alerts.h"
#include "events/thread_name.h"

namespace migops::scheduler {

namespace ev = events;

namespace {

// Stale entries are dropped from the due queue once they outnumber the
// planned tasks by this many (a compaction visits every entry, so it waits
// until there are as many stale entries to drop).
constexpr std::size_t min_stale_to_compact = 65'536;

// The k of a node id "<journey>.n<k>".
std::optional<std::uint32_t> node_number(std::string_view id) {
    const auto at = id.rfind(".n");
    if (at == std::string_view::npos) return std::nullopt;
    std::uint32_t k = 0;
    const char* first = id.data() + at + 2;
    const char* last = id.data() + id.size();
    const auto [end, ec] = std::from_chars(first, last, k);
    if (ec != std::errc{} || end != last || first == last) return std::nullopt;
    return k;
}

}  // namespace

alert_scheduler::alert_scheduler(engine::partition_processor& processor, ev::event_log& log,
                                 const clock& time, scheduler_options options)
    : processor_(processor), log_(log), clock_(time), options_(options) {}

alert_scheduler::~alert_scheduler() {
    stop();
}

// On the log's appending thread: only remember what changed.
void alert_scheduler::note(std::span<const ev::envelope> batch) {
    std::lock_guard lock(mutex_);
    for (const auto& e : batch) {
        std::visit(
            [&](const auto& p) {
                using P = std::decay_t<decltype(p)>;
                if constexpr (requires { p.task; }) {
                    dirty_tasks_[e.partition].insert(p.task);
                } else if constexpr (requires { p.node; }) {
                    dirty_tasks_[e.partition].insert(p.node);
                } else if constexpr (std::is_same_v<P, ev::alert_rules_set> ||
                                     std::is_same_v<P, ev::help_requested> ||
                                     std::is_same_v<P, ev::help_accepted> ||
                                     std::is_same_v<P, ev::help_resolved> ||
                                     std::is_same_v<P, ev::help_cancelled> ||
                                     std::is_same_v<P, ev::journey_status_changed>) {
                    dirty_journeys_[e.partition].insert(p.journey);
                }
            },
            e.data);
    }
}

std::uint32_t alert_scheduler::slot_of(const journey_id& j, partition_id p) {
    auto [it, added] =
        slot_by_journey_.try_emplace(j, static_cast<std::uint32_t>(journeys_.size()));
    if (added) journeys_.push_back(journey_slot{j, p, {}, {}, false});
    return it->second;
}

// The index keeps one valid queue entry per planned task: a task planned
// anew gets a new entry and its old one turns stale (see due_queue.h).
void alert_scheduler::set_next(std::uint32_t journey, std::uint32_t node,
                               std::optional<timestamp> next) {
    auto& times = journeys_[journey].next;
    if (node >= times.size()) {
        if (!next) return;
        times.resize(std::size_t{node} + 1, unplanned);
    }
    const std::int64_t at = next ? next->micros : unplanned;
    if (times[node] == at) return;
    if (times[node] != unplanned) --planned_;
    times[node] = at;
    if (next) {
        ++planned_;
        due_.push(due_entry{at, journey, node});
    }
}

void alert_scheduler::compact_if_stale() {
    if (due_.size() < 2 * planned_ + min_stale_to_compact) return;
    due_.compact([this](const due_entry& e) {
        const auto& times = journeys_[e.journey].next;
        return e.node < times.size() && times[e.node] == e.at;
    });
}

node_id alert_scheduler::task_id(const task_ref& t) const {
    return node_id{journeys_[t.journey].id.value + ".n" + std::to_string(t.node)};
}

void alert_scheduler::place(const std::vector<journey_plans>& plans) {
    std::lock_guard lock(mutex_);
    for (const auto& jp : plans) {
        if (jp.gone && !slot_by_journey_.contains(jp.journey)) continue;
        const auto j = slot_of(jp.journey, jp.partition);
        if (jp.gone) {
            auto& slot = journeys_[j];
            for (std::uint32_t k = 0; k < slot.next.size(); ++k) set_next(j, k, std::nullopt);
            slot.next = {};
            slot.with_dependencies = {};
            slot.dependencies_known = false;
            continue;
        }
        for (const auto& t : jp.tasks) {
            set_next(j, t.node, t.next);
            if (t.review_now) review_now_.push_back(task_ref{j, t.node});
            auto& deps = journeys_[j].with_dependencies;
            const auto at = std::lower_bound(deps.begin(), deps.end(), t.node);
            const bool listed = at != deps.end() && *at == t.node;
            if (t.has_dependencies && !listed) deps.insert(at, t.node);
            if (!t.has_dependencies && listed) deps.erase(at);
        }
        if (jp.whole) {
            journeys_[j].with_dependencies = jp.with_dependencies;
            journeys_[j].dependencies_known = true;
        }
    }
    compact_if_stale();
}

// Plans tasks against partition p's state, on its thread.
result<std::vector<alert_scheduler::journey_plans>> alert_scheduler::plan(
    partition_id p, const std::set<node_id>& tasks, const std::set<journey_id>& journeys,
    bool everything, timestamp now) {
    // The changed tasks by journey (a journey's ids follow each other in a
    // set: they share the prefix "<journey>."), with the tasks known to wait
    // on others; a journey not known yet gets one pass over all its nodes.
    struct changed_journey {
        journey_id journey;
        std::vector<const node_id*> tasks;
        std::optional<std::vector<std::uint32_t>> dependents;
    };
    std::vector<changed_journey> changed;
    for (const auto& id : tasks) {
        const auto& v = id.value;
        if (changed.empty() || !v.starts_with(changed.back().journey.value) ||
            v.size() <= changed.back().journey.value.size() ||
            v[changed.back().journey.value.size()] != '.')
            changed.push_back(changed_journey{engine::journey_of_id(v), {}, std::nullopt});
        changed.back().tasks.push_back(&id);
    }
    {
        std::lock_guard lock(mutex_);
        for (auto& c : changed)
            if (auto it = slot_by_journey_.find(c.journey); it != slot_by_journey_.end())
                if (const auto& slot = journeys_[it->second]; slot.dependencies_known)
                    c.dependents = slot.with_dependencies;
    }

    std::promise<std::vector<journey_plans>> planned;
    auto done = planned.get_future();
    auto queued = processor_.inspect(p, [&](const engine::partition_state& s) {
        std::vector<journey_plans> out;
        auto plan_task = [&](const engine::journey_state& j, const engine::node_state& n,
                             journey_plans& into) {
            if (!n.is_task()) return;
            const auto k = node_number(n.id.value);
            if (!k) return;
            // Reviewed at once when what the task should carry differs from
            // what it carries (an event changed it).
            into.tasks.push_back(task_plan{*k, engine::next_review(j, n, now),
                                           !engine::carries_wanted_alerts(j, n, now),
                                           !n.dependencies.empty()});
        };
        auto space_alive = [&](const journey_id& jid) {
            const auto* sp = s.space(engine::space_of_id(jid.value));
            return sp && !sp->deleted;
        };
        // Every node of the journey, which also lists those with dependencies.
        auto whole = [&](const engine::journey_state& j) {
            journey_plans jp{j.id, p, false, true, {}, {}};
            for (const auto& [nid, n] : j.nodes) {
                const auto before = jp.tasks.size();
                plan_task(j, n, jp);
                if (jp.tasks.size() > before && jp.tasks.back().has_dependencies)
                    jp.with_dependencies.push_back(jp.tasks.back().node);
            }
            std::sort(jp.with_dependencies.begin(), jp.with_dependencies.end());
            out.push_back(std::move(jp));
        };
        if (everything) {
            for (const auto& [jid, j] : s.journeys)
                if (space_alive(jid)) whole(j);
            planned.set_value(std::move(out));
            return;
        }
        std::set<journey_id> done_whole;
        for (const auto& jid : journeys) {
            const auto* j = s.journey(jid);
            if (j && space_alive(jid)) {
                whole(*j);
                done_whole.insert(jid);
            } else {
                out.push_back(journey_plans{jid, p, true, false, {}, {}});
            }
        }
        // By journey: the dependents of all its changed tasks are found from
        // the journey's list of tasks that wait on others (a pass per task
        // would make a tick cost tasks due × journey size).
        for (const auto& c : changed) {
            const auto& jid = c.journey;
            if (done_whole.contains(jid)) continue;
            const auto* j = s.journey(jid);
            if (!j || !space_alive(jid)) {
                out.push_back(journey_plans{jid, p, true, false, {}, {}});
                continue;
            }
            if (!c.dependents) {
                whole(*j);
                continue;
            }
            journey_plans jp{jid, p, false, false, {}, {}};
            std::vector<std::uint32_t> seen;
            for (const auto* id : c.tasks) {
                const auto k = node_number(id->value);
                if (!k) continue;
                seen.push_back(*k);
                const auto at = j->nodes.find(*id);
                if (at == j->nodes.end())
                    jp.tasks.push_back(task_plan{*k, std::nullopt, false, false});  // gone
                else
                    plan_task(*j, at->second, jp);
            }
            std::sort(seen.begin(), seen.end());
            for (const auto k : *c.dependents) {
                if (std::binary_search(seen.begin(), seen.end(), k)) continue;
                auto n = j->nodes.find(node_id{jid.value + ".n" + std::to_string(k)});
                if (n == j->nodes.end()) continue;
                const auto& deps = n->second.dependencies;
                if (std::any_of(deps.begin(), deps.end(),
                                [&](const node_id& d) { return tasks.contains(d); }))
                    plan_task(*j, n->second, jp);
            }
            out.push_back(std::move(jp));
        }
        planned.set_value(std::move(out));
    });
    if (!queued) return failure(queued.error());
    return done.get();
}

result<void> alert_scheduler::replan(partition_id p, const std::set<node_id>& tasks,
                                     const std::set<journey_id>& journeys, timestamp now) {
    auto plans = plan(p, tasks, journeys, false, now);
    if (!plans) return failure(plans.error());
    place(plans.value());
    return success();
}

result<void> alert_scheduler::start() {
    token_ =
        log_.subscribe([this](partition_id, std::span<const ev::envelope> batch) { note(batch); });
    const auto now = clock_.now();
    // Every partition plans on its own thread at once; the plans are placed
    // here as they come.
    std::vector<std::future<result<std::vector<journey_plans>>>> planning;
    for (partition_id p = 0; p < processor_.partitions(); ++p)
        planning.push_back(
            std::async(std::launch::async, [this, p, now] { return plan(p, {}, {}, true, now); }));
    result<void> outcome = success();
    for (auto& f : planning) {
        auto plans = f.get();
        if (!plans) {
            if (outcome) outcome = failure(plans.error());
            continue;
        }
        place(plans.value());
    }
    if (!outcome) return outcome;
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
    }
    if (options_.tick.count() > 0) thread_ = named_thread("alerts", [this] { run(); });
    return success();
}

void alert_scheduler::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        tick();
        lock.lock();
        wake_.wait_for(lock, options_.tick, [&] { return stopping_; });
    }
}

void alert_scheduler::stop() {
    if (token_ != 0) {
        log_.unsubscribe(token_);
        token_ = 0;
    }
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    // The reviews' completions refer to this object: the processor (still
    // running) answers every one of them.
    std::unique_lock lock(mutex_);
    reviews_idle_.wait(lock, [&] { return in_flight_.load() == 0; });
}

std::size_t alert_scheduler::tick() {
    const auto now = clock_.now();
    std::map<partition_id, std::set<node_id>> tasks;
    std::map<partition_id, std::set<journey_id>> journeys;
    {
        std::lock_guard lock(mutex_);
        // A review that failed or changed nothing: planned from the state
        // as it is.
        for (const auto& r : retry_)
            dirty_tasks_[journeys_[r.journey].partition].insert(task_id(r));
        retry_.clear();
        tasks.swap(dirty_tasks_);
        journeys.swap(dirty_journeys_);
    }
    std::set<partition_id> touched;
    for (const auto& [p, t] : tasks) touched.insert(p);
    for (const auto& [p, j] : journeys) touched.insert(p);
    for (auto p : touched) {
        auto r = replan(p, tasks[p], journeys[p], now);
        if (!r) spdlog::warn("alert scheduler: partition {}: {}", p, r.error().message);
    }
    std::vector<task_ref> reviews;
    std::vector<std::pair<engine::submission, engine::completion>> submissions;
    {
        std::lock_guard lock(mutex_);
        reviews.swap(review_now_);
        while (auto e = due_.pop_due(now.micros)) {
            auto& times = journeys_[e->journey].next;
            if (e->node >= times.size() || times[e->node] != e->at) continue;  // stale
            times[e->node] = unplanned;
            --planned_;
            reviews.push_back(task_ref{e->journey, e->node});
        }
        std::sort(reviews.begin(), reviews.end());
        reviews.erase(std::unique(reviews.begin(), reviews.end()), reviews.end());
        submissions.reserve(reviews.size());
        // Re-planned after the review (its events mark it again; a review
        // that changes nothing is planned from the state as it is).
        for (const auto& r : reviews)
            submissions.emplace_back(engine::submission{engine::review_alerts{task_id(r)},
                                                        engine::system_actor, now, ""},
                                     [this, r](const auto& outcome) {
                                         // Under the lock: stop() waits for
                                         // the last of these before this
                                         // object goes.
                                         std::lock_guard relock(mutex_);
                                         if (!outcome || outcome.value().empty())
                                             retry_.push_back(r);
                                         // otherwise its events were noted from the log
                                         if (--in_flight_ == 0) reviews_idle_.notify_all();
                                     });
    }
    in_flight_ += reviews.size();
    const auto queued = processor_.submit_all(std::move(submissions));
    for (std::size_t i = 0; i < queued.size(); ++i) {
        if (queued[i]) continue;
        std::lock_guard lock(mutex_);
        retry_.push_back(reviews[i]);
        if (--in_flight_ == 0) reviews_idle_.notify_all();
    }
    return reviews.size();
}

std::size_t alert_scheduler::planned() const {
    std::lock_guard lock(mutex_);
    return planned_;
}

}  // namespace migops::scheduler
