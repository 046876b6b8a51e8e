#include "projections/board.h"

#include <rocksdb/slice_transform.h>
#include <boost/json/serialize.hpp>

#include "engine/commands.h"
#include "engine/domain.h"
#include "engine/permissions.h"
#include "engine/snapshot.h"
#include "events/fields.h"
#include "projections/as_of.h"
#include "projections/views.h"

namespace migops::projections {

namespace ev = events;

namespace {

std::string assigned_key(const user_id& user, const node_id& task) {
    return "assigned/u/" + user.value + "/" + task.value;
}
std::string assigned_key(const team_id& team, const node_id& task) {
    return "assigned/t/" + team.value + "/" + task.value;
}

// The node an event is about, if any (an empty id when none).
const node_id& node_of(const ev::payload& data) {
    static const node_id none;
    return std::visit(
        [](const auto& p) -> const node_id& {
            if constexpr (requires { p.task; }) {
                return p.task;
            } else if constexpr (requires { p.node; }) {
                return p.node;
            } else {
                return none;
            }
        },
        data);
}

// The journey an event is about, if any.
journey_id journey_of(const ev::payload& data, const node_id& node) {
    if (!node.empty()) return engine::journey_of_id(node.value);
    return std::visit(
        [](const auto& p) -> journey_id {
            if constexpr (requires { p.journey; }) return p.journey;
            return journey_id{};
        },
        data);
}

}  // namespace

void board::mark_task_tree(const engine::journey_state& j, const node_id& id) {
    if (auto it = j.nodes.find(id); it != j.nodes.end()) mark_task_tree(j, it->second);
}

void board::mark_task_tree(const engine::journey_state& j, const engine::node_state& n) {
    if (n.is_task()) dirty_tasks_.insert(n.id);
    for (const auto& c : n.children) mark_task_tree(j, c);
}

void board::mark_ancestors(const engine::journey_state& j, const node_id& id) {
    if (auto it = j.nodes.find(id); it != j.nodes.end()) mark_ancestors(j, it->second);
}

// A task's view holds its subtasks whole (status, comments, files…): any
// change to a subtask shows in every task above it. Only a subtask has a
// task above it: tasks go under modules (engine/domain.cpp).
void board::mark_ancestors(const engine::journey_state& j, const engine::node_state& n) {
    for (const auto* at = &n; at->kind == ev::node_kind::subtask;) {
        auto it = j.nodes.find(at->parent);
        if (it == j.nodes.end() || !it->second.is_task()) return;
        dirty_tasks_.insert(it->first);
        at = &it->second;
    }
}

// A task's status, scope or presence shows in the tasks that wait on it.
void board::mark_dependents(const engine::journey_state& j, const node_id& id) {
    auto known = dependents_.find(j.id);
    if (known == dependents_.end()) {
        known = dependents_.emplace(j.id, std::map<node_id, std::vector<node_id>>{}).first;
        for (const auto& [other, n] : j.nodes)
            for (const auto& d : n.dependencies) known->second[d].push_back(other);
    }
    if (auto it = known->second.find(id); it != known->second.end())
        dirty_tasks_.insert(it->second.begin(), it->second.end());
}

// What waits on any node of a subtree that goes loses that dependency.
void board::mark_subtree_dependents(const engine::journey_state& j, const node_id& id) {
    mark_dependents(j, id);
    if (auto it = j.nodes.find(id); it != j.nodes.end())
        for (const auto& c : it->second.children) mark_subtree_dependents(j, c);
}

void board::drop_module_text(const engine::journey_state& j, const node_id& id) {
    for (auto it = j.nodes.find(id); it != j.nodes.end(); it = j.nodes.find(it->second.parent)) {
        const auto& n = it->second;
        if (n.kind == ev::node_kind::module) {
            module_text_.erase(n.id);
            return;
        }
        if (n.kind == ev::node_kind::phase) {
            for (const auto& m : n.children) module_text_.erase(m);
            return;
        }
    }
}

namespace {

// Whether the event may change which tasks depend on which (then the
// journey's dependents_ are made again when next asked).
bool changes_dependencies(const ev::payload& data) {
    return std::holds_alternative<ev::dependency_added>(data) ||
           std::holds_alternative<ev::dependency_removed>(data) ||
           std::holds_alternative<ev::node_deleted>(data) ||
           std::holds_alternative<ev::node_added>(data) ||
           std::holds_alternative<ev::journey_created>(data) ||
           std::holds_alternative<ev::journey_deleted>(data) ||
           std::holds_alternative<ev::space_deleted>(data);
}

// The nodes of every journey of the space (deleted ones too: a snapshot
// holds them).
std::uint64_t nodes_in(const engine::partition_state& s, const space_id& space) {
    std::uint64_t n = 0;
    if (const auto* sp = s.space(space))
        for (const auto& id : sp->journeys)
            if (const auto* j = s.journey(id)) n += j->nodes.size();
    return n;
}

}  // namespace

const board::space_tally* board::fold(const ev::envelope& e, bool track) {
    std::unique_lock lock(mutex_);
    auto& s = states_[e.partition];
    // dependents_ holds what the fold says now: an event that may change it
    // drops its journey's once applied.
    const auto forget_dependents = [&] {
        if (!changes_dependencies(e.data)) return;
        if (std::holds_alternative<ev::space_deleted>(e.data))
            dependents_.clear();
        else
            dependents_.erase(journey_of(e.data, node_of(e.data)));
    };
    space_tally* tally = nullptr;
    if (!e.space.empty()) {
        tally = &tallies_[e.space];
        tally->latest = std::max(tally->latest, e.time);
        if (++tally->since == snapshot_interval) tally->due = snapshot_due(nodes_in(s, e.space));
        if (tally->since >= tally->due) tally->since = 0;  // this event takes one
    }
    // Events without a space (chain checkpoints) change nothing shown.
    if (!track || e.space.empty()) {
        engine::apply(s, e);
        forget_dependents();
        return tally;
    }
    const node_id& node = node_of(e.data);
    const journey_id journey = journey_of(e.data, node);
    dirty_spaces_.insert(e.space);
    // What goes away must be known before the event removes it.
    const bool journey_goes = std::holds_alternative<ev::journey_deleted>(e.data);
    const bool node_goes = std::holds_alternative<ev::node_deleted>(e.data);
    if (const auto* j = journey_goes || node_goes ? s.journey(journey) : nullptr) {
        if (journey_goes)
            for (const auto& p : j->phases) mark_task_tree(*j, p);
        if (node_goes) {
            mark_task_tree(*j, node);
            mark_ancestors(*j, node);
            mark_subtree_dependents(*j, node);
            drop_module_text(*j, node);
        }
    }
    if (std::holds_alternative<ev::space_deleted>(e.data))
        if (const auto* sp = s.space(e.space))
            for (const auto& jid : sp->journeys)
                if (const auto* j = s.journey(jid)) {
                    dirty_journeys_.insert(jid);
                    for (const auto& p : j->phases) mark_task_tree(*j, p);
                }
    // A deleted team's tasks are no longer assigned to it.
    if (const auto* gone = std::get_if<ev::team_deleted>(&e.data))
        if (const auto* sp = s.space(e.space))
            for (const auto& jid : sp->journeys)
                if (const auto* j = s.journey(jid))
                    for (const auto& [id, n] : j->nodes)
                        if (n.assignee_team == gone->team) {
                            dirty_journeys_.insert(jid);
                            mark_task_tree(*j, n);
                            mark_ancestors(*j, n);
                            drop_module_text(*j, id);
                        }
    engine::apply(s, e);
    forget_dependents();
    if (journey.empty()) return tally;
    dirty_journeys_.insert(journey);
    const auto* j = s.journey(journey);
    if (!j) return tally;
    if (std::holds_alternative<ev::journey_created>(e.data))
        for (const auto& p : j->phases) mark_task_tree(*j, p);
    if (!node.empty()) {
        if (auto it = j->nodes.find(node); it != j->nodes.end()) {
            mark_task_tree(*j, it->second);
            mark_ancestors(*j, it->second);
        }
        drop_module_text(*j, node);
        // A dependent shows whether it is waiting: a status change can only
        // change that when the task opens or closes (engine::is_open).
        const auto* changed = std::get_if<ev::task_status_changed>(&e.data);
        if ((changed && engine::is_open(changed->from) != engine::is_open(changed->to)) ||
            std::holds_alternative<ev::node_scoped>(e.data) ||
            std::holds_alternative<ev::node_added>(e.data))
            mark_dependents(*j, node);
    }
    std::visit(
        [&](const auto& p) {
            if constexpr (requires { p.request; }) {
                auto h = j->help.find(p.request);
                if (h == j->help.end()) return;
                const node_id target{h->second.target};
                dirty_tasks_.insert(target);
                mark_ancestors(*j, target);
            }
        },
        e.data);
    return tally;
}

result<void> board::apply(const ev::envelope& e, rows& r) {
    // Team membership rows follow the events directly.
    if (const auto* added = std::get_if<ev::team_member_added>(&e.data)) {
        r.put("team_of/" + added->user.value + "/" + added->team.value, "");
    } else if (const auto* removed = std::get_if<ev::team_member_removed>(&e.data)) {
        r.remove("team_of/" + removed->user.value + "/" + removed->team.value);
    } else if (const auto* gone = std::get_if<ev::team_deleted>(&e.data)) {
        std::shared_lock lock(mutex_);
        if (const auto* sp = states_[e.partition].space(e.space)) {
            auto t = sp->teams.find(gone->team);
            if (t != sp->teams.end())
                for (const auto& u : t->second.members)
                    r.remove("team_of/" + u.value + "/" + gone->team.value);
        }
    } else if (const auto* published = std::get_if<ev::template_published>(&e.data)) {
        const auto& c = published->content;
        boost::json::object o{{"id", c.template_id},
                              {"version", c.template_version},
                              {"name", c.name},
                              {"description", c.description},
                              {"content_hash", published->content_hash},
                              {"published_at", format_rfc3339(e.time)},
                              {"content", ev::to_json_value(c)}};
        r.put("template/" + c.template_id + "/" + c.template_version, boost::json::serialize(o));
    }
    if (const auto* tally = fold(e, true)) write_snapshot(e, *tally, r);
    return success();
}

std::set<user_id> board::readers_of(const engine::partition_state& s,
                                    const engine::space_state& sp) {
    std::set<user_id> out;
    auto add = [&](const engine::grants& g) {
        for (const auto& [u, r] : g.users) out.insert(u);
        for (const auto& [t, r] : g.teams) {
            auto team = sp.teams.find(t);
            if (team != sp.teams.end())
                out.insert(team->second.members.begin(), team->second.members.end());
        }
    };
    add(sp.members);
    for (const auto& jid : sp.journeys)
        if (const auto* j = s.journey(jid)) add(j->members);
    return out;
}

result<void> board::flush(rows& r) {
    std::unique_lock lock(mutex_);
    // The journeys of changed tasks show them.
    for (const auto& t : dirty_tasks_) dirty_journeys_.insert(engine::journey_of_id(t.value));
    auto find_state = [&](const space_id& space) -> engine::partition_state* {
        for (auto& [p, s] : states_)
            if (s.spaces.contains(space)) return &s;
        return nullptr;
    };
    auto live_space = [&](const space_id& space) -> const engine::space_state* {
        auto* s = find_state(space);
        const auto* sp = s ? s->space(space) : nullptr;
        return sp && !sp->deleted ? sp : nullptr;
    };
    for (const auto& id : dirty_tasks_) {
        const auto space = engine::space_of_id(id.value);
        const engine::journey_state* j = nullptr;
        const engine::node_state* n = nullptr;
        if (live_space(space)) {
            auto* s = find_state(space);
            j = s->journey(engine::journey_of_id(id.value));
            n = s->node(id);
        }
        if (j) drop_module_text(*j, id);
        auto old = assigned_.find(id);
        if (old != assigned_.end()) {
            if (!old->second.first.empty()) r.remove(assigned_key(old->second.first, id));
            if (!old->second.second.empty()) r.remove(assigned_key(old->second.second, id));
            assigned_.erase(old);
        }
        if (!j || !n || !n->is_task()) {
            r.remove("task/" + id.value);
            task_text_.erase(id);
            continue;
        }
        auto texts = task_json(*j, *n);
        r.put("task/" + id.value, texts.detailed);
        task_text_[id] = std::move(texts.brief);
        if (n->assignee_user.empty() && n->assignee_team.empty()) continue;
        const auto summary = task_summary_json(*j, *n);
        if (!n->assignee_user.empty()) r.put(assigned_key(n->assignee_user, id), summary);
        if (!n->assignee_team.empty()) r.put(assigned_key(n->assignee_team, id), summary);
        assigned_[id] = {n->assignee_user, n->assignee_team};
    }
    for (const auto& id : dirty_journeys_) {
        const auto space = engine::space_of_id(id.value);
        const auto* sp = live_space(space);
        const auto* j = sp ? find_state(space)->journey(id) : nullptr;
        if (j) {
            const task_text_fn task_text = [&](const engine::node_state& task, std::string& out) {
                auto text = task_text_.find(task.id);
                if (text == task_text_.end()) {
                    text = task_text_.emplace(task.id, std::string()).first;
                    append_task_json(text->second, *j, task, false);
                }
                out += text->second;
            };
            // A kept module has the progress it was rendered with.
            const auto counted = progress_tree(*j, [&](const engine::node_state& module) {
                auto kept = module_text_.find(module.id);
                return kept != module_text_.end() ? kept->second.p : progress_of(*j, module);
            });
            journey_text_.clear();
            append_journey_json(
                journey_text_, *j, counted,
                [&](const engine::node_state& module, const progress& p, std::string& out) {
                    auto kept = module_text_.find(module.id);
                    if (kept == module_text_.end()) {
                        kept = module_text_.emplace(module.id, rendered_module{p, {}}).first;
                        append_module_json(kept->second.text, *j, module, p, task_text);
                    }
                    out += kept->second.text;
                });
            r.put("journey/" + id.value, journey_text_);
            journey_entry_[id] = journey_entry_json(*j, counted.total);
        } else {
            r.remove("journey/" + id.value);
            journey_entry_.erase(id);
            // Its nodes' ids are "<journey>.n<k>".
            const auto nodes = id.value + ".";
            auto from = module_text_.lower_bound(node_id{nodes});
            auto to = from;
            while (to != module_text_.end() && to->first.value.starts_with(nodes)) ++to;
            module_text_.erase(from, to);
        }
        dirty_spaces_.insert(space);
    }
    for (const auto& id : dirty_spaces_) {
        const auto* sp = live_space(id);
        std::set<user_id> now;
        if (sp) {
            auto cached = [this](const engine::journey_state& j, std::string& out) {
                auto it = journey_entry_.find(j.id);
                if (it == journey_entry_.end())
                    it = journey_entry_.emplace(j.id, journey_entry_json(j, progress_of(j))).first;
                out += it->second;
            };
            r.put("space/" + id.value, space_json(*find_state(id), *sp, cached));
            now = readers_of(*find_state(id), *sp);
        } else {
            r.remove("space/" + id.value);
        }
        auto& before = readers_[id];
        for (const auto& u : before)
            if (!now.contains(u)) r.remove("reader/" + u.value + "/" + id.value);
        for (const auto& u : now)
            if (!before.contains(u)) r.put("reader/" + u.value + "/" + id.value, "");
        if (now.empty())
            readers_.erase(id);
        else
            before = std::move(now);
    }
    dirty_tasks_.clear();
    dirty_journeys_.clear();
    dirty_spaces_.clear();
    return success();
}

// On the runner's thread, the only writer of the fold: reads it unlocked.
void board::write_snapshot(const ev::envelope& e, const space_tally& tally, rows& r) const {
    if (tally.since != 0) return;
    const auto state = states_.find(e.partition);
    if (state == states_.end() || !state->second.spaces.contains(e.space)) return;
    r.put(snapshot_key(e.space, e.pos),
          engine::encode_snapshot(state->second, e.space, e.pos, tally.latest));
    r.put(snapshot_time_key(e.space, tally.latest, e.pos), "");
}

void board::committed(std::span<const ev::envelope> batch) {
    listeners_.call(batch);
}

std::shared_ptr<const rocksdb::SliceTransform> board::row_runs() const {
    static const std::shared_ptr<const rocksdb::SliceTransform> whole_key(
        rocksdb::NewNoopTransform());
    return whole_key;
}

void board::restore(const ev::envelope& e) {
    fold(e, false);
}

void board::restored() {
    std::unique_lock lock(mutex_);
    readers_.clear();
    assigned_.clear();
    journey_entry_.clear();
    task_text_.clear();
    module_text_.clear();
    for (const auto& [p, s] : states_) {
        for (const auto& [id, sp] : s.spaces)
            if (!sp.deleted) {
                auto readers = readers_of(s, sp);
                if (!readers.empty()) readers_[id] = std::move(readers);
            }
        for (const auto& [jid, j] : s.journeys) {
            const auto* sp = s.space(engine::space_of_id(jid.value));
            if (!sp || sp->deleted) continue;
            for (const auto& [nid, n] : j.nodes)
                if (n.is_task() && (!n.assignee_user.empty() || !n.assignee_team.empty()))
                    assigned_[nid] = {n.assignee_user, n.assignee_team};
        }
    }
}

void board::reset() {
    std::unique_lock lock(mutex_);
    states_.clear();
    readers_.clear();
    assigned_.clear();
    journey_entry_.clear();
    task_text_.clear();
    module_text_.clear();
    tallies_.clear();
    dependents_.clear();
    dirty_spaces_.clear();
    dirty_journeys_.clear();
    dirty_tasks_.clear();
}

bool board::may_read(const user_id& user, const space_id& space) const {
    std::shared_lock lock(mutex_);
    auto it = readers_.find(space);
    return it != readers_.end() && it->second.contains(user);
}

ev::role board::role_in_journey(const user_id& user, const journey_id& journey) const {
    std::shared_lock lock(mutex_);
    for (const auto& [p, s] : states_) {
        const auto* j = s.journey(journey);
        if (!j) continue;
        const auto* sp = s.space(engine::space_of_id(journey.value));
        if (!sp || sp->deleted) return ev::role::none;
        auto roles = engine::roles_of(*sp, j, user);
        if (roles.empty()) return ev::role::none;
        return *std::min_element(roles.begin(), roles.end());
    }
    return ev::role::none;
}

std::optional<boost::json::object> board::members_of(const space_id& space) const {
    std::shared_lock lock(mutex_);
    for (const auto& [p, s] : states_) {
        const auto* sp = s.space(space);
        if (sp && !sp->deleted) return members_view(s, *sp);
    }
    return std::nullopt;
}

std::uint64_t board::listen(listener l) {
    return listeners_.add(std::move(l));
}

void board::unlisten(std::uint64_t token) {
    listeners_.remove(token);
}

result<std::optional<std::string>> board::get(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                              std::string_view key) {
    std::string value;
    auto s = db.Get(rocksdb::ReadOptions{}, cf, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return failure(ev::from_status(s, "cannot read the board"));
    return std::optional<std::string>{std::move(value)};
}

result<std::vector<board::row>> board::scan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                            std::string_view prefix, std::size_t limit,
                                            std::string_view after) {
    std::vector<row> out;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions{}, cf));
    const std::string start = after.empty() ? std::string(prefix) : std::string(after);
    for (it->Seek(start); it->Valid() && out.size() < limit; it->Next()) {
        auto key = it->key().ToStringView();
        if (!key.starts_with(prefix)) break;
        if (!after.empty() && key == after) continue;
        out.push_back(row{std::string(key), it->value().ToString()});
    }
    if (!it->status().ok()) return failure(ev::from_status(it->status(), "cannot read the board"));
    return out;
}

}  // namespace migops::projections
