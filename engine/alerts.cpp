#include "engine/alerts.h"

#include <algorithm>
#include <limits>

namespace migops::engine {

namespace ev = events;

namespace {

constexpr std::int64_t micros_per_minute = 60'000'000;

timestamp plus_minutes(timestamp t, std::uint32_t minutes) {
    return timestamp{t.micros + static_cast<std::int64_t>(minutes) * micros_per_minute};
}

bool enabled(const journey_state& j, ev::alert_kind k) {
    return std::find(j.rules.disabled.begin(), j.rules.disabled.end(), k) == j.rules.disabled.end();
}

bool open_work(const node_state& n) {
    return n.is_task() && n.in_scope && is_open(n.status);
}

// The rung an alert raised at `raised` is on at `now`.
std::uint32_t rung(const journey_state& j, timestamp raised, timestamp now) {
    const auto& r = j.rules;
    if (r.escalate_to_space_admins_minutes > 0 &&
        now >= plus_minutes(raised, r.escalate_to_space_admins_minutes))
        return 2;
    if (r.escalate_to_journey_admins_minutes > 0 &&
        now >= plus_minutes(raised, r.escalate_to_journey_admins_minutes))
        return 1;
    return 0;
}

bool overdue(const journey_state& j, const node_state& n, timestamp now) {
    if (!open_work(n)) return false;
    auto due = effective_due(j, n);
    return due && *due <= now;
}

// Calls want(kind, reason) for each alert the rules want the task to carry
// at `now`, enabled or not; reason() makes its text, so that a caller that
// needs only the kinds builds no strings.
template <class Want>
void each_wanted(const journey_state& j, const node_state& n, timestamp now, const Want& want) {
    if (!open_work(n)) return;
    const auto due = effective_due(j, n);
    if (due && *due <= now) {
        want(ev::alert_kind::overdue,
             [&] { return "due " + format_rfc3339(*due) + " and not completed"; });
    } else if (due && j.rules.due_soon_minutes > 0 &&
               plus_minutes(now, j.rules.due_soon_minutes) >= *due) {
        want(ev::alert_kind::due_soon, [&] { return "due " + format_rfc3339(*due); });
    }
    if (n.status == ev::task_status::blocked) {
        want(ev::alert_kind::blocked, [&] { return "blocked: " + n.blocked_reason; });
        if (n.blocked_since && j.rules.blocked_too_long_minutes > 0 &&
            now >= plus_minutes(*n.blocked_since, j.rules.blocked_too_long_minutes))
            want(ev::alert_kind::blocked_too_long, [&] {
                return "blocked since " + format_rfc3339(*n.blocked_since) + ": " +
                       n.blocked_reason;
            });
    }
    for (const auto& d : n.dependencies) {
        auto it = j.nodes.find(d);
        if (it != j.nodes.end() && overdue(j, it->second, now)) {
            want(ev::alert_kind::dependency_late,
                 [&] { return "waits on '" + it->second.title + "', overdue"; });
            break;
        }
    }
}

// The rung an alert of kind k should be on at `now` (0 when not active).
std::uint32_t wanted_level(const journey_state& j, const node_state& n, ev::alert_kind k,
                           timestamp now) {
    auto active = n.alerts.find(k);
    return active == n.alerts.end() ? 0 : rung(j, active->second.raised_at, now);
}

}  // namespace

std::optional<timestamp> effective_due(const journey_state& j, const node_state& n) {
    if (!n.due) return std::nullopt;
    // The union of the help requests' open intervals on this task.
    std::vector<std::pair<std::int64_t, std::int64_t>> spans;
    for (const auto& [id, h] : j.help) {
        if (h.target != n.id.value) continue;
        if (!h.closed_at) return std::nullopt;  // waiting on help now
        spans.emplace_back(h.opened_at.micros, h.closed_at->micros);
    }
    std::sort(spans.begin(), spans.end());
    std::int64_t paused = 0;
    std::int64_t end = std::numeric_limits<std::int64_t>::min();
    for (const auto& [from, to] : spans) {
        const auto start = std::max(from, end);
        if (to > start) paused += to - start;
        end = std::max(end, to);
    }
    return timestamp{n.due->micros + paused};
}

std::vector<wanted_alert> wanted_alerts(const journey_state& j, const node_state& n,
                                        timestamp now) {
    std::vector<wanted_alert> out;
    each_wanted(j, n, now, [&](ev::alert_kind k, const auto& reason) {
        if (enabled(j, k)) out.push_back({k, reason(), wanted_level(j, n, k, now)});
    });
    return out;
}

bool carries_wanted_alerts(const journey_state& j, const node_state& n, timestamp now) {
    std::size_t wanted = 0;
    bool carried = true;
    each_wanted(j, n, now, [&](ev::alert_kind k, const auto&) {
        if (!enabled(j, k)) return;
        ++wanted;
        auto a = n.alerts.find(k);
        carried = carried && a != n.alerts.end() && a->second.level >= wanted_level(j, n, k, now);
    });
    return carried && wanted == n.alerts.size();
}

std::optional<timestamp> next_review(const journey_state& j, const node_state& n, timestamp now) {
    if (!open_work(n)) return std::nullopt;
    std::optional<timestamp> next;
    auto consider = [&](timestamp t) {
        if (t > now && (!next || t < *next)) next = t;
    };
    if (auto due = effective_due(j, n)) {
        consider(*due);
        if (j.rules.due_soon_minutes > 0)
            consider(timestamp{due->micros - static_cast<std::int64_t>(j.rules.due_soon_minutes) *
                                                 micros_per_minute});
    }
    if (n.blocked_since && j.rules.blocked_too_long_minutes > 0)
        consider(plus_minutes(*n.blocked_since, j.rules.blocked_too_long_minutes));
    for (const auto& [kind, a] : n.alerts) {
        if (j.rules.escalate_to_journey_admins_minutes > 0)
            consider(plus_minutes(a.raised_at, j.rules.escalate_to_journey_admins_minutes));
        if (j.rules.escalate_to_space_admins_minutes > 0)
            consider(plus_minutes(a.raised_at, j.rules.escalate_to_space_admins_minutes));
    }
    for (const auto& d : n.dependencies) {
        auto it = j.nodes.find(d);
        if (it == j.nodes.end() || !open_work(it->second)) continue;
        if (auto due = effective_due(j, it->second)) consider(*due);
    }
    return next;
}

std::vector<node_id> dependents_of(const journey_state& j, const node_id& id) {
    std::vector<node_id> out;
    for (const auto& [other, n] : j.nodes)
        if (n.dependencies.contains(id)) out.push_back(other);
    return out;
}

}  // namespace migops::engine
