#pragma once
// The partition processor: the one writer of each partition (DESIGN.md
// invariant 2).
//
// Each partition has one thread, its in-memory state and a bounded queue.
// The thread takes every waiting command (up to batch_limit), decides each
// against the state (later commands see earlier ones' events), seals the
// events into the chain and hands the batch to the log writer. A command
// with an event the log cannot hold (event_log::admits: a Kafka record too
// large) is refused alone before its events touch the state. The log
// writer (one thread) takes every batch waiting from every partition and
// appends them as one group, with one sync (group commit across
// partitions), and only then completes the commands (invariant 3). While a
// group is being synced, the partitions decide the next batches
// (pipelining).
//
// A failed append fails its whole group. Each partition in it is poisoned:
// the writer fails its later batches too (they were decided on events that
// are not in the log), and the partition thread, once none of its batches
// is in flight, asks the log to restore the partition, re-reads its state
// from the log and goes on. While the log cannot be restored (a broker
// away, a store stopped by a failed write), the partition decides nothing:
// its commands fail with errc::unavailable, and its state, re-read once,
// is what the log holds.
//
// Lifecycle: construct → start() (loads every partition from the log) →
// submit() from any thread → stop() (refuses new commands, finishes the
// queued ones, joins). Completions run on the log writer thread and must be
// quick (post to another executor for real work).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/commands.h"
#include "engine/domain.h"
#include "engine/state.h"
#include "events/event_log.h"

namespace migops::engine {

struct submission {
    command cmd;
    user_id actor;
    timestamp time;
    std::string correlation_id;          // the request's id; the command id when empty
    std::optional<position> if_match{};  // see command_context::if_match
    // The command's id (the events' causation_id); a random one when empty.
    // A command whose id the partition already produced events for (in the
    // log, or re-read from it after a failed write) is answered with those
    // events and not decided again: a client's retry with the same id, after
    // a crash or an answer lost, does not act twice. Ids of the form
    // "ik-…" are remembered (the last remembered_commands per partition).
    std::string command_id{};
    std::string traceparent{};  // the request's W3C trace context, see envelope::traceparent
};

// The prefix of the command ids that a partition remembers (see
// submission::command_id).
inline constexpr std::string_view remembered_command_prefix = "ik-";

using completion = std::function<void(result<std::vector<events::envelope>>)>;

// Makes the chain.checkpoint of partition p whose chain ends at head (signs
// it), on p's thread.
using checkpoint_maker = std::function<result<events::chain_checkpoint>(
    partition_id p, const events::chain_head& head, timestamp now)>;

// What one group commit did, for metrics.
struct group_report {
    std::size_t commands = 0;                // answered by this group
    std::size_t refused = 0;                 // of them, refused (a rule, a limit, a failed write)
    std::size_t events = 0;                  // appended
    std::size_t batches = 0;                 // partition batches written together
    std::chrono::nanoseconds append_time{};  // the append, its sync included
    bool failed = false;                     // the append failed
};

struct processor_options {
    std::size_t queue_capacity = 4096;         // per partition; beyond it submit() says busy
    std::size_t batch_limit = 1024;            // commands decided together
    std::size_t max_in_flight = 4;             // decided batches of a partition awaiting the writer
    std::size_t remembered_commands = 65'536;  // per partition, see submission::command_id
    limits bounds;                             // the domain's limits
    // Called on the writer thread after each group, before its completions.
    std::function<void(const group_report&)> on_group;
};

class partition_processor {
  public:
    partition_processor(events::event_log& log, processor_options options);
    ~partition_processor();
    partition_processor(const partition_processor&) = delete;
    partition_processor& operator=(const partition_processor&) = delete;

    result<void> start();
    void stop();

    // Queues a command. Fails at once with errc::busy when the partition's
    // queue is full and errc::shutting_down after stop(); otherwise `done`
    // is called exactly once, after the events are durable or refused.
    result<void> submit(submission s, completion done);

    // Queues several commands, each as submit() would, taking each
    // partition's lock and waking its thread once for all of them (the
    // alert scheduler submits a thousand reviews in one tick). Returns, in
    // order, whether each was queued; one that was not is never answered.
    std::vector<result<void>> submit_all(std::vector<std::pair<submission, completion>> commands);

    // Appends a chain.checkpoint event to partition p, made by make for the
    // exact head it follows (decided in turn with the commands, so no command
    // can slip between the head and its checkpoint). Nothing is appended when
    // the partition is empty or its head is already a checkpoint. Queued and
    // completed like a command: done gets the event appended (or none).
    result<void> checkpoint(partition_id p, timestamp now, checkpoint_maker make, completion done);

    // Runs f against partition p's state on its thread, between batches.
    // The state may include events of batches still being synced.
    result<void> inspect(partition_id p, std::function<void(const partition_state&)> f);

    std::uint32_t partitions() const { return log_.partitions(); }
    partition_id partition_for(const space_id& space) const;
    std::size_t queue_depth() const;
    // The partitions that take no commands now: a write to the log failed
    // and the log has not recovered yet (for /readyz).
    std::vector<partition_id> unavailable_partitions() const;

  private:
    struct queued_command {
        submission sub;
        completion done;
    };
    struct queued_checkpoint {
        timestamp now;
        checkpoint_maker make;
        completion done;
    };
    using inspection = std::function<void(const partition_state&)>;
    using item = std::variant<queued_command, queued_checkpoint, inspection>;

    // Where the events of a remembered command are in the log.
    struct produced_span {
        position first = 0;
        std::uint32_t count = 0;
    };

    struct partition {
        partition_id id = 0;
        partition_state state;
        std::unordered_map<std::string, produced_span> remembered;
        std::deque<std::string> remembered_order;  // oldest first
        mutable std::mutex mutex;
        std::condition_variable wake;
        std::deque<item> queue;
        std::size_t in_flight = 0;  // batches handed to the writer, not yet completed
        bool stopping = false;
        bool failed = false;  // the log could not be re-read; refuse commands
        std::atomic<bool> poisoned{false};
        // While poisoned: the state was re-read from the log since the
        // failure (the partition thread's own).
        bool reloaded = false;
        std::thread thread;
    };

    // A decided batch on its way to the log.
    struct pending {
        partition* from = nullptr;
        std::vector<events::envelope> events;
        std::vector<completion> completions;  // in command order
        std::vector<result<std::vector<events::envelope>>> outcomes;
    };

    result<void> load(partition& p);
    result<void> enqueue(partition_id p, item it, bool is_command);
    // Why partition p takes no command now, under its lock.
    std::optional<error> refusal(const partition& p, std::size_t queued) const;
    void run(partition& p);
    // Decides the commands of items in order, or, with `refused`, fails
    // them all with it; inspections run on the state either way.
    void decide_batch(partition& p, std::vector<item>& items,
                      const std::optional<error>& refused = std::nullopt);
    void decide_checkpoint(partition& p, queued_checkpoint& c, pending& batch);
    void hand_over(partition& p, pending batch);
    // Why p cannot decide yet; nullopt once it is writable and re-read.
    std::optional<error> recover(partition& p);
    void remember(partition& p, const events::envelope& e);
    std::optional<std::vector<events::envelope>> answered_before(partition& p,
                                                                 const std::string& command_id);
    void run_writer();
    void write_group(std::vector<pending>& group);

    events::event_log& log_;
    processor_options options_;
    std::vector<std::unique_ptr<partition>> partitions_;
    bool started_ = false;

    std::mutex writer_mutex_;
    std::condition_variable writer_wake_;
    std::deque<pending> writer_queue_;
    bool writer_stopping_ = false;
    std::thread writer_;
};

}  // namespace migops::engine
