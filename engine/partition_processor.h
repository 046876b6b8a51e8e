#pragma once
// The partition processor: the one writer of each partition (DESIGN.md
// invariant 2).
//
// Each partition has one thread, its in-memory state and a bounded queue.
// The thread takes every waiting command (up to batch_limit), decides each
// against the state (later commands see earlier ones' events), seals the
// events into the chain, appends them to the log as one batch (one sync),
// and only then completes the commands (invariant 3). A failed append fails
// the whole batch and the state is re-read from the log, so it never holds
// an event the log does not.
//
// Lifecycle: construct → start() (loads every partition from the log) →
// submit() from any thread → stop() (refuses new commands, finishes the
// queued ones, joins). Completions run on the partition thread and must be
// quick (post to another executor for real work).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
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
    std::string correlation_id;  // the request's id; the command id when empty
};

using completion = std::function<void(result<std::vector<events::envelope>>)>;

struct processor_options {
    std::size_t queue_capacity = 4096;  // per partition; beyond it submit() says busy
    std::size_t batch_limit = 1024;     // commands decided and appended together
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

    // Runs f against partition p's state on its thread, between batches.
    result<void> inspect(partition_id p, std::function<void(const partition_state&)> f);

    std::uint32_t partitions() const { return log_.partitions(); }
    partition_id partition_for(const space_id& space) const;
    std::size_t queue_depth() const;

  private:
    struct queued_command {
        submission sub;
        completion done;
    };
    using item = std::variant<queued_command, std::function<void(const partition_state&)>>;

    struct partition {
        partition_id id = 0;
        partition_state state;
        mutable std::mutex mutex;
        std::condition_variable wake;
        std::deque<item> queue;
        bool stopping = false;
        bool failed = false;  // the log could not be re-read; refuse commands
        std::thread thread;
    };

    result<void> load(partition& p);
    result<void> enqueue(partition_id p, item it, bool is_command);
    void run(partition& p);
    void process(partition& p, std::vector<item>& items);

    events::event_log& log_;
    processor_options options_;
    std::vector<std::unique_ptr<partition>> partitions_;
    bool started_ = false;
};

}  // namespace migops::engine
