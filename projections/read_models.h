#pragma once
// The read models a server serves, one generation at a time.
//
// A generation is a complete set of read models (catalogue.h), each in its
// own column families (column_family_of(p, n)), with its runners. The data
// directory records which generation is live (in the log's meta column
// family); the first is generation 0.
//
// rebuild() makes the next generation beside the live one while the live
// one serves: new column families, every event replayed from position 1
// (each model on a thread of its own), then the log followed until the new
// generation has what the live one has. Then it switches: writers are
// answered only once both generations have their events, the new one gets
// as far as the old one had answered alone (so that a read after an answer
// shows the write on either side of the switch), the new rows are flushed,
// the data directory records the new generation, readers get it from
// current(), and the old generation stops and its column families are
// dropped. A crash before the record leaves the old generation live (the
// half-built one is dropped on the next open); after it, the new one
// resumes from its checkpoint.
//
// Readers take current() for the length of a request: what they hold stays
// readable after a switch. when_applied() follows the switch, so a writer
// waiting for its events is answered from the generation that has them.
//
// Lifecycle: open() → start() → current(), rebuild() on any thread →
// stop(). Not copyable.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "events/event_log.h"
#include "events/rocks_store.h"
#include "projections/listeners.h"
#include "projections/runner.h"

namespace migops::projections {

class board;
class audit_index;

// One generation of the read models.
struct generation {
    std::uint64_t number = 0;
    std::vector<std::unique_ptr<projection>> models;
    std::vector<std::unique_ptr<runner>> runners;  // one per model, same order
    board* board_model = nullptr;
    runner* board_runner = nullptr;
    rocksdb::ColumnFamilyHandle* board_rows = nullptr;
    runner* audit_runner = nullptr;
    rocksdb::ColumnFamilyHandle* audit_rows = nullptr;
    std::atomic<bool> serving{false};  // its board's batches go to the listeners

    generation() = default;
    ~generation();
    generation(const generation&) = delete;
    generation& operator=(const generation&) = delete;

    // Every model's checkpoint is at least the log's head (or the deadline).
    bool wait_caught_up(std::chrono::milliseconds timeout) const;
    // Every model's checkpoint is at least to (or the deadline, or a failure).
    bool wait_applied(const checkpoint& to, std::chrono::milliseconds timeout) const;
    // Per model, in models' order: its name and how many of the log's
    // events it has yet to apply (over every partition, the log's head less
    // the model's checkpoint).
    struct model_lag {
        std::string model;
        std::uint64_t events = 0;
    };
    std::vector<model_lag> lag(const events::event_log& log) const;
};

// What a rebuild did, or is doing.
struct rebuild_status {
    enum class state { none, running, switched, failed };
    state now = state::none;
    std::uint64_t live_generation = 0;
    std::uint64_t generation = 0;    // the one being built, or built last
    std::string doing;               // "replaying board, …", "following the log", …
    bool replaying = false;          // doing is the replay: the events count
    std::uint64_t events_done = 0;   // replayed into every model (the slowest one's count)
    std::uint64_t events_total = 0;  // in the log when the replay began
    double events_per_second = 0;    // of this replay, when it last reported
    std::chrono::system_clock::time_point replay_started{};
    std::chrono::system_clock::time_point started{};
    std::chrono::system_clock::time_point finished{};
    std::string error;  // when failed
};

std::string_view to_string(rebuild_status::state s);

class read_models {
  public:
    // Creates the live generation's column families when missing and drops
    // those of any other generation (a rebuild a crash interrupted). The
    // store must outlive this.
    static result<std::unique_ptr<read_models>> open(events::rocks_store& store,
                                                     events::event_log& log, runner_options o = {});
    ~read_models();
    read_models(const read_models&) = delete;
    read_models& operator=(const read_models&) = delete;

    // Brings the live generation up to date with the log, then follows it.
    result<void> start(const progress_fn& progress = {});
    void stop();

    std::shared_ptr<const generation> current() const;

    // Runs f once the live generation's board and audit index have applied
    // partition p up to pos (and, while a switch moves readers to the next
    // generation, the next one's too), with the live generation; when a
    // switch begins or ends meanwhile, it waits for those that serve then.
    // f runs on a runner's thread, or on this one when they have already.
    void when_applied(partition_id p, position pos,
                      std::function<void(const std::shared_ptr<const generation>&)> f);

    // Called with every batch the live board committed (runner's thread),
    // after its rows were written. Around a switch a batch may come from
    // both generations: listeners drop what they have seen by position.
    // With the board that committed the batch: what it says of readers
    // holds at the batch's last event.
    using listener = std::function<void(std::span<const events::envelope>, const board&)>;
    std::uint64_t listen(listener l);
    void unlisten(std::uint64_t token);

    // Builds the next generation beside the live one and switches to it
    // (see above); blocks until done. Only one at a time: errc::rule_refused
    // while another runs. The live generation keeps being served if it
    // fails; stop() ends it (errc::shutting_down).
    result<void> rebuild(const std::function<void(const rebuild_status&)>& progress = {});
    // The same on a thread of its own; status() follows it.
    result<void> start_rebuild();
    rebuild_status status() const;

  private:
    read_models(events::rocks_store& store, events::event_log& log, runner_options o,
                std::uint64_t live);
    result<std::shared_ptr<generation>> make_generation(std::uint64_t number);
    // Marks a rebuild running, unless one is or the models stop.
    result<void> claim();
    result<void> run_rebuild(const std::function<void(const rebuild_status&)>& progress);
    void forward(std::span<const events::envelope> batch, const board& from);
    void retire(const std::shared_ptr<generation>& g);
    void set_status(const std::function<void(rebuild_status&)>& change,
                    const std::function<void(const rebuild_status&)>& progress);

    events::rocks_store& store_;
    events::event_log& log_;
    runner_options options_;

    mutable std::mutex mutex_;  // live_, next_, status_
    std::shared_ptr<generation> live_;
    // While a switch moves readers to it: the generation that becomes live.
    // Writers are answered once both have their events.
    std::shared_ptr<generation> next_;
    rebuild_status status_;
    std::atomic<bool> rebuilding_{false};
    std::atomic<bool> stopping_{false};
    std::mutex thread_mutex_;  // rebuild_thread_
    std::thread rebuild_thread_;

    listener_list<std::span<const events::envelope>, const board&> listeners_;
};

// The read models' column families in a generation.
std::vector<std::string> column_families_of(std::uint64_t generation);

}  // namespace migops::projections
