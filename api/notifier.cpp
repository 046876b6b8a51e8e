#include "api/notifier.h"

#include <fstream>
#include <future>
#include <sstream>

#include <spdlog/spdlog.h>

#include "api/smtp.h"
#include "api/webhook.h"
#include "events/thread_name.h"

namespace migops::api {

namespace ev = events;
using steady = std::chrono::steady_clock;

namespace {

// A record that keeps failing (the partition is busy or its log cannot take
// writes) is tried again at most this often.
constexpr std::chrono::milliseconds record_backoff_max{30'000};
// The exponent of the backoff stops growing here (2^20 times the base is
// beyond any configured maximum).
constexpr std::uint32_t backoff_doublings_max = 20;

bool same_space(const node_id& task, const space_id& space) {
    return engine::space_of_id(task.value) == space;
}

bool inside(const node_id& task, const std::string& prefix) {
    return task.value.size() > prefix.size() && task.value.starts_with(prefix) &&
           task.value[prefix.size()] == '.';
}

result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return failure(errc::invalid_argument, "cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

result<std::optional<notifier_setup>> resolve_notifier(const config& c,
                                                       const std::string& default_public_url) {
    const auto& n = c.notify;
    if (n.smtp_url.empty() && n.webhook_urls.empty()) return std::optional<notifier_setup>{};
    notifier_setup setup;
    auto& o = setup.options;
    o.content.public_url = n.public_url.empty() ? default_public_url : n.public_url;
    while (!o.content.public_url.empty() && o.content.public_url.back() == '/')
        o.content.public_url.pop_back();
    o.retries = n.retries;
    o.backoff = std::chrono::milliseconds(n.backoff_ms);
    o.backoff_max = std::chrono::milliseconds(n.backoff_max_ms);
    if (o.backoff_max < o.backoff)
        return failure(errc::invalid_argument, "notify_backoff_max_ms (" +
                                                   std::to_string(n.backoff_max_ms) +
                                                   ") must not be less than notify_backoff_ms (" +
                                                   std::to_string(n.backoff_ms) + ")");
    const std::chrono::milliseconds timeout(n.timeout_ms);
    if (!n.smtp_url.empty()) {
        auto smtp = check_smtp(smtp_options{.url = n.smtp_url,
                                            .tls = n.smtp_tls,
                                            .ca_file = n.smtp_ca_file,
                                            .user = n.smtp_user,
                                            .password = n.smtp_password,
                                            .from = n.smtp_from,
                                            .timeout = timeout});
        if (!smtp) return failure(smtp.error());
        o.content.email = true;
        o.content.from = n.smtp_from;
        if (!n.smtp_recipients.empty()) {
            auto text = read_file(n.smtp_recipients);
            if (!text)
                return failure(errc::invalid_argument, "smtp_recipients: " + text.error().message);
            auto book = parse_recipients(text.value(), n.smtp_recipients);
            if (!book) return failure(book.error());
            o.content.book.addresses = std::move(book).value();
        }
        if (!n.smtp_default_domain.empty() && !valid_address("user@" + n.smtp_default_domain))
            return failure(errc::invalid_argument, "smtp_default_domain: \"" +
                                                       n.smtp_default_domain +
                                                       "\" is not a domain like example.com");
        o.content.book.default_domain = n.smtp_default_domain;
        if (o.content.book.addresses.empty() && o.content.book.default_domain.empty())
            spdlog::warn(
                "notifications: neither smtp_recipients nor smtp_default_domain is set, so no "
                "user has an email address; their emails are recorded as failed");
        setup.mail = make_smtp_transport(smtp.value());
    }
    if (!n.webhook_urls.empty()) {
        for (const auto& url : n.webhook_urls)
            if (auto r = check_webhook_url(url); !r) return failure(r.error());
        if (n.webhook_secret.empty())
            return failure(errc::invalid_argument,
                           "webhook_urls needs webhook_secret: the key of the X-Migops-Signature "
                           "header (HMAC-SHA256 of the body) receivers check");
        o.content.webhooks = n.webhook_urls;
        o.webhook_secret = n.webhook_secret;
        setup.webhooks = make_webhook_transport(timeout);
    }
    return std::optional<notifier_setup>(std::move(setup));
}

notifier::notifier(engine::partition_processor& processor, ev::event_log& log,
                   const scheduler::clock& time, notifier_options options,
                   std::unique_ptr<mail_transport> mail,
                   std::unique_ptr<webhook_transport> webhooks)
    : processor_(processor),
      log_(log),
      clock_(time),
      options_(std::move(options)),
      mail_(std::move(mail)),
      webhooks_(std::move(webhooks)) {
    // A channel without its transport is off.
    if (!mail_) options_.content.email = false;
    if (!webhooks_) options_.content.webhooks.clear();
}

notifier::~notifier() {
    stop();
}

// On the log's appending thread: remember what became durable and which
// tasks to look at; nothing slow.
void notifier::note(partition_id p, std::span<const ev::envelope> batch) {
    bool marked = false;
    std::lock_guard lock(mutex_);
    auto mark = [&](const node_id& task) {
        dirty_[p].insert(task);
        marked = true;
    };
    auto mark_space = [&](const space_id& space) {
        for (const auto& [task, alerts] : durable_)
            if (same_space(task, space)) mark(task);
    };
    auto forget = [&](const std::string& prefix) {
        std::erase_if(durable_, [&](const auto& kv) { return inside(kv.first, prefix); });
    };
    for (const auto& e : batch) {
        std::visit(
            [&](const auto& d) {
                using P = std::decay_t<decltype(d)>;
                (void)d;  // not every event type reads it
                if constexpr (std::is_same_v<P, ev::alert_raised>) {
                    durable_[d.task][d.alert] = 0;
                    mark(d.task);
                } else if constexpr (std::is_same_v<P, ev::alert_escalated>) {
                    auto& level = durable_[d.task][d.alert];
                    level = std::max(level, d.level);
                    mark(d.task);
                } else if constexpr (std::is_same_v<P, ev::alert_cleared>) {
                    if (auto it = durable_.find(d.task); it != durable_.end()) {
                        it->second.erase(d.alert);
                        if (it->second.empty()) durable_.erase(it);
                    }
                } else if constexpr (std::is_same_v<P, ev::task_assigned>) {
                    if (durable_.contains(d.task)) mark(d.task);
                } else if constexpr (std::is_same_v<P, ev::role_granted> ||
                                     std::is_same_v<P, ev::team_member_added>) {
                    // New people on a rung hear of the alerts already on it.
                    mark_space(e.space);
                } else if constexpr (std::is_same_v<P, ev::node_deleted>) {
                    durable_.erase(d.node);
                } else if constexpr (std::is_same_v<P, ev::journey_deleted>) {
                    forget(d.journey.value);
                } else if constexpr (std::is_same_v<P, ev::space_deleted>) {
                    forget(e.space.value);
                }
            },
            e.data);
    }
    if (marked) wake_.notify_all();
}

// Asks partition p's state which messages are due for the tasks (all of
// them when `everything`, at start, when the state is all durable) and
// queues those not queued already.
void notifier::plan(partition_id p, const std::set<node_id>& tasks, bool everything) {
    std::map<node_id, std::map<std::string, std::uint32_t>> caps;
    if (!everything) {
        std::lock_guard lock(mutex_);
        for (const auto& t : tasks)
            if (auto it = durable_.find(t); it != durable_.end()) caps.insert(*it);
    }
    struct found {
        std::vector<outgoing> messages;
        std::map<node_id, std::map<std::string, std::uint32_t>> active;  // everything: the alerts
        std::vector<node_id> gone;
    };
    std::promise<found> promised;
    auto answer = promised.get_future();
    const auto now = clock_.now();
    auto queued = processor_.inspect(p, [&](const engine::partition_state& s) {
        found f;
        auto look = [&](const engine::journey_state& j, const engine::node_state& n) {
            if (n.alerts.empty()) return;
            if (everything) {
                auto& levels = f.active[n.id];
                for (const auto& [kind, a] : n.alerts) levels[a.id] = a.level;
            }
            const auto& levels = everything ? f.active[n.id] : caps[n.id];
            auto more = due_messages(s, j, n, options_.content, now,
                                     [&](const std::string& alert) -> std::optional<std::uint32_t> {
                                         auto it = levels.find(alert);
                                         if (it == levels.end()) return std::nullopt;
                                         return it->second;
                                     });
            for (auto& m : more) f.messages.push_back(std::move(m));
        };
        auto alive = [&](const journey_id& j) {
            const auto* sp = s.space(engine::space_of_id(j.value));
            return sp && !sp->deleted;
        };
        if (everything) {
            for (const auto& [jid, j] : s.journeys)
                if (alive(jid))
                    for (const auto& [nid, n] : j.nodes) look(j, n);
        } else {
            for (const auto& t : tasks) {
                const auto* j = s.journey(engine::journey_of_id(t.value));
                const auto* n = j ? s.node(t) : nullptr;
                if (!n || !alive(j->id)) {
                    f.gone.push_back(t);
                    continue;
                }
                look(*j, *n);
            }
        }
        promised.set_value(std::move(f));
    });
    if (!queued) {
        spdlog::warn("notifications: partition {}: {}", p, queued.error().message);
        return;
    }
    auto f = answer.get();
    std::lock_guard lock(mutex_);
    if (everything)
        for (auto& [task, levels] : f.active) durable_[task] = std::move(levels);
    for (const auto& t : f.gone) durable_.erase(t);
    const auto at = steady::now();
    for (auto& m : f.messages) {
        if (!outstanding_.insert(m.message_id).second) continue;
        delivery d;
        d.message = std::move(m);
        d.next = at;
        queue_.emplace(at, std::move(d));
        ++counters_.pending;
    }
}

result<void> notifier::start() {
    token_ = log_.subscribe(
        [this](partition_id p, std::span<const ev::envelope> batch) { note(p, batch); });
    for (partition_id p = 0; p < processor_.partitions(); ++p) plan(p, {}, true);
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
        spdlog::info("notifications: {} waiting from before the start; email {}, {} webhook(s)",
                     queue_.size(), options_.content.email ? "on" : "off",
                     options_.content.webhooks.size());
    }
    thread_ = named_thread("notifier", [this] { run(); });
    return success();
}

void notifier::stop() {
    if (token_ != 0) {
        log_.unsubscribe(token_);
        token_ = 0;
    }
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    if (mail_) mail_->cancel();
    if (webhooks_) webhooks_->cancel();
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    // The records' completions refer to this object.
    std::unique_lock lock(mutex_);
    records_idle_.wait(lock, [&] { return records_in_flight_ == 0; });
}

notifier::counters notifier::stats() const {
    std::lock_guard lock(mutex_);
    return counters_;
}

std::chrono::milliseconds notifier::backoff_after(std::uint32_t attempts) const {
    const auto doublings = std::min(attempts == 0 ? 0 : attempts - 1, backoff_doublings_max);
    const auto wait = options_.backoff * (std::int64_t{1} << doublings);
    return std::min(wait, options_.backoff_max);
}

void notifier::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (stopping_) return;
        if (!records_done_.empty()) {
            std::deque<recorded> done;
            done.swap(records_done_);
            lock.unlock();
            for (const auto& r : done) finish_record(r);
            lock.lock();
            continue;
        }
        if (!dirty_.empty()) {
            std::map<partition_id, std::set<node_id>> dirty;
            dirty.swap(dirty_);
            lock.unlock();
            for (const auto& [p, tasks] : dirty) plan(p, tasks, false);
            lock.lock();
            continue;
        }
        if (!queue_.empty() && queue_.begin()->first <= steady::now()) {
            auto d = std::move(queue_.extract(queue_.begin()).mapped());
            lock.unlock();
            if (d.done)
                submit_record(std::move(d));
            else
                attempt(d);
            lock.lock();
            continue;
        }
        if (queue_.empty())
            wake_.wait(lock);
        else
            wake_.wait_until(lock, queue_.begin()->first);
    }
}

void notifier::attempt(delivery& d) {
    const auto& m = d.message;
    delivery_outcome out;
    if (m.channel == "email") {
        if (m.address.empty())
            out = {false, true,
                   "no email address for user " + m.recipient +
                       ": list it in smtp_recipients or set smtp_default_domain"};
        else
            out = mail_->send(m.address, email_text(m, options_.content.from, clock_.now()));
    } else {
        out =
            webhooks_->post(m.url,
                            {{"Content-Type", "application/cloudevents+json; charset=utf-8"},
                             {"X-Migops-Signature", signature(options_.webhook_secret, m.payload)},
                             {"X-Migops-Message-Id", m.message_id},
                             {"User-Agent", "migops/" MIGOPS_VERSION}},
                            m.payload);
    }
    ++d.attempts;
    bool stopping = false;
    {
        std::lock_guard lock(mutex_);
        ++counters_.attempts;
        stopping = stopping_;
    }
    if (!out.delivered && stopping) {
        // Not recorded: the next start sends it.
        std::lock_guard lock(mutex_);
        outstanding_.erase(m.message_id);
        --counters_.pending;
        return;
    }
    if (out.delivered || out.permanent || d.attempts > options_.retries) {
        if (!out.delivered)
            spdlog::warn("notifications: giving up on {} after {} attempt(s): {}", m.message_id,
                         d.attempts, out.reason);
        d.done = true;
        d.delivered = out.delivered;
        d.reason = out.reason;
        submit_record(std::move(d));
        return;
    }
    const auto wait = backoff_after(d.attempts);
    spdlog::info("notifications: {} failed (attempt {}), retrying in {} ms: {}", m.message_id,
                 d.attempts, wait.count(), out.reason);
    d.reason = out.reason;
    d.next = steady::now() + wait;
    std::lock_guard lock(mutex_);
    queue_.emplace(d.next, std::move(d));
}

void notifier::submit_record(delivery d) {
    const auto& m = d.message;
    engine::record_notification cmd{m.task,       m.alert,     m.level,  m.channel, m.recipient,
                                    m.message_id, d.delivered, d.reason, d.attempts};
    const std::string id = m.message_id;
    {
        std::lock_guard lock(mutex_);
        awaiting_record_.insert_or_assign(id, std::move(d));
        ++records_in_flight_;
    }
    auto queued = processor_.submit(
        engine::submission{std::move(cmd), engine::system_actor, clock_.now(), ""},
        [this, id](result<std::vector<ev::envelope>> r) {
            // On the processor's writer thread: hand it over, nothing more.
            result<void> outcome = success();
            if (!r) outcome = failure(r.error());
            std::lock_guard lock(mutex_);
            records_done_.push_back({id, std::move(outcome)});
            --records_in_flight_;
            wake_.notify_all();
            records_idle_.notify_all();
        });
    if (!queued) {
        std::lock_guard lock(mutex_);
        records_done_.push_back({id, failure(queued.error())});
        --records_in_flight_;
        records_idle_.notify_all();
    }
}

void notifier::finish_record(const recorded& r) {
    delivery d;
    {
        std::lock_guard lock(mutex_);
        auto it = awaiting_record_.find(r.message_id);
        if (it == awaiting_record_.end()) return;
        d = std::move(it->second);
        awaiting_record_.erase(it);
    }
    const auto& m = d.message;
    const bool retry = !r.outcome && (r.outcome.error().code == errc::busy ||
                                      r.outcome.error().code == errc::unavailable ||
                                      r.outcome.error().code == errc::io_error);
    std::lock_guard lock(mutex_);
    if (retry && !stopping_) {
        ++d.record_tries;
        const auto wait =
            std::min(backoff_after(d.record_tries), std::max(record_backoff_max, options_.backoff));
        spdlog::warn("notifications: recording {} failed, trying again in {} ms: {}", m.message_id,
                     wait.count(), r.outcome.error().message);
        d.next = steady::now() + wait;
        queue_.emplace(d.next, std::move(d));
        return;
    }
    outstanding_.erase(m.message_id);
    --counters_.pending;
    if (!r.outcome) {
        // Not recorded: sent again after a restart (at least once).
        spdlog::warn("notifications: {} was {} but could not be recorded: {}", m.message_id,
                     d.delivered ? "sent" : "given up on", r.outcome.error().message);
        return;
    }
    if (d.delivered) {
        ++counters_.sent;
        spdlog::info("notifications: {} sent to {}", m.message_id, m.recipient);
    } else {
        ++counters_.failed;
    }
}

}  // namespace migops::api
