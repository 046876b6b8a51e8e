#include "scheduler/checkpointer.h"

#include <future>

#include <spdlog/spdlog.h>

#include "events/thread_name.h"

namespace migops::scheduler {

checkpointer::checkpointer(engine::partition_processor& processor, const clock& time,
                           events::checkpoint_signer signer, checkpointer_options options)
    : processor_(processor), clock_(time), signer_(std::move(signer)), options_(options) {}

checkpointer::~checkpointer() {
    stop();
}

void checkpointer::start() {
    if (options_.interval.count() > 0 && !thread_.joinable())
        thread_ = named_thread("checkpoints", [this] { run(); });
}

void checkpointer::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, options_.interval, [&] { return stopping_; });
        if (stopping_) return;
        lock.unlock();
        if (auto r = record(); !r)
            spdlog::error("signed checkpoint not recorded: {}", r.error().message);
        lock.lock();
    }
}

void checkpointer::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        stopping_ = true;
        stopped_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    // The history up to the stop is signed too.
    auto r = record();
    if (!r)
        spdlog::error("last signed checkpoint not recorded: {}", r.error().message);
    else if (r.value() > 0)
        spdlog::info("signed checkpoints of {} partitions recorded", r.value());
}

result<std::size_t> checkpointer::record() {
    const auto now = clock_.now();
    std::optional<error> first;
    std::vector<std::future<result<std::vector<events::envelope>>>> outcomes;
    for (partition_id p = 0; p < processor_.partitions(); ++p) {
        auto done = std::make_shared<std::promise<result<std::vector<events::envelope>>>>();
        auto outcome = done->get_future();
        // The signer is shared (its key is immutable), so a queued request
        // never refers back to this object.
        auto queued = processor_.checkpoint(
            p, now,
            [signer = signer_](partition_id part, const events::chain_head& head, timestamp t) {
                return signer.sign(part, head, t);
            },
            [done](result<std::vector<events::envelope>> r) { done->set_value(std::move(r)); });
        if (queued)
            outcomes.push_back(std::move(outcome));
        else if (!first)
            first = make_error(queued.error().code,
                               "partition " + std::to_string(p) + ": " + queued.error().message);
    }
    std::size_t appended = 0;
    for (auto& o : outcomes) {
        auto r = o.get();
        if (!r && !first) first = r.error();
        if (r) appended += r.value().size();
    }
    if (first) return failure(*first);
    return appended;
}

}  // namespace migops::scheduler
