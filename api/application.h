#pragma once
// The composition root: the one place where RocksDB, the log of record, the
// partition processor and the HTTP server are created and wired.
//
// Lifecycle: start() opens the data directory (lock, RocksDB, chain check),
// loads the partitions and starts serving; stop() stops accepting, answers
// the requests in flight, drains queued commands, and closes RocksDB, in
// the reverse order of start().

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "api/config.h"
#include "api/http_types.h"
#include "events/result.h"
#include "scheduler/clock.h"

namespace migops::api {

class router;

class application {
  public:
    explicit application(config c);
    ~application();
    application(const application&) = delete;
    application& operator=(const application&) = delete;

    result<void> start();
    void stop();
    bool ready() const { return ready_.load(); }
    std::uint16_t port() const { return port_; }
    // Every route served, once start() succeeded (what /openapi.json is
    // checked against).
    const router& routes() const;
    // Clients connected to /v1/stream, and those closed on queue overflow
    // since start (for /metrics).
    std::size_t stream_clients() const;
    std::uint64_t stream_overflows() const;
    // With the demo on (config demo), the dashboard's address with demo's
    // token, once start() succeeded; empty otherwise.
    const std::string& demo_link() const { return demo_link_; }

  private:
    result<void> start_listening();
    result<void> open_log();
    result<void> publish_templates();
    void add_routes();
    void serve(const http_request& req, const responder& respond);
    http_response starting_response(const http_request& req) const;
    void set_phase(std::string doing);
    std::size_t body_limit_for(std::string_view method, std::string_view target) const;

    struct parts;
    scheduler::system_clock_source clock_;
    config config_;
    std::unique_ptr<parts> parts_;
    std::atomic<bool> ready_{false};
    // What start() is doing, for /readyz (read by the server's threads).
    mutable std::mutex phase_mutex_;
    std::string phase_ = "starting";
    std::uint16_t port_ = 0;
    std::string demo_link_;
};

}  // namespace migops::api
