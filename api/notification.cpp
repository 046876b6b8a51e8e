#include "api/notification.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <set>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "engine/alerts.h"
#include "engine/commands.h"
#include "events/codec.h"

namespace migops::api {

namespace ev = events;
using boost::json::object;

namespace {

// The highest rung of the ladder (engine/alerts.cpp): the space admins.
constexpr std::uint32_t top_rung = 2;
// Characters of a webhook's digest in its message id.
constexpr std::size_t webhook_key_length = 16;
// Quoted-printable lines are at most 76 characters, the soft break included.
constexpr std::size_t qp_line = 75;
// Bytes of UTF-8 text per RFC 2047 encoded word: 64 characters encoded, so
// the first line, after "Subject: ", stays within 78.
constexpr std::size_t encoded_word_bytes = 39;
// SMTP lines are at most 998 characters (RFC 5322 2.1.1).
constexpr std::size_t smtp_line_limit = 998;

constexpr char hex_digits[] = "0123456789ABCDEF";

// RFC 5322 atext, plus '.' (allowed inside a dot-atom).
bool atext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}

std::string percent_escaped(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (atext(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(hex_digits[b >> 4]);
            out.push_back(hex_digits[b & 0xf]);
        }
    }
    return out;
}

// A header value on one line: control characters (CR and LF above all)
// become spaces.
std::string one_line(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return out;
}

bool plain_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x7f && (b >= 0x20 || c == '\n' || c == '\t');
    });
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// RFC 2047: non-ASCII text as UTF-8 base64 encoded words, folded; each
// word holds whole characters.
std::string header_text(std::string_view s) {
    std::string line = one_line(s);
    if (plain_ascii(line)) return line;
    std::string out;
    std::size_t at = 0;
    while (at < line.size()) {
        std::size_t end = std::min(line.size(), at + encoded_word_bytes);
        while (end < line.size() && end > at &&
               (static_cast<unsigned char>(line[end]) & 0xc0) == 0x80)
            --end;  // not inside a character
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + base64(line.substr(at, end - at)) + "?=";
        at = end;
    }
    return out;
}

// The body with CRLF line ends; quoted-printable when it is not plain
// ASCII in short lines.
std::pair<std::string, std::string> body_encoding(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (;;) {
        const auto nl = text.find('\n', start);
        lines.push_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    const bool simple = plain_ascii(text) && std::all_of(lines.begin(), lines.end(), [](auto l) {
                            return l.size() <= smtp_line_limit;
                        });
    std::string out;
    if (simple) {
        for (auto l : lines) out.append(l).append("\r\n");
        return {"7bit", out};
    }
    for (auto l : lines) {
        std::size_t width = 0;
        for (std::size_t i = 0; i < l.size(); ++i) {
            const auto b = static_cast<unsigned char>(l[i]);
            const bool last = i + 1 == l.size();
            const bool literal =
                (b >= 0x21 && b <= 0x7e && b != '=') || ((b == ' ' || b == '\t') && !last);
            std::string token = literal ? std::string(1, l[i])
                                        : std::string{'=', hex_digits[b >> 4], hex_digits[b & 0xf]};
            if (width + token.size() > qp_line) {
                out += "=\r\n";
                width = 0;
            }
            out += token;
            width += token.size();
        }
        out += "\r\n";
    }
    return {"quoted-printable", out};
}

// RFC 5322 date-time in UTC: "Thu, 01 Jan 2026 10:00:00 +0000".
std::string mail_date(timestamp t) {
    const std::time_t secs = static_cast<std::time_t>(t.micros / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, 64> buf{};
    const auto n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return std::string(buf.data(), n);
}

std::string_view kind_title(ev::alert_kind k) {
    switch (k) {
        case ev::alert_kind::overdue:
            return "Overdue";
        case ev::alert_kind::due_soon:
            return "Due soon";
        case ev::alert_kind::blocked:
            return "Blocked";
        case ev::alert_kind::blocked_too_long:
            return "Blocked too long";
        case ev::alert_kind::dependency_late:
            return "Waiting on a late task";
    }
    return "Alert";
}

std::string_view kind_lead(ev::alert_kind k) {
    switch (k) {
        case ev::alert_kind::overdue:
            return "The task is past its due date and not completed.";
        case ev::alert_kind::due_soon:
            return "The task is due soon.";
        case ev::alert_kind::blocked:
            return "The task was set to blocked.";
        case ev::alert_kind::blocked_too_long:
            return "The task has been blocked for longer than the journey allows.";
        case ev::alert_kind::dependency_late:
            return "The task waits on another task that is overdue.";
    }
    return "";
}

std::string_view rung_name(std::uint32_t level) {
    return level >= top_rung ? "the space's admins" : "the journey's admins";
}

// The people on one rung, in a stable order, each once.
std::vector<addressee> rung(const engine::partition_state& s, const engine::journey_state& j,
                            const engine::node_state& n, std::uint32_t r) {
    const auto* sp = s.space(engine::space_of_id(j.id.value));
    std::vector<addressee> out;
    std::set<user_id> seen;
    auto add = [&](const user_id& u, const std::string& why) {
        if (!u.empty() && u != engine::system_actor && seen.insert(u).second)
            out.push_back({u, why});
    };
    auto add_team = [&](const team_id& t, const std::string& why_suffix) {
        if (!sp) return;
        auto it = sp->teams.find(t);
        if (it == sp->teams.end()) return;
        for (const auto& m : it->second.members)
            add(m, "your team \"" + it->second.name + "\" " + why_suffix);
    };
    auto add_admins = [&](const engine::grants& g, ev::role admin, const std::string& of) {
        for (const auto& [u, role] : g.users)
            if (role == admin) add(u, "you are an admin of " + of);
        for (const auto& [t, role] : g.teams)
            if (role == admin) add_team(t, "is an admin of " + of);
    };
    if (r == 0) {
        add(n.assignee_user, "you are assigned to this task");
        if (!n.assignee_team.empty()) add_team(n.assignee_team, "is assigned to this task");
    } else if (r == 1) {
        add_admins(j.members, ev::role::journey_admin, "the journey \"" + j.name + "\"");
    } else if (sp) {
        add_admins(sp->members, ev::role::space_admin, "the space \"" + sp->name + "\"");
    }
    return out;
}

std::string format_due(const engine::journey_state& j, const engine::node_state& n) {
    if (!n.due) return "no due date";
    auto due = format_rfc3339(*n.due);
    const auto effective = engine::effective_due(j, n);
    if (!effective) return due + " (paused: an expert-help request on it is open)";
    if (effective->micros != n.due->micros)
        due += " (" + format_rfc3339(*effective) + " with the time spent waiting on help)";
    return due;
}

std::string assignee_text(const engine::partition_state& s, const engine::journey_state& j,
                          const engine::node_state& n) {
    std::string out = n.assignee_user.empty() ? "nobody" : n.assignee_user.value;
    if (n.assignee_team.empty()) return out;
    const auto* sp = s.space(engine::space_of_id(j.id.value));
    std::string team = n.assignee_team.value;
    if (sp)
        if (auto it = sp->teams.find(n.assignee_team); it != sp->teams.end())
            team = "\"" + it->second.name + "\"";
    return out + ", team " + team;
}

// What every message about the alert says, whoever receives it.
struct alert_facts {
    std::string title;
    std::string reason;
    std::string task_link;
    std::string alerts_link;
    std::string journey;
    std::string space;
    std::string status;
    std::string due;
    std::string assignee;
    std::string raised_at;
};

std::string email_body(const alert_facts& f, const engine::node_state& n, ev::alert_kind kind,
                       std::uint32_t level, const std::string& why, const std::string& id) {
    std::string t;
    t += std::string(kind_title(kind)) + ": task \"" + f.title + "\" in journey \"" + f.journey +
         "\" (" + f.space + ").\n\n";
    t += std::string(kind_lead(kind)) + "\n";
    if (level > 0)
        t += "It was raised " + f.raised_at + " and is still open, so it now goes to " +
             std::string(rung_name(level)) + " as well.\n";
    t += "\n";
    t += "Reason:    " + f.reason + "\n";
    t += "Task:      " + f.title + " (" + n.id.value + ")\n";
    t += "Status:    " + f.status + "\n";
    t += "Due:       " + f.due + "\n";
    t += "Assignee:  " + f.assignee + "\n";
    t += "Journey:   " + f.journey + "\n";
    t += "Space:     " + f.space + "\n";
    t += "Raised:    " + f.raised_at + "\n";
    t += "\n";
    t += "Open the task: " + f.task_link + "\n";
    t += "All alerts of the journey: " + f.alerts_link + "\n";
    t += "\n";
    t += "You receive this because " + why + ".\n";
    t += "\n";
    t += "-- \n";
    t += "Sent by migops. Message id: " + id + "\n";
    return t;
}

std::string webhook_payload(const alert_facts& f, const engine::partition_state& s,
                            const engine::journey_state& j, const engine::node_state& n,
                            ev::alert_kind kind, const std::string& alert, std::uint32_t level,
                            const std::string& id, const std::string& public_url) {
    const auto* sp = s.space(engine::space_of_id(j.id.value));
    boost::json::array audience_ids;
    for (std::uint32_t r = 0; r <= level; ++r)
        for (const auto& a : audience(s, j, n, r)) audience_ids.emplace_back(a.user.value);
    object data{
        {"alert", alert},
        {"kind", to_string(kind)},
        {"level", level},
        {"reason", f.reason},
        {"raised_at", f.raised_at},
        {"task",
         object{{"id", n.id.value},
                {"title", n.title},
                {"status", to_string(n.status)},
                {"due", n.due ? boost::json::value(format_rfc3339(*n.due)) : nullptr},
                {"assignee", object{{"user", n.assignee_user.empty()
                                                 ? boost::json::value(nullptr)
                                                 : boost::json::value(n.assignee_user.value)},
                                    {"team", n.assignee_team.empty()
                                                 ? boost::json::value(nullptr)
                                                 : boost::json::value(n.assignee_team.value)}}},
                {"link", f.task_link}}},
        {"journey", object{{"id", j.id.value}, {"name", j.name}, {"alerts", f.alerts_link}}},
        {"space", object{{"id", sp ? sp->id.value : engine::space_of_id(j.id.value).value},
                         {"name", sp ? sp->name : ""}}},
        {"audience", std::move(audience_ids)},
    };
    object ce{{"specversion", "1.0"},
              {"id", id},
              {"source", public_url + "/v1/journeys/" + j.id.value},
              {"type", level == 0 ? "io.migops.alert.raised.v1" : "io.migops.alert.escalated.v1"},
              {"subject", n.id.value},
              {"time", f.raised_at},
              {"datacontenttype", "application/json"},
              {"data", std::move(data)}};
    return boost::json::serialize(ce);
}

}  // namespace

std::optional<std::string> address_book::address_of(const user_id& user) const {
    if (auto it = addresses.find(user); it != addresses.end()) return it->second;
    if (default_domain.empty()) return std::nullopt;
    const std::string address = user.value + "@" + default_domain;
    if (!valid_address(address)) return std::nullopt;
    return address;
}

bool valid_address(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
    const auto local = address.substr(0, at);
    const auto domain = address.substr(at + 1);
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return false;
    if (!std::all_of(local.begin(), local.end(), atext)) return false;
    if (domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos)
        return false;
    return std::all_of(domain.begin(), domain.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
    });
}

result<std::map<user_id, std::string>> parse_recipients(std::string_view text,
                                                        const std::string& source) {
    std::map<user_id, std::string> out;
    std::size_t start = 0;
    for (std::size_t number = 1; start <= text.size(); ++number) {
        const auto nl = text.find('\n', start);
        std::string line(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
        start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        auto trim = [](std::string s) {
            while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
                s.pop_back();
            while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
            return s;
        };
        line = trim(line);
        if (line.empty() || line.front() == '#') continue;
        const auto eq = line.find('=');
        const std::string where = source + " line " + std::to_string(number);
        if (eq == std::string::npos)
            return failure(errc::invalid_argument, where + ": expected user=address");
        const auto user = trim(line.substr(0, eq));
        const auto address = trim(line.substr(eq + 1));
        if (user.empty()) return failure(errc::invalid_argument, where + ": the user is missing");
        if (!valid_address(address))
            return failure(errc::invalid_argument,
                           where + ": \"" + address + "\" is not an address like ops@example.com");
        if (!out.emplace(user_id{user}, address).second)
            return failure(errc::invalid_argument, where + ": " + user + " is listed twice");
    }
    return out;
}

std::string message_id(std::string_view alert, std::uint32_t level, std::string_view channel,
                       std::string_view key) {
    std::string out(alert);
    out += "/" + std::to_string(level) + "/";
    out += channel;
    out += "/";
    out += key;
    return out;
}

std::string webhook_key(std::string_view url) {
    return to_hex(ev::sha256(url)).substr(0, webhook_key_length);
}

std::string redacted_url(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos)
        return std::string(url.substr(0, url.find_first_of("?#")));
    const auto authority_start = scheme + 3;
    const auto authority_end = url.find_first_of("/?#", authority_start);
    auto authority = url.substr(authority_start, authority_end == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : authority_end - authority_start);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
        authority = authority.substr(at + 1);
    std::string out(url.substr(0, authority_start));
    out += authority;
    if (authority_end != std::string_view::npos && url[authority_end] == '/') {
        const auto path = url.substr(authority_end);
        out += path.substr(0, path.find_first_of("?#"));
    }
    return out;
}

std::vector<addressee> audience(const engine::partition_state& s, const engine::journey_state& j,
                                const engine::node_state& n, std::uint32_t level) {
    level = std::min(level, top_rung);
    std::set<user_id> earlier;
    for (std::uint32_t r = 0; r <= level; ++r) {
        auto people = rung(s, j, n, r);
        if (r == 0 && people.empty()) {
            // Nobody is assigned: the first rung with people hears of it now.
            for (std::uint32_t up = 1; up <= top_rung && people.empty(); ++up) {
                people = rung(s, j, n, up);
                for (auto& p : people) p.why = "the task has no assignee and " + p.why;
            }
        }
        if (r == level) {
            std::erase_if(people, [&](const addressee& a) { return earlier.contains(a.user); });
            return people;
        }
        for (const auto& p : people) earlier.insert(p.user);
    }
    return {};
}

std::vector<outgoing> due_messages(
    const engine::partition_state& s, const engine::journey_state& j, const engine::node_state& n,
    const notify_content& c, timestamp now,
    const std::function<std::optional<std::uint32_t>(const std::string& alert)>& max_level) {
    std::vector<outgoing> out;
    if (!n.is_task() || (!c.email && c.webhooks.empty())) return out;
    const auto* sp = s.space(engine::space_of_id(j.id.value));
    const auto wanted = engine::wanted_alerts(j, n, now);
    auto recorded = [&](const std::string& id) {
        return n.notified.contains(id) || n.failed_notifications.contains(id);
    };
    for (const auto& entry : n.alerts) {
        const auto kind = entry.first;
        const auto& a = entry.second;
        const auto cap = max_level(a.id);
        if (!cap) continue;
        alert_facts f;
        f.title = n.title;
        f.reason = std::string(kind_lead(kind));
        for (const auto& w : wanted)
            if (w.kind == kind) f.reason = w.reason;
        f.task_link = c.public_url + "/v1/tasks/" + n.id.value;
        f.alerts_link = c.public_url + "/v1/journeys/" + j.id.value + "/alerts";
        f.journey = j.name;
        f.space = sp ? sp->name : engine::space_of_id(j.id.value).value;
        f.status = std::string(to_string(n.status));
        if (n.status == ev::task_status::blocked && !n.blocked_reason.empty())
            f.status += " (" + n.blocked_reason + ")";
        if (engine::is_waiting(j, n)) f.status += ", waiting on other tasks";
        f.due = format_due(j, n);
        f.assignee = assignee_text(s, j, n);
        f.raised_at = format_rfc3339(a.raised_at);
        const auto top = std::min(a.level, *cap);
        for (std::uint32_t level = 0; level <= top; ++level) {
            auto base = [&](std::string channel, std::string recipient, std::string id) {
                outgoing m;
                m.task = n.id;
                m.alert = a.id;
                m.kind = kind;
                m.level = level;
                m.channel = std::move(channel);
                m.recipient = std::move(recipient);
                m.message_id = std::move(id);
                return m;
            };
            if (c.email) {
                for (const auto& who : audience(s, j, n, level)) {
                    auto id = message_id(a.id, level, "email", who.user.value);
                    if (recorded(id)) continue;
                    auto m = base("email", who.user.value, id);
                    m.address = c.book.address_of(who.user).value_or("");
                    m.subject = "[migops] " +
                                (level > 0 ? "Escalated to " + std::string(rung_name(level)) + ": "
                                           : std::string()) +
                                std::string(kind_title(kind)) + ": " + n.title + " (" + j.name +
                                ")";
                    m.text = email_body(f, n, kind, level, who.why, id);
                    out.push_back(std::move(m));
                }
            }
            for (const auto& url : c.webhooks) {
                auto id = message_id(a.id, level, "webhook", webhook_key(url));
                if (recorded(id)) continue;
                auto m = base("webhook", redacted_url(url), id);
                m.url = url;
                m.payload = webhook_payload(f, s, j, n, kind, a.id, level, id, c.public_url);
                out.push_back(std::move(m));
            }
        }
    }
    return out;
}

std::string email_text(const outgoing& m, std::string_view from, timestamp date) {
    const auto at = from.rfind('@');
    const auto domain =
        at == std::string_view::npos ? std::string_view("migops") : from.substr(at + 1);
    auto [encoding, body] = body_encoding(m.text);
    std::string out;
    out += "From: " + one_line(from) + "\r\n";
    out += "To: " + one_line(m.address) + "\r\n";
    out += "Subject: " + header_text(m.subject) + "\r\n";
    out += "Date: " + mail_date(date) + "\r\n";
    out += "Message-ID: <" + percent_escaped(m.message_id) + "@" + std::string(domain) + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += "Content-Transfer-Encoding: " + encoding + "\r\n";
    // RFC 3834: an automatic message; auto-responders stay quiet.
    out += "Auto-Submitted: auto-generated\r\n";
    out += "X-Auto-Response-Suppress: All\r\n";
    out += "X-Migops-Alert: " + percent_escaped(m.alert) + "\r\n";
    out += "\r\n";
    out += body;
    return out;
}

std::string signature(std::string_view secret, std::string_view body) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &len);
    std::string out = "sha256=";
    static constexpr char lower_hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(lower_hex[mac[i] >> 4]);
        out.push_back(lower_hex[mac[i] & 0xf]);
    }
    return out;
}

}  // namespace migops::api
