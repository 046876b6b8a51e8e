#include "engine/partition_processor.h"

#include "events/codec.h"

namespace migops::engine {

namespace {
constexpr std::size_t load_chunk = 4096;
}

partition_processor::partition_processor(events::event_log& log, processor_options options)
    : log_(log), options_(options) {}

partition_processor::~partition_processor() {
    stop();
}

partition_id partition_processor::partition_for(const space_id& space) const {
    return events::partition_of(space, log_.partitions());
}

result<void> partition_processor::load(partition& p) {
    p.state = partition_state{};
    position next = 1;
    for (;;) {
        auto batch = log_.read(p.id, next, load_chunk);
        if (!batch) return failure(batch.error());
        for (const auto& e : batch.value()) apply(p.state, e);
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
    for (auto& p : partitions_) p->thread = std::thread([this, raw = p.get()] { run(*raw); });
    started_ = true;
    return success();
}

void partition_processor::stop() {
    for (auto& p : partitions_) {
        std::lock_guard lock(p->mutex);
        p->stopping = true;
        p->wake.notify_one();
    }
    for (auto& p : partitions_)
        if (p->thread.joinable()) p->thread.join();
}

std::size_t partition_processor::queue_depth() const {
    std::size_t n = 0;
    for (const auto& p : partitions_) {
        std::lock_guard lock(p->mutex);
        n += p->queue.size();
    }
    return n;
}

result<void> partition_processor::enqueue(partition_id id, item it, bool is_command) {
    if (!started_ || id >= partitions_.size())
        return failure(errc::unavailable, "the processor is not running");
    auto& p = *partitions_[id];
    {
        std::lock_guard lock(p.mutex);
        if (p.stopping) return failure(errc::shutting_down, "the server is shutting down");
        if (is_command && p.failed)
            return failure(errc::unavailable,
                           "partition " + std::to_string(id) + " stopped after a storage failure");
        if (is_command && p.queue.size() >= options_.queue_capacity)
            return failure(errc::busy, "too many commands are waiting; retry shortly");
        p.queue.push_back(std::move(it));
    }
    p.wake.notify_one();
    return success();
}

result<void> partition_processor::submit(submission s, completion done) {
    const auto id = partition_for(space_of(s.cmd));
    return enqueue(id, queued_command{std::move(s), std::move(done)}, true);
}

result<void> partition_processor::inspect(partition_id p,
                                          std::function<void(const partition_state&)> f) {
    return enqueue(p, std::move(f), false);
}

void partition_processor::run(partition& p) {
    std::vector<item> items;
    for (;;) {
        {
            std::unique_lock lock(p.mutex);
            p.wake.wait(lock, [&] { return p.stopping || !p.queue.empty(); });
            if (p.queue.empty()) return;  // stopping, and everything queued is done
            const std::size_t n = std::min(p.queue.size(), options_.batch_limit);
            for (std::size_t i = 0; i < n; ++i) {
                items.push_back(std::move(p.queue.front()));
                p.queue.pop_front();
            }
        }
        process(p, items);
        items.clear();
    }
}

void partition_processor::process(partition& p, std::vector<item>& items) {
    struct decided {
        completion* done;
        result<std::vector<events::envelope>> outcome;
    };
    std::vector<decided> decisions;
    decisions.reserve(items.size());
    std::vector<events::envelope> batch;

    auto flush = [&] {
        if (batch.empty()) {
            for (auto& d : decisions) (*d.done)(std::move(d.outcome));
            decisions.clear();
            return;
        }
        auto appended = log_.append(p.id, batch);
        if (!appended) {
            // Nothing of the batch is acknowledged; the state goes back to
            // what the log holds.
            auto reloaded = load(p);
            if (!reloaded) {
                std::lock_guard lock(p.mutex);
                p.failed = true;
            }
            for (auto& d : decisions) {
                if (d.outcome) d.outcome = failure(errc::unavailable, appended.error().message);
                (*d.done)(std::move(d.outcome));
            }
        } else {
            for (auto& d : decisions) (*d.done)(std::move(d.outcome));
        }
        decisions.clear();
        batch.clear();
    };

    for (auto& it : items) {
        if (auto* f = std::get_if<std::function<void(const partition_state&)>>(&it)) {
            flush();
            (*f)(p.state);
            continue;
        }
        auto& q = std::get<queued_command>(it);
        command_context ctx{q.sub.actor, q.sub.time};
        auto payloads = decide(p.state, ctx, q.sub.cmd);
        if (!payloads) {
            decisions.push_back({&q.done, failure(payloads.error())});
            continue;
        }
        const std::string command_id = random_id();
        std::vector<events::envelope> produced;
        produced.reserve(payloads.value().size());
        for (auto& data : payloads.value()) {
            events::envelope e;
            e.event_id = random_id();
            e.partition = p.id;
            e.space = space_of(q.sub.cmd);
            e.time = q.sub.time;
            e.actor = q.sub.actor;
            e.correlation_id = q.sub.correlation_id.empty() ? command_id : q.sub.correlation_id;
            e.causation_id = command_id;
            e.data = std::move(data);
            events::seal(e, p.state.head);
            apply(p.state, e);
            produced.push_back(e);
            batch.push_back(std::move(e));
        }
        decisions.push_back({&q.done, std::move(produced)});
    }
    flush();
}

}  // namespace migops::engine
