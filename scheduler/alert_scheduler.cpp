#include "scheduler/alert_scheduler.h"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "engine/alerts.h"

namespace migops::scheduler {

namespace ev = events;

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

void alert_scheduler::place(const plan& p) {
    auto it = at_.find(p.task);
    if (it != at_.end()) {
        due_.erase(it->second);
        at_.erase(it);
    }
    if (p.review_now) review_now_.insert(p.task);
    if (p.next) at_.emplace(p.task, due_.emplace(*p.next, p.task));
}

// Plans tasks against the partition's state, on its thread.
result<void> alert_scheduler::replan(partition_id p, std::set<node_id> tasks,
                                     std::set<journey_id> journeys, bool everything,
                                     timestamp now) {
    std::promise<std::vector<plan>> planned;
    auto done = planned.get_future();
    auto queued = processor_.inspect(p, [&](const engine::partition_state& s) {
        std::vector<plan> out;
        auto plan_task = [&](const engine::journey_state& j, const engine::node_state& n) {
            if (!n.is_task()) return;
            plan pl{n.id, engine::next_review(j, n, now), false};
            // Review at once when what the task should carry differs from
            // what it carries (an event changed it).
            auto wanted = engine::wanted_alerts(j, n, now);
            bool same = wanted.size() == n.alerts.size();
            for (const auto& w : wanted) {
                auto a = n.alerts.find(w.kind);
                same = same && a != n.alerts.end() && a->second.level >= w.level;
            }
            pl.review_now = !same;
            out.push_back(std::move(pl));
        };
        auto space_alive = [&](const journey_id& jid) {
            const auto* sp = s.space(engine::space_of_id(jid.value));
            return sp && !sp->deleted;
        };
        if (everything) {
            for (const auto& [jid, j] : s.journeys)
                if (space_alive(jid))
                    for (const auto& [nid, n] : j.nodes) plan_task(j, n);
        } else {
            for (const auto& jid : journeys)
                if (const auto* j = s.journey(jid); j && space_alive(jid))
                    for (const auto& [nid, n] : j->nodes) plan_task(*j, n);
            // By journey: one pass over a journey's nodes finds the
            // dependents of all its changed tasks (a pass per task would
            // make a tick cost tasks due × journey size).
            std::map<journey_id, std::vector<node_id>> by_journey;
            for (const auto& id : tasks) by_journey[engine::journey_of_id(id.value)].push_back(id);
            for (const auto& [jid, ids] : by_journey) {
                const auto* j = s.journey(jid);
                const bool alive = j && space_alive(jid);
                for (const auto& id : ids) {
                    const auto* n = alive ? s.node(id) : nullptr;
                    if (!n) {
                        out.push_back(plan{id, std::nullopt, false});  // gone: unplan
                        continue;
                    }
                    plan_task(*j, *n);
                }
                if (!alive) continue;
                for (const auto& [nid, n] : j->nodes) {
                    if (n.dependencies.empty() || tasks.contains(nid)) continue;
                    if (std::any_of(n.dependencies.begin(), n.dependencies.end(),
                                    [&](const node_id& d) { return tasks.contains(d); }))
                        plan_task(*j, n);
                }
            }
        }
        planned.set_value(std::move(out));
    });
    if (!queued) return failure(queued.error());
    auto plans = done.get();
    std::lock_guard lock(mutex_);
    for (const auto& pl : plans) place(pl);
    return success();
}

result<void> alert_scheduler::start() {
    token_ =
        log_.subscribe([this](partition_id, std::span<const ev::envelope> batch) { note(batch); });
    const auto now = clock_.now();
    for (partition_id p = 0; p < processor_.partitions(); ++p)
        if (auto r = replan(p, {}, {}, true, now); !r) return r;
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
    }
    if (options_.tick.count() > 0) thread_ = std::thread([this] { run(); });
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
}

std::size_t alert_scheduler::tick() {
    const auto now = clock_.now();
    std::map<partition_id, std::set<node_id>> tasks;
    std::map<partition_id, std::set<journey_id>> journeys;
    {
        std::lock_guard lock(mutex_);
        tasks.swap(dirty_tasks_);
        journeys.swap(dirty_journeys_);
    }
    std::set<partition_id> touched;
    for (const auto& [p, t] : tasks) touched.insert(p);
    for (const auto& [p, j] : journeys) touched.insert(p);
    for (auto p : touched) {
        auto r = replan(p, std::move(tasks[p]), std::move(journeys[p]), false, now);
        if (!r) spdlog::warn("alert scheduler: partition {}: {}", p, r.error().message);
    }
    std::set<node_id> reviews;
    {
        std::lock_guard lock(mutex_);
        reviews.swap(review_now_);
        while (!due_.empty() && due_.begin()->first <= now) {
            reviews.insert(due_.begin()->second);
            at_.erase(due_.begin()->second);
            due_.erase(due_.begin());
        }
    }
    for (const auto& task : reviews) {
        // Re-planned after the review (its events mark it again; a review
        // that changes nothing is planned from the state as it is).
        const auto p = processor_.partition_for(engine::space_of_id(task.value));
        ++in_flight_;
        auto queued = processor_.submit(
            engine::submission{engine::review_alerts{task}, engine::system_actor, now, ""},
            [this, p, task](auto outcome) {
                if (!outcome || outcome.value().empty()) {
                    std::lock_guard lock(mutex_);
                    dirty_tasks_[p].insert(task);
                }  // otherwise its events were noted from the log
                --in_flight_;
            });
        if (!queued) {
            --in_flight_;
            std::lock_guard lock(mutex_);
            dirty_tasks_[p].insert(task);
        }
    }
    return reviews.size();
}

std::size_t alert_scheduler::planned() const {
    std::lock_guard lock(mutex_);
    return due_.size();
}

}  // namespace migops::scheduler
