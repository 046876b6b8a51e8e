#include "engine/partition_processor.h"

#include "events/codec.h"
#include "events/thread_name.h"

namespace migops::engine {

namespace {
constexpr std::size_t load_chunk = 4096;
// How often a partition whose log write failed asks the log to recover
// while no command comes.
constexpr auto recovery_retry = std::chrono::seconds(1);
}  // namespace

partition_processor::partition_processor(events::event_log& log, processor_options options)
    : log_(log), options_(std::move(options)) {}

partition_processor::~partition_processor() {
    stop();
}

partition_id partition_processor::partition_for(const space_id& space) const {
    return events::partition_of(space, log_.partitions());
}

result<void> partition_processor::load(partition& p) {
    p.state = partition_state{};
    p.remembered.clear();
    p.remembered_order.clear();
    position next = 1;
    for (;;) {
        auto batch = log_.read(p.id, next, load_chunk);
        if (!batch) return failure(batch.error());
        for (const auto& e : batch.value()) {
            apply(p.state, e);
            remember(p, e);
        }
        if (batch.value().size() < load_chunk) break;
        next = batch.value().back().pos + 1;
    }
    if (p.state.head != log_.head(p.id))
        return failure(errc::corruption,
                       "partition " + std::to_string(p.id) + " did not load to the log's head");
    return success();
}

result<void> partition_processor::start() {
    if (started_) return success();
    for (partition_id i = 0; i < log_.partitions(); ++i) {
        auto p = std::make_unique<partition>();
        p->id = i;
        if (auto r = load(*p); !r) return r;
        partitions_.push_back(std::move(p));
    }
    writer_ = named_thread("log-writer", [this] { run_writer(); });
    for (auto& p : partitions_)
        p->thread = named_thread("partition-" + std::to_string(p->id),
                                 [this, raw = p.get()] { run(*raw); });
    started_ = true;
    return success();
}

void partition_processor::stop() {
    // Partitions first: they finish their queues and hand everything over.
    for (auto& p : partitions_) {
        std::lock_guard lock(p->mutex);
        p->stopping = true;
        p->wake.notify_all();
    }
    for (auto& p : partitions_)
        if (p->thread.joinable()) p->thread.join();
    {
        std::lock_guard lock(writer_mutex_);
        writer_stopping_ = true;
        writer_wake_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
}

std::vector<partition_id> partition_processor::unavailable_partitions() const {
    std::vector<partition_id> out;
    for (const auto& p : partitions_) {
        std::lock_guard lock(p->mutex);
        if (p->failed || p->poisoned.load()) out.push_back(p->id);
    }
    return out;
}

std::size_t partition_processor::queue_depth() const {
    std::size_t n = 0;
    for (const auto& p : partitions_) {
        std::lock_guard lock(p->mutex);
        n += p->queue.size();
    }
    return n;
}

std::optional<error> partition_processor::refusal(const partition& p, std::size_t queued) const {
    if (p.stopping) return error{errc::shutting_down, "the server is shutting down", {}};
    if (p.failed)
        return error{errc::unavailable,
                     "partition " + std::to_string(p.id) + " stopped after a storage failure",
                     {}};
    if (queued >= options_.queue_capacity)
        return error{errc::busy, "too many commands are waiting; retry shortly", {}};
    return std::nullopt;
}

result<void> partition_processor::enqueue(partition_id id, item it, bool is_command) {
    if (!started_ || id >= partitions_.size())
        return failure(errc::unavailable, "the processor is not running");
    auto& p = *partitions_[id];
    {
        std::lock_guard lock(p.mutex);
        if (p.stopping) return failure(errc::shutting_down, "the server is shutting down");
        if (is_command)
            if (auto why = refusal(p, p.queue.size())) return failure(std::move(*why));
        p.queue.push_back(std::move(it));
    }
    p.wake.notify_all();
    return success();
}

result<void> partition_processor::submit(submission s, completion done) {
    const auto id = partition_for(space_of(s.cmd));
    return enqueue(id, queued_command{std::move(s), std::move(done)}, true);
}

std::vector<result<void>> partition_processor::submit_all(
    std::vector<std::pair<submission, completion>> commands) {
    std::vector<result<void>> out(commands.size(), success());
    if (!started_) {
        for (auto& r : out) r = failure(errc::unavailable, "the processor is not running");
        return out;
    }
    // Each partition's commands, in their order.
    std::vector<std::vector<std::size_t>> by_partition(partitions_.size());
    for (std::size_t i = 0; i < commands.size(); ++i)
        by_partition[partition_for(space_of(commands[i].first.cmd))].push_back(i);
    for (std::size_t id = 0; id < by_partition.size(); ++id) {
        if (by_partition[id].empty()) continue;
        auto& p = *partitions_[id];
        std::lock_guard lock(p.mutex);
        for (const auto i : by_partition[id]) {
            if (auto why = refusal(p, p.queue.size())) {
                out[i] = failure(std::move(*why));
                continue;
            }
            p.queue.push_back(
                queued_command{std::move(commands[i].first), std::move(commands[i].second)});
        }
    }
    // Woken once everything is queued and the moved-from commands are gone:
    // a partition deciding its share holds up nothing of the caller's on a
    // busy machine.
    commands.clear();
    for (std::size_t id = 0; id < by_partition.size(); ++id)
        if (!by_partition[id].empty()) partitions_[id]->wake.notify_all();
    return out;
}

result<void> partition_processor::checkpoint(partition_id p, timestamp now, checkpoint_maker make,
                                             completion done) {
    return enqueue(p, queued_checkpoint{now, std::move(make), std::move(done)}, true);
}

result<void> partition_processor::inspect(partition_id p, inspection f) {
    return enqueue(p, std::move(f), false);
}

void partition_processor::run(partition& p) {
    std::vector<item> items;
    for (;;) {
        bool idle_recovery = false;
        {
            std::unique_lock lock(p.mutex);
            auto ready = [&] {
                return (p.stopping || !p.queue.empty()) && p.in_flight < options_.max_in_flight;
            };
            if (p.poisoned.load() && !p.failed) {
                // Tries again without waiting for a command, so that a
                // partition whose log recovered says so (/readyz) by itself.
                (void)p.wake.wait_for(lock, recovery_retry, ready);
            } else {
                p.wake.wait(lock, ready);
            }
            if (!ready()) {
                if (p.in_flight > 0) continue;
                idle_recovery = true;
            } else {
                if (p.queue.empty()) return;  // stopping, and everything queued is handed over
                const std::size_t n = std::min(p.queue.size(), options_.batch_limit);
                for (std::size_t i = 0; i < n; ++i) {
                    items.push_back(std::move(p.queue.front()));
                    p.queue.pop_front();
                }
            }
        }
        if (idle_recovery) {
            (void)recover(p);
            continue;
        }
        std::optional<error> refused;
        if (p.poisoned.load()) refused = recover(p);
        decide_batch(p, items, refused);
        items.clear();
    }
}

// Notes where the events of a remembered command are (they follow each
// other: a command's events are one batch's consecutive positions).
void partition_processor::remember(partition& p, const events::envelope& e) {
    if (!e.causation_id.starts_with(remembered_command_prefix)) return;
    auto [it, added] = p.remembered.try_emplace(e.causation_id, produced_span{e.pos, 0});
    if (added) {
        p.remembered_order.push_back(e.causation_id);
        if (p.remembered_order.size() > options_.remembered_commands) {
            p.remembered.erase(p.remembered_order.front());
            p.remembered_order.pop_front();
        }
    }
    ++it->second.count;
}

std::optional<std::vector<events::envelope>> partition_processor::answered_before(
    partition& p, const std::string& command_id) {
    const auto it = p.remembered.find(command_id);
    if (it == p.remembered.end()) return std::nullopt;
    auto stored = log_.read(p.id, it->second.first, it->second.count);
    // Still on its way to the log (a retry racing its first attempt): it is
    // decided again, and If-Match or the rules refuse what must not happen
    // twice.
    if (!stored || stored.value().size() != it->second.count) return std::nullopt;
    for (const auto& e : stored.value())
        if (e.causation_id != command_id) return std::nullopt;
    return std::move(stored).value();
}

// Waits until no batch of p is in flight (the writer fails them all while p
// is poisoned), lets the log learn what a failed write really left, then
// re-reads p's state from the log. While the log cannot tell, p stays
// poisoned and decides nothing: its state is set back to what the log holds
// (once per failure, not per batch), and the next batch tries again.
std::optional<error> partition_processor::recover(partition& p) {
    {
        std::unique_lock lock(p.mutex);
        p.wake.wait(lock, [&] { return p.in_flight == 0; });
    }
    auto restored = log_.restore(p.id);
    if (restored || !p.reloaded) {
        if (auto reloaded = load(p); !reloaded) {
            std::lock_guard lock(p.mutex);
            p.failed = true;
            return reloaded.error();  // stays poisoned: every later batch fails
        }
        p.reloaded = true;
    }
    if (!restored)
        return make_error(errc::unavailable, "partition " + std::to_string(p.id) +
                                                 " takes no commands until its log recovers: " +
                                                 restored.error().message);
    p.reloaded = false;
    p.poisoned.store(false);
    return std::nullopt;
}

void partition_processor::decide_batch(partition& p, std::vector<item>& items,
                                       const std::optional<error>& refused) {
    pending batch;
    batch.from = &p;
    for (auto& it : items) {
        if (auto* f = std::get_if<inspection>(&it)) {
            (*f)(p.state);
            continue;
        }
        if (refused) {
            // Answered through the writer like every command, in order.
            auto* c = std::get_if<queued_checkpoint>(&it);
            batch.completions.push_back(c ? std::move(c->done)
                                          : std::move(std::get<queued_command>(it).done));
            batch.outcomes.push_back(failure(*refused));
            continue;
        }
        if (auto* c = std::get_if<queued_checkpoint>(&it)) {
            decide_checkpoint(p, *c, batch);
            continue;
        }
        auto& q = std::get<queued_command>(it);
        if (!q.sub.command_id.empty()) {
            if (auto earlier = answered_before(p, q.sub.command_id)) {
                batch.completions.push_back(std::move(q.done));
                batch.outcomes.push_back(std::move(*earlier));
                continue;
            }
        }
        command_context ctx{q.sub.actor, q.sub.time, &options_.bounds, q.sub.if_match};
        auto decided = decide(p.state, ctx, q.sub.cmd);
        if (!decided) {
            batch.completions.push_back(std::move(q.done));
            batch.outcomes.push_back(failure(decided.error()));
            continue;
        }
        const std::string command_id = q.sub.command_id.empty() ? random_id() : q.sub.command_id;
        const std::string_view role_name =
            decided.value().allowed_by == role::none ? "" : to_string(decided.value().allowed_by);
        // Sealed first and offered to the log: a command with an event the
        // log cannot hold is refused alone, before the state moves.
        std::vector<events::envelope> produced;
        produced.reserve(decided.value().events.size());
        events::chain_head head = p.state.head;
        std::optional<error> refused_by_log;
        for (auto& data : decided.value().events) {
            events::envelope e;
            e.event_id = random_id();
            e.partition = p.id;
            e.space = space_of(q.sub.cmd);
            e.time = q.sub.time;
            e.actor = q.sub.actor;
            e.actor_role = role_name;
            e.correlation_id = q.sub.correlation_id.empty() ? command_id : q.sub.correlation_id;
            e.causation_id = command_id;
            e.traceparent = q.sub.traceparent;
            e.data = std::move(data);
            head = events::seal(e, head);
            if (auto held = log_.admits(e); !held) {
                refused_by_log = held.error();
                break;
            }
            produced.push_back(std::move(e));
        }
        batch.completions.push_back(std::move(q.done));
        if (refused_by_log) {
            batch.outcomes.push_back(failure(std::move(*refused_by_log)));
            continue;
        }
        for (const auto& e : produced) {
            apply(p.state, e);
            remember(p, e);
            batch.events.push_back(e);
        }
        batch.outcomes.push_back(std::move(produced));
    }
    if (!batch.completions.empty()) hand_over(p, std::move(batch));
}

void partition_processor::decide_checkpoint(partition& p, queued_checkpoint& c, pending& batch) {
    std::vector<events::envelope> produced;
    if (p.state.head.pos != 0 && p.state.last_checkpoint != p.state.head.pos) {
        auto made = c.make(p.id, p.state.head, c.now);
        if (!made) {
            batch.completions.push_back(std::move(c.done));
            batch.outcomes.push_back(failure(made.error()));
            return;
        }
        // About the partition, not a space; caused by no one.
        events::envelope e;
        e.event_id = random_id();
        e.partition = p.id;
        e.time = c.now;
        e.causation_id = random_id();
        e.correlation_id = e.causation_id;
        e.data = std::move(made).value();
        events::seal(e, p.state.head);
        apply(p.state, e);
        produced.push_back(e);
        batch.events.push_back(std::move(e));
    }
    batch.completions.push_back(std::move(c.done));
    batch.outcomes.push_back(std::move(produced));
}

void partition_processor::hand_over(partition& p, pending batch) {
    {
        std::lock_guard lock(p.mutex);
        ++p.in_flight;
    }
    {
        std::lock_guard lock(writer_mutex_);
        writer_queue_.push_back(std::move(batch));
    }
    writer_wake_.notify_one();
}

void partition_processor::run_writer() {
    std::vector<pending> group;
    for (;;) {
        {
            std::unique_lock lock(writer_mutex_);
            writer_wake_.wait(lock, [&] { return writer_stopping_ || !writer_queue_.empty(); });
            if (writer_queue_.empty()) return;
            while (!writer_queue_.empty()) {
                group.push_back(std::move(writer_queue_.front()));
                writer_queue_.pop_front();
            }
        }
        write_group(group);
        group.clear();
    }
}

void partition_processor::write_group(std::vector<pending>& group) {
    std::vector<events::partition_batch> parts;
    std::vector<pending*> written;
    std::vector<pending*> refused;  // decided on events the log does not hold
    for (auto& b : group) {
        if (b.from->poisoned.load()) {
            refused.push_back(&b);
        } else {
            written.push_back(&b);
            if (!b.events.empty()) parts.push_back({b.from->id, b.events});
        }
    }
    result<void> appended = success();
    const auto started = std::chrono::steady_clock::now();
    if (!parts.empty()) appended = log_.append_group(parts);
    group_report report;
    report.append_time = std::chrono::steady_clock::now() - started;
    report.batches = parts.size();
    report.failed = !appended;
    if (appended)
        for (const auto& part : parts) report.events += part.events.size();
    if (!appended) {
        for (auto* b : written) b->from->poisoned.store(true);
        refused.insert(refused.end(), written.begin(), written.end());
        written.clear();
    }
    const std::string reason =
        appended ? "an earlier write of this partition failed" : appended.error().message;
    for (auto* b : refused)
        for (auto& o : b->outcomes)
            if (o) o = failure(errc::unavailable, reason);
    if (options_.on_group) {
        for (const auto& b : group) {
            report.commands += b.outcomes.size();
            for (const auto& o : b.outcomes) report.refused += o ? 0 : 1;
        }
        options_.on_group(report);
    }
    for (auto& b : group) {
        for (std::size_t i = 0; i < b.completions.size(); ++i)
            b.completions[i](std::move(b.outcomes[i]));
        {
            std::lock_guard lock(b.from->mutex);
            --b.from->in_flight;
        }
        b.from->wake.notify_all();
    }
}

}  // namespace migops::engine
