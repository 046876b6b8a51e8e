#pragma once
// What the notifier sends about alerts, as pure functions of a partition's
// state: who hears of an alert on each rung of the escalation ladder, the
// stable id of each message, the email (RFC 5322 text) and the webhook's
// CloudEvent, and the HMAC signature over it. No I/O and no clock:
// api/notifier.h sends, retries and records.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/state.h"
#include "events/result.h"

namespace migops::api {

// Users are ids (a token's sub) without addresses: where their mail goes.
struct address_book {
    std::map<user_id, std::string> addresses;  // from the smtp_recipients file
    std::string default_domain;                // user@domain for the others; empty: none
    // nullopt when the user has no address (listed nowhere, or an id that is
    // not a valid local part and no listed address).
    std::optional<std::string> address_of(const user_id& user) const;
};

// A plain addr-spec "local@domain" (no display name, no spaces or angle
// brackets, no quoted local part).
bool valid_address(std::string_view address);

// Reads "user=address" lines (blank lines and "#" comments are skipped);
// a bad line is refused with its number, naming `source`.
result<std::map<user_id, std::string>> parse_recipients(std::string_view text,
                                                        const std::string& source);

// What the configuration says about every message.
struct notify_content {
    bool email = false;                 // SMTP is configured
    std::vector<std::string> webhooks;  // URLs that receive every alert
    std::string public_url;             // base of the links, without a trailing slash
    std::string from;                   // the sender's address
    address_book book;
};

// One message about one alert on one rung, to one recipient on one channel.
struct outgoing {
    node_id task;
    std::string alert;  // the alert's id, "<task>/<kind>/<episode>"
    events::alert_kind kind{};
    std::uint32_t level = 0;
    std::string channel;     // "email" or "webhook"
    std::string recipient;   // the user id, or the webhook URL without credentials or query
    std::string message_id;  // see message_id()
    std::string address;     // email: the address; empty when the user has none
    std::string subject;     // email
    std::string text;        // email: the plain-text body
    std::string url;         // webhook: where to POST
    std::string payload;     // webhook: the CloudEvent (JSON, structured mode)
};

// "<alert>/<level>/<channel>/<key>": the key is the user id for an email,
// webhook_key(url) for a webhook. Stable: the receiver deduplicates by it
// and state records it (node_state::notified).
std::string message_id(std::string_view alert, std::uint32_t level, std::string_view channel,
                       std::string_view key);
// The first 16 hex digits of the SHA-256 of the URL.
std::string webhook_key(std::string_view url);

// A webhook's URL as recorded: scheme, host, port and path, without
// credentials, query or fragment (which may hold secrets).
std::string redacted_url(std::string_view url);

// The people on rung `level` of the task's escalation ladder who were not
// on a lower rung, each with why they hear of it. Rung 0 is the assignee
// (the user and the members of the team); a task without one goes to the
// first rung that has people. Rung 1 is the journey's admins (users and
// members of teams granted journey_admin), rung 2 the space's admins.
struct addressee {
    user_id user;
    std::string why;
    friend bool operator==(const addressee&, const addressee&) = default;
};
std::vector<addressee> audience(const engine::partition_state& s, const engine::journey_state& j,
                                const engine::node_state& n, std::uint32_t level);

// Every message the task's active alerts call for, on every rung up to
// the one each is on and at most max_level(alert) (nullopt: leave the
// alert out), that state does not record as sent or given up on. `now`
// only words the reason (the rules' reason for the alert at that time).
std::vector<outgoing> due_messages(
    const engine::partition_state& s, const engine::journey_state& j, const engine::node_state& n,
    const notify_content& c, timestamp now,
    const std::function<std::optional<std::uint32_t>(const std::string& alert)>& max_level);

// The whole email, headers and body, with CRLF line ends, ready for SMTP
// DATA. Message-ID is <message id, %-escaped where needed @ the sender's
// domain>; X-Migops-Message-Id carries the id as it is.
std::string email_text(const outgoing& m, std::string_view from, timestamp date);

// "sha256=<hex HMAC-SHA256 of body keyed with secret>": the
// X-Migops-Signature header of a webhook POST.
std::string signature(std::string_view secret, std::string_view body);

}  // namespace migops::api
