#pragma once
// Callbacks registered by token and called in registration order; add,
// remove and call from any thread. A listener must not add or remove
// listeners of the same list from within its call.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace migops::projections {

template <class... Args>
class listener_list {
  public:
    using listener = std::function<void(Args...)>;

    std::uint64_t add(listener l) {
        std::lock_guard lock(mutex_);
        listeners_.emplace(next_, std::move(l));
        return next_++;
    }
    void remove(std::uint64_t token) {
        std::lock_guard lock(mutex_);
        listeners_.erase(token);
    }
    void call(Args... args) {
        std::lock_guard lock(mutex_);
        for (const auto& [token, l] : listeners_) l(args...);
    }

  private:
    std::mutex mutex_;
    std::map<std::uint64_t, listener> listeners_;
    std::uint64_t next_ = 1;
};

}  // namespace migops::projections
