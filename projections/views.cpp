#include "projections/views.h"

#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "engine/domain.h"
#include "events/fields.h"
#include "events/json_text.h"

namespace migops::projections {

namespace ev = events;
using boost::json::array;
using boost::json::object;

namespace {

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

void write_help(ev::json_text& w, const engine::help_state& h) {
    w.begin_object();
    w.key("id").string(h.id);
    w.key("target").string(h.target);
    w.key("kind").string(to_string(h.kind));
    w.key("description").string(h.description);
    w.key("requested_by").string(h.requested_by.value);
    w.key("accepted_by").string_or_null(h.accepted_by.value);
    w.key("state").string(engine::to_string(h.at));
    if (!h.note.empty()) w.key("note").string(h.note);
    w.end_object();
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
    // Every module and phase of a journey row has one, rendered again
    // whenever a task in the journey changes.
    ev::json_text w(out);
    // Whole percent, rounded down: 100 only when everything is done.
    const std::uint32_t percent = total == 0 ? 0 : completed * 100 / total;
    w.begin_object();
    w.key("completed").number(completed);
    w.key("total").number(total);
    w.key("percent").number(percent);
    w.key("by_status").begin_object();
    for (std::size_t i = 0; i < by_status.size(); ++i)
        w.key(to_string(static_cast<ev::task_status>(i + 1))).number(by_status.at(i));
    w.end_object();
    w.end_object();
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

void write_time_or_null(ev::json_text& w, const std::optional<timestamp>& t) {
    if (t)
        w.string(format_rfc3339(*t));
    else
        w.null();
}

// {"user", "team"}: each an id or null.
void write_assignee(ev::json_text& w, const engine::node_state& n) {
    w.begin_object();
    w.key("user").string_or_null(n.assignee_user.value);
    w.key("team").string_or_null(n.assignee_team.value);
    w.end_object();
}

void write_task(ev::json_text& w, const engine::journey_state& j, const engine::node_state& n,
                bool with_details);

// What a task shows on the board, as members of its object; its subtasks
// with or without details.
void write_task_members(ev::json_text& w, const engine::journey_state& j,
                        const engine::node_state& n, bool with_details) {
    w.key("version").number(n.version);
    w.key("id").string(n.id.value);
    w.key("kind").string(to_string(n.kind));
    w.key("title").string(n.title);
    w.key("status").string(to_string(n.status));
    if (n.status == ev::task_status::blocked) w.key("blocked_reason").string(n.blocked_reason);
    w.key("in_scope").boolean(n.in_scope);
    w.key("assignee");
    write_assignee(w, n);
    w.key("due");
    write_time_or_null(w, n.due);
    w.key("estimated_minutes").number(n.estimated_minutes);
    w.key("spent_minutes").number(n.spent_minutes);
    w.key("acceptance_criteria").begin_array();
    for (const auto& k : n.criteria) {
        w.begin_object();
        w.key("id").string(k.id);
        w.key("type").string(to_string(k.kind));
        w.key("description").string(k.description);
        w.key("met").boolean(met(j, n, k));
        if (!k.pattern.empty()) w.key("pattern").string(k.pattern);
        if (!k.media_types.empty()) {
            w.key("media_types").begin_array();
            for (const auto& t : k.media_types) w.string(t);
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();
    w.key("steps").begin_array();
    for (const auto& step : n.steps) {
        w.begin_object();
        w.key("id").string(step.id);
        w.key("text").string(step.text);
        w.key("checked").boolean(step.checked);
        w.end_object();
    }
    w.end_array();
    w.key("subtasks").begin_array();
    for (const auto& c : n.children) write_task(w, j, j.nodes.at(c), with_details);
    w.end_array();
    w.key("dependencies").begin_array();
    for (const auto& d : n.dependencies) w.string(d.value);
    w.end_array();
    w.key("artifacts").begin_array();
    for (const auto& [name, a] : n.artifacts) {
        w.begin_object();
        w.key("name").string(name);
        w.key("media_type").string(a.media_type);
        w.key("size").number(a.size);
        w.key("sha256").string(a.sha256);
        w.key("uploaded_by").string(a.uploader.value);
        w.key("uploaded_at").string(format_rfc3339(a.uploaded_at));
        w.end_object();
    }
    w.end_array();
    w.key("approvals").begin_array();
    for (const auto& u : n.approvals) w.string(u.value);
    w.end_array();
    w.key("waiting").boolean(engine::is_waiting(j, n));
    w.key("alerts").begin_array();
    for (const auto& [kind, a] : n.alerts) {
        w.begin_object();
        w.key("id").string(a.id);
        w.key("kind").string(to_string(kind));
        w.key("level").number(a.level);
        w.key("raised_at").string(format_rfc3339(a.raised_at));
        w.end_object();
    }
    w.end_array();
    w.key("failed_notifications").begin_array();
    for (const auto& [message, why] : n.failed_notifications) {
        w.begin_object();
        w.key("message_id").string(message);
        w.key("reason").string(why);
        w.end_object();
    }
    w.end_array();
}

// Run book, tools, links, comments, help requests and evidence, as members.
void write_details(ev::json_text& w, const engine::journey_state& j, const engine::node_state& n) {
    w.key("journey").string(j.id.value);
    w.key("parent").string(n.parent.value);
    w.key("description").string(n.description);
    w.key("tools").begin_array();
    for (const auto& t : n.tools) w.string(t);
    w.end_array();
    w.key("links").begin_array();
    for (const auto& l : n.links) {
        w.begin_object();
        w.key("title").string(l.title);
        w.key("url").string(l.url);
        w.end_object();
    }
    w.end_array();
    w.key("comments").begin_array();
    for (const auto& c : n.comments) {
        w.begin_object();
        w.key("id").string(c.id);
        w.key("author").string(c.author.value);
        w.key("text").string(c.text);
        w.key("at").string(format_rfc3339(c.at));
        w.key("edited").boolean(c.edited);
        w.end_object();
    }
    w.end_array();
    w.key("help_requests").begin_array();
    for (const auto& [id, h] : j.help)
        if (h.target == n.id.value) write_help(w, h);
    w.end_array();
    if (n.status == ev::task_status::completed) {
        w.key("evidence").begin_object();
        w.key("artifacts").begin_array();
        for (const auto& a : n.evidence.artifacts) {
            w.begin_object();
            w.key("name").string(a.name);
            w.key("sha256").string(a.sha256);
            w.end_object();
        }
        w.end_array();
        w.key("approver").string_or_null(n.evidence.approver.value);
        w.key("acknowledged").begin_array();
        for (const auto& a : n.evidence.acknowledged) w.string(a);
        w.end_array();
        w.end_object();
    }
}

void write_task(ev::json_text& w, const engine::journey_state& j, const engine::node_state& n,
                bool with_details) {
    w.begin_object();
    write_task_members(w, j, n, with_details);
    if (with_details) write_details(w, j, n);
    w.end_object();
}

}  // namespace

void append_task_json(std::string& out, const engine::journey_state& j, const engine::node_state& n,
                      bool with_details) {
    ev::json_text w(out);
    write_task(w, j, n, with_details);
}

task_texts task_json(const engine::journey_state& j, const engine::node_state& n) {
    task_texts out;
    append_task_json(out.brief, j, n, false);
    if (!n.children.empty()) {
        append_task_json(out.detailed, j, n, true);
        return out;
    }
    // Without subtasks the members are the same: the details follow the
    // brief text's members, and the members are not written twice.
    out.detailed.reserve(out.brief.size() * 2);
    out.detailed.append(out.brief, 0, out.brief.size() - 1);
    auto w = ev::json_text::continuing(out.detailed);
    write_details(w, j, n);
    out.detailed.push_back('}');
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
    return progress_tree(j,
                         [&j](const engine::node_state& module) { return progress_of(j, module); });
}

journey_progress progress_tree(const engine::journey_state& j,
                               const module_progress_fn& module_progress) {
    // Each module counted once; a phase is the sum of its modules (none when
    // out of scope, as progress_of(j, phase) says), the journey the sum of
    // its phases.
    journey_progress out;
    out.modules.resize(j.phases.size());
    out.phases.resize(j.phases.size());
    for (std::size_t i = 0; i < j.phases.size(); ++i) {
        const auto& phase = j.nodes.at(j.phases[i]);
        for (const auto& mid : phase.children) {
            out.modules[i].push_back(module_progress(j.nodes.at(mid)));
            if (phase.in_scope) out.phases[i].add(out.modules[i].back());
        }
        out.total.add(out.phases[i]);
    }
    return out;
}

namespace {

// A node's own members as the journey row shows them, after its opening
// brace: id, title, description, scope, version and progress.
void append_node_head(std::string& out, const engine::node_state& n, const progress& of_node) {
    auto w = ev::json_text(out);
    w.key("id").string(n.id.value);
    w.key("title").string(n.title);
    w.key("description").string(n.description);
    w.key("in_scope").boolean(n.in_scope);
    w.key("version").number(n.version);
    w.key("progress");
    of_node.append_json(out);
}

}  // namespace

void append_module_json(std::string& out, const engine::journey_state& j,
                        const engine::node_state& module, const progress& p,
                        const task_text_fn& task_text) {
    out += '{';
    append_node_head(out, module, p);
    out += R"(,"tasks":[)";
    for (std::size_t i = 0; i < module.children.size(); ++i) {
        if (i > 0) out += ',';
        task_text(j.nodes.at(module.children[i]), out);
    }
    out += "]}";
}

void append_journey_json(std::string& out, const engine::journey_state& j,
                         const journey_progress& p, const module_text_fn& module_text) {
    ev::json_text w(out);
    w.begin_object();
    w.key("version").number(j.version);
    w.key("id").string(j.id.value);
    w.key("space").string(engine::space_of_id(j.id.value).value);
    w.key("name").string(j.name);
    w.key("description").string(j.description);
    w.key("status").string(to_string(j.status));
    w.key("target_date");
    write_time_or_null(w, j.target_date);
    if (!j.template_id.empty()) {
        w.key("template").begin_object();
        w.key("id").string(j.template_id);
        w.key("version").string(j.template_version);
        w.key("content_hash").string(j.template_hash);
        w.end_object();
    }
    if (!j.copied_from.empty()) w.key("copied_from").string(j.copied_from.value);
    w.key("progress");
    p.total.append_json(out);
    // Phases and their modules in the tree's order, each node's own members
    // first and its children last.
    out += R"(,"phases":[)";
    for (std::size_t i = 0; i < j.phases.size(); ++i) {
        const auto& phase = j.nodes.at(j.phases[i]);
        out += i > 0 ? ",{" : "{";
        append_node_head(out, phase, p.phases[i]);
        out += R"(,"modules":[)";
        for (std::size_t m = 0; m < phase.children.size(); ++m) {
            if (m > 0) out += ',';
            module_text(j.nodes.at(phase.children[m]), p.modules[i][m], out);
        }
        out += "]}";
    }
    out += R"(],"members":)";
    out += boost::json::serialize(grants_json(j.members));
    out += R"(,"alert_rules":)";
    out += boost::json::serialize(ev::to_json_value(j.rules));
    auto tail = ev::json_text::continuing(out);
    tail.key("help_requests").begin_array();
    for (const auto& [id, h] : j.help) write_help(tail, h);
    tail.end_array().end_object();
}

std::string journey_json(const engine::journey_state& j) {
    const task_text_fn task_text = [&j](const engine::node_state& task, std::string& out) {
        append_task_json(out, j, task, false);
    };
    std::string out;
    append_journey_json(
        out, j, progress_tree(j),
        [&](const engine::node_state& module, const progress& p, std::string& text) {
            append_module_json(text, j, module, p, task_text);
        });
    return out;
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

std::string task_summary_json(const engine::journey_state& j, const engine::node_state& n) {
    std::string out;
    ev::json_text w(out);
    w.begin_object();
    w.key("version").number(n.version);
    w.key("id").string(n.id.value);
    w.key("title").string(n.title);
    w.key("kind").string(to_string(n.kind));
    w.key("status").string(to_string(n.status));
    w.key("due");
    write_time_or_null(w, n.due);
    w.key("waiting").boolean(engine::is_waiting(j, n));
    w.key("assignee");
    write_assignee(w, n);
    w.key("journey").string(j.id.value);
    w.key("journey_name").string(j.name);
    w.key("space").string(engine::space_of_id(j.id.value).value);
    w.end_object();
    return out;
}

}  // namespace migops::projections
