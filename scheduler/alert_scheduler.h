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
    struct plan {
        node_id task;
        std::optional<timestamp> next;
        bool review_now = false;
    };
    void note(std::span<const events::envelope> batch);
    result<void> replan(partition_id p, std::set<node_id> tasks, std::set<journey_id> journeys,
                        bool everything, timestamp now);
    void place(const plan& p);
    void run();

    engine::partition_processor& processor_;
    events::event_log& log_;
    const clock& clock_;
    scheduler_options options_;
    std::uint64_t token_ = 0;
    std::atomic<std::size_t> in_flight_{0};

    mutable std::mutex mutex_;
    std::multimap<timestamp, node_id> due_;
    std::unordered_map<node_id, std::multimap<timestamp, node_id>::iterator> at_;
    std::set<node_id> review_now_;
    std::map<partition_id, std::set<node_id>> dirty_tasks_;
    std::map<partition_id, std::set<journey_id>> dirty_journeys_;

    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace migops::scheduler
