#include "projections/shared_reads.h"

#include <algorithm>

namespace migops::projections {

shared_reads::shared_reads(const events::event_log& log, std::size_t readers, std::size_t ahead)
    : log_(log), ahead_(std::max<std::size_t>(ahead, 1)), at_(readers, key{0, 0}) {}

chunk_reader shared_reads::reader(std::size_t reader) {
    return [this, reader](partition_id p, position from, std::size_t max) {
        return read(reader, p, from, max);
    };
}

void shared_reads::done(std::size_t reader) {
    {
        std::lock_guard lock(mutex_);
        at_.at(reader).reset();
        let_go();
    }
    changed_.notify_all();
}

std::size_t shared_reads::log_reads() const {
    std::lock_guard lock(mutex_);
    return log_reads_;
}

std::size_t shared_reads::held() const {
    std::lock_guard lock(mutex_);
    return chunks_.size();
}

std::size_t shared_reads::most_held() const {
    std::lock_guard lock(mutex_);
    return most_held_;
}

bool shared_reads::ahead_of_slowest(std::size_t i) const {
    return std::any_of(at_.begin(), at_.end(),
                       [&](const std::optional<key>& other) { return other && *other < *at_[i]; });
}

void shared_reads::let_go() {
    std::optional<key> slowest;
    for (const auto& at : at_)
        if (at && (!slowest || *at < *slowest)) slowest = at;
    // Every reader done: nothing is asked for again.
    const auto end = slowest ? chunks_.lower_bound(*slowest) : chunks_.end();
    // A chunk being read is not below the slowest: its reader is at it.
    chunks_.erase(chunks_.begin(), end);
}

result<chunk> shared_reads::read(std::size_t reader, partition_id p, position from,
                                 std::size_t max) {
    const key wanted{p, from};
    std::unique_lock lock(mutex_);
    at_.at(reader) = wanted;
    let_go();
    changed_.notify_all();
    for (;;) {
        if (chunks_.contains(wanted)) {
            // This reader is at it, so it stays held.
            changed_.wait(lock, [&] { return chunks_.at(wanted).has_value(); });
            return *chunks_.at(wanted);
        }
        if (chunks_.size() >= ahead_ && ahead_of_slowest(reader)) {
            changed_.wait(lock);
            continue;
        }
        chunks_.emplace(wanted, entry{});
        most_held_ = std::max(most_held_, chunks_.size());
        lock.unlock();
        auto out = read_chunk(log_, p, from, max);
        lock.lock();
        chunks_.at(wanted).emplace(out);
        ++log_reads_;
        changed_.notify_all();
        return out;
    }
}

}  // namespace migops::projections
