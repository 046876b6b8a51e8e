#pragma once
// WebSocket connections as the application sees them, without Beast: the
// HTTP server hands an upgrade request to a ws_upgrade_handler, which either
// refuses it with an HTTP answer or attaches a ws_endpoint; the accepted
// connection (ws_session.cpp, the one Beast WebSocket file) then calls the
// endpoint on the connection's strand and offers it a ws_connection.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "api/http_types.h"

namespace migops::api {

// Close codes sent by the server (RFC 6455 section 7.4; 4000-4999 are ours).
// Part of the API contract: never change a meaning.
inline constexpr std::uint16_t ws_close_going_away = 1001;   // the server stops
inline constexpr std::uint16_t ws_close_policy = 1008;       // no, bad or expired token
inline constexpr std::uint16_t ws_close_internal = 1011;     // the log could not be read
inline constexpr std::uint16_t ws_close_overflow = 4000;     // the client's queue overflowed
inline constexpr std::uint16_t ws_close_not_visible = 4003;  // the space is no longer visible
inline constexpr std::size_t ws_close_reason_max = 123;      // RFC 6455: 125 minus the code

// One text message: head, then the shared body, then tail. The body (an
// event's JSON, encoded once) is shared by every client that receives it;
// head and tail are the client's own few bytes around it.
struct ws_frame {
    std::string head;
    std::shared_ptr<const std::string> body;
    std::string tail;
};

// An open WebSocket connection. Every member may be called from any thread
// and returns at once; the work happens on the connection's strand.
class ws_connection {
  public:
    virtual ~ws_connection() = default;
    // Queues a text message. The connection's own queue is unbounded: the
    // endpoint bounds it by counting the frames not yet reported sent().
    virtual void send(ws_frame frame) = 0;
    // Sends a close frame with the code and reason (cut to 123 bytes): after
    // the frames already queued, or, with discard_queued, after only the
    // one being written. The TCP connection is cut when the peer has not
    // completed the close in time. Later sends are ignored.
    virtual void close(std::uint16_t code, std::string reason, bool discard_queued) = 0;
    // Runs f on the connection's strand after the delay (at once, but never
    // inside this call, for zero), unless the connection ended before.
    virtual void after(std::chrono::milliseconds delay, std::function<void()> f) = 0;
};

// What the application attaches to an accepted connection. Called on the
// connection's strand, one call at a time.
class ws_endpoint {
  public:
    virtual ~ws_endpoint() = default;
    // The handshake is done; the connection stays valid until closed().
    virtual void opened(std::shared_ptr<ws_connection> c) = 0;
    // A message from the client (text or binary, at most a few KiB).
    virtual void received(std::string message) = 0;
    // One frame given to send() was written to the socket.
    virtual void sent() = 0;
    // The connection ended (closed by either side or cut); called once.
    virtual void closed() = 0;
};

// The answer to an upgrade request: monostate to serve it as plain HTTP
// (not a WebSocket path), an HTTP answer to refuse it, or the endpoint of
// the accepted connection.
using ws_upgrade_result = std::variant<std::monostate, http_response, std::shared_ptr<ws_endpoint>>;
using ws_upgrade_handler = std::function<ws_upgrade_result(const http_request&)>;

// The open WebSocket connections of one server, for its clean stop: stop()
// closes them all with "going away" and waits until they ended. Connections
// that open after stop() began are refused.
class ws_registry {
  public:
    // False when the server is stopping.
    bool add(const std::shared_ptr<ws_connection>& c);
    void remove(const ws_connection* c);
    std::size_t size() const;
    // Closes every connection and waits until all ended or the deadline.
    void stop(std::chrono::steady_clock::duration wait);

  private:
    mutable std::mutex mutex_;
    std::condition_variable ended_;
    std::map<const ws_connection*, std::weak_ptr<ws_connection>> open_;
    bool stopping_ = false;
};

}  // namespace migops::api
