#pragma once
// A small WebSocket client for tests (Boost.Beast): opens a connection with
// extra headers, sends text, and reads the next message or the close frame
// with a deadline.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace migops::testing_support {

class ws_client {
  public:
    struct event {
        enum class kind { message, closed, timeout, failed } what = kind::failed;
        std::string text;        // message
        std::uint16_t code = 0;  // closed
        std::string reason;      // closed
    };

    // Connects and performs the handshake. receive_buffer > 0 sets SO_RCVBUF
    // before connecting (a small window makes a client that does not read
    // fill the server's side quickly). status(): 101 when upgraded, else
    // the HTTP status of the refusal (0 when nobody answered).
    ws_client(std::uint16_t port, const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& headers = {},
              int receive_buffer = 0) {
        namespace asio = boost::asio;
        namespace beast = boost::beast;
        beast::error_code ec;
        auto& socket = beast::get_lowest_layer(ws_).socket();
        socket.open(asio::ip::tcp::v4(), ec);
        if (ec) return;
        if (receive_buffer > 0)
            socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
        socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
        if (ec) return;
        ws_.set_option(beast::websocket::stream_base::decorator(
            [headers](beast::websocket::request_type& req) {
                for (const auto& [k, v] : headers) req.set(k, v);
            }));
        beast::websocket::response_type res;
        beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(30));
        ws_.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
        beast::get_lowest_layer(ws_).expires_never();
        status_ = res.result_int();
        body_ = res.body();
        for (const auto& f : res)
            headers_ += std::string(f.name_string()) + ": " + std::string(f.value()) + "\r\n";
        if (!ec) status_ = 101;
    }

    int status() const { return status_; }
    const std::string& body() const { return body_; }
    const std::string& headers() const { return headers_; }

    bool send(const std::string& text) {
        boost::beast::error_code ec;
        ws_.text(true);
        ws_.write(boost::asio::buffer(text), ec);
        return !ec;
    }

    // The next message, or the close frame, or timeout / failed.
    event next(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
        namespace beast = boost::beast;
        event out;
        buffer_.consume(buffer_.size());
        bool done = false;
        beast::error_code result;
        ws_.async_read(buffer_, [&](beast::error_code ec, std::size_t) {
            done = true;
            result = ec;
        });
        ioc_.restart();
        ioc_.run_for(timeout);
        if (!done) {
            // Abandon the connection: the read cannot be resumed.
            beast::get_lowest_layer(ws_).close();
            ioc_.restart();
            ioc_.run();
            out.what = event::kind::timeout;
            return out;
        }
        if (result == beast::websocket::error::closed) {
            out.what = event::kind::closed;
            out.code = static_cast<std::uint16_t>(ws_.reason().code);
            out.reason = std::string(ws_.reason().reason.c_str());
            return out;
        }
        if (result) {
            out.what = event::kind::failed;
            out.reason = result.message();
            return out;
        }
        out.what = event::kind::message;
        out.text = beast::buffers_to_string(buffer_.data());
        return out;
    }

    // Closes from the client side (normal closure) and waits for the answer.
    void close() {
        boost::beast::error_code ec;
        ws_.close(boost::beast::websocket::close_code::normal, ec);
    }

  private:
    boost::asio::io_context ioc_;
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
    boost::beast::flat_buffer buffer_;
    int status_ = 0;
    std::string body_;
    std::string headers_;
};

}  // namespace migops::testing_support
