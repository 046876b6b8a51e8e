#pragma once
// The event stream, GET /v1/stream as a WebSocket: history from a cursor,
// then live events, with no gap and no duplicate at the switch; only events
// of spaces the user may read; a bounded queue per client.
//
// A subscription keeps, per partition, the last position it has dealt with
// (sent, or skipped by its filter); that vector is its cursor. It starts in
// catch-up: it reads the log from the cursor up to what the board has
// applied, a chunk at a time and only as fast as the client takes the
// frames (history never overflows). When it has caught up it turns live:
// the board's committed batches are pushed to it on the runner's thread,
// and a client whose queue is full then is closed with the cursor to resume
// from. The board calls its listeners after its checkpoint moved, and the
// switch to live compares the cursor with that checkpoint under the
// subscription's lock, so every event is dealt with once: by the catch-up
// when the checkpoint already held it at the switch, live otherwise.
//
// The board is the live generation's (projections/read_models.h). While a
// rebuild switches generations both boards' batches may arrive; the cursor
// drops what was dealt with, and a batch past it sends the subscription
// back to the log, so the switch adds no gap and no duplicate.
//
// Each event's CloudEvent JSON is encoded once and shared by every client
// (a bounded cache keyed by partition and position also serves catch-ups).
//
// Threads: upgrade() runs on an HTTP thread; a subscription's catch-up,
// client messages and write completions run on its connection's strand;
// live batches arrive on the board runner's thread and never wait for a
// client.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/stream_request.h"
#include "api/websocket.h"
#include "events/event_log.h"
#include "projections/read_models.h"
#include "scheduler/clock.h"

namespace migops::api {

struct stream_options {
    std::size_t queue_limit = 1024;              // frames written to no socket yet, per client
    std::vector<std::string> allowed_origins{};  // exact origins, or "*" for any
    std::chrono::milliseconds auth_timeout{5000};
};

// Whether an event passes the filter (readability aside).
bool stream_matches(const stream_filter& f, const events::envelope& e);

class subscription;

class stream_hub {
  public:
    stream_hub(projections::read_models& models, const events::event_log& log,
               const token_verifier& verifier, const scheduler::clock& clock,
               stream_options options);
    ~stream_hub();
    stream_hub(const stream_hub&) = delete;
    stream_hub& operator=(const stream_hub&) = delete;

    // Listens to the board; before the server takes requests.
    void start();
    // Stops listening and lets go of every subscription; after the server
    // stopped (which closed the connections).
    void stop();

    // The server's own origins (http://<host>:<port>, and localhost for a
    // loopback host) are always allowed; known once the port is bound. So
    // is a page of the origin the request is addressed to (Origin's host and
    // port equal to the Host header): the dashboard this server serves,
    // under whatever name it is reached.
    void set_own_origin(const std::string& host, std::uint16_t port);

    // Decides on an upgrade request for /v1/stream (see websocket.h):
    // 403 for an Origin not allowed, 400 for a bad query, 401 for a refused
    // Authorization header, 404 for a space the user may not read; else a
    // subscription. Other paths are left to plain HTTP.
    ws_upgrade_result upgrade(const http_request& req);

    // Connected clients (handshake done, not yet closed), for metrics.
    std::size_t clients() const;
    // Clients closed because their queue overflowed, since start.
    std::uint64_t overflows() const { return overflows_.load(); }

  private:
    friend class subscription;
    void on_batch(std::span<const events::envelope> batch, const projections::board& board);
    std::shared_ptr<const std::string> encoded(const events::envelope& e);
    void add(const std::shared_ptr<subscription>& s);
    void remove(const subscription* s);
    bool origin_allowed(const std::string& origin, const std::string* host) const;
    // By the live board.
    bool may_read(const user_id& user, const space_id& space) const;

    projections::read_models& models_;
    const events::event_log& log_;
    const token_verifier& verifier_;
    const scheduler::clock& clock_;
    stream_options options_;

    mutable std::mutex mutex_;  // subscriptions_, own_origins_
    std::vector<std::shared_ptr<subscription>> subscriptions_;
    std::vector<std::string> own_origins_;
    std::uint64_t listen_token_ = 0;
    std::atomic<std::uint64_t> overflows_{0};

    // The encoded events: a bounded cache, oldest out first.
    struct encodings;
    std::unique_ptr<encodings> encodings_;
};

}  // namespace migops::api
