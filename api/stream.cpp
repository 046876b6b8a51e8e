#include "api/stream.h"

#include <deque>
#include <map>

#include <spdlog/spdlog.h>

#include "api/json_body.h"
#include "api/problems.h"
#include "engine/commands.h"
#include "events/codec.h"
#include "projections/audit_index.h"
#include "projections/board.h"

namespace migops::api {

namespace ev = events;

namespace {

constexpr std::string_view stream_path = "/v1/stream";
// Events read from the log per catch-up step; a step then yields the strand.
constexpr std::size_t catch_up_chunk = 256;
// Encoded events kept for catch-ups and for clients of the same batch.
constexpr std::size_t encoding_cache_size = 4096;

// What an event is about, as /v1/events has it (for_each_named_id): the
// nodes it names and their journeys, and the journeys it names. (The later
// events of a help request name only its journey.)
struct about {
    std::vector<std::string> nodes;
    std::vector<std::string> journeys;

    void node(const std::string& id) {
        if (id.empty()) return;
        nodes.push_back(id);
        if (auto j = engine::journey_of_id(id); !j.empty()) journeys.push_back(std::move(j.value));
    }
};

about about_of(const ev::payload& data) {
    about a;
    projections::for_each_named_id(
        data, [&](std::string_view id) { a.node(std::string(id)); },
        [&](std::string_view id) {
            if (!id.empty()) a.journeys.emplace_back(id);
        });
    return a;
}

std::string frame_head(const std::string& cursor) {
    return R"({"cursor":")" + cursor + R"(","event":)";
}

http_response refused(unsigned status, std::string type, std::string title, std::string detail) {
    return to_response(make_problem(status, std::move(type), std::move(title), std::move(detail)));
}

}  // namespace

bool stream_matches(const stream_filter& f, const ev::envelope& e) {
    if (f.space && e.space != *f.space) return false;
    if (!f.types.empty() && !f.types.contains(ev::type_id_of(e.data))) return false;
    if (!f.task && !f.journey) return true;
    const auto a = about_of(e.data);
    const auto has = [](const std::vector<std::string>& ids, const std::string& id) {
        return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    if (f.task && !has(a.nodes, f.task->value)) return false;
    if (f.journey && !has(a.journeys, f.journey->value)) return false;
    return true;
}

// ---- one client --------------------------------------------------------------

// Lifecycle: created at the upgrade (with the principal when the header
// carried the token) → opened (joins the hub) → authenticated (at once, or
// by the first message) → catching up ⇄ live → closed (leaves the hub).
class subscription final : public ws_endpoint, public std::enable_shared_from_this<subscription> {
  public:
    subscription(stream_hub& hub, stream_request request, std::optional<principal> who,
                 std::uint32_t partitions)
        : hub_(hub),
          filter_(std::move(request.filter)),
          from_(std::move(request.from)),
          who_(std::move(who)),
          cursor_(partitions, 0) {
        if (filter_.space) only_ = ev::partition_of(*filter_.space, partitions);
    }

    void opened(std::shared_ptr<ws_connection> c) override {
        {
            std::lock_guard lock(mutex_);
            conn_ = c;
        }
        hub_.add(shared_from_this());
        if (who_) return begin();
        std::weak_ptr<subscription> weak = shared_from_this();
        c->after(hub_.options_.auth_timeout, [weak] {
            auto self = weak.lock();
            if (!self) return;
            std::lock_guard lock(self->mutex_);
            if (self->state_ == state::authenticating)
                self->close(ws_close_policy, "no token: send {\"token\": \"<JWT>\"} first");
        });
    }

    void received(std::string message) override {
        {
            std::lock_guard lock(mutex_);
            // After authentication the client has nothing more to say.
            if (state_ != state::authenticating) return;
        }
        auto token = parse_stream_message(message);
        if (!token) return close_now(ws_close_policy, token.error().message);
        auto who = hub_.verifier_.verify(token.value(), hub_.clock_.now());
        if (!who) return close_now(ws_close_policy, "invalid token: " + who.error().message);
        if (filter_.space && !hub_.may_read(who.value().user, *filter_.space))
            return close_now(ws_close_not_visible,
                             "space " + filter_.space->value + " is not visible to you");
        who_ = std::move(who).value();
        begin();
    }

    void sent() override {
        std::lock_guard lock(mutex_);
        if (in_flight_ == 0) return;
        --in_flight_;
        if (state_ == state::catching_up && has_room_to_catch_up()) schedule_step();
    }

    void closed() override {
        {
            std::lock_guard lock(mutex_);
            state_ = state::closed;
            conn_.reset();
        }
        hub_.remove(this);
    }

    // A committed batch of the board (runner's thread); readability as the
    // live board says.
    void deliver(std::span<const ev::envelope> batch, const projections::board& board,
                 const std::function<std::shared_ptr<const std::string>(std::size_t)>& text) {
        std::lock_guard lock(mutex_);
        if (state_ != state::catching_up && state_ != state::live) return;
        const bool concerns_us =
            !only_ || std::any_of(batch.begin(), batch.end(),
                                  [&](const ev::envelope& e) { return e.partition == *only_; });
        if (!concerns_us) return;
        // A role revoked (or a space deleted) by this very batch is already
        // visible here: the board applied the batch before calling.
        if (filter_.space && !board.may_read(who_->user, *filter_.space))
            return close(ws_close_not_visible,
                         "space " + filter_.space->value + " is no longer visible to you");
        if (state_ != state::live) return;  // the catch-up reads the log
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& e = batch[i];
            if (only_ && e.partition != *only_) continue;
            auto& at = cursor_.at(e.partition);
            if (e.pos <= at) continue;  // dealt with already
            if (e.pos != at + 1) {
                // Something was missed: the log has it.
                state_ = state::catching_up;
                schedule_step();
                return;
            }
            if (stream_matches(filter_, e) && board.may_read(who_->user, e.space)) {
                if (in_flight_ >= hub_.options_.queue_limit) return overflow();
                at = e.pos;
                push(text(i));
            } else {
                at = e.pos;
            }
        }
    }

    // The hub stops: forget the connection (the server closed it).
    void detach() {
        std::lock_guard lock(mutex_);
        state_ = state::closed;
        conn_.reset();
    }

  private:
    enum class state { authenticating, catching_up, live, closed };

    // Strand; authenticated.
    void begin() {
        std::lock_guard lock(mutex_);
        if (state_ != state::authenticating || !conn_) return;
        // Without `from`, the stream starts at what the board shows now.
        cursor_ = from_ ? *from_ : checkpoint_positions();
        state_ = state::catching_up;
        schedule_step();
        schedule_expiry();
    }

    std::vector<position> checkpoint_positions() const {
        const auto now = hub_.models_.current()->board_runner->position_now();
        std::vector<position> out(cursor_.size());
        for (std::size_t p = 0; p < out.size(); ++p) out[p] = now.at(static_cast<partition_id>(p));
        return out;
    }

    void schedule_expiry() {
        const auto left =
            std::chrono::microseconds(who_->expires.micros - hub_.clock_.now().micros);
        std::weak_ptr<subscription> weak = shared_from_this();
        conn_->after(std::chrono::ceil<std::chrono::milliseconds>(left), [weak] {
            auto self = weak.lock();
            if (!self) return;
            std::lock_guard lock(self->mutex_);
            if (self->hub_.clock_.now() >= self->who_->expires)
                return self->close(ws_close_policy, "the token expired");
            self->schedule_expiry();
        });
    }

    bool has_room_to_catch_up() const {
        return !step_pending_ && in_flight_ * 2 <= hub_.options_.queue_limit;
    }

    void schedule_step() {
        if (step_pending_ || !conn_) return;
        step_pending_ = true;
        std::weak_ptr<subscription> weak = shared_from_this();
        conn_->after(std::chrono::milliseconds(0), [weak] {
            if (auto self = weak.lock()) self->step();
        });
    }

    // One catch-up step (strand): reads a chunk of one partition from the
    // log, up to what the board has applied, and sends what passes; or,
    // once nothing is left and the queue is at most half full, turns live.
    void step() {
        std::unique_lock lock(mutex_);
        step_pending_ = false;
        if (state_ != state::catching_up) return;
        const auto target = hub_.models_.current()->board_runner->position_now();
        // Round robin, so a busy partition does not hold the others back.
        std::optional<partition_id> behind;
        for (std::size_t i = 1; i <= cursor_.size() && !behind; ++i) {
            const auto p = static_cast<partition_id>((last_read_ + i) % cursor_.size());
            if ((!only_ || p == *only_) && cursor_[p] < target.at(p)) behind = p;
        }
        if (!behind) {
            // Checked under the lock the live batches take, after the board's
            // checkpoint moved: a batch the checkpoint does not hold yet is
            // delivered live, one it holds was read here.
            if (in_flight_ * 2 > hub_.options_.queue_limit) return;  // sent() steps again
            state_ = state::live;
            if (!told_live_) {
                told_live_ = true;
                const std::string c = format_cursor(cursor_, only_);
                send_frame(ws_frame{R"({"cursor":")" + c + R"(","live":true})", nullptr, ""}, c);
            }
            return;
        }
        if (in_flight_ >= hub_.options_.queue_limit) return;  // sent() steps again
        const partition_id p = *behind;
        last_read_ = p;
        const position from = cursor_[p] + 1;
        const auto count = std::min<std::uint64_t>(target.at(p) - cursor_[p], catch_up_chunk);
        const user_id user = who_->user;
        // Only this step moves the cursor while catching up, so the log is
        // read without the lock and the live batches never wait for it.
        step_pending_ = true;
        lock.unlock();
        auto events = hub_.log_.read(p, from, count);
        std::vector<std::shared_ptr<const std::string>> texts;
        if (events) {
            const auto live = hub_.models_.current();
            texts.resize(events.value().size());
            for (std::size_t i = 0; i < texts.size(); ++i) {
                const auto& e = events.value()[i];
                if (stream_matches(filter_, e) && live->board_model->may_read(user, e.space))
                    texts[i] = hub_.encoded(e);
            }
        }
        lock.lock();
        step_pending_ = false;
        if (state_ != state::catching_up) return;
        if (!events || events.value().empty()) {
            spdlog::error("stream: cannot read partition {} from {}: {}", p, from,
                          events ? "nothing there" : events.error().message);
            return close(ws_close_internal, "cannot read the log");
        }
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const auto& e = events.value()[i];
            if (e.pos != cursor_[p] + 1) break;
            if (texts[i]) {
                if (in_flight_ >= hub_.options_.queue_limit) break;
                cursor_[p] = e.pos;
                push(texts[i]);
            } else {
                cursor_[p] = e.pos;
            }
        }
        if (in_flight_ < hub_.options_.queue_limit) schedule_step();
    }

    // Under the lock: one event frame with the cursor after it.
    void push(std::shared_ptr<const std::string> text) {
        const std::string c = format_cursor(cursor_, only_);
        send_frame(ws_frame{frame_head(c), std::move(text), "}"}, c);
    }

    void send_frame(ws_frame f, std::string cursor) {
        if (!conn_) return;
        ++in_flight_;
        last_queued_ = std::move(cursor);
        conn_->send(std::move(f));
    }

    // Under the lock. The frames already queued still go out, then the
    // close, whose reason repeats the last frame's cursor: the client
    // resumes from there, whether it kept the reason or its last message.
    void overflow() {
        hub_.overflows_.fetch_add(1);
        spdlog::info("stream: {} fell {} frames behind and was closed, to resume from {}",
                     who_->user.value, in_flight_, last_queued_);
        close(ws_close_overflow, "overflow; from=" + last_queued_);
    }

    // Under the lock. Only an overflow lets the queued frames go out: after
    // the other reasons (access lost, token expired) they are dropped.
    void close(std::uint16_t code, std::string reason) {
        if (state_ == state::closed) return;
        state_ = state::closed;
        if (conn_) conn_->close(code, std::move(reason), code != ws_close_overflow);
    }

    void close_now(std::uint16_t code, std::string reason) {
        std::lock_guard lock(mutex_);
        close(code, std::move(reason));
    }

    stream_hub& hub_;
    const stream_filter filter_;
    const std::optional<std::vector<position>> from_;
    std::optional<partition_id> only_;  // the filter's space's partition

    std::mutex mutex_;
    std::shared_ptr<ws_connection> conn_;
    std::optional<principal> who_;  // set before the state leaves authenticating
    state state_ = state::authenticating;
    std::vector<position> cursor_;  // per partition, the last position dealt with
    std::size_t in_flight_ = 0;     // frames sent, not yet written to the socket
    std::string last_queued_;       // the cursor of the last frame sent
    partition_id last_read_ = 0;    // the partition the last catch-up step read
    bool step_pending_ = false;
    bool told_live_ = false;
};

// ---- the hub -----------------------------------------------------------------

struct stream_hub::encodings {
    std::mutex mutex;
    std::map<std::pair<partition_id, position>, std::shared_ptr<const std::string>> texts;
    std::deque<std::pair<partition_id, position>> order;  // oldest first
};

stream_hub::stream_hub(projections::read_models& models, const ev::event_log& log,
                       const token_verifier& verifier, const scheduler::clock& clock,
                       stream_options options)
    : models_(models),
      log_(log),
      verifier_(verifier),
      clock_(clock),
      options_(std::move(options)),
      encodings_(std::make_unique<encodings>()) {}

stream_hub::~stream_hub() {
    stop();
}

void stream_hub::start() {
    if (listen_token_ != 0) return;
    listen_token_ =
        models_.listen([this](std::span<const ev::envelope> batch,
                              const projections::board& board) { on_batch(batch, board); });
}

void stream_hub::stop() {
    // Not under mutex_: the board calls on_batch under its listeners' lock.
    if (listen_token_ != 0) models_.unlisten(listen_token_);
    listen_token_ = 0;
    std::vector<std::shared_ptr<subscription>> all;
    {
        std::lock_guard lock(mutex_);
        all.swap(subscriptions_);
    }
    for (const auto& s : all) s->detach();
}

void stream_hub::set_own_origin(const std::string& host, std::uint16_t port) {
    const std::string p = ":" + std::to_string(port);
    std::vector<std::string> own;
    const bool v6 = host.find(':') != std::string::npos;
    own.push_back("http://" + (v6 ? "[" + host + "]" : host) + p);
    if (host == "127.0.0.1" || host == "::1") own.push_back("http://localhost" + p);
    std::lock_guard lock(mutex_);
    own_origins_ = std::move(own);
}

bool stream_hub::origin_allowed(const std::string& origin, const std::string* host) const {
    for (const auto& o : options_.allowed_origins)
        if (o == "*" || o == origin) return true;
    // Same origin: "http://name:8080" for Host "name:8080" (names compare
    // without case).
    if (const auto scheme = origin.find("://"); host && scheme != std::string::npos) {
        const std::string_view authority = std::string_view(origin).substr(scheme + 3);
        const auto lower = [](char c) {
            return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        };
        if (!host->empty() && authority.size() == host->size() &&
            std::equal(authority.begin(), authority.end(), host->begin(),
                       [&](char a, char b) { return lower(a) == lower(b); }))
            return true;
    }
    std::lock_guard lock(mutex_);
    return std::find(own_origins_.begin(), own_origins_.end(), origin) != own_origins_.end();
}

ws_upgrade_result stream_hub::upgrade(const http_request& req) {
    if (req.method != "GET" || req.target.substr(0, req.target.find('?')) != stream_path)
        return std::monostate{};
    // Browsers always send Origin; other clients need not.
    if (const auto* origin = req.header("origin");
        origin && !origin_allowed(*origin, req.header("host")))
        return refused(
            403, "/problems/forbidden-origin", "Origin not allowed",
            "the origin " + origin->substr(0, max_id_bytes) + " is not in ws_allowed_origins");
    auto request = parse_stream_target(req.target, log_.partitions());
    if (!request) return to_response(problem_for(request.error()));
    if (request.value().from) {
        const auto& from = *request.value().from;
        const auto& space = request.value().filter.space;
        for (partition_id p = 0; p < log_.partitions(); ++p) {
            const auto head = log_.head(p).pos;
            const bool relevant = !space || p == ev::partition_of(*space, log_.partitions());
            if (relevant && from[p] > head)
                return to_response(problem_for(
                    make_error(errc::invalid_argument, "from is ahead of the log: partition " +
                                                           std::to_string(p) + " ends at " +
                                                           std::to_string(head))));
        }
    }
    std::optional<principal> who;
    if (const auto* authorization = req.header("authorization")) {
        auto verified = verifier_.verify_header(*authorization, clock_.now());
        if (!verified) {
            auto r = refused(401, "/problems/unauthorized", "A valid bearer token is required",
                             verified.error().message);
            r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            return r;
        }
        who = std::move(verified).value();
        const auto& space = request.value().filter.space;
        if (space && !may_read(who->user, *space))
            return refused(404, "/problems/not-found", "No such resource",
                           "space " + space->value + " does not exist or is not visible to you");
    }
    return std::make_shared<subscription>(*this, std::move(request).value(), std::move(who),
                                          log_.partitions());
}

bool stream_hub::may_read(const user_id& user, const space_id& space) const {
    return models_.current()->board_model->may_read(user, space);
}

std::size_t stream_hub::clients() const {
    std::lock_guard lock(mutex_);
    return subscriptions_.size();
}

void stream_hub::add(const std::shared_ptr<subscription>& s) {
    std::lock_guard lock(mutex_);
    subscriptions_.push_back(s);
}

void stream_hub::remove(const subscription* s) {
    std::lock_guard lock(mutex_);
    std::erase_if(subscriptions_, [s](const auto& x) { return x.get() == s; });
}

std::shared_ptr<const std::string> stream_hub::encoded(const ev::envelope& e) {
    const std::pair key{e.partition, e.pos};
    auto& c = *encodings_;
    {
        std::lock_guard lock(c.mutex);
        if (auto it = c.texts.find(key); it != c.texts.end()) return it->second;
    }
    std::string json;
    ev::append_cloudevent_json(json, e);
    auto text = std::make_shared<const std::string>(std::move(json));
    std::lock_guard lock(c.mutex);
    auto [it, added] = c.texts.emplace(key, std::move(text));
    if (added) {
        c.order.push_back(key);
        if (c.order.size() > encoding_cache_size) {
            c.texts.erase(c.order.front());
            c.order.pop_front();
        }
    }
    return it->second;  // the first encoding wins, so clients share one
}

void stream_hub::on_batch(std::span<const ev::envelope> batch, const projections::board& board) {
    std::vector<std::shared_ptr<subscription>> all;
    {
        std::lock_guard lock(mutex_);
        all = subscriptions_;
    }
    if (all.empty() || batch.empty()) return;
    // Encoded on first need, once for every client of this batch.
    std::vector<std::shared_ptr<const std::string>> texts(batch.size());
    const std::function<std::shared_ptr<const std::string>(std::size_t)> text = [&](std::size_t i) {
        if (!texts[i]) texts[i] = encoded(batch[i]);
        return texts[i];
    };
    for (const auto& s : all) s->deliver(batch, board, text);
}

}  // namespace migops::api
