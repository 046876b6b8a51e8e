#pragma once
// A small HTTP/1.1 server on loopback for tests that receive webhooks: it
// keeps every request (method, target, headers, body) and answers each with
// the status it is told to (200 at first), closing the connection. It can go
// away (the port refuses connections) and come back on the same port.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace migops::testing_support {

class http_receiver {
  public:
    struct request {
        std::string method;
        std::string target;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
        // The first header of that name (any case), or "".
        std::string header(const std::string& name) const {
            auto lower = [](std::string s) {
                for (auto& c : s)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                return s;
            };
            for (const auto& [n, v] : headers)
                if (lower(n) == lower(name)) return v;
            return {};
        }
    };

    http_receiver() { listen_on(0); }
    ~http_receiver() { go_away(); }
    http_receiver(const http_receiver&) = delete;
    http_receiver& operator=(const http_receiver&) = delete;

    std::uint16_t port() const { return port_; }
    // Stops listening: connections to the port are refused.
    void go_away() {
        if (fd_ < 0) return;
        stop_.store(true);
        thread_.join();
        ::close(fd_);
        fd_ = -1;
    }
    // Listens on the same port again.
    void come_back() {
        if (fd_ < 0) listen_on(port_);
    }
    void answer(int status) { status_.store(status); }
    std::vector<request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    static constexpr int poll_ms = 50;

    void listen_on(std::uint16_t port) {
        // Not inherited by the processes a test starts: a child holding the
        // socket would keep the port taking connections after go_away().
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 16);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        stop_.store(false);
        thread_ = std::thread([this] { run(); });
    }
    static constexpr int read_timeout_s = 5;

    void run() {
        while (!stop_.load()) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, poll_ms) <= 0) continue;
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            timeval tv{read_timeout_s, 0};
            ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            serve(c);
            ::close(c);
        }
    }

    void serve(int c) {
        std::string in;
        char buf[4096];
        std::size_t header_end = std::string::npos;
        while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
            const auto n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            in.append(buf, static_cast<std::size_t>(n));
        }
        request r;
        std::size_t line_end = in.find("\r\n");
        const std::string first = in.substr(0, line_end);
        const auto sp1 = first.find(' ');
        const auto sp2 = first.find(' ', sp1 + 1);
        r.method = first.substr(0, sp1);
        r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t at = line_end + 2;
        while (at < header_end) {
            const auto end = in.find("\r\n", at);
            const std::string line = in.substr(at, end - at);
            const auto colon = line.find(':');
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers.emplace_back(line.substr(0, colon), value);
            at = end + 2;
        }
        const auto length_text = r.header("Content-Length");
        const std::size_t length = length_text.empty() ? 0 : std::stoul(length_text);
        std::string body = in.substr(header_end + 4);
        while (body.size() < length) {
            const auto n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            body.append(buf, static_cast<std::size_t>(n));
        }
        r.body = body.substr(0, length);
        const int status = status_.load();
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(std::move(r));
        }
        const std::string reply = "HTTP/1.1 " + std::to_string(status) +
                                  " Answer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> status_{200};
    mutable std::mutex mutex_;
    std::vector<request> requests_;
    std::thread thread_;
};

}  // namespace migops::testing_support
