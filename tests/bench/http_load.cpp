// An HTTP/1.1 load generator for the benchmarks: N keep-alive connections
// on plain sockets, one thread, one epoll loop, no pipelining (each
// connection has at most one request in flight).
//
// Phases, in order, on the same connections and the same workload state:
//   warmup  closed loop for --warmup seconds (reported, not meant for rows);
//   max     closed loop for --duration seconds: each connection sends its
//           next request as soon as the answer to the previous one is read;
//           latency is measured from send to the end of the answer;
//   half    (with --then-half) open loop at half the rate measured in max;
//   open    (with --rate R, instead of max and half) open loop at R/s.
// Open loop: arrival times are drawn in advance (Poisson, fixed seed) and do
// not depend on the server; a request waits for a free connection if all
// are busy, and its latency is measured from its scheduled arrival time, so
// that a slow server cannot hide its queueing (no coordinated omission).
//
// Each phase prints one JSON object on stdout. Any non-2xx answer or broken
// connection counts as an error; the exit status is 1 when there was one.
//
// Workloads: --spaces (POST /v1/spaces) or --tasks FILE (one task id a line;
// POST /v1/tasks/{task}/status). Tasks are dealt to connections round-robin,
// so a task is only ever changed by one connection, one request at a time:
// each request is a real transition (planned or blocked -> in_progress,
// in_progress -> blocked with a reason), never a no-op. A 2xx answer whose
// ETag (the task's version) is the one the task had before changed nothing:
// it counts as an error ("unchanged"). With --reads, the same tasks are read
// instead (GET /v1/tasks/{task}): every request an authenticated read of one
// row, the least an answer of the API costs; a 2xx answer without an ETag
// counts as an error. With --health, every request is GET /healthz: no
// token, no store, the server's HTTP path alone, the most answers per
// second this machine serves whatever the route.
//
// usage: migops_http_load --port P (--token T (--spaces | --tasks FILE [--reads]) | --health)
//          [--host 127.0.0.1] [--connections 64] [--warmup S] [--duration S]
//          [--rate R | --then-half]

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ns = std::int64_t;

constexpr ns ns_per_second = 1'000'000'000;
constexpr int max_events = 256;
constexpr std::size_t read_chunk = std::size_t{16} * 1024;
constexpr std::size_t max_header_bytes = std::size_t{64} * 1024;
constexpr std::size_t max_error_text = 300;
// How long in-flight requests may take to finish after a phase ends.
constexpr ns drain_limit = 30 * ns_per_second;
constexpr std::uint64_t arrival_seed = 20240601;

ns now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string token;
    int connections = 64;
    double warmup = 0;
    double duration = 10;
    double rate = 0;  // > 0: one open-loop phase at this rate
    bool then_half = false;
    bool spaces = false;
    std::string tasks_file;
    bool reads = false;
    bool health = false;
};

void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s --port P (--token T (--spaces | --tasks FILE [--reads]) | --health)\n"
                 "          [--host H] [--connections N] [--warmup S] [--duration S]\n"
                 "          [--rate R | --then-half]\n",
                 argv0);
}

std::optional<options> parse_options(int argc, char** argv) {
    options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            return args[++i];
        };
        try {
            if (a == "--spaces") {
                o.spaces = true;
            } else if (a == "--reads") {
                o.reads = true;
            } else if (a == "--health") {
                o.health = true;
            } else if (a == "--then-half") {
                o.then_half = true;
            } else {
                auto v = value();
                if (!v) return std::nullopt;
                if (a == "--host")
                    o.host = *v;
                else if (a == "--port")
                    o.port = static_cast<std::uint16_t>(std::stoul(*v));
                else if (a == "--token")
                    o.token = *v;
                else if (a == "--connections")
                    o.connections = std::stoi(*v);
                else if (a == "--warmup")
                    o.warmup = std::stod(*v);
                else if (a == "--duration")
                    o.duration = std::stod(*v);
                else if (a == "--rate")
                    o.rate = std::stod(*v);
                else if (a == "--tasks")
                    o.tasks_file = *v;
                else
                    return std::nullopt;
            }
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    const int workloads = int{o.spaces} + int{!o.tasks_file.empty()} + int{o.health};
    if (o.port == 0 || o.token.empty() == !o.health || workloads != 1 || o.connections < 1 ||
        o.duration <= 0 || o.warmup < 0 || o.rate < 0 || (o.rate > 0 && o.then_half) ||
        (o.reads && o.tasks_file.empty()))
        return std::nullopt;
    return o;
}

// The requests a run sends.
enum class requests { spaces, statuses, reads, health };

// What to send next on each connection, and what an answer means for it.
class workload {
  public:
    workload(requests kind, std::vector<std::string> tasks, int connections)
        : kind_(kind), tasks_(std::move(tasks)) {
        status_.assign(tasks_.size(), "planned");
        etag_.resize(tasks_.size());
        owned_.resize(static_cast<std::size_t>(connections));
        cursor_.assign(static_cast<std::size_t>(connections), 0);
        for (std::size_t t = 0; t < tasks_.size(); ++t) owned_[t % owned_.size()].push_back(t);
    }

    struct request {
        std::string method = "POST";
        std::string path;
        std::string body;
        std::size_t task = 0;
        std::string status;
    };

    request next(std::size_t connection) {
        if (kind_ == requests::health) {
            request r;
            r.method = "GET";
            r.path = "/healthz";
            return r;
        }
        if (kind_ == requests::spaces) {
            ++spaces_;
            request r;
            r.path = "/v1/spaces";
            r.body = R"({"name":"load space )" + std::to_string(spaces_) + "\"}";
            return r;
        }
        const auto& mine = owned_[connection];
        const std::size_t task = mine[cursor_[connection]++ % mine.size()];
        request r;
        r.task = task;
        if (kind_ == requests::reads) {
            r.method = "GET";
            r.path = "/v1/tasks/" + tasks_[task];
            return r;
        }
        r.path = "/v1/tasks/" + tasks_[task] + "/status";
        if (status_[task] == "in_progress") {
            r.status = "blocked";
            r.body = R"({"status":"blocked","reason":"waiting for the load test"})";
        } else {
            r.status = "in_progress";
            r.body = R"({"status":"in_progress"})";
        }
        return r;
    }

    // False when the answer shows that nothing changed (a read: that it
    // shows no version).
    bool succeeded(const request& r, const std::string& etag) {
        if (kind_ == requests::health || kind_ == requests::spaces) return true;
        if (kind_ == requests::reads) return !etag.empty();
        status_[r.task] = r.status;
        const bool changed = etag.empty() || etag != etag_[r.task];
        etag_[r.task] = etag;
        return changed;
    }

  private:
    requests kind_;
    std::vector<std::string> tasks_;
    std::vector<std::string> status_;
    std::vector<std::string> etag_;  // the version the last answer showed
    std::vector<std::vector<std::size_t>> owned_;
    std::vector<std::size_t> cursor_;
    std::uint64_t spaces_ = 0;
};

struct response {
    int status = 0;
    bool close = false;
    std::string etag;
    std::size_t header_bytes = 0;
    std::size_t bytes = 0;  // header block and body
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Parses one response at the front of in. nullopt: not complete yet.
// Sets error for what this generator does not accept (no Content-Length,
// chunked bodies, garbage).
std::optional<response> parse_response(const std::string& in, std::string& error) {
    const auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (in.size() > max_header_bytes) error = "response header too long";
        return std::nullopt;
    }
    response r;
    if (in.compare(0, 9, "HTTP/1.1 ") != 0 || end < 12) {
        error = "not an HTTP/1.1 response: " + in.substr(0, std::min<std::size_t>(end, 40));
        return std::nullopt;
    }
    r.status = std::atoi(in.substr(9, 3).c_str());
    std::optional<std::size_t> length;
    std::size_t line = in.find("\r\n") + 2;
    while (line < end + 2) {
        const auto eol = in.find("\r\n", line);
        const auto colon = in.find(':', line);
        if (colon != std::string::npos && colon < eol) {
            const auto name = lower(std::string_view(in).substr(line, colon - line));
            auto value = std::string_view(in).substr(colon + 1, eol - colon - 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (name == "content-length")
                length = std::strtoull(std::string(value).c_str(), nullptr, 10);
            if (name == "transfer-encoding") {
                error = "chunked answers are not read by this generator";
                return std::nullopt;
            }
            if (name == "connection" && lower(value) == "close") r.close = true;
            if (name == "etag") r.etag = value;
        }
        line = eol + 2;
    }
    if (!length) {
        error = "answer without Content-Length";
        return std::nullopt;
    }
    r.header_bytes = end + 4;
    r.bytes = r.header_bytes + *length;
    if (in.size() < r.bytes) return std::nullopt;
    return r;
}

struct connection {
    int fd = -1;
    bool busy = false;
    std::string out;
    std::size_t written = 0;
    std::string in;
    ns scheduled = 0;  // when the request in flight was due
    int phase = 0;     // which phase sent it
    workload::request request;
};

struct phase_stats {
    std::string name;
    std::string mode;
    double seconds = 0;
    double offered = 0;
    std::vector<ns> latencies;
    std::map<int, std::uint64_t> non_2xx;
    std::uint64_t transport_errors = 0;
    std::uint64_t unchanged = 0;  // 2xx answers that changed nothing
    std::string first_error;

    std::uint64_t errors() const {
        std::uint64_t n = transport_errors + unchanged;
        for (const auto& [status, count] : non_2xx) n += count;
        return n;
    }
};

double percentile_ms(std::vector<ns>& sorted, double p) {
    if (sorted.empty()) return 0;
    // Nearest rank: the smallest value with at least p of the sample at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return static_cast<double>(sorted[rank - 1]) / 1e6;
}

void print(phase_stats& s, int connections) {
    std::sort(s.latencies.begin(), s.latencies.end());
    const auto n = s.latencies.size();
    std::string codes;
    for (const auto& [status, count] : s.non_2xx)
        codes += (codes.empty() ? "" : ",") + ("\"" + std::to_string(status) + "\":") +
                 std::to_string(count);
    std::printf(
        "{\"phase\":\"%s\",\"mode\":\"%s\",\"connections\":%d,\"seconds\":%.3f,"
        "\"offered_rate\":%.1f,\"requests\":%zu,\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"max_ms\":%.3f,\"errors\":%llu,\"non_2xx\":{%s},\"transport_errors\":%llu,"
        "\"unchanged\":%llu}\n",
        s.name.c_str(), s.mode.c_str(), connections, s.seconds, s.offered, n,
        s.seconds > 0 ? static_cast<double>(n) / s.seconds : 0.0, percentile_ms(s.latencies, 0.50),
        percentile_ms(s.latencies, 0.99), n ? static_cast<double>(s.latencies.back()) / 1e6 : 0.0,
        static_cast<unsigned long long>(s.errors()), codes.c_str(),
        static_cast<unsigned long long>(s.transport_errors),
        static_cast<unsigned long long>(s.unchanged));
    std::fflush(stdout);
    if (!s.first_error.empty())
        std::fprintf(stderr, "migops_http_load: %s: %s\n", s.name.c_str(), s.first_error.c_str());
}

class generator {
  public:
    generator(options o, workload w) : opt_(std::move(o)), work_(std::move(w)) {}

    ~generator() {
        for (auto& c : conns_)
            if (c.fd >= 0) ::close(c.fd);
        if (timer_ >= 0) ::close(timer_);
        if (epoll_ >= 0) ::close(epoll_);
    }
    generator(const generator&) = delete;
    generator& operator=(const generator&) = delete;

    bool open() {
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (epoll_ < 0 || timer_ < 0) return fail("epoll/timerfd", errno);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = timer_key;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);
        conns_.resize(static_cast<std::size_t>(opt_.connections));
        for (std::size_t i = 0; i < conns_.size(); ++i)
            if (!connect(i)) return false;
        return true;
    }

    // Closed loop for seconds; returns the phase's figures.
    phase_stats closed(const std::string& name, double seconds) {
        phase_stats s;
        s.name = name;
        s.mode = "closed";
        s.seconds = seconds;
        const ns start = now_ns();
        const ns end = start + static_cast<ns>(seconds * ns_per_second);
        // Answers that arrive after the end count neither toward the rate
        // nor the latencies.
        begin_phase(s, end);
        while (!free_.empty()) {
            const std::size_t i = free_.front();
            free_.pop_front();
            send(i, start);
        }
        run_until_idle(end, [&](std::size_t i, ns finished) {
            if (finished < end)
                send(i, finished);
            else
                free_.push_back(i);
        });
        s.latencies = std::move(in_window_);
        return s;
    }

    // Open loop at rate for seconds: Poisson arrivals scheduled in advance.
    phase_stats open_loop(const std::string& name, double rate, double seconds) {
        phase_stats s;
        s.name = name;
        s.mode = "open";
        s.seconds = seconds;
        s.offered = rate;
        const ns start = now_ns();
        const ns end = start + static_cast<ns>(seconds * ns_per_second);
        // Every scheduled arrival is answered and counted, also after the end.
        begin_phase(s, std::numeric_limits<ns>::max());
        std::exponential_distribution<double> gap(rate);
        double t = static_cast<double>(start);
        arrivals_.clear();
        for (;;) {
            t += gap(rng_) * static_cast<double>(ns_per_second);
            if (t >= static_cast<double>(end)) break;
            arrivals_.push_back(static_cast<ns>(t));
        }
        open_mode_ = true;
        dispatch();
        run_until_idle(end, [&](std::size_t i, ns) {
            free_.push_back(i);
            dispatch();
        });
        open_mode_ = false;
        s.latencies = std::move(in_window_);
        return s;
    }

  private:
    static constexpr std::uint64_t timer_key = ~std::uint64_t{0};

    bool fail(const char* what, int err) {
        std::fprintf(stderr, "migops_http_load: %s: %s\n", what, std::strerror(err));
        return false;
    }

    bool connect(std::size_t i) {
        auto& c = conns_[i];
        if (c.fd >= 0) ::close(c.fd);
        c = connection{};
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(opt_.port);
        if (::inet_pton(AF_INET, opt_.host.c_str(), &addr.sin_addr) != 1) {
            std::fprintf(stderr, "migops_http_load: --host must be an IPv4 address\n");
            return false;
        }
        if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            return fail("connect", errno);
        int one = 1;
        ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
        return true;
    }

    // All connections are idle between phases.
    void begin_phase(phase_stats& s, ns window_end) {
        ++phase_;
        stats_ = &s;
        window_end_ = window_end;
        in_window_.clear();
        free_.clear();
        for (std::size_t i = 0; i < conns_.size(); ++i) free_.push_back(i);
    }

    void send(std::size_t i, ns scheduled) {
        auto& c = conns_[i];
        c.request = work_.next(i);
        c.out =
            c.request.method + " " + c.request.path + " HTTP/1.1\r\nHost: " + opt_.host + "\r\n";
        if (!opt_.token.empty()) c.out += "Authorization: Bearer " + opt_.token + "\r\n";
        if (!c.request.body.empty())
            c.out += "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(c.request.body.size()) + "\r\n";
        c.out += "\r\n" + c.request.body;
        c.written = 0;
        c.busy = true;
        c.scheduled = scheduled;
        c.phase = phase_;
        ++in_flight_;
        write_some(i);
    }

    void write_some(std::size_t i) {
        auto& c = conns_[i];
        while (c.written < c.out.size()) {
            const auto n =
                ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n < 0) return broken(i, std::string("send: ") + std::strerror(errno));
            c.written += static_cast<std::size_t>(n);
        }
        epoll_event ev{};
        ev.events = c.written < c.out.size() ? EPOLLIN | EPOLLOUT : EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    // The connection failed: the request in flight is an error and a new
    // connection takes its place.
    void broken(std::size_t i, const std::string& why) {
        const bool was_busy = conns_[i].busy;
        if (!connect(i)) std::exit(1);
        if (!was_busy) return;  // an idle connection is already free
        --in_flight_;
        note_error(why);
        ++stats_->transport_errors;
        free_.push_back(i);
    }

    void note_error(const std::string& why) {
        if (stats_->first_error.empty()) stats_->first_error = why.substr(0, max_error_text);
    }

    void read_some(std::size_t i, ns& finished_at, bool& finished) {
        auto& c = conns_[i];
        char buf[read_chunk];
        for (;;) {
            const auto n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            return broken(i, n == 0 ? "the server closed a keep-alive connection"
                                    : std::string("recv: ") + std::strerror(errno));
        }
        if (!c.busy) {
            if (!c.in.empty()) broken(i, "an answer nobody asked for");
            return;
        }
        std::string error;
        auto r = parse_response(c.in, error);
        if (!error.empty()) return broken(i, error);
        if (!r) return;
        const ns done = now_ns();
        if (r->status >= 200 && r->status < 300) {
            if (!work_.succeeded(c.request, r->etag)) {
                ++stats_->unchanged;
                note_error(std::to_string(r->status) + " for " + c.request.path +
                           (r->etag.empty()
                                ? std::string(" without an ETag")
                                : " without a change: version " + r->etag + " as before"));
            }
        } else {
            ++stats_->non_2xx[r->status];
            // On one line, so that the report stays one JSON object a line.
            std::string body = c.in.substr(r->header_bytes, r->bytes - r->header_bytes);
            std::replace_if(
                body.begin(), body.end(), [](char ch) { return ch == '\n' || ch == '\r'; }, ' ');
            note_error(std::to_string(r->status) + " for " + c.request.path + ": " + body);
        }
        if (c.phase == phase_ && done < window_end_) in_window_.push_back(done - c.scheduled);
        c.in.erase(0, r->bytes);
        c.busy = false;
        --in_flight_;
        if (r->close) return broken(i, "the server asked to close a keep-alive connection");
        finished_at = done;
        finished = true;
    }

    // Sends waiting arrivals on free connections (open loop only).
    void dispatch() {
        const ns now = now_ns();
        while (!arrivals_.empty() && arrivals_.front() <= now) {
            waiting_.push_back(arrivals_.front());
            arrivals_.pop_front();
        }
        while (!waiting_.empty() && !free_.empty()) {
            const std::size_t i = free_.front();
            free_.pop_front();
            send(i, waiting_.front());
            waiting_.pop_front();
        }
        itimerspec spec{};
        if (!arrivals_.empty()) {
            spec.it_value.tv_sec = static_cast<time_t>(arrivals_.front() / ns_per_second);
            spec.it_value.tv_nsec = static_cast<long>(arrivals_.front() % ns_per_second);
        }
        ::timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
    }

    // Runs the loop until the phase has ended (end passed, nothing waiting
    // or scheduled) and every connection is idle; on_done runs after each
    // answer with the connection and the time the answer was complete.
    template <typename F>
    void run_until_idle(ns end, F on_done) {
        std::vector<epoll_event> events(max_events);
        for (;;) {
            const ns now = now_ns();
            const bool open_pending = open_mode_ && (!arrivals_.empty() || !waiting_.empty());
            if (now >= end && in_flight_ == 0 && !open_pending) break;
            if (now >= end + drain_limit) {
                note_error("requests still in flight " +
                           std::to_string(drain_limit / ns_per_second) +
                           " s after the phase ended");
                stats_->transport_errors += in_flight_;
                return;
            }
            const ns wake = now < end ? end : end + drain_limit;
            const int timeout_ms = static_cast<int>((wake - now) / 1'000'000 + 1);
            const int n = ::epoll_wait(epoll_, events.data(), max_events, timeout_ms);
            for (int k = 0; k < n; ++k) {
                const auto key = events[static_cast<std::size_t>(k)].data.u64;
                if (key == timer_key) {
                    std::uint64_t expirations = 0;
                    [[maybe_unused]] auto r = ::read(timer_, &expirations, sizeof expirations);
                    if (open_mode_) dispatch();
                    continue;
                }
                const auto i = static_cast<std::size_t>(key);
                const auto mask = events[static_cast<std::size_t>(k)].events;
                if ((mask & EPOLLOUT) != 0 && conns_[i].busy) write_some(i);
                if ((mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
                    ns finished_at = 0;
                    bool finished = false;
                    read_some(i, finished_at, finished);
                    if (finished) on_done(i, finished_at);
                }
            }
        }
    }

    options opt_;
    workload work_;
    std::vector<connection> conns_;
    int epoll_ = -1;
    int timer_ = -1;
    int phase_ = 0;
    phase_stats* stats_ = nullptr;
    ns window_end_ = 0;
    std::vector<ns> in_window_;
    std::size_t in_flight_ = 0;
    bool open_mode_ = false;
    std::deque<ns> arrivals_;  // scheduled, not yet due
    std::deque<ns> waiting_;   // due, waiting for a free connection
    std::deque<std::size_t> free_;
    std::mt19937_64 rng_{arrival_seed};
};

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_options(argc, argv);
    if (!parsed) {
        usage(argv[0]);
        return 2;
    }
    const options o = *parsed;
    std::vector<std::string> tasks;
    if (!o.tasks_file.empty()) {
        std::ifstream in(o.tasks_file);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) tasks.push_back(line);
        if (tasks.size() < static_cast<std::size_t>(o.connections)) {
            std::fprintf(stderr,
                         "migops_http_load: %zu tasks in %s; each of the %d connections needs "
                         "its own\n",
                         tasks.size(), o.tasks_file.c_str(), o.connections);
            return 2;
        }
    }
    const auto kind = o.health   ? requests::health
                      : o.spaces ? requests::spaces
                      : o.reads  ? requests::reads
                                 : requests::statuses;
    generator g(o, workload(kind, std::move(tasks), o.connections));
    if (!g.open()) return 1;
    std::uint64_t errors = 0;
    auto report = [&](phase_stats s) {
        errors += s.errors();
        print(s, o.connections);
        return s;
    };
    if (o.warmup > 0) report(g.closed("warmup", o.warmup));
    if (o.rate > 0) {
        report(g.open_loop("open", o.rate, o.duration));
    } else {
        auto max = report(g.closed("max", o.duration));
        const double half = static_cast<double>(max.latencies.size()) / o.duration / 2;
        if (o.then_half && half > 0) report(g.open_loop("half", half, o.duration));
    }
    return errors == 0 ? 0 : 1;
}
