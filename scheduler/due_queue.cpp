#include "scheduler/due_queue.h"

#include <algorithm>

namespace migops::scheduler {

namespace {

// The heap is merged into the sorted vector when it holds more than this,
// or an eighth of the vector: small enough to stay in cache, large enough
// that merges (which move every entry) are rare.
constexpr std::size_t min_recent = 4096;
constexpr std::size_t recent_share = 8;

// std::*_heap build max-heaps; "later" makes the earliest entry the top.
bool later(const due_entry& a, const due_entry& b) {
    return a.at > b.at;
}

bool earlier(const due_entry& a, const due_entry& b) {
    return a.at < b.at;
}

}  // namespace

void due_queue::push(const due_entry& e) {
    recent_.push_back(e);
    std::push_heap(recent_.begin(), recent_.end(), later);
    if (recent_.size() > std::max(min_recent, (sorted_.size() - head_) / recent_share)) merge();
}

std::optional<due_entry> due_queue::pop_due(std::int64_t now) {
    const bool from_sorted = head_ < sorted_.size() && sorted_[head_].at <= now &&
                             (recent_.empty() || sorted_[head_].at <= recent_.front().at);
    if (from_sorted) {
        const auto e = sorted_[head_++];
        // The taken prefix is let go once it is most of the vector.
        if (head_ == sorted_.size()) {
            sorted_.clear();
            head_ = 0;
        } else if (head_ >= min_recent && head_ * 2 >= sorted_.size()) {
            sorted_.erase(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
        return e;
    }
    if (recent_.empty() || recent_.front().at > now) return std::nullopt;
    std::pop_heap(recent_.begin(), recent_.end(), later);
    const auto e = recent_.back();
    recent_.pop_back();
    return e;
}

void due_queue::merge() {
    std::sort_heap(recent_.begin(), recent_.end(), later);  // descending
    std::reverse(recent_.begin(), recent_.end());
    std::vector<due_entry> out;
    out.reserve(sorted_.size() - head_ + recent_.size());
    std::merge(sorted_.begin() + static_cast<std::ptrdiff_t>(head_), sorted_.end(), recent_.begin(),
               recent_.end(), std::back_inserter(out), earlier);
    sorted_ = std::move(out);
    head_ = 0;
    recent_.clear();
}

void due_queue::compact(const std::function<bool(const due_entry&)>& keep) {
    merge();
    std::erase_if(sorted_, [&](const due_entry& e) { return !keep(e); });
    sorted_.shrink_to_fit();
    recent_.shrink_to_fit();
}

}  // namespace migops::scheduler
