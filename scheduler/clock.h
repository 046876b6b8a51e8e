#pragma once
// Time is injected (DESIGN.md invariant 9): everything that needs "now"
// takes a clock. The server uses system_clock_source; tests a manual_clock.

#include <atomic>
#include <chrono>

#include "events/types.h"

namespace migops::scheduler {

class clock {
  public:
    virtual ~clock() = default;
    virtual timestamp now() const = 0;
};

class system_clock_source final : public clock {
  public:
    timestamp now() const override {
        return timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()};
    }
};

// Moves only when told to; safe to read from any thread.
class manual_clock final : public clock {
  public:
    explicit manual_clock(timestamp start = {}) : micros_(start.micros) {}
    timestamp now() const override { return timestamp{micros_.load()}; }
    void set(timestamp t) { micros_.store(t.micros); }
    void advance(std::chrono::microseconds d) { micros_.fetch_add(d.count()); }

  private:
    std::atomic<std::int64_t> micros_;
};

}  // namespace migops::scheduler
