#pragma once
// Test helpers: start the migops binary as a child process, talk HTTP to it
// over a plain socket, and wait by polling with a deadline.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace migops::testing_support {

// Owns a child: one still running when this goes out of scope is killed.
struct child_process {
    pid_t pid = -1;
    std::filesystem::path stderr_path;

    child_process() = default;
    child_process(child_process&& o) noexcept : pid(o.pid), stderr_path(std::move(o.stderr_path)) {
        o.pid = -1;
    }
    child_process& operator=(child_process&& o) noexcept {
        if (this != &o) {
            reap();
            pid = o.pid;
            stderr_path = std::move(o.stderr_path);
            o.pid = -1;
        }
        return *this;
    }
    ~child_process() { reap(); }

    void reap() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status = 0;
            ::waitpid(pid, &status, 0);
            pid = -1;
        }
    }

    std::string stderr_text() const {
        std::ifstream in(stderr_path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

// Starts binary with args; env entries "NAME=value" are added to the
// environment. stderr (and stdout) go to stderr_path.
inline child_process start_process(const std::string& binary, const std::vector<std::string>& args,
                                   const std::filesystem::path& stderr_path,
                                   const std::vector<std::string>& env = {}) {
    child_process c;
    c.stderr_path = stderr_path;
    c.pid = ::fork();
    if (c.pid == 0) {
        std::FILE* f = std::fopen(stderr_path.c_str(), "w");
        if (f) {
            ::dup2(fileno(f), STDERR_FILENO);
            ::dup2(fileno(f), STDOUT_FILENO);
        }
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(binary.c_str()));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        std::_Exit(127);
    }
    return c;
}

// Waits for the child to exit; nullopt if it is still running at the deadline.
inline std::optional<int> wait_exit(child_process& c, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
        if (r == c.pid) {
            c.pid = -1;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            return 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::yield();
        ::usleep(5000);
    }
}

// A bearer token for user, as `binary token` prints it with the data
// directory's secret (its output goes to log); empty when it fails.
inline std::string cli_token(const std::string& binary, const std::string& user,
                             const std::string& data_dir, const std::filesystem::path& log) {
    auto c = start_process(binary, {"token", "--user", user, "--data-dir", data_dir}, log);
    if (wait_exit(c, std::chrono::seconds(10)) != 0) return {};
    auto t = c.stderr_text();
    if (!t.empty()) t.pop_back();  // the newline
    return t;
}

inline void kill_process(child_process& c) {
    c.reap();
}

// A port that was free a moment ago.
inline std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

struct http_reply {
    int status = 0;
    std::string headers;  // the raw header block
    std::string body;
};

// A TCP connection to 127.0.0.1:port; -1 when nobody listens.
inline int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Any HTTP/1.1 request on a new connection; status 0 when nobody answers.
inline http_reply http_call(std::uint16_t port, const std::string& method, const std::string& path,
                            const std::vector<std::string>& headers = {},
                            const std::string& body = "") {
    http_reply out;
    const int fd = connect_loopback(port);
    if (fd < 0) return out;
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) {
        ::close(fd);
        return out;
    }
    std::string resp;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    if (resp.rfind("HTTP/1.1 ", 0) != 0) return out;
    out.status = std::stoi(resp.substr(9, 3));
    const auto split = resp.find("\r\n\r\n");
    out.headers = resp.substr(0, split);
    if (split != std::string::npos) out.body = resp.substr(split + 4);
    return out;
}

struct http_result {
    int status = 0;
    std::string body;
};

inline http_result http_get(std::uint16_t port, const std::string& path) {
    auto r = http_call(port, "GET", path);
    return {r.status, std::move(r.body)};
}

// Polls until pred() holds or the deadline passes.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        ::usleep(10000);
    }
    return pred();
}

}  // namespace migops::testing_support
