#pragma once
// The checkpointer: every interval, and once more when the server stops, it
// has each partition whose chain moved append a signed chain.checkpoint of
// its head (events/signing.h), so that an auditor holding the public key can
// prove what each partition's history was at that time.
//
// The signature is made on the partition's thread, for the head the
// checkpoint follows (partition_processor::checkpoint), so a busy partition
// is checkpointed like an idle one. Time comes from the injected clock.
//
// Lifecycle: start() starts the timer thread; stop() stops it and records
// the last checkpoints, before the processor stops. record() may also be
// driven by hand (tests: interval 0, no thread).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/partition_processor.h"
#include "events/signing.h"
#include "scheduler/clock.h"

namespace migops::scheduler {

struct checkpointer_options {
    std::chrono::milliseconds interval{60'000};  // 0: no thread; record() is called by hand
};

class checkpointer {
  public:
    checkpointer(engine::partition_processor& processor, const clock& time,
                 events::checkpoint_signer signer, checkpointer_options options = {});
    ~checkpointer();
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    void start();
    void stop();

    // Asks every partition for a checkpoint of its head and waits until they
    // are durable. Returns the number appended (a partition that is empty or
    // whose head is already a checkpoint appends none); the first failure
    // otherwise.
    result<std::size_t> record();

  private:
    void run();

    engine::partition_processor& processor_;
    const clock& clock_;
    events::checkpoint_signer signer_;
    checkpointer_options options_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool stopped_ = false;
    std::thread thread_;
};

}  // namespace migops::scheduler
