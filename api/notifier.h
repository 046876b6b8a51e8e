#pragma once
// The notifier: delivers alerts by email and webhook, and records each
// delivery as an event (engine::record_notification, by the system actor).
//
// It follows durable events (it subscribes to the log, as the alert
// scheduler does): an alert raised or escalated, a task assigned, a role
// granted or a team member added marks tasks to look at. Its thread then
// asks the partition's state which messages the task's active alerts call
// for (api/notification.h: per rung of the escalation ladder, one email per
// person and one POST per webhook, each with a stable message id) and are
// not recorded yet, sends them, and records each outcome. An alert counts
// only up to the level the log has made durable: effects follow durable
// events (DESIGN.md invariant 8), never state a failed write may take back.
//
// At least once: a message is recorded after it was sent, so a crash in
// between sends it again after the restart (the receiver deduplicates by
// its id); one recorded as sent, or as given up on, is never sent again.
// On start every task with an active alert is looked at, so what a stop or
// a crash left unsent goes out then. Alerts cleared before their message
// went out are not sent.
//
// Failed attempts are retried with exponential backoff (backoff, doubling,
// at most backoff_max) until `retries` retries are spent or the receiver
// refuses for good; then notification.failed is recorded with the reason.
// An email to a user without an address fails at once.
//
// Threads: the log's appending thread only marks (note()); one notifier
// thread plans, sends and records, so neither a partition's writer nor the
// scheduler's tick ever waits on SMTP or HTTP. Lifecycle: start() after the
// processor started and before anything else submits commands (it reads
// every partition's state); stop() before the processor stops: it cancels
// an attempt in progress and waits for the records it submitted.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/config.h"
#include "api/delivery.h"
#include "api/notification.h"
#include "engine/partition_processor.h"
#include "events/event_log.h"
#include "scheduler/clock.h"

namespace migops::api {

struct notifier_options {
    notify_content content;
    std::string webhook_secret;
    std::uint32_t retries = 10;
    std::chrono::milliseconds backoff{2000};
    std::chrono::milliseconds backoff_max{300'000};
};

// The notifier's options and transports from the configuration: nothing
// (nullopt) when neither SMTP nor a webhook is configured; refused with a
// message naming the setting when the settings do not fit together (or the
// recipients file cannot be read). default_public_url is used when
// public_url is not set.
struct notifier_setup {
    notifier_options options;
    std::unique_ptr<mail_transport> mail;         // null without SMTP
    std::unique_ptr<webhook_transport> webhooks;  // null without webhooks
};
result<std::optional<notifier_setup>> resolve_notifier(const config& c,
                                                       const std::string& default_public_url);

class notifier {
  public:
    notifier(engine::partition_processor& processor, events::event_log& log,
             const scheduler::clock& time, notifier_options options,
             std::unique_ptr<mail_transport> mail, std::unique_ptr<webhook_transport> webhooks);
    ~notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    result<void> start();
    void stop();

    struct counters {
        std::uint64_t sent = 0;      // delivered and recorded
        std::uint64_t failed = 0;    // given up on and recorded
        std::uint64_t attempts = 0;  // sends tried, failed ones included
        std::size_t pending = 0;     // messages queued, being sent or being recorded
    };
    counters stats() const;

  private:
    // One message on its way: sent (or given up on), then recorded.
    struct delivery {
        outgoing message;
        std::uint32_t attempts = 0;
        bool done = false;  // sent or given up on: only the record is left
        bool delivered = false;
        std::string reason;
        std::chrono::steady_clock::time_point next;
        std::uint32_t record_tries = 0;
    };
    struct recorded {
        std::string message_id;
        result<void> outcome;
    };

    void note(partition_id p, std::span<const events::envelope> batch);
    void run();
    void plan(partition_id p, const std::set<node_id>& tasks, bool everything);
    void attempt(delivery& d);
    void submit_record(delivery d);
    void finish_record(const recorded& r);
    std::chrono::milliseconds backoff_after(std::uint32_t attempts) const;

    engine::partition_processor& processor_;
    events::event_log& log_;
    const scheduler::clock& clock_;
    notifier_options options_;
    std::unique_ptr<mail_transport> mail_;
    std::unique_ptr<webhook_transport> webhooks_;
    std::uint64_t token_ = 0;
    std::thread thread_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    // Marked by note(): tasks to look at, per partition.
    std::map<partition_id, std::set<node_id>> dirty_;
    // The durable level of every active alert, by task then alert id.
    std::map<node_id, std::map<std::string, std::uint32_t>> durable_;
    // Deliveries in order of their next attempt; by message id, those
    // anywhere between planned and recorded (so a re-plan skips them).
    std::multimap<std::chrono::steady_clock::time_point, delivery> queue_;
    std::map<std::string, delivery> awaiting_record_;
    std::set<std::string> outstanding_;
    std::deque<recorded> records_done_;
    std::size_t records_in_flight_ = 0;
    std::condition_variable records_idle_;
    counters counters_;
};

}  // namespace migops::api
