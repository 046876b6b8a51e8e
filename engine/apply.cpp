// apply(state, event): the only place state changes (DESIGN.md invariant 1).
// It trusts the event (decide checked it) and reads nothing but the state
// and the event.

#include <algorithm>

#include "engine/domain.h"

namespace migops::engine {

namespace ev = events;

namespace {

struct applier {
    partition_state& s;
    const ev::envelope& e;

    space_state& space() { return s.spaces[e.space]; }
    journey_state& journey(const journey_id& id) { return s.journeys.at(id); }
    journey_state& journey_of(const node_id& id) { return s.journeys.at(journey_of_id(id.value)); }
    node_state& node(const node_id& id) { return journey_of(id).nodes.at(id); }
    grants& grants_for(const journey_id& j) {
        return j.empty() ? space().members : journey(j).members;
    }

    void touch(journey_state& j, node_state& n) {
        n.version = e.pos;
        j.version = e.pos;
    }
    void touch(node_state& n) { touch(journey_of(n.id), n); }

    static void insert_at(std::vector<node_id>& v, const node_id& id, std::uint32_t rank) {
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(rank, v.size())),
                 id);
    }

    void add_node(journey_state& j, const node_id& parent, const node_id& id, node_kind kind,
                  std::uint32_t rank, const ev::task_spec& c) {
        node_state n;
        n.id = id;
        n.kind = kind;
        n.parent = parent;
        n.title = c.title;
        n.description = c.description;
        n.tools = c.tools;
        n.links = c.links;
        n.criteria = c.criteria;
        for (const auto& st : c.steps) n.steps.push_back({st.id, st.text, false});
        n.next_step = static_cast<std::uint32_t>(c.steps.size()) + 1;
        n.version = e.pos;
        if (parent.empty())
            insert_at(j.phases, id, rank);
        else
            insert_at(j.nodes.at(parent).children, id, rank);
        if (n.is_task()) ++j.task_count;
        j.nodes[id] = std::move(n);
        // Ids are "<journey>.n<k>": keep the counter past every id seen.
        const auto k =
            static_cast<std::uint32_t>(std::stoul(id.value.substr(id.value.rfind(".n") + 2)));
        j.next_node = std::max(j.next_node, k + 1);
        j.version = e.pos;
    }

    void remove_subtree(journey_state& j, const node_id& id) {
        auto& n = j.nodes.at(id);
        for (const auto& child : std::vector<node_id>(n.children)) remove_subtree(j, child);
        if (n.is_task()) --j.task_count;
        j.nodes.erase(id);
        for (auto& [other_id, other] : j.nodes) other.dependencies.erase(id);
    }

    void operator()(const ev::space_created& p) {
        auto& sp = space();
        sp.id = e.space;
        sp.name = p.name;
        sp.description = p.description;
        sp.created_by = e.actor;
        sp.created_at = e.time;
        sp.members.users[e.actor] = role::space_admin;  // the creator is the first admin
        sp.version = e.pos;
    }
    void operator()(const ev::space_renamed& p) {
        space().name = p.name;
        space().version = e.pos;
    }
    void operator()(const ev::space_described& p) {
        space().description = p.description;
        space().version = e.pos;
    }
    void operator()(const ev::space_deleted&) {
        space().deleted = true;
        space().version = e.pos;
    }

    void operator()(const ev::team_created& p) {
        auto& sp = space();
        sp.teams[p.team] = team_state{p.team, p.name, {}};
        ++sp.next_team;
        sp.version = e.pos;
    }
    void operator()(const ev::team_deleted& p) {
        auto& sp = space();
        sp.teams.erase(p.team);
        sp.members.teams.erase(p.team);
        for (const auto& j : sp.journeys) {
            auto& js = journey(j);
            js.members.teams.erase(p.team);
            for (auto& [id, n] : js.nodes)
                if (n.assignee_team == p.team) n.assignee_team = {};
        }
        sp.version = e.pos;
    }
    void operator()(const ev::team_member_added& p) {
        space().teams.at(p.team).members.insert(p.user);
        space().version = e.pos;
    }
    void operator()(const ev::team_member_removed& p) {
        space().teams.at(p.team).members.erase(p.user);
        space().version = e.pos;
    }
    void operator()(const ev::role_granted& p) {
        auto& g = grants_for(p.journey);
        if (!p.user.empty()) g.users[p.user] = p.granted;
        if (!p.team.empty()) g.teams[p.team] = p.granted;
        (p.journey.empty() ? space().version : journey(p.journey).version) = e.pos;
    }
    void operator()(const ev::role_revoked& p) {
        auto& g = grants_for(p.journey);
        if (!p.user.empty()) g.users.erase(p.user);
        if (!p.team.empty()) g.teams.erase(p.team);
        (p.journey.empty() ? space().version : journey(p.journey).version) = e.pos;
    }

    void operator()(const ev::template_published& p) {
        s.templates[{p.content.template_id, p.content.template_version}] =
            published_template{p.content, p.content_hash};
    }

    void operator()(const ev::journey_created& p) {
        auto& sp = space();
        journey_state j;
        j.id = p.journey;
        j.name = p.name;
        j.description = p.description;
        j.target_date = p.target_date;
        j.template_id = p.template_id;
        j.template_version = p.template_version;
        j.template_hash = p.template_hash;
        j.copied_from = p.copied_from;
        j.version = e.pos;
        s.journeys[p.journey] = std::move(j);
        auto& js = s.journeys[p.journey];
        std::uint32_t rank = 0;
        for (const auto& ph : p.phases) {
            add_node(js, {}, node_id{ph.id}, node_kind::phase, rank++,
                     {"", ph.title, ph.description, {}, {}, {}, {}, {}});
            std::uint32_t mrank = 0;
            for (const auto& m : ph.modules) {
                add_node(js, node_id{ph.id}, node_id{m.id}, node_kind::module, mrank++,
                         {"", m.title, m.description, {}, {}, {}, {}, {}});
                std::uint32_t trank = 0;
                for (const auto& t : m.tasks) {
                    add_node(js, node_id{m.id}, node_id{t.id}, node_kind::task, trank++, t);
                    std::uint32_t srank = 0;
                    for (const auto& sub : t.subtasks)
                        add_node(js, node_id{t.id}, node_id{sub.id}, node_kind::subtask, srank++,
                                 {sub.id,
                                  sub.title,
                                  sub.description,
                                  sub.tools,
                                  sub.links,
                                  sub.criteria,
                                  sub.steps,
                                  {}});
                }
            }
        }
        for (const auto& d : p.dependencies) js.nodes.at(d.task).dependencies.insert(d.depends_on);
        sp.journeys.insert(p.journey);
        ++sp.next_journey;
        sp.version = e.pos;
    }
    void operator()(const ev::journey_edited& p) {
        auto& j = journey(p.journey);
        j.name = p.name;
        j.description = p.description;
        j.target_date = p.target_date;
        j.version = e.pos;
    }
    void operator()(const ev::journey_status_changed& p) {
        journey(p.journey).status = p.status;
        journey(p.journey).version = e.pos;
    }
    void operator()(const ev::journey_deleted& p) {
        s.journeys.erase(p.journey);
        space().journeys.erase(p.journey);
        space().version = e.pos;
    }

    void operator()(const ev::node_added& p) {
        add_node(journey_of(p.node), p.parent, p.node, p.kind, p.rank, p.content);
    }
    void operator()(const ev::node_edited& p) {
        auto& n = node(p.node);
        n.title = p.title;
        n.description = p.description;
        n.tools = p.tools;
        n.links = p.links;
        n.criteria = p.criteria;
        touch(n);
    }
    void operator()(const ev::node_moved& p) {
        auto& j = journey_of(p.node);
        auto& n = j.nodes.at(p.node);
        auto& siblings = n.parent.empty() ? j.phases : j.nodes.at(n.parent).children;
        siblings.erase(std::find(siblings.begin(), siblings.end(), p.node));
        insert_at(siblings, p.node, p.rank);
        touch(j, n);
    }
    void operator()(const ev::node_scoped& p) {
        auto& n = node(p.node);
        n.in_scope = p.in_scope;
        touch(n);
    }
    void operator()(const ev::node_deleted& p) {
        auto& j = journey_of(p.node);
        const auto parent = j.nodes.at(p.node).parent;
        auto& siblings = parent.empty() ? j.phases : j.nodes.at(parent).children;
        siblings.erase(std::find(siblings.begin(), siblings.end(), p.node));
        remove_subtree(j, p.node);
        if (!parent.empty()) j.nodes.at(parent).version = e.pos;
        j.version = e.pos;
    }

    void operator()(const ev::task_assigned& p) {
        auto& n = node(p.task);
        n.assignee_user = p.user;
        n.assignee_team = p.team;
        touch(n);
    }
    void operator()(const ev::task_status_changed& p) {
        auto& j = journey_of(p.task);
        auto& n = j.nodes.at(p.task);
        n.status = p.to;
        n.blocked_reason = p.to == ev::task_status::blocked ? p.reason : std::string{};
        if (p.to != ev::task_status::blocked)
            n.blocked_since.reset();
        else if (p.from != ev::task_status::blocked)
            n.blocked_since = e.time;
        if (p.to == ev::task_status::completed) n.evidence = p.evidence;
        if (p.from == ev::task_status::completed) {
            n.evidence = {};
            n.approvals.clear();  // a reopened task needs a fresh sign-off
        }
        touch(j, n);
    }
    void operator()(const ev::due_date_set& p) {
        auto& n = node(p.task);
        n.due = p.due;
        touch(n);
    }
    void operator()(const ev::effort_set& p) {
        auto& n = node(p.task);
        n.estimated_minutes = p.estimated_minutes;
        n.spent_minutes = p.spent_minutes;
        touch(n);
    }
    void operator()(const ev::dependency_added& p) {
        auto& n = node(p.task);
        n.dependencies.insert(p.depends_on);
        touch(n);
    }
    void operator()(const ev::dependency_removed& p) {
        auto& n = node(p.task);
        n.dependencies.erase(p.depends_on);
        touch(n);
    }
    step_state& step(node_state& n, const std::string& id) {
        return *std::find_if(n.steps.begin(), n.steps.end(),
                             [&](const auto& st) { return st.id == id; });
    }
    void operator()(const ev::step_added& p) {
        auto& n = node(p.task);
        n.steps.push_back({p.step, p.text, false});
        n.next_step =
            std::max(n.next_step, static_cast<std::uint32_t>(std::stoul(p.step.substr(1))) + 1);
        touch(n);
    }
    void operator()(const ev::step_edited& p) {
        auto& n = node(p.task);
        step(n, p.step).text = p.text;
        touch(n);
    }
    void operator()(const ev::step_checked& p) {
        auto& n = node(p.task);
        step(n, p.step).checked = p.checked;
        touch(n);
    }
    void operator()(const ev::step_removed& p) {
        auto& n = node(p.task);
        std::erase_if(n.steps, [&](const auto& st) { return st.id == p.step; });
        touch(n);
    }
    void operator()(const ev::task_approved& p) {
        auto& n = node(p.task);
        n.approvals.insert(e.actor);
        touch(n);
    }
    void operator()(const ev::artifact_uploaded& p) {
        auto& n = node(p.task);
        n.artifacts[p.name] =
            artifact_state{p.name, p.media_type, p.size, p.sha256, e.actor, e.time};
        touch(n);
    }
    void operator()(const ev::artifact_removed& p) {
        auto& n = node(p.task);
        n.artifacts.erase(p.name);
        touch(n);
    }
    void operator()(const ev::comment_added& p) {
        auto& n = node(p.task);
        n.comments.push_back({p.comment, e.actor, p.text, e.time, false});
        n.next_comment = std::max(n.next_comment,
                                  static_cast<std::uint32_t>(std::stoul(p.comment.substr(1))) + 1);
        touch(n);
    }
    void operator()(const ev::comment_edited& p) {
        auto& n = node(p.task);
        for (auto& c : n.comments)
            if (c.id == p.comment) {
                c.text = p.text;
                c.edited = true;
            }
        touch(n);
    }
    void operator()(const ev::comment_deleted& p) {
        auto& n = node(p.task);
        std::erase_if(n.comments, [&](const auto& c) { return c.id == p.comment; });
        touch(n);
    }
    void operator()(const ev::help_requested& p) {
        auto& j = journey(p.journey);
        j.help[p.request] = help_state{
            p.request, p.target, p.kind,      p.description, e.actor, {}, help_state::stage::open,
            {},        e.time,   std::nullopt};
        j.next_help = std::max(
            j.next_help,
            static_cast<std::uint32_t>(std::stoul(p.request.substr(p.request.rfind(".h") + 2))) +
                1);
        j.version = e.pos;
    }
    void operator()(const ev::help_accepted& p) {
        auto& h = journey(p.journey).help.at(p.request);
        h.at = help_state::stage::accepted;
        h.accepted_by = e.actor;
        journey(p.journey).version = e.pos;
    }
    void operator()(const ev::help_resolved& p) {
        auto& h = journey(p.journey).help.at(p.request);
        h.at = help_state::stage::resolved;
        h.note = p.note;
        h.closed_at = e.time;
        journey(p.journey).version = e.pos;
    }
    void operator()(const ev::help_cancelled& p) {
        auto& h = journey(p.journey).help.at(p.request);
        h.at = help_state::stage::cancelled;
        h.closed_at = e.time;
        journey(p.journey).version = e.pos;
    }
    void operator()(const ev::alert_raised& p) {
        auto& n = node(p.task);
        n.alerts[p.kind] = alert_state{p.alert, 0, e.time};
        ++n.alert_episodes;
        touch(n);
    }
    void operator()(const ev::alert_escalated& p) {
        auto& n = node(p.task);
        for (auto& [kind, a] : n.alerts)
            if (a.id == p.alert) a.level = p.level;
        touch(n);
    }
    void operator()(const ev::alert_cleared& p) {
        auto& n = node(p.task);
        std::erase_if(n.alerts, [&](const auto& kv) { return kv.second.id == p.alert; });
        touch(n);
    }
    void operator()(const ev::alert_rules_set& p) {
        auto& j = journey(p.journey);
        j.rules = p.rules;
        j.version = e.pos;
    }
    void operator()(const ev::notification_sent& p) {
        auto& n = node(p.task);
        n.notified.insert(p.message_id);
        n.failed_notifications.erase(p.message_id);
    }
    void operator()(const ev::notification_failed& p) {
        node(p.task).failed_notifications[p.message_id] = p.reason;
    }
    // A checkpoint changes nothing in the domain; the processor only needs
    // to know not to sign its own checkpoint again.
    void operator()(const ev::chain_checkpoint&) { s.last_checkpoint = e.pos; }
};

}  // namespace

void apply(partition_state& state, const ev::envelope& e) {
    std::visit(applier{state, e}, e.data);
    state.head = ev::chain_head{e.pos, e.hash};
}

}  // namespace migops::engine
