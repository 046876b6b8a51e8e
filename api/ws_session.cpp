// The WebSocket side of the server (Boost.Beast): a connection taken over
// from the HTTP session after an upgrade request was accepted. Together with
// http_server.cpp and asio_impl.cpp, the only files that include Beast.
//
// One connection runs on the strand its TCP socket was accepted on. Frames
// are written one at a time from a queue; the endpoint bounds that queue.

#include <array>
#include <deque>
#include <list>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "api/websocket.h"

namespace migops::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

// A client sends at most a token message ({"token": "..."}), whose token is
// at most 8 KiB (auth.h); anything bigger closes the connection (1009).
constexpr std::size_t max_client_message = std::size_t{16} * 1024;
// The opening handshake, and the close handshake once started.
constexpr std::chrono::seconds handshake_timeout{10};
// A ping goes out after half of this without traffic from the client; a
// client that answers nothing for this long is cut.
constexpr std::chrono::seconds idle_timeout{60};
// After close() the peer has this long to read what is in flight and answer
// the close frame; then the TCP connection is cut.
constexpr std::chrono::seconds close_grace{10};

class ws_session final : public ws_connection, public std::enable_shared_from_this<ws_session> {
  public:
    ws_session(beast::tcp_stream&& stream, std::shared_ptr<ws_endpoint> endpoint,
               ws_registry& registry)
        : ws_(std::move(stream)), endpoint_(std::move(endpoint)), registry_(registry) {}

    void run(http::request<http::string_body>&& req) {
        request_ = std::move(req);
        // Beast's own WebSocket timeouts replace the TCP stream's.
        beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = handshake_timeout;
        timeouts.idle_timeout = idle_timeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "migops"); }));
        ws_.read_message_max(max_client_message);
        ws_.async_accept(
            request_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
    }

    void send(ws_frame frame) override {
        asio::post(ws_.get_executor(),
                   [self = shared_from_this(), frame = std::move(frame)]() mutable {
                       if (self->closing_ || self->ended_) return;
                       self->frames_.push_back(std::move(frame));
                       if (!self->writing_) self->write_next();
                   });
    }

    void close(std::uint16_t code, std::string reason, bool discard_queued) override {
        if (reason.size() > ws_close_reason_max) {
            // Cut on a character boundary: a close reason must be UTF-8.
            std::size_t cut = ws_close_reason_max;
            while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0U) == 0x80U) --cut;
            reason.resize(cut);
        }
        asio::post(ws_.get_executor(),
                   [self = shared_from_this(), code, reason = std::move(reason), discard_queued] {
                       self->start_close(code, reason, discard_queued);
                   });
    }

    void after(std::chrono::milliseconds delay, std::function<void()> f) override {
        asio::post(ws_.get_executor(), [self = shared_from_this(), delay, f = std::move(f)] {
            if (self->ended_) return;
            if (delay.count() <= 0) return f();
            auto timer = std::make_shared<asio::steady_timer>(self->ws_.get_executor(), delay);
            self->timers_.remove_if([](const auto& w) { return w.expired(); });
            self->timers_.push_back(timer);
            timer->async_wait([self, timer, f](beast::error_code ec) {
                if (!ec && !self->ended_) f();
            });
        });
    }

  private:
    void on_accept(beast::error_code ec) {
        if (ec) return end();
        if (!registry_.add(shared_from_this())) {
            // The server began stopping during the handshake.
            ws_.async_close(
                websocket::close_reason(static_cast<websocket::close_code>(ws_close_going_away),
                                        "server stopping"),
                [self = shared_from_this()](beast::error_code) { self->end(); });
            return;
        }
        registered_ = true;
        endpoint_->opened(shared_from_this());
        read();
    }

    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) return end();
        std::string message = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (!closing_ && endpoint_) endpoint_->received(std::move(message));
        read();
    }

    void write_next() {
        writing_ = true;
        const auto& f = frames_.front();
        const std::array<asio::const_buffer, 3> parts{
            asio::buffer(f.head), f.body ? asio::buffer(*f.body) : asio::const_buffer{},
            asio::buffer(f.tail)};
        ws_.text(true);
        ws_.async_write(parts, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_write(ec);
        });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (!frames_.empty()) frames_.pop_front();
        if (ec) return cut();
        if (endpoint_ && !ended_) endpoint_->sent();
        if (!frames_.empty()) return write_next();
        if (closing_) send_close();
    }

    void start_close(std::uint16_t code, const std::string& reason, bool discard_queued) {
        if (closing_ || ended_) return;
        closing_ = true;
        close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
        // A frame being written cannot be taken back halfway.
        if (discard_queued)
            while (frames_.size() > (writing_ ? 1U : 0U)) frames_.pop_back();
        auto timer = std::make_shared<asio::steady_timer>(ws_.get_executor(), close_grace);
        timers_.push_back(timer);
        timer->async_wait([self = shared_from_this(), timer](beast::error_code e) {
            if (!e) self->cut();
        });
        if (!writing_) send_close();
    }

    void send_close() {
        ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
            // The pending read ends when the peer answers; a failure cuts.
            if (ec) self->cut();
        });
    }

    void cut() {
        beast::error_code ignored;
        auto& socket = beast::get_lowest_layer(ws_).socket();
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    void end() {
        if (ended_) return;
        ended_ = true;
        for (auto& w : timers_)
            if (auto t = w.lock()) t->cancel();
        timers_.clear();
        cut();
        if (registered_) registry_.remove(this);
        if (endpoint_) {
            // Drops the endpoint's hold on this connection and ours on it.
            auto e = std::move(endpoint_);
            if (registered_) e->closed();
        }
    }

    websocket::stream<beast::tcp_stream> ws_;
    std::shared_ptr<ws_endpoint> endpoint_;
    ws_registry& registry_;
    http::request<http::string_body> request_;
    beast::flat_buffer buffer_;
    std::deque<ws_frame> frames_;
    std::list<std::weak_ptr<asio::steady_timer>> timers_;
    websocket::close_reason close_reason_;
    bool writing_ = false;
    bool closing_ = false;
    bool ended_ = false;
    bool registered_ = false;
};

}  // namespace

// Declared in http_server.cpp, which hands the connection over.
void start_websocket(beast::tcp_stream&& stream, http::request<http::string_body>&& req,
                     std::shared_ptr<ws_endpoint> endpoint, ws_registry& registry) {
    auto s = std::make_shared<ws_session>(std::move(stream), std::move(endpoint), registry);
    s->run(std::move(req));
}

bool ws_registry::add(const std::shared_ptr<ws_connection>& c) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    open_.emplace(c.get(), c);
    return true;
}

void ws_registry::remove(const ws_connection* c) {
    std::lock_guard lock(mutex_);
    open_.erase(c);
    if (open_.empty()) ended_.notify_all();
}

std::size_t ws_registry::size() const {
    std::lock_guard lock(mutex_);
    return open_.size();
}

void ws_registry::stop(std::chrono::steady_clock::duration wait) {
    std::vector<std::shared_ptr<ws_connection>> open;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (const auto& [key, w] : open_)
            if (auto c = w.lock()) open.push_back(std::move(c));
    }
    for (const auto& c : open) c->close(ws_close_going_away, "server stopping", false);
    open.clear();
    std::unique_lock lock(mutex_);
    ended_.wait_for(lock, wait, [this] { return open_.empty(); });
}

}  // namespace migops::api
