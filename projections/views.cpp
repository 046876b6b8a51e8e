#include "projections/views.h"

#include <array>
#include <charconv>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "engine/domain.h"
#include "events/fields.h"

namespace migops::projections {

namespace ev = events;
using boost::json::array;
using boost::json::object;
using boost::json::value;

namespace {

value id_or_null(const std::string& id) {
    return id.empty() ? value(nullptr) : value(id);
}

value time_or_null(const std::optional<timestamp>& t) {
    return t ? value(format_rfc3339(*t)) : value(nullptr);
}

array strings(const auto& items) {
    array a;
    for (const auto& i : items) a.emplace_back(std::string_view(i));
    return a;
}

array grants_json(const engine::grants& g) {
    array a;
    for (const auto& [user, r] : g.users)
        a.push_back(object{{"user", user.value}, {"role", to_string(r)}});
    for (const auto& [team, r] : g.teams)
        a.push_back(object{{"team", team.value}, {"role", to_string(r)}});
    return a;
}

array teams_json(const engine::space_state& sp) {
    array teams;
    for (const auto& [id, t] : sp.teams) {
        array members;
        for (const auto& u : t.members) members.emplace_back(u.value);
        teams.push_back(
            object{{"id", id.value}, {"name", t.name}, {"members", std::move(members)}});
    }
    return teams;
}

object help_json(const engine::help_state& h) {
    object o{{"id", h.id},
             {"target", h.target},
             {"kind", to_string(h.kind)},
             {"description", h.description},
             {"requested_by", h.requested_by.value},
             {"accepted_by", id_or_null(h.accepted_by.value)},
             {"state", engine::to_string(h.at)}};
    if (!h.note.empty()) o["note"] = h.note;
    return o;
}

// Whether a criterion holds now. Text criteria are acknowledged only by the
// completion itself; a completed task met all of its criteria.
bool met(const engine::journey_state& j, const engine::node_state& n, const ev::criterion_spec& k) {
    if (n.status == ev::task_status::completed) return true;
    if (k.kind == ev::criterion_kind::text) return false;
    ev::completion_evidence scratch;
    return engine::unmet_criterion(j, n, k, user_id{}, {}, scratch).empty();
}

bool counts(const engine::node_state& n) {
    return n.in_scope && n.status != ev::task_status::out_of_scope;
}

void count_task(const engine::node_state& n, progress& p) {
    if (!n.in_scope) return;
    ++p.by_status.at(static_cast<std::size_t>(n.status) - 1);
    if (!counts(n)) return;
    ++p.total;
    if (n.status == ev::task_status::completed) ++p.completed;
}

}  // namespace

void progress::add(const progress& other) {
    for (std::size_t i = 0; i < by_status.size(); ++i) by_status.at(i) += other.by_status.at(i);
    total += other.total;
    completed += other.completed;
}

void progress::append_json(std::string& out) const {
    // Appended piece by piece: every module and phase of a journey row has
    // one, rendered again whenever a task in the journey changes.
    const auto number = [&out](std::uint32_t n) {
        std::array<char, 10> digits{};
        const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
        out.append(digits.data(), end);
    };
    // Whole percent, rounded down: 100 only when everything is done.
    const std::uint32_t percent = total == 0 ? 0 : completed * 100 / total;
    out += R"({"completed":)";
    number(completed);
    out += R"(,"total":)";
    number(total);
    out += R"(,"percent":)";
    number(percent);
    out += R"(,"by_status":{)";
    for (std::size_t i = 0; i < by_status.size(); ++i) {
        if (i > 0) out += ',';
        // Status names are plain lower-case words: nothing to escape.
        out += '"';
        out += to_string(static_cast<ev::task_status>(i + 1));
        out += R"(":)";
        number(by_status.at(i));
    }
    out += "}}";
}

progress progress_of(const engine::journey_state& j, const engine::node_state& n) {
    progress p;
    if (n.is_task()) {
        if (n.kind == ev::node_kind::task) count_task(n, p);
        return p;
    }
    if (!n.in_scope) return p;
    for (const auto& c : n.children) p.add(progress_of(j, j.nodes.at(c)));
    return p;
}

progress progress_of(const engine::journey_state& j) {
    return progress_tree(j).total;
}

namespace {

array subtasks_of(const engine::journey_state& j, const engine::node_state& n, bool with_details) {
    array subtasks;
    for (const auto& c : n.children) subtasks.push_back(task_view(j, j.nodes.at(c), with_details));
    return subtasks;
}

// What a task shows on the board; its subtasks with or without details.
object task_members(const engine::journey_state& j, const engine::node_state& n,
                    bool with_details) {
    object o;
    o["version"] = n.version;
    o["id"] = n.id.value;
    o["kind"] = to_string(n.kind);
    o["title"] = n.title;
    o["status"] = to_string(n.status);
    if (n.status == ev::task_status::blocked) o["blocked_reason"] = n.blocked_reason;
    o["in_scope"] = n.in_scope;
    o["assignee"] = object{{"user", id_or_null(n.assignee_user.value)},
                           {"team", id_or_null(n.assignee_team.value)}};
    o["due"] = time_or_null(n.due);
    o["estimated_minutes"] = n.estimated_minutes;
    o["spent_minutes"] = n.spent_minutes;
    array criteria;
    for (const auto& k : n.criteria) {
        object c{{"id", k.id},
                 {"type", to_string(k.kind)},
                 {"description", k.description},
                 {"met", met(j, n, k)}};
        if (!k.pattern.empty()) c["pattern"] = k.pattern;
        if (!k.media_types.empty()) c["media_types"] = strings(k.media_types);
        criteria.push_back(std::move(c));
    }
    o["acceptance_criteria"] = std::move(criteria);
    array steps;
    for (const auto& s : n.steps)
        steps.push_back(object{{"id", s.id}, {"text", s.text}, {"checked", s.checked}});
    o["steps"] = std::move(steps);
    o["subtasks"] = subtasks_of(j, n, with_details);
    array deps;
    for (const auto& d : n.dependencies) deps.emplace_back(d.value);
    o["dependencies"] = std::move(deps);
    array artifacts;
    for (const auto& [name, a] : n.artifacts)
        artifacts.push_back(object{{"name", name},
                                   {"media_type", a.media_type},
                                   {"size", a.size},
                                   {"sha256", a.sha256},
                                   {"uploaded_by", a.uploader.value},
                                   {"uploaded_at", format_rfc3339(a.uploaded_at)}});
    o["artifacts"] = std::move(artifacts);
    o["approvals"] = strings([&] {
        std::vector<std::string> users;
        for (const auto& u : n.approvals) users.push_back(u.value);
        return users;
    }());
    o["waiting"] = engine::is_waiting(j, n);
    array alerts;
    for (const auto& [kind, a] : n.alerts)
        alerts.push_back(object{{"id", a.id},
                                {"kind", to_string(kind)},
                                {"level", a.level},
                                {"raised_at", format_rfc3339(a.raised_at)}});
    o["alerts"] = std::move(alerts);
    array failed;
    for (const auto& [message, why] : n.failed_notifications)
        failed.push_back(object{{"message_id", message}, {"reason", why}});
    o["failed_notifications"] = std::move(failed);
    return o;
}

// Run book, tools, links, comments, help requests and evidence.
void add_details(const engine::journey_state& j, const engine::node_state& n, object& o) {
    o["journey"] = j.id.value;
    o["parent"] = n.parent.value;
    o["description"] = n.description;
    o["tools"] = strings(n.tools);
    array links;
    for (const auto& l : n.links) links.push_back(object{{"title", l.title}, {"url", l.url}});
    o["links"] = std::move(links);
    array comments;
    for (const auto& c : n.comments)
        comments.push_back(object{{"id", c.id},
                                  {"author", c.author.value},
                                  {"text", c.text},
                                  {"at", format_rfc3339(c.at)},
                                  {"edited", c.edited}});
    o["comments"] = std::move(comments);
    array help;
    for (const auto& [id, h] : j.help)
        if (h.target == n.id.value) help.push_back(help_json(h));
    o["help_requests"] = std::move(help);
    if (n.status == ev::task_status::completed) {
        array files;
        for (const auto& a : n.evidence.artifacts)
            files.push_back(object{{"name", a.name}, {"sha256", a.sha256}});
        o["evidence"] = object{{"artifacts", std::move(files)},
                               {"approver", id_or_null(n.evidence.approver.value)},
                               {"acknowledged", strings(n.evidence.acknowledged)}};
    }
}

}  // namespace

object task_view(const engine::journey_state& j, const engine::node_state& n, bool with_details) {
    auto o = task_members(j, n, with_details);
    if (with_details) add_details(j, n, o);
    return o;
}

task_texts task_json(const engine::journey_state& j, const engine::node_state& n) {
    auto o = task_members(j, n, false);
    task_texts out;
    out.brief = boost::json::serialize(o);
    if (!n.children.empty()) {
        o["subtasks"] = subtasks_of(j, n, true);
        add_details(j, n, o);
        out.detailed = boost::json::serialize(o);
        return out;
    }
    // Without subtasks the members are the same: the details follow the
    // brief text's members, in the order add_details gives them, and the
    // members are not serialized twice.
    object details;
    add_details(j, n, details);
    const auto more = boost::json::serialize(details);  // "{…}", never empty
    out.detailed.reserve(out.brief.size() + more.size());
    out.detailed.append(out.brief, 0, out.brief.size() - 1);
    out.detailed += ',';
    out.detailed.append(more, 1);
    return out;
}

namespace {

// An object's text without its closing brace, for members that follow.
std::string opened(const object& o) {
    auto text = boost::json::serialize(o);
    text.pop_back();
    return text;
}

}  // namespace

journey_progress progress_tree(const engine::journey_state& j) {
    // Each module counted once; a phase is the sum of its modules (none when
    // out of scope, as progress_of(j, phase) says), the journey the sum of
    // its phases.
    journey_progress out;
    out.modules.resize(j.phases.size());
    out.phases.resize(j.phases.size());
    for (std::size_t i = 0; i < j.phases.size(); ++i) {
        const auto& phase = j.nodes.at(j.phases[i]);
        for (const auto& mid : phase.children) {
            out.modules[i].push_back(progress_of(j, j.nodes.at(mid)));
            if (phase.in_scope) out.phases[i].add(out.modules[i].back());
        }
        out.total.add(out.phases[i]);
    }
    return out;
}

std::string journey_json(const engine::journey_state& j, const task_text_fn& task_text) {
    return journey_json(j, progress_tree(j), task_text);
}

std::string journey_json(const engine::journey_state& j, const journey_progress& p,
                         const task_text_fn& task_text) {
    object head;
    head["version"] = j.version;
    head["id"] = j.id.value;
    head["space"] = engine::space_of_id(j.id.value).value;
    head["name"] = j.name;
    head["description"] = j.description;
    head["status"] = to_string(j.status);
    head["target_date"] = time_or_null(j.target_date);
    if (!j.template_id.empty())
        head["template"] = object{{"id", j.template_id},
                                  {"version", j.template_version},
                                  {"content_hash", j.template_hash}};
    if (!j.copied_from.empty()) head["copied_from"] = j.copied_from.value;
    auto out = opened(head);
    out += R"(,"progress":)";
    p.total.append_json(out);
    // Phases, modules and tasks in the tree's order, each node's own
    // members first and its children last.
    auto node_head = [&](const engine::node_state& n, const progress& of_node) {
        out += R"({"id":)";
        out += boost::json::serialize(n.id.value);
        out += R"(,"title":)";
        out += boost::json::serialize(n.title);
        out += R"(,"description":)";
        out += boost::json::serialize(n.description);
        out += n.in_scope ? R"(,"in_scope":true)" : R"(,"in_scope":false)";
        out += R"(,"version":)";
        out += std::to_string(n.version);
        out += R"(,"progress":)";
        of_node.append_json(out);
    };
    auto join = [&](const auto& ids, auto&& append) {
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (i > 0) out += ',';
            append(j.nodes.at(ids[i]), i);
        }
    };
    out += R"(,"phases":[)";
    join(j.phases, [&](const engine::node_state& phase, std::size_t i) {
        node_head(phase, p.phases[i]);
        out += R"(,"modules":[)";
        join(phase.children, [&](const engine::node_state& module, std::size_t m) {
            node_head(module, p.modules[i][m]);
            out += R"(,"tasks":[)";
            join(module.children,
                 [&](const engine::node_state& task, std::size_t) { task_text(task, out); });
            out += "]}";
        });
        out += "]}";
    });
    out += R"(],"members":)";
    out += boost::json::serialize(grants_json(j.members));
    out += R"(,"alert_rules":)";
    out += boost::json::serialize(ev::to_json_value(j.rules));
    array help;
    for (const auto& [id, h] : j.help) help.push_back(help_json(h));
    out += R"(,"help_requests":)";
    out += boost::json::serialize(help);
    out += '}';
    return out;
}

std::string journey_json(const engine::journey_state& j) {
    return journey_json(j, [&j](const engine::node_state& task, std::string& out) {
        out += boost::json::serialize(task_view(j, task, false));
    });
}

std::string journey_entry_json(const engine::journey_state& j, const progress& p) {
    auto out = opened(object{{"id", j.id.value},
                             {"name", j.name},
                             {"status", to_string(j.status)},
                             {"version", j.version}});
    out += R"(,"progress":)";
    p.append_json(out);
    out += '}';
    return out;
}

std::string space_json(const engine::partition_state& s, const engine::space_state& sp,
                       const journey_entry_fn& journey_entry) {
    object o;
    o["version"] = sp.version;
    o["id"] = sp.id.value;
    o["name"] = sp.name;
    o["description"] = sp.description;
    o["created_by"] = sp.created_by.value;
    o["created_at"] = format_rfc3339(sp.created_at);
    o["members"] = grants_json(sp.members);
    o["teams"] = teams_json(sp);
    auto out = opened(o);
    out += R"(,"journeys":[)";
    bool first = true;
    for (const auto& jid : sp.journeys) {
        const auto* j = s.journey(jid);
        if (!j) continue;
        if (!first) out += ',';
        first = false;
        journey_entry(*j, out);
    }
    out += "]}";
    return out;
}

object members_view(const engine::partition_state& s, const engine::space_state& sp) {
    array journeys;
    for (const auto& jid : sp.journeys)
        if (const auto* j = s.journey(jid))
            journeys.push_back(object{
                {"id", j->id.value}, {"name", j->name}, {"members", grants_json(j->members)}});
    return object{{"version", sp.version},
                  {"space", sp.id.value},
                  {"members", grants_json(sp.members)},
                  {"teams", teams_json(sp)},
                  {"journeys", std::move(journeys)}};
}

object task_summary(const engine::journey_state& j, const engine::node_state& n) {
    return object{{"version", n.version},
                  {"id", n.id.value},
                  {"title", n.title},
                  {"kind", to_string(n.kind)},
                  {"status", to_string(n.status)},
                  {"due", time_or_null(n.due)},
                  {"waiting", engine::is_waiting(j, n)},
                  {"assignee", object{{"user", id_or_null(n.assignee_user.value)},
                                      {"team", id_or_null(n.assignee_team.value)}}},
                  {"journey", j.id.value},
                  {"journey_name", j.name},
                  {"space", engine::space_of_id(j.id.value).value}};
}

}  // namespace migops::projections
