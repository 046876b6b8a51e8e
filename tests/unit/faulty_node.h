#pragma once
// The setting of the power-cut and disk-fault tests: a data directory on a
// fault_fs, with the log and the partition processor on it as the server
// runs them, spaces that cover every partition, each with a journey whose
// task takes comments, and a reader that checks the whole history.

#include <future>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "engine/template_catalog.h"
#include "events/chain_verifier.h"
#include "events/rocks_log.h"
#include "tests/unit/fault_fs.h"
#include "tests/unit/temp_dir.h"

namespace migops::testing_support {

class faulty_node {
  public:
    static constexpr std::uint32_t partitions = 4;
    static constexpr const char* actor = "alice";

    faulty_node() : fs_(std::make_shared<fault_fs>()), env_(fault_fs::make_env(fs_)) {}
    ~faulty_node() { close(); }
    faulty_node(const faulty_node&) = delete;
    faulty_node& operator=(const faulty_node&) = delete;

    fault_fs& fs() { return *fs_; }
    engine::partition_processor& processor() { return *processor_; }
    events::rocks_log& log() { return *log_; }

    // Opens the store and the log (syncing each append or not) and starts
    // the processor; fails when a power cut or a fault stops any of it.
    result<void> open(bool sync = true) {
        close();
        auto store = events::rocks_store::open(
            {dir_.path(), {events::events_column_family, events::meta_column_family}, env_.get()});
        if (!store) return failure(store.error());
        store_ = std::move(store).value();
        auto log = events::rocks_log::open(*store_, {.partitions = partitions, .sync = sync});
        if (!log) return failure(log.error());
        log_ = std::move(log).value();
        engine::processor_options options;
        // The tests comment far beyond the default quota of a task.
        options.bounds.comments_per_task = std::numeric_limits<std::uint32_t>::max();
        processor_ = std::make_unique<engine::partition_processor>(*log_, options);
        return processor_->start();
    }

    // Stops the processor (its queued commands are answered), then closes
    // the log and the store.
    void close() {
        if (processor_) processor_->stop();
        processor_.reset();
        log_.reset();
        store_.reset();
    }

    // A command decided, appended and answered.
    result<std::vector<events::envelope>> run(engine::command c, std::string command_id = {}) {
        auto promise = std::make_shared<std::promise<result<std::vector<events::envelope>>>>();
        auto answer = promise->get_future();
        engine::submission s{std::move(c), user_id{actor}, timestamp{1'800'000'000'000'000}, ""};
        s.command_id = std::move(command_id);
        auto queued = processor_->submit(std::move(s),
                                         [promise](auto r) { promise->set_value(std::move(r)); });
        if (!queued) return failure(queued.error());
        return answer.get();
    }

    // The processor's state of partition p, read on its thread.
    engine::partition_state state_of(partition_id p) {
        std::promise<engine::partition_state> promise;
        auto state = promise.get_future();
        auto queued =
            processor_->inspect(p, [&](const engine::partition_state& s) { promise.set_value(s); });
        if (!queued) return {};
        return state.get();
    }

    // One space per partition, each with a journey from the first built-in
    // template; returns the task of each to comment on.
    result<std::vector<node_id>> make_tasks() {
        auto templates = engine::builtin_templates();
        if (!templates) return failure(templates.error());
        const auto& t = templates.value().front();
        std::vector<node_id> tasks(partitions);
        std::vector<bool> covered(partitions, false);
        for (int i = 0; std::find(covered.begin(), covered.end(), false) != covered.end(); ++i) {
            const space_id s{"space-" + std::to_string(i)};
            const auto p = events::partition_of(s, partitions);
            if (covered[p]) continue;
            covered[p] = true;
            if (auto made = run(engine::create_space{s, "Exit " + s.value, ""}); !made)
                return failure(made.error());
            auto journey = run(
                engine::create_journey{s, "Wave 1", "", std::nullopt, t, engine::template_hash(t)});
            if (!journey) return failure(journey.error());
            const auto& created = std::get<events::journey_created>(journey.value().at(0).data);
            tasks[p] = node_id{created.journey.value + ".n3"};
        }
        return tasks;
    }

  private:
    temp_dir dir_;
    std::shared_ptr<fault_fs> fs_;
    std::unique_ptr<rocksdb::Env> env_;  // outlives the store that uses it
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
};

// A whole log, read and checked: each partition's positions run from 1 to
// its head without a gap, and the whole chain verifies.
struct checked_history {
    std::map<std::pair<partition_id, position>, std::string> event_ids;
    std::map<std::string, int> comments;  // comment text → comment.added events carrying it
    std::uint64_t events = 0;
};

inline result<checked_history> check_history(const events::rocks_log& log) {
    checked_history h;
    for (partition_id p = 0; p < log.partitions(); ++p) {
        auto all = log.read(p, 1, std::numeric_limits<std::size_t>::max());
        if (!all) return failure(all.error());
        position expect = 1;
        for (const auto& e : all.value()) {
            if (e.pos != expect)
                return failure(errc::corruption, "partition " + std::to_string(p) +
                                                     " holds position " + std::to_string(e.pos) +
                                                     " where " + std::to_string(expect) +
                                                     " belongs");
            ++expect;
            h.event_ids[{p, e.pos}] = e.event_id;
            if (const auto* c = std::get_if<events::comment_added>(&e.data)) ++h.comments[c->text];
            ++h.events;
        }
        if (expect - 1 != log.head(p).pos)
            return failure(errc::corruption, "partition " + std::to_string(p) + " ends at " +
                                                 std::to_string(expect - 1) + ", its head is " +
                                                 std::to_string(log.head(p).pos));
    }
    auto verified = events::verify_log(log, nullptr);
    if (!verified) return failure(verified.error());
    if (verified.value().events != h.events)
        return failure(errc::corruption, "the chain verifier saw " +
                                             std::to_string(verified.value().events) +
                                             " events, the reader " + std::to_string(h.events));
    return h;
}

}  // namespace migops::testing_support
