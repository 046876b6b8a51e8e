#pragma once
// The alert scheduler: turns time and state into alert reviews.
//
// It keeps a due-time index (when each open task next needs a look, by the
// rules in engine/alerts.h) and submits engine::review_alerts for a task when
// its time comes or when an event changed what it should carry; the engine
// decides the review against state, so an alert is raised once per episode
// whatever the scheduler does twice. A tick does work in proportion to what
// is due and what changed, never to all open tasks.
//
// The index holds no string per task: a task is its journey's slot (a
// journey's id is held once) and its node number (ids are
// "<journey>.n<k>"); each journey keeps its tasks' next review times in a
// vector by node number, and the times are queued in a due_queue.
//
// Lifecycle: start() subscribes to the log (to learn which tasks changed),
// builds the index from every partition's state, and starts the ticking
// thread; stop() stops it. tick() may also be driven by hand (tests, with a
// manual clock). Time comes only from the injected clock.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/partition_processor.h"
#include "events/event_log.h"
#include "scheduler/clock.h"
#include "scheduler/due_queue.h"

namespace migops::scheduler {

struct scheduler_options {
    std::chrono::milliseconds tick{1000};  // 0: no thread; tick() is called by hand
};

class alert_scheduler {
  public:
    alert_scheduler(engine::partition_processor& processor, events::event_log& log,
                    const clock& time, scheduler_options options = {});
    ~alert_scheduler();
    alert_scheduler(const alert_scheduler&) = delete;
    alert_scheduler& operator=(const alert_scheduler&) = delete;

    result<void> start();
    void stop();

    // Re-plans the tasks events touched, then submits a review of every
    // task whose time has come. Returns the number of reviews submitted.
    std::size_t tick();

    // Tasks in the index.
    std::size_t planned() const;
    // Reviews submitted and not yet answered (durable or refused).
    std::size_t reviews_in_flight() const { return in_flight_.load(); }

  private:
    // One task's plan, made on its partition's thread.
    struct task_plan {
        std::uint32_t node = 0;  // the k of "<journey>.n<k>"
        std::optional<timestamp> next;
        bool review_now = false;
        bool has_dependencies = false;
    };
    // A journey's plans from one pass.
    struct journey_plans {
        journey_id journey;
        partition_id partition = 0;
        bool gone = false;   // the journey or its space no longer exists: unplan it all
        bool whole = false;  // every node was visited: with_dependencies is complete
        std::vector<task_plan> tasks;
        std::vector<std::uint32_t> with_dependencies;  // when whole
    };
    // A journey in the index.
    struct journey_slot {
        journey_id id;
        partition_id partition = 0;
        std::vector<std::int64_t> next;  // by node number; unplanned when not in the index
        // The tasks that wait on others (sorted node numbers), so that the
        // dependents of a changed task are found without a pass over the
        // journey; known once a pass visited every node.
        std::vector<std::uint32_t> with_dependencies;
        bool dependencies_known = false;
    };
    struct task_ref {
        std::uint32_t journey = 0;
        std::uint32_t node = 0;
        auto operator<=>(const task_ref&) const = default;
    };
    static constexpr std::int64_t unplanned = std::numeric_limits<std::int64_t>::min();

    void note(std::span<const events::envelope> batch);
    // Plans the changed tasks and journeys against the partition's state
    // (on its thread) and places the plans.
    result<void> replan(partition_id p, const std::set<node_id>& tasks,
                        const std::set<journey_id>& journeys, timestamp now);
    // The plans; `everything` plans every task of the partition.
    result<std::vector<journey_plans>> plan(partition_id p, const std::set<node_id>& tasks,
                                            const std::set<journey_id>& journeys, bool everything,
                                            timestamp now);
    void place(const std::vector<journey_plans>& plans);
    std::uint32_t slot_of(const journey_id& j, partition_id p);
    void set_next(std::uint32_t journey, std::uint32_t node, std::optional<timestamp> next);
    void compact_if_stale();
    node_id task_id(const task_ref& t) const;
    void run();

    engine::partition_processor& processor_;
    events::event_log& log_;
    const clock& clock_;
    scheduler_options options_;
    std::uint64_t token_ = 0;
    std::atomic<std::size_t> in_flight_{0};

    mutable std::mutex mutex_;
    std::condition_variable reviews_idle_;  // in_flight_ fell to 0 (under mutex_)
    std::vector<journey_slot> journeys_;
    std::unordered_map<journey_id, std::uint32_t> slot_by_journey_;
    due_queue due_;
    std::size_t planned_ = 0;  // tasks whose next time is set
    std::vector<task_ref> review_now_;
    std::vector<task_ref> retry_;  // reviews that failed or changed nothing: re-plan
    std::map<partition_id, std::set<node_id>> dirty_tasks_;
    std::map<partition_id, std::set<journey_id>> dirty_journeys_;

    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace migops::scheduler
