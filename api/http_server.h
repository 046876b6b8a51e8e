#pragma once
// The HTTP/1.1 server (Boost.Beast, asynchronous, keep-alive). Limits are
// explicit: header and body sizes, read timeout, connection cap.
//
// A request that asks for a WebSocket upgrade goes to the upgrade handler
// first (websocket.h): it refuses with an HTTP answer, accepts with an
// endpoint, or lets the request be served as plain HTTP.
//
// Lifecycle: start() binds and runs `threads` I/O threads; stop_accepting()
// closes the listening socket; stop(deadline) waits for requests in flight
// to be answered (or the deadline), closes the WebSocket connections with
// "going away" and waits for them a few seconds, then closes every
// connection and joins.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http_types.h"
#include "api/websocket.h"
#include "events/result.h"

namespace migops::api {

struct http_server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port
    std::uint32_t threads = 2;
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 1024 * 1024;
    // The body limit of a request, from its method and target, when set
    // (e.g. larger for file uploads); body_limit otherwise.
    std::function<std::size_t(std::string_view method, std::string_view target)> body_limit_for;
    // A sink for the body of a request (its method, target and headers; no
    // body yet), when set and it returns one: the body is then streamed into
    // it in chunks rather than held in memory.
    std::function<std::shared_ptr<body_sink>(const http_request& head)> sink_for;
    std::chrono::seconds read_timeout{30};  // to receive a whole request
    // Each part of an answer must be taken by the client within this (a
    // large file may take longer as a whole).
    std::chrono::seconds write_timeout{30};
    std::size_t max_connections = 1024;
};

class http_server {
  public:
    http_server(http_server_options options, http_handler handler, ws_upgrade_handler upgrade = {});
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and starts serving; returns the bound port.
    result<std::uint16_t> start();
    void stop_accepting();
    void stop(std::chrono::steady_clock::duration drain = std::chrono::seconds(25));

    // Open connections, HTTP and WebSocket.
    std::size_t connections() const;
    std::size_t websocket_connections() const;

    struct impl;  // Beast and Asio stay in http_server.cpp

  private:
    std::unique_ptr<impl> impl_;
};

}  // namespace migops::api
