#pragma once
// The alert scheduler's due-time queue: (time, task) entries taken in time
// order, sized for a million open tasks.
//
// A balanced tree of a million nodes costs a cache miss per level on every
// insert; this queue keeps most entries in one sorted vector, taken from
// its front, and entries pushed since in a small binary heap, merged into
// the vector once the heap holds an eighth as many (so each push is moved
// a bounded number of times, amortised). Entries are never removed from
// the middle: the owner re-plans a task by pushing a new entry and drops
// the old one when it comes out (stale), and calls compact() when stale
// entries pile up.
//
// Not thread-safe: the owner locks.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace migops::scheduler {

struct due_entry {
    std::int64_t at = 0;  // microseconds, as timestamp::micros
    std::uint32_t journey = 0;
    std::uint32_t node = 0;
};

class due_queue {
  public:
    void push(const due_entry& e);
    // Takes the earliest entry when it is due at `now` or before.
    std::optional<due_entry> pop_due(std::int64_t now);
    // Entries held, stale ones included.
    std::size_t size() const { return sorted_.size() - head_ + recent_.size(); }
    // Drops the entries `keep` refuses.
    void compact(const std::function<bool(const due_entry&)>& keep);

  private:
    void merge();

    std::vector<due_entry> sorted_;  // ascending by time from head_ on
    std::size_t head_ = 0;           // entries before it were taken
    std::vector<due_entry> recent_;  // a min-heap by time
};

}  // namespace migops::scheduler
