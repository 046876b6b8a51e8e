#include "api/http_server.h"

#include <atomic>
#include <condition_variable>
#include <limits>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "api/problems.h"
#include "events/thread_name.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace migops::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// How long a stop waits for WebSocket clients to answer the close frame
// (each connection also cuts itself after its own grace period).
constexpr std::chrono::seconds websocket_close_wait{10};
// A streamed body is read in chunks of this size.
constexpr std::size_t sink_chunk_bytes = std::size_t{64} * 1024;

// The request line and headers as a plain value (header names in lower
// case).
template <class Header>
http_request request_of(const Header& h) {
    http_request r;
    r.method = std::string(h.method_string());
    r.target = std::string(h.target());
    for (const auto& f : h) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    return r;
}

}  // namespace

// Defined in ws_session.cpp: takes over a connection whose upgrade request
// was accepted (declared here so that no header includes Beast).
void start_websocket(beast::tcp_stream&& stream, http::request<http::string_body>&& req,
                     std::shared_ptr<ws_endpoint> endpoint, ws_registry& registry);

class session;

// Declared before the io_context: sessions still queued in it when it is
// destroyed touch these members from their destructors.
struct http_server::impl {
    http_server_options options;
    http_handler handler;
    ws_upgrade_handler upgrade;
    std::atomic<std::size_t> connections{0};
    ws_registry websockets;

    std::mutex inflight_mutex;
    std::condition_variable inflight_done;
    std::size_t inflight = 0;
    bool draining = false;

    std::mutex sessions_mutex;
    std::list<std::weak_ptr<session>> sessions;

    asio::io_context ioc;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    tcp::acceptor acceptor{asio::make_strand(ioc)};
    std::vector<std::thread> threads;

    impl(http_server_options o, http_handler h, ws_upgrade_handler u)
        : options(std::move(o)), handler(std::move(h)), upgrade(std::move(u)) {}

    void accept();
    void request_started() {
        std::lock_guard lock(inflight_mutex);
        ++inflight;
    }
    void request_finished() {
        std::lock_guard lock(inflight_mutex);
        if (--inflight == 0) inflight_done.notify_all();
    }
};

// One connection. Runs on its own strand; the handler may answer from any
// thread, and the answer is dispatched back onto the strand.
class session : public std::enable_shared_from_this<session> {
  public:
    session(tcp::socket&& socket, http_server::impl& server)
        : stream_(std::move(socket)), server_(server) {}
    ~session() { --server_.connections; }

    void start() {
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

    void close() {
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
            self->stream_.close();
        });
    }

  private:
    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
        // The body's limit depends on the route: the header is read without
        // one (a Content-Length past it would fail the header read), and
        // read_body() applies it.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        stream_.expires_after(server_.options.read_timeout);
        // The header first: the body limit depends on the route.
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    if (ec) return self->on_read(ec);
                                    self->read_body();
                                });
    }

    void read_body() {
        std::size_t limit = server_.options.body_limit;
        if (server_.options.body_limit_for) {
            const auto& h = parser_->get();
            limit = server_.options.body_limit_for(h.method_string(), h.target());
        }
        parser_->body_limit(limit);
        if (const auto declared = parser_->content_length(); declared && *declared > limit)
            return on_read(http::error::body_limit);
        if (server_.options.sink_for && !beast::websocket::is_upgrade(parser_->get())) {
            if (auto sink = server_.options.sink_for(request_of(parser_->get()))) {
                sink_ = std::move(sink);
                streamed_.emplace(std::move(*parser_));
                streamed_->body_limit(limit);
                parser_.reset();
                chunk_.resize(sink_chunk_bytes);
                return read_chunk();
            }
        }
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    // Reads the next piece of a streamed body into chunk_ and hands it to
    // the sink; a failed write answers at once and closes the connection.
    void read_chunk() {
        auto& body = streamed_->get().body();
        body.data = chunk_.data();
        body.size = chunk_.size();
        http::async_read(stream_, buffer_, *streamed_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec == http::error::need_buffer) ec = {};
                             if (ec) return self->on_read(ec);
                             const auto got =
                                 self->chunk_.size() - self->streamed_->get().body().size;
                             if (got > 0) {
                                 auto w = self->sink_->write({self->chunk_.data(), got});
                                 if (!w) {
                                     self->sink_.reset();
                                     self->streamed_.reset();
                                     return self->send(to_response(problem_for(w.error())), false);
                                 }
                             }
                             if (!self->streamed_->is_done()) return self->read_chunk();
                             auto req = self->streamed_->release();
                             self->streamed_.reset();
                             self->chunk_ = {};
                             auto r = request_of(req);
                             r.sink = std::move(self->sink_);
                             self->keep_alive_ = req.keep_alive();
                             self->version_ = req.version();
                             self->dispatch(std::move(r));
                         });
    }

    void on_read(beast::error_code ec) {
        sink_.reset();  // an upload cut short leaves nothing behind
        streamed_.reset();
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
            return shutdown();
        if (ec == http::error::body_limit)
            return send(to_response(make_problem(413, "/problems/payload-too-large",
                                                 "The body is too large",
                                                 "the body is larger than this resource takes")),
                        false);
        if (ec == http::error::header_limit)
            return send(to_response(make_problem(431, "/problems/headers-too-large",
                                                 "The headers are too large",
                                                 "the request line and headers are too large")),
                        false);
        if (ec)
            return send(to_response(make_problem(400, "/problems/bad-request",
                                                 "Malformed HTTP request", ec.message())),
                        false);

        auto req = parser_->release();
        keep_alive_ = req.keep_alive();
        http_request r = request_of(req);
        version_ = req.version();
        if (server_.upgrade && beast::websocket::is_upgrade(req)) {
            if (draining())
                return send(
                    to_response(make_problem(503, "/problems/unavailable", "The server is stopping",
                                             "the server is stopping; retry shortly")),
                    false);
            auto decision = server_.upgrade(r);
            if (auto* refusal = std::get_if<http_response>(&decision))
                return send(std::move(*refusal), false);
            if (auto* endpoint = std::get_if<std::shared_ptr<ws_endpoint>>(&decision)) {
                stream_.expires_never();
                return start_websocket(std::move(stream_), std::move(req), std::move(*endpoint),
                                       server_.websockets);
            }
        }
        r.body = std::move(req.body());
        dispatch(std::move(r));
    }

    void dispatch(http_request r) {
        stream_.expires_never();
        server_.request_started();
        r.on_connection = [self = shared_from_this()](std::function<void()> work) {
            asio::dispatch(self->stream_.get_executor(), std::move(work));
        };
        server_.handler(std::move(r), [self = shared_from_this()](http_response resp) {
            asio::dispatch(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
                self->server_.request_finished();
                self->send(std::move(resp), self->keep_alive_);
            });
        });
    }

    void send(http_response r, bool keep_alive) {
        if (!r.file.empty()) return send_file(std::move(r), keep_alive);
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(r.status), version_ ? version_ : 11);
        res->body() = std::move(r.body);
        write(std::move(res), r, keep_alive);
    }

    // The body read from disk while it is sent (Beast's file_body), never
    // whole in memory.
    void send_file(http_response r, bool keep_alive) {
        beast::error_code ec;
        http::file_body::value_type file;
        file.open(r.file.c_str(), beast::file_mode::scan, ec);
        if (ec) {
            spdlog::error("cannot open {} to send it: {}", r.file, ec.message());
            return send(
                to_response(problem_for(make_error(errc::io_error, "cannot read the file"))),
                keep_alive);
        }
        auto res = std::make_shared<http::response<http::file_body>>(
            static_cast<http::status>(r.status), version_ ? version_ : 11);
        res->body() = std::move(file);
        write(std::move(res), r, keep_alive);
    }

    // Writes the answer part by part, each within write_timeout: a large
    // body may take longer as a whole, a client that stops reading may not.
    template <class Body>
    void write(std::shared_ptr<http::response<Body>> res, const http_response& r, bool keep_alive) {
        res->set(http::field::server, "migops");
        res->set(http::field::content_type, r.content_type);
        for (const auto& [k, v] : r.headers) res->set(k, v);
        res->keep_alive(keep_alive && !draining());
        res->prepare_payload();
        auto sr = std::make_shared<http::response_serializer<Body>>(*res);
        write_part(std::move(res), std::move(sr));
    }

    template <class Body>
    void write_part(std::shared_ptr<http::response<Body>> res,
                    std::shared_ptr<http::response_serializer<Body>> sr) {
        stream_.expires_after(server_.options.write_timeout);
        auto& serializer = *sr;
        http::async_write_some(stream_, serializer,
                               [self = shared_from_this(), res = std::move(res),
                                sr = std::move(sr)](beast::error_code ec, std::size_t) mutable {
                                   if (ec) return self->shutdown();
                                   if (!sr->is_done())
                                       return self->write_part(std::move(res), std::move(sr));
                                   if (!res->keep_alive()) return self->shutdown();
                                   self->read();
                               });
    }

    bool draining() {
        std::lock_guard lock(server_.inflight_mutex);
        return server_.draining;
    }

    void shutdown() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    beast::tcp_stream stream_;
    http_server::impl& server_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    // A body streamed to a sink (sink_for) goes through this parser instead.
    std::optional<http::request_parser<http::buffer_body>> streamed_;
    std::shared_ptr<body_sink> sink_;
    std::vector<char> chunk_;
    bool keep_alive_ = false;
    unsigned version_ = 11;
};

void http_server::impl::accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        if (!ec) {
            if (connections.load() + websockets.size() >= options.max_connections) {
                beast::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                socket.close(ignored);
            } else {
                ++connections;
                auto s = std::make_shared<session>(std::move(socket), *this);
                {
                    std::lock_guard lock(sessions_mutex);
                    sessions.remove_if([](const auto& w) { return w.expired(); });
                    sessions.push_back(s);
                }
                s->start();
            }
        }
        accept();
    });
}

http_server::http_server(http_server_options options, http_handler handler,
                         ws_upgrade_handler upgrade)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handler), std::move(upgrade))) {}

http_server::~http_server() {
    stop(std::chrono::seconds(0));
}

result<std::uint16_t> http_server::start() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(impl_->options.host, ec);
    if (ec)
        return failure(errc::invalid_argument,
                       "cannot listen on " + impl_->options.host + ": not an IP address");
    tcp::endpoint endpoint{address, impl_->options.port};
    auto& acc = impl_->acceptor;
    acc.open(endpoint.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(endpoint, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return failure(errc::unavailable, "cannot listen on " + impl_->options.host + ":" +
                                              std::to_string(impl_->options.port) + ": " +
                                              ec.message());
    const auto port = acc.local_endpoint().port();
    impl_->work.emplace(impl_->ioc.get_executor());
    impl_->accept();
    for (std::uint32_t i = 0; i < impl_->options.threads; ++i)
        impl_->threads.push_back(
            named_thread("http-" + std::to_string(i), [this] { impl_->ioc.run(); }));
    return port;
}

void http_server::stop_accepting() {
    asio::dispatch(impl_->acceptor.get_executor(), [this] {
        beast::error_code ec;
        impl_->acceptor.close(ec);
    });
}

void http_server::stop(std::chrono::steady_clock::duration drain) {
    if (impl_->threads.empty()) return;
    stop_accepting();
    {
        std::unique_lock lock(impl_->inflight_mutex);
        impl_->draining = true;
        impl_->inflight_done.wait_for(lock, drain, [this] { return impl_->inflight == 0; });
    }
    {
        std::lock_guard lock(impl_->sessions_mutex);
        for (auto& w : impl_->sessions)
            if (auto s = w.lock()) s->close();
    }
    impl_->websockets.stop(websocket_close_wait);
    impl_->work.reset();
    impl_->ioc.stop();
    for (auto& t : impl_->threads) t.join();
    impl_->threads.clear();
}

std::size_t http_server::connections() const {
    return impl_->connections.load() + impl_->websockets.size();
}

std::size_t http_server::websocket_connections() const {
    return impl_->websockets.size();
}

}  // namespace migops::api
