#include "engine/domain.h"

#include <algorithm>
#include <functional>
#include <locale>

#include <boost/algorithm/string/classification.hpp>
#include <boost/algorithm/string/predicate.hpp>

#include "engine/alerts.h"
#include "engine/artifacts.h"
#include "engine/permissions.h"
#include "events/codec.h"
#include "events/utf8.h"

namespace migops::engine {

namespace ev = events;
using ev::payload;
using ev::task_status;

namespace {

const limits default_limits{};

// A link a browser follows to a web page: http or https, whatever the case
// of the scheme (javascript:, data: and the like run in the page instead).
bool is_web_url(std::string_view url) {
    for (const std::string_view scheme : {"http://", "https://"})
        if (url.size() > scheme.size() && boost::algorithm::istarts_with(url, scheme)) return true;
    return false;
}

constexpr std::size_t max_artifact_name = 255;
constexpr std::size_t max_tool_length = 200;
constexpr std::size_t max_url_length = 2000;

// Everything decide needs for one command; helpers return failures that
// decide passes on unchanged.
class decider {
  public:
    decider(const partition_state& s, const command_context& ctx)
        : s_(s), ctx_(ctx), lim_(ctx.bounds ? *ctx.bounds : default_limits) {}

    // Ids are bounded wherever they are named, the one who acts included
    // (a token's sub is not bounded where it is signed).
    result<void> check_actor() const {
        return text("the acting user's id", ctx_.actor.value, lim_.name_length, false);
    }

    result<decision> operator()(const create_space& c);
    result<decision> operator()(const rename_space& c);
    result<decision> operator()(const describe_space& c);
    result<decision> operator()(const delete_space& c);
    result<decision> operator()(const create_team& c);
    result<decision> operator()(const delete_team& c);
    result<decision> operator()(const add_team_member& c);
    result<decision> operator()(const remove_team_member& c);
    result<decision> operator()(const grant_role& c);
    result<decision> operator()(const revoke_role& c);
    result<decision> operator()(const publish_template& c);
    result<decision> operator()(const create_journey& c);
    result<decision> operator()(const copy_journey& c);
    result<decision> operator()(const edit_journey& c);
    result<decision> operator()(const change_journey_status& c);
    result<decision> operator()(const delete_journey& c);
    result<decision> operator()(const add_phase& c);
    result<decision> operator()(const add_module& c);
    result<decision> operator()(const add_task& c);
    result<decision> operator()(const edit_node& c);
    result<decision> operator()(const move_node& c);
    result<decision> operator()(const scope_node& c);
    result<decision> operator()(const delete_node& c);
    result<decision> operator()(const assign_task& c);
    result<decision> operator()(const change_task_status& c);
    result<decision> operator()(const set_due_date& c);
    result<decision> operator()(const set_effort& c);
    result<decision> operator()(const add_dependency& c);
    result<decision> operator()(const remove_dependency& c);
    result<decision> operator()(const add_step& c);
    result<decision> operator()(const edit_step& c);
    result<decision> operator()(const check_step& c);
    result<decision> operator()(const remove_step& c);
    result<decision> operator()(const approve_task& c);
    result<decision> operator()(const upload_artifact& c);
    result<decision> operator()(const remove_artifact& c);
    result<decision> operator()(const add_comment& c);
    result<decision> operator()(const edit_comment& c);
    result<decision> operator()(const delete_comment& c);
    result<decision> operator()(const request_help& c);
    result<decision> operator()(const accept_help& c);
    result<decision> operator()(const resolve_help& c);
    result<decision> operator()(const cancel_help& c);
    result<decision> operator()(const review_alerts& c);
    result<decision> operator()(const set_alert_rules& c);
    result<decision> operator()(const record_notification& c);

  private:
    // The context a command acts in, resolved and authorised.
    struct target {
        const space_state* space = nullptr;
        const journey_state* journey = nullptr;
        const node_state* node = nullptr;
        role allowed_by = role::none;
    };

    result<const space_state*> live_space(const space_id& id) const;
    result<target> on_space(const space_id& id, action a) const;
    result<target> on_journey(const journey_id& id, action a, bool allow_archived = false) const;
    result<target> on_node(const node_id& id, action a) const;
    result<target> on_task(const node_id& id, action a) const;
    // The caller's If-Match against the version of the entity acted on.
    result<void> fresh(const std::string& what, position version) const {
        if (!ctx_.if_match || *ctx_.if_match == version) return success();
        return failure(errc::precondition_failed, what + " is at version " +
                                                      std::to_string(version) + ", not " +
                                                      std::to_string(*ctx_.if_match));
    }
    result<void> text(std::string_view what, const std::string& v, std::size_t max,
                      bool required) const;
    result<void> check_content(const ev::task_spec& t, bool subtask) const;
    result<void> check_criteria(const std::vector<ev::criterion_spec>& criteria) const;
    // Subtasks and steps of one task share one limit.
    result<void> room_for_children(std::size_t total) const {
        if (total <= lim_.subtasks_and_steps_per_task) return success();
        return failure(errc::limit_exceeded, "a task has at most " +
                                                 std::to_string(lim_.subtasks_and_steps_per_task) +
                                                 " subtasks and steps together");
    }
    result<void> check_grantee(const space_state& space, const user_id& user,
                               const team_id& team) const;
    bool is_member(const space_state& space, const journey_state& j, const user_id& u) const;
    // authorize(), except that to an actor who may not see the space at all
    // the target does not exist, as it reads to them (what: "space S", …).
    result<role> authorized(const space_state& space, const journey_state* j, const node_state* n,
                            action a, const std::string& what) const;
    std::vector<std::string> unmet(const target& t, const change_task_status& c,
                                   ev::completion_evidence& evidence) const;

    static result<decision> done(const target& t, std::vector<payload> events) {
        return decision{std::move(events), t.allowed_by};
    }

    const partition_state& s_;
    const command_context& ctx_;
    const limits& lim_;
};

// ---- resolution and checks -------------------------------------------------

result<const space_state*> decider::live_space(const space_id& id) const {
    const auto* sp = s_.space(id);
    if (!sp || sp->deleted)
        return failure(errc::not_found, "space " + id.value + " does not exist");
    return sp;
}

result<role> decider::authorized(const space_state& space, const journey_state* j,
                                 const node_state* n, action a, const std::string& what) const {
    auto r = authorize(space, j, n, ctx_.actor, a);
    if (!r && !may_read(s_, space, ctx_.actor))
        return failure(errc::not_found, what + " does not exist");
    return r;
}

result<decider::target> decider::on_space(const space_id& id, action a) const {
    auto sp = live_space(id);
    if (!sp) return failure(sp.error());
    auto r = authorized(*sp.value(), nullptr, nullptr, a, "space " + id.value);
    if (!r) return failure(r.error());
    if (auto f = fresh("space " + id.value, sp.value()->version); !f) return failure(f.error());
    return target{sp.value(), nullptr, nullptr, r.value()};
}

result<decider::target> decider::on_journey(const journey_id& id, action a,
                                            bool allow_archived) const {
    const auto* j = s_.journey(id);
    if (!j) return failure(errc::not_found, "journey " + id.value + " does not exist");
    auto sp = live_space(space_of_id(id.value));
    if (!sp) return failure(sp.error());
    auto r = authorized(*sp.value(), j, nullptr, a, "journey " + id.value);
    if (!r) return failure(r.error());
    if (auto f = fresh("journey " + id.value, j->version); !f) return failure(f.error());
    if (!allow_archived && j->status == ev::journey_status::archived)
        return failure(errc::rule_refused, "journey " + j->name + " is archived");
    return target{sp.value(), j, nullptr, r.value()};
}

result<decider::target> decider::on_node(const node_id& id, action a) const {
    const auto* j = s_.journey(journey_of_id(id.value));
    const node_state* n = nullptr;
    if (j) {
        auto it = j->nodes.find(id);
        if (it != j->nodes.end()) n = &it->second;
    }
    if (!n) return failure(errc::not_found, id.value + " does not exist");
    auto sp = live_space(space_of_id(id.value));
    if (!sp) return failure(sp.error());
    auto r = authorized(*sp.value(), j, n, a, id.value);
    if (!r) return failure(r.error());
    if (auto f = fresh(id.value, n->version); !f) return failure(f.error());
    if (j->status == ev::journey_status::archived)
        return failure(errc::rule_refused, "journey " + j->name + " is archived");
    return target{sp.value(), j, n, r.value()};
}

result<decider::target> decider::on_task(const node_id& id, action a) const {
    auto t = on_node(id, a);
    if (!t) return t;
    if (!t.value().node->is_task())
        return failure(
            errc::invalid_argument,
            id.value + " is a " + std::string(to_string(t.value().node->kind)) + ", not a task");
    return t;
}

result<void> decider::text(std::string_view what, const std::string& v, std::size_t max,
                           bool required) const {
    if (required && v.find_first_not_of(" \t\r\n") == std::string::npos)
        return failure(errc::invalid_argument, std::string(what) + " is required");
    if (v.size() > max)
        return failure(errc::invalid_argument,
                       std::string(what) + " is longer than " + std::to_string(max) + " bytes");
    if (!events::valid_utf8(v))
        return failure(errc::invalid_argument, std::string(what) + " is not valid UTF-8");
    return success();
}

result<void> decider::check_criteria(const std::vector<ev::criterion_spec>& criteria) const {
    if (criteria.size() > lim_.criteria_per_task)
        return failure(errc::limit_exceeded, "a task has at most " +
                                                 std::to_string(lim_.criteria_per_task) +
                                                 " acceptance criteria");
    for (const auto& k : criteria) {
        if (auto r = text("criterion description", k.description, lim_.description_length, true);
            !r)
            return r;
        if (auto r = text("criterion pattern", k.pattern, lim_.name_length, false); !r) return r;
        if (k.kind == ev::criterion_kind::artifact && k.pattern.empty() && k.media_types.empty())
            return failure(errc::invalid_argument,
                           "an artifact criterion needs a pattern or media types");
        for (const auto& m : k.media_types) {
            if (auto r = text("criterion media type", m, lim_.name_length, true); !r) return r;
            if (!is_evidence_media_type(m))
                return failure(errc::invalid_argument, "criterion media type " + m +
                                                           " is not one a file may have (" +
                                                           evidence_media_types() + ")");
        }
        if (to_string(k.kind).empty())
            return failure(errc::invalid_argument, "unknown criterion kind");
    }
    return success();
}

result<void> decider::check_content(const ev::task_spec& t, bool subtask) const {
    if (auto r = text("title", t.title, lim_.title_length, true); !r) return r;
    if (auto r = text("description", t.description, lim_.description_length, false); !r) return r;
    for (const auto& tool : t.tools)
        if (auto r = text("tool", tool, max_tool_length, true); !r) return r;
    for (const auto& l : t.links) {
        if (auto r = text("link title", l.title, lim_.title_length, false); !r) return r;
        if (auto r = text("link url", l.url, max_url_length, true); !r) return r;
        if (!is_web_url(l.url))
            return failure(errc::invalid_argument, "link url must start with http:// or https://");
    }
    if (auto r = check_criteria(t.criteria); !r) return r;
    for (const auto& st : t.steps)
        if (auto r = text("step", st.text, lim_.description_length, true); !r) return r;
    if (subtask && !t.subtasks.empty())
        return failure(errc::invalid_argument, "a subtask cannot have subtasks");
    if (auto r = room_for_children(t.subtasks.size() + t.steps.size()); !r) return r;
    for (const auto& sub : t.subtasks) {
        ev::task_spec as_task{sub.id,    sub.title,    sub.description, sub.tools,
                              sub.links, sub.criteria, sub.steps,       {}};
        if (auto r = check_content(as_task, true); !r) return r;
    }
    return success();
}

result<void> decider::check_grantee(const space_state& space, const user_id& user,
                                    const team_id& team) const {
    if (user.empty() == team.empty())
        return failure(errc::invalid_argument, "name exactly one of a user and a team");
    if (!user.empty())
        if (auto r = text("user id", user.value, lim_.name_length, true); !r) return r;
    if (!team.empty() && !space.teams.contains(team))
        return failure(errc::not_found, "team " + team.value + " does not exist in this space");
    return success();
}

bool decider::is_member(const space_state& space, const journey_state& j, const user_id& u) const {
    return !roles_of(space, &j, u).empty();
}

// ---- spaces, teams, roles ----------------------------------------------------

result<decision> decider::operator()(const create_space& c) {
    if (c.space.empty() || c.space.value.find('.') != std::string::npos)
        return failure(errc::invalid_argument, "a space id is required and has no '.'");
    if (auto r = text("name", c.name, lim_.name_length, true); !r) return failure(r.error());
    if (auto r = text("description", c.description, lim_.description_length, false); !r)
        return failure(r.error());
    if (s_.spaces.contains(c.space))
        return failure(errc::already_exists, "space " + c.space.value + " exists");
    // The creator becomes the first space admin (applied with the event).
    return decision{{ev::space_created{c.name, c.description}}, role::space_admin};
}

result<decision> decider::operator()(const rename_space& c) {
    auto t = on_space(c.space, action::manage_space);
    if (!t) return failure(t.error());
    if (auto r = text("name", c.name, lim_.name_length, true); !r) return failure(r.error());
    if (t.value().space->name == c.name) return done(t.value(), {});
    return done(t.value(), {ev::space_renamed{c.name}});
}

result<decision> decider::operator()(const describe_space& c) {
    auto t = on_space(c.space, action::manage_space);
    if (!t) return failure(t.error());
    if (auto r = text("description", c.description, lim_.description_length, false); !r)
        return failure(r.error());
    if (t.value().space->description == c.description) return done(t.value(), {});
    return done(t.value(), {ev::space_described{c.description}});
}

result<decision> decider::operator()(const delete_space& c) {
    auto t = on_space(c.space, action::delete_space);
    if (!t) return failure(t.error());
    return done(t.value(), {ev::space_deleted{}});
}

result<decision> decider::operator()(const create_team& c) {
    auto t = on_space(c.space, action::manage_space_members);
    if (!t) return failure(t.error());
    if (auto r = text("team name", c.name, lim_.name_length, true); !r) return failure(r.error());
    const auto& sp = *t.value().space;
    if (sp.teams.size() >= lim_.teams_per_space)
        return failure(errc::limit_exceeded,
                       "a space has at most " + std::to_string(lim_.teams_per_space) + " teams");
    for (const auto& [id, team] : sp.teams)
        if (team.name == c.name)
            return failure(errc::already_exists, "team " + c.name + " exists in this space");
    const team_id id{sp.id.value + ".t" + std::to_string(sp.next_team)};
    return done(t.value(), {ev::team_created{id, c.name}});
}

result<decision> decider::operator()(const delete_team& c) {
    auto t = on_space(space_of_id(c.team.value), action::manage_space_members);
    if (!t) return failure(t.error());
    if (!t.value().space->teams.contains(c.team))
        return failure(errc::not_found, "team " + c.team.value + " does not exist");
    return done(t.value(), {ev::team_deleted{c.team}});
}

result<decision> decider::operator()(const add_team_member& c) {
    auto t = on_space(space_of_id(c.team.value), action::manage_space_members);
    if (!t) return failure(t.error());
    auto team = t.value().space->teams.find(c.team);
    if (team == t.value().space->teams.end())
        return failure(errc::not_found, "team " + c.team.value + " does not exist");
    if (auto r = text("user id", c.user.value, lim_.name_length, true); !r)
        return failure(r.error());
    if (team->second.members.contains(c.user)) return done(t.value(), {});
    if (team->second.members.size() >= lim_.members_per_team)
        return failure(errc::limit_exceeded,
                       "a team has at most " + std::to_string(lim_.members_per_team) + " members");
    return done(t.value(), {ev::team_member_added{c.team, c.user}});
}

result<decision> decider::operator()(const remove_team_member& c) {
    auto t = on_space(space_of_id(c.team.value), action::manage_space_members);
    if (!t) return failure(t.error());
    auto team = t.value().space->teams.find(c.team);
    if (team == t.value().space->teams.end())
        return failure(errc::not_found, "team " + c.team.value + " does not exist");
    if (!team->second.members.contains(c.user))
        return failure(errc::not_found, c.user.value + " is not in team " + team->second.name);
    return done(t.value(), {ev::team_member_removed{c.team, c.user}});
}

namespace {

// Whether the user is the space's only space admin (among its users), whom
// no change may take that role from.
bool sole_space_admin(const grants& space_members, const user_id& user) {
    const auto it = space_members.users.find(user);
    if (it == space_members.users.end() || it->second != role::space_admin) return false;
    return std::count_if(space_members.users.begin(), space_members.users.end(),
                         [](const auto& m) { return m.second == role::space_admin; }) == 1;
}

constexpr std::string_view keeps_an_admin = "a space keeps at least one space admin";

}  // namespace

result<decision> decider::operator()(const grant_role& c) {
    const bool on_journey_level = !c.journey.empty();
    auto t = on_journey_level ? on_journey(c.journey, action::manage_journey_members, true)
                              : on_space(c.space, action::manage_space_members);
    if (!t) return failure(t.error());
    if (on_journey_level && space_of_id(c.journey.value) != c.space)
        return failure(errc::invalid_argument,
                       "journey " + c.journey.value + " is not in space " + c.space.value);
    if (c.granted == role::none || to_string(c.granted).empty())
        return failure(errc::invalid_argument, "a role is required");
    if (is_space_role(c.granted) == on_journey_level)
        return failure(errc::invalid_argument,
                       std::string(to_string(c.granted)) + " is granted on " +
                           (is_space_role(c.granted) ? "a space" : "a journey"));
    if (auto r = check_grantee(*t.value().space, c.user, c.team); !r) return failure(r.error());
    const grants& g = on_journey_level ? t.value().journey->members : t.value().space->members;
    if (!c.user.empty()) {
        auto it = g.users.find(c.user);
        if (it != g.users.end() && it->second == c.granted) return done(t.value(), {});
    } else {
        auto it = g.teams.find(c.team);
        if (it != g.teams.end() && it->second == c.granted) return done(t.value(), {});
    }
    if (!on_journey_level && !c.user.empty() && sole_space_admin(g, c.user))
        return failure(errc::rule_refused, std::string(keeps_an_admin));
    if (g.users.size() + g.teams.size() >= lim_.grants_per_resource)
        return failure(errc::limit_exceeded, "too many members");
    return done(t.value(), {ev::role_granted{c.journey, c.user, c.team, c.granted}});
}

result<decision> decider::operator()(const revoke_role& c) {
    const bool on_journey_level = !c.journey.empty();
    auto t = on_journey_level ? on_journey(c.journey, action::manage_journey_members, true)
                              : on_space(c.space, action::manage_space_members);
    if (!t) return failure(t.error());
    if (auto r = check_grantee(*t.value().space, c.user, c.team); !r) return failure(r.error());
    const grants& g = on_journey_level ? t.value().journey->members : t.value().space->members;
    const bool held = c.user.empty() ? g.teams.contains(c.team) : g.users.contains(c.user);
    if (!held)
        return failure(errc::not_found,
                       (c.user.empty() ? c.team.value : c.user.value) + " holds no role here");
    if (!on_journey_level && !c.user.empty() && sole_space_admin(g, c.user))
        return failure(errc::rule_refused, std::string(keeps_an_admin));
    return done(t.value(), {ev::role_revoked{c.journey, c.user, c.team}});
}

// ---- templates and journeys ---------------------------------------------------

result<decision> decider::operator()(const publish_template& c) {
    const auto& t = c.content;
    if (auto r = text("template id", t.template_id, lim_.name_length, true); !r)
        return failure(r.error());
    if (auto r = text("template version", t.template_version, lim_.name_length, true); !r)
        return failure(r.error());
    if (auto r = text("template name", t.name, lim_.name_length, true); !r)
        return failure(r.error());
    // Both are named in URLs and file names (GET /v1/templates/{id}?version=,
    // <id>-<version>.json).
    for (const auto& [what, v] : {std::pair{"template id", &t.template_id},
                                  std::pair{"template version", &t.template_version}})
        if (!boost::algorithm::all(*v, boost::algorithm::is_alnum(std::locale::classic()) ||
                                           boost::algorithm::is_any_of("._-")))
            return failure(errc::invalid_argument,
                           std::string(what) + " may hold only letters, digits, '.', '_' and '-'");
    if (t.phases.empty())
        return failure(errc::invalid_argument, "a template has at least one phase");
    std::uint32_t tasks = 0;
    for (const auto& p : t.phases) {
        if (auto r = text("phase title", p.title, lim_.title_length, true); !r)
            return failure(r.error());
        for (const auto& m : p.modules) {
            if (auto r = text("module title", m.title, lim_.title_length, true); !r)
                return failure(r.error());
            for (const auto& task : m.tasks) {
                if (auto r = check_content(task, false); !r)
                    return failure(errc::invalid_argument,
                                   "task \"" + task.title + "\": " + r.error().message);
                tasks += 1 + static_cast<std::uint32_t>(task.subtasks.size());
            }
        }
    }
    if (tasks > lim_.tasks_per_journey)
        return failure(errc::limit_exceeded, "a journey has at most " +
                                                 std::to_string(lim_.tasks_per_journey) +
                                                 " tasks and subtasks");
    const std::string hash = template_hash(t);
    auto it = s_.templates.find({t.template_id, t.template_version});
    if (it != s_.templates.end()) {
        if (it->second.content_hash == hash) return decision{{}, role::none};
        return failure(errc::rule_refused, "template " + t.template_id + " version " +
                                               t.template_version +
                                               " is published with other content");
    }
    return decision{{ev::template_published{t, hash}}, role::none};
}

std::uint32_t count_tasks(const std::vector<ev::phase_spec>& phases) {
    std::uint32_t n = 0;
    for (const auto& p : phases)
        for (const auto& m : p.modules)
            for (const auto& t : m.tasks) n += 1 + static_cast<std::uint32_t>(t.subtasks.size());
    return n;
}

result<decision> decider::operator()(const create_journey& c) {
    auto t = on_space(c.space, action::create_journey);
    if (!t) return failure(t.error());
    if (auto r = text("name", c.name, lim_.name_length, true); !r) return failure(r.error());
    if (auto r = text("description", c.description, lim_.description_length, false); !r)
        return failure(r.error());
    const auto& sp = *t.value().space;
    if (sp.journeys.size() >= lim_.journeys_per_space)
        return failure(
            errc::limit_exceeded,
            "a space has at most " + std::to_string(lim_.journeys_per_space) + " journeys");
    const journey_id id{sp.id.value + ".j" + std::to_string(sp.next_journey)};
    ev::journey_created e;
    e.journey = id;
    e.name = c.name;
    e.description = c.description;
    e.target_date = c.target_date;
    if (c.from_template) {
        const auto& tpl = *c.from_template;
        if (template_hash(tpl) != c.template_hash)
            return failure(errc::invalid_argument, "the template content does not match its hash");
        if (count_tasks(tpl.phases) > lim_.tasks_per_journey)
            return failure(errc::limit_exceeded, "a journey has at most " +
                                                     std::to_string(lim_.tasks_per_journey) +
                                                     " tasks and subtasks");
        e.template_id = tpl.template_id;
        e.template_version = tpl.template_version;
        e.template_hash = c.template_hash;
        std::uint32_t next = 1;
        e.phases = instantiate(tpl.phases, id, next);
    }
    return done(t.value(), {std::move(e)});
}

result<decision> decider::operator()(const copy_journey& c) {
    const auto* src = s_.journey(c.source);
    if (!src) return failure(errc::not_found, "journey " + c.source.value + " does not exist");
    auto t = on_space(space_of_id(c.source.value), action::create_journey);
    if (!t) return failure(t.error());
    if (auto r = text("name", c.name, lim_.name_length, true); !r) return failure(r.error());
    const auto& sp = *t.value().space;
    if (sp.journeys.size() >= lim_.journeys_per_space)
        return failure(
            errc::limit_exceeded,
            "a space has at most " + std::to_string(lim_.journeys_per_space) + " journeys");
    const journey_id id{sp.id.value + ".j" + std::to_string(sp.next_journey)};
    // The structure as it is now, without ids; then fresh ids for the copy.
    std::vector<ev::phase_spec> phases;
    std::vector<std::pair<node_id, std::vector<std::size_t>>> paths;  // old id → path
    auto content_of = [&](const node_state& n) {
        ev::task_spec content;
        content.title = n.title;
        content.description = n.description;
        content.tools = n.tools;
        content.links = n.links;
        content.criteria = n.criteria;
        for (auto& k : content.criteria) k.id.clear();
        for (const auto& st : n.steps) content.steps.push_back({"", st.text});
        return content;
    };
    for (const auto& pid : src->phases) {
        const auto& p = src->nodes.at(pid);
        ev::phase_spec ps{"", p.title, p.description, {}};
        for (const auto& mid : p.children) {
            const auto& m = src->nodes.at(mid);
            ev::module_spec ms{"", m.title, m.description, {}};
            for (const auto& tid : m.children) {
                const auto& task = src->nodes.at(tid);
                auto ts = content_of(task);
                for (const auto& sid : task.children) {
                    auto sub = content_of(src->nodes.at(sid));
                    ts.subtasks.push_back({"", sub.title, sub.description, sub.tools, sub.links,
                                           sub.criteria, sub.steps});
                    paths.push_back({sid,
                                     {phases.size(), ps.modules.size(), ms.tasks.size(),
                                      ts.subtasks.size() - 1}});
                }
                paths.push_back({tid, {phases.size(), ps.modules.size(), ms.tasks.size()}});
                ms.tasks.push_back(std::move(ts));
            }
            paths.push_back({mid, {phases.size(), ps.modules.size()}});
            ps.modules.push_back(std::move(ms));
        }
        paths.push_back({pid, {phases.size()}});
        phases.push_back(std::move(ps));
    }
    std::uint32_t next = 1;
    ev::journey_created e;
    e.journey = id;
    e.name = c.name;
    e.description = src->description;
    e.target_date = src->target_date;
    e.template_id = src->template_id;
    e.template_version = src->template_version;
    e.template_hash = src->template_hash;
    e.copied_from = src->id;
    e.phases = instantiate(phases, id, next);
    auto new_id = [&](const std::vector<std::size_t>& path) -> std::string {
        const auto& p = e.phases[path[0]];
        if (path.size() == 1) return p.id;
        const auto& m = p.modules[path[1]];
        if (path.size() == 2) return m.id;
        const auto& task = m.tasks[path[2]];
        if (path.size() == 3) return task.id;
        return task.subtasks[path[3]].id;
    };
    std::map<node_id, node_id> renamed;
    for (const auto& [old, path] : paths) renamed[old] = node_id{new_id(path)};
    std::vector<payload> events;
    for (const auto& [nid, n] : src->nodes)
        for (const auto& dep : n.dependencies)
            e.dependencies.push_back({renamed.at(nid), renamed.at(dep)});
    std::vector<payload> scoped;
    for (const auto& [nid, n] : src->nodes)
        if (!n.in_scope) scoped.push_back(ev::node_scoped{renamed.at(nid), false});
    events.push_back(std::move(e));
    for (auto& p : scoped) events.push_back(std::move(p));
    return done(t.value(), std::move(events));
}

result<decision> decider::operator()(const edit_journey& c) {
    auto t = on_journey(c.journey, action::manage_journey);
    if (!t) return failure(t.error());
    const auto& j = *t.value().journey;
    ev::journey_edited e{j.id, c.name.value_or(j.name), c.description.value_or(j.description),
                         c.target_date ? *c.target_date : j.target_date};
    if (auto r = text("name", e.name, lim_.name_length, true); !r) return failure(r.error());
    if (auto r = text("description", e.description, lim_.description_length, false); !r)
        return failure(r.error());
    if (e.name == j.name && e.description == j.description && e.target_date == j.target_date)
        return done(t.value(), {});
    return done(t.value(), {std::move(e)});
}

result<decision> decider::operator()(const change_journey_status& c) {
    auto t = on_journey(c.journey, action::manage_journey, true);
    if (!t) return failure(t.error());
    if (to_string(c.status).empty()) return failure(errc::invalid_argument, "unknown status");
    if (t.value().journey->status == c.status) return done(t.value(), {});
    return done(t.value(), {ev::journey_status_changed{c.journey, c.status}});
}

result<decision> decider::operator()(const delete_journey& c) {
    auto t = on_journey(c.journey, action::delete_journey, true);
    if (!t) return failure(t.error());
    return done(t.value(), {ev::journey_deleted{c.journey}});
}

// ---- the tree -------------------------------------------------------------------

std::uint32_t rank_in(const std::vector<node_id>& siblings, std::optional<std::uint32_t> rank) {
    const auto n = static_cast<std::uint32_t>(siblings.size());
    return rank ? std::min(*rank, n) : n;
}

result<decision> decider::operator()(const add_phase& c) {
    auto t = on_journey(c.journey, action::edit_work);
    if (!t) return failure(t.error());
    const auto& j = *t.value().journey;
    if (j.phases.size() >= lim_.phases_per_journey)
        return failure(
            errc::limit_exceeded,
            "a journey has at most " + std::to_string(lim_.phases_per_journey) + " phases");
    ev::task_spec content;
    content.title = c.title;
    content.description = c.description;
    if (auto r = text("title", c.title, lim_.title_length, true); !r) return failure(r.error());
    if (auto r = text("description", c.description, lim_.description_length, false); !r)
        return failure(r.error());
    const node_id id{j.id.value + ".n" + std::to_string(j.next_node)};
    return done(t.value(), {ev::node_added{node_id{}, id, node_kind::phase,
                                           rank_in(j.phases, c.rank), std::move(content)}});
}

result<decision> decider::operator()(const add_module& c) {
    auto t = on_node(c.phase, action::edit_work);
    if (!t) return failure(t.error());
    const auto& phase = *t.value().node;
    if (phase.kind != node_kind::phase)
        return failure(errc::invalid_argument, c.phase.value + " is not a phase");
    if (phase.children.size() >= lim_.modules_per_phase)
        return failure(
            errc::limit_exceeded,
            "a phase has at most " + std::to_string(lim_.modules_per_phase) + " modules");
    if (auto r = text("title", c.title, lim_.title_length, true); !r) return failure(r.error());
    if (auto r = text("description", c.description, lim_.description_length, false); !r)
        return failure(r.error());
    ev::task_spec content;
    content.title = c.title;
    content.description = c.description;
    const auto& j = *t.value().journey;
    const node_id id{j.id.value + ".n" + std::to_string(j.next_node)};
    return done(t.value(), {ev::node_added{c.phase, id, node_kind::module,
                                           rank_in(phase.children, c.rank), std::move(content)}});
}

result<decision> decider::operator()(const add_task& c) {
    auto t = on_node(c.parent, action::edit_work);
    if (!t) return failure(t.error());
    const auto& parent = *t.value().node;
    const auto& j = *t.value().journey;
    if (c.under && parent.kind != *c.under)
        return failure(errc::invalid_argument, c.parent.value + " is a " +
                                                   std::string(to_string(parent.kind)) +
                                                   ", not a " + std::string(to_string(*c.under)));
    node_kind kind;
    if (parent.kind == node_kind::module)
        kind = node_kind::task;
    else if (parent.kind == node_kind::task)
        kind = node_kind::subtask;
    else
        return failure(errc::invalid_argument,
                       "tasks go under a module and subtasks under a task, not under a " +
                           std::string(to_string(parent.kind)));
    if (auto r = check_content(c.content, kind == node_kind::subtask); !r)
        return failure(r.error());
    const auto added = 1 + static_cast<std::uint32_t>(c.content.subtasks.size());
    if (j.task_count + added > lim_.tasks_per_journey)
        return failure(errc::limit_exceeded, "a journey has at most " +
                                                 std::to_string(lim_.tasks_per_journey) +
                                                 " tasks and subtasks");
    if (kind == node_kind::subtask)
        if (auto r = room_for_children(parent.children.size() + parent.steps.size() + 1); !r)
            return failure(r.error());
    // The task, then each of its subtasks, with ids assigned here.
    std::uint32_t next = j.next_node;
    ev::phase_spec wrapper{"", "", "", {ev::module_spec{"", "", "", {c.content}}}};
    auto ided = instantiate({wrapper}, j.id, next);
    // instantiate numbered the wrapper phase and module too: drop them.
    auto task = ided[0].modules[0].tasks[0];
    std::vector<payload> events;
    auto subtasks = std::move(task.subtasks);
    task.subtasks.clear();
    const node_id task_id{task.id};
    events.push_back(
        ev::node_added{c.parent, task_id, kind, rank_in(parent.children, c.rank), task});
    std::uint32_t rank = 0;
    for (auto& sub : subtasks) {
        ev::task_spec st{sub.id,    sub.title,    sub.description, sub.tools,
                         sub.links, sub.criteria, sub.steps,       {}};
        events.push_back(
            ev::node_added{task_id, node_id{sub.id}, node_kind::subtask, rank++, std::move(st)});
    }
    return done(t.value(), std::move(events));
}

result<decision> decider::operator()(const edit_node& c) {
    auto t = on_node(c.node, action::edit_work);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    ev::node_edited e{n.id,
                      c.title.value_or(n.title),
                      c.description.value_or(n.description),
                      c.tools.value_or(n.tools),
                      c.links.value_or(n.links),
                      c.criteria.value_or(n.criteria)};
    if (!n.is_task() && (c.tools || c.links || c.criteria))
        return failure(errc::invalid_argument, "only tasks have tools, links and criteria");
    if (n.status == task_status::completed && c.criteria && *c.criteria != n.criteria)
        return failure(errc::rule_refused, "reopen the task before changing its criteria");
    ev::task_spec check{"", e.title, e.description, e.tools, e.links, e.criteria, {}, {}};
    if (auto r = check_content(check, true); !r) return failure(r.error());
    // New criteria get ids; kept ones keep theirs.
    std::uint32_t next_id = 1;
    for (const auto& k : n.criteria)
        if (k.id.size() > 1)
            next_id = std::max(next_id, static_cast<std::uint32_t>(std::stoul(k.id.substr(1))) + 1);
    for (auto& k : e.criteria)
        if (k.id.empty()) k.id = "a" + std::to_string(next_id++);
    if (e.title == n.title && e.description == n.description && e.tools == n.tools &&
        e.links == n.links && e.criteria == n.criteria)
        return done(t.value(), {});
    return done(t.value(), {std::move(e)});
}

result<decision> decider::operator()(const move_node& c) {
    auto t = on_node(c.node, action::edit_work);
    if (!t) return failure(t.error());
    const auto& j = *t.value().journey;
    const auto& n = *t.value().node;
    const auto& siblings = n.parent.empty() ? j.phases : j.nodes.at(n.parent).children;
    const auto rank =
        std::min<std::uint32_t>(c.rank, static_cast<std::uint32_t>(siblings.size() - 1));
    if (siblings[rank] == n.id) return done(t.value(), {});
    return done(t.value(), {ev::node_moved{n.id, rank}});
}

result<decision> decider::operator()(const scope_node& c) {
    auto t = on_node(c.node, action::edit_work);
    if (!t) return failure(t.error());
    if (t.value().node->in_scope == c.in_scope) return done(t.value(), {});
    return done(t.value(), {ev::node_scoped{c.node, c.in_scope}});
}

result<decision> decider::operator()(const delete_node& c) {
    auto t = on_node(c.node, action::delete_work);
    if (!t) return failure(t.error());
    return done(t.value(), {ev::node_deleted{c.node}});
}

// ---- tasks --------------------------------------------------------------------------

result<decision> decider::operator()(const assign_task& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& [sp, j, n, allowed_by] = t.value();
    if (!c.user.empty() && !is_member(*sp, *j, c.user))
        return failure(errc::rule_refused, c.user.value + " is not a member of journey " + j->name);
    if (!c.team.empty()) {
        if (!sp->teams.contains(c.team))
            return failure(errc::not_found, "team " + c.team.value + " does not exist");
        if (!j->members.teams.contains(c.team) && !sp->members.teams.contains(c.team))
            return failure(errc::rule_refused, "team " + sp->teams.at(c.team).name +
                                                   " is not a member of journey " + j->name);
    }
    if (n->assignee_user == c.user && n->assignee_team == c.team) return done(t.value(), {});
    return done(t.value(), {ev::task_assigned{c.task, c.user, c.team}});
}

const std::vector<std::pair<task_status, task_status>>& transitions() {
    static const std::vector<std::pair<task_status, task_status>> table = {
        {task_status::planned, task_status::in_progress},
        {task_status::planned, task_status::blocked},
        {task_status::planned, task_status::completed},
        {task_status::planned, task_status::out_of_scope},
        {task_status::in_progress, task_status::planned},
        {task_status::in_progress, task_status::blocked},
        {task_status::in_progress, task_status::completed},
        {task_status::in_progress, task_status::out_of_scope},
        {task_status::blocked, task_status::planned},
        {task_status::blocked, task_status::in_progress},
        {task_status::blocked, task_status::out_of_scope},
        {task_status::completed, task_status::in_progress},
        {task_status::out_of_scope, task_status::planned},
    };
    return table;
}

// A file name matches a glob with * and ? (case-insensitive).
bool glob_match(std::string_view pattern, std::string_view name) {
    auto lower = [](char ch) {
        return static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    };
    std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(name[n]))) {
            ++p;
            ++n;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

std::vector<std::string> decider::unmet(const target& t, const change_task_status& c,
                                        ev::completion_evidence& evidence) const {
    return missing_for_completion(*t.journey, *t.node, ctx_.actor, c.acknowledged, &evidence);
}

result<decision> decider::operator()(const change_task_status& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    if (to_string(c.status).empty()) return failure(errc::invalid_argument, "unknown status");
    if (n.status == c.status && c.status != task_status::blocked) return done(t.value(), {});
    const auto& table = transitions();
    if (n.status != c.status &&
        std::find(table.begin(), table.end(), std::pair{n.status, c.status}) == table.end())
        return failure(errc::rule_refused, "a task cannot go from " +
                                               std::string(to_string(n.status)) + " to " +
                                               std::string(to_string(c.status)));
    std::string reason;
    if (c.status == task_status::blocked) {
        if (auto r = text("reason", c.reason, lim_.comment_length, true); !r)
            return failure(errc::invalid_argument, "blocking a task needs a reason");
        reason = c.reason;
        if (n.status == task_status::blocked && n.blocked_reason == reason)
            return done(t.value(), {});
    } else if (!c.reason.empty()) {
        if (auto r = text("reason", c.reason, lim_.comment_length, false); !r)
            return failure(r.error());
        reason = c.reason;
    }
    ev::completion_evidence evidence;
    if (c.status == task_status::completed) {
        auto missing = unmet(t.value(), c, evidence);
        if (!missing.empty()) {
            std::string message = "cannot complete '" + n.title + "': " + missing.front();
            if (missing.size() > 1)
                message += " (and " + std::to_string(missing.size() - 1) + " more)";
            return failure(errc::rule_refused, std::move(message), std::move(missing));
        }
    }
    return done(t.value(),
                {ev::task_status_changed{c.task, n.status, c.status, reason, std::move(evidence)}});
}

result<decision> decider::operator()(const set_due_date& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    if (t.value().node->due == c.due) return done(t.value(), {});
    return done(t.value(), {ev::due_date_set{c.task, c.due}});
}

result<decision> decider::operator()(const set_effort& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    const auto est = c.estimated_minutes.value_or(n.estimated_minutes);
    const auto spent = c.spent_minutes.value_or(n.spent_minutes);
    if (est > lim_.max_effort_minutes || spent > lim_.max_effort_minutes)
        return failure(errc::invalid_argument,
                       "effort is at most " + std::to_string(lim_.max_effort_minutes) + " minutes");
    if (est == n.estimated_minutes && spent == n.spent_minutes) return done(t.value(), {});
    return done(t.value(), {ev::effort_set{c.task, est, spent}});
}

// True when `from` reaches `to` by following dependencies.
bool reaches(const journey_state& j, const node_id& from, const node_id& to) {
    std::vector<node_id> stack{from};
    std::set<node_id> seen;
    while (!stack.empty()) {
        auto at = stack.back();
        stack.pop_back();
        if (at == to) return true;
        if (!seen.insert(at).second) continue;
        auto it = j.nodes.find(at);
        if (it != j.nodes.end())
            for (const auto& d : it->second.dependencies) stack.push_back(d);
    }
    return false;
}

result<decision> decider::operator()(const add_dependency& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& j = *t.value().journey;
    const auto& n = *t.value().node;
    auto other = j.nodes.find(c.depends_on);
    if (other == j.nodes.end() || !other->second.is_task())
        return failure(errc::not_found, "task " + c.depends_on.value + " is not in this journey");
    if (c.depends_on == c.task)
        return failure(errc::rule_refused, "a task cannot depend on itself");
    if (n.dependencies.contains(c.depends_on)) return done(t.value(), {});
    if (n.dependencies.size() >= lim_.dependencies_per_task)
        return failure(
            errc::limit_exceeded,
            "a task has at most " + std::to_string(lim_.dependencies_per_task) + " dependencies");
    if (reaches(j, c.depends_on, c.task))
        return failure(errc::rule_refused, "'" + other->second.title + "' already depends on '" +
                                               n.title + "': that would be a cycle");
    return done(t.value(), {ev::dependency_added{c.task, c.depends_on}});
}

result<decision> decider::operator()(const remove_dependency& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    if (!t.value().node->dependencies.contains(c.depends_on))
        return failure(errc::not_found, c.task.value + " does not depend on " + c.depends_on.value);
    return done(t.value(), {ev::dependency_removed{c.task, c.depends_on}});
}

// The element of a task's steps or comments with that id, or null.
template <class T>
const T* find_by_id(const std::vector<T>& items, const std::string& id) {
    for (const auto& item : items)
        if (item.id == id) return &item;
    return nullptr;
}

result<decision> decider::operator()(const add_step& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    if (auto r = text("step", c.text, lim_.description_length, true); !r) return failure(r.error());
    if (auto r = room_for_children(n.steps.size() + n.children.size() + 1); !r)
        return failure(r.error());
    return done(t.value(), {ev::step_added{c.task, "s" + std::to_string(n.next_step), c.text}});
}

result<decision> decider::operator()(const edit_step& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto* st = find_by_id(t.value().node->steps, c.step);
    if (!st) return failure(errc::not_found, "step " + c.step + " does not exist");
    if (auto r = text("step", c.text, lim_.description_length, true); !r) return failure(r.error());
    if (st->text == c.text) return done(t.value(), {});
    return done(t.value(), {ev::step_edited{c.task, c.step, c.text}});
}

result<decision> decider::operator()(const check_step& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto* st = find_by_id(t.value().node->steps, c.step);
    if (!st) return failure(errc::not_found, "step " + c.step + " does not exist");
    if (st->checked == c.checked) return done(t.value(), {});
    return done(t.value(), {ev::step_checked{c.task, c.step, c.checked}});
}

result<decision> decider::operator()(const remove_step& c) {
    auto t = on_task(c.task, action::delete_work);
    if (!t) return failure(t.error());
    if (!find_by_id(t.value().node->steps, c.step))
        return failure(errc::not_found, "step " + c.step + " does not exist");
    return done(t.value(), {ev::step_removed{c.task, c.step}});
}

result<decision> decider::operator()(const approve_task& c) {
    auto t = on_task(c.task, action::approve);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    if (n.status == task_status::completed)
        return failure(errc::rule_refused, "'" + n.title + "' is already completed");
    if (n.approvals.contains(ctx_.actor)) return done(t.value(), {});
    return done(t.value(), {ev::task_approved{c.task}});
}

// ---- artifacts, comments, help -------------------------------------------------------

result<decision> decider::operator()(const upload_artifact& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    if (c.name.empty() || c.name.size() > max_artifact_name || c.name == "." || c.name == ".." ||
        c.name.find_first_of("/\\") != std::string::npos || !events::valid_utf8(c.name) ||
        std::any_of(c.name.begin(), c.name.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; }))
        return failure(errc::invalid_argument, "artifact name \"" + c.name + "\" is not allowed");
    if (c.sha256.size() != 64 ||
        c.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
        return failure(errc::invalid_argument, "sha256 must be 64 lower-case hex digits");
    if (auto r = text("media type", c.media_type, lim_.name_length, true); !r)
        return failure(r.error());
    std::uint64_t total = c.size;
    std::size_t files = 1;
    for (const auto& [name, a] : n.artifacts)
        if (name != c.name) {
            total += a.size;
            ++files;
        }
    if (files > lim_.files_per_task)
        return failure(errc::limit_exceeded,
                       "a task holds at most " + std::to_string(lim_.files_per_task) + " files");
    if (total > lim_.bytes_per_task)
        return failure(errc::limit_exceeded,
                       "a task holds at most " + std::to_string(lim_.bytes_per_task) + " bytes");
    auto same = n.artifacts.find(c.name);
    if (same != n.artifacts.end() && same->second.sha256 == c.sha256 &&
        same->second.media_type == c.media_type)
        return done(t.value(), {});
    return done(t.value(), {ev::artifact_uploaded{c.task, c.name, c.media_type, c.size, c.sha256}});
}

result<decision> decider::operator()(const remove_artifact& c) {
    auto t = on_task(c.task, action::delete_work);
    if (!t) return failure(t.error());
    if (!t.value().node->artifacts.contains(c.name))
        return failure(errc::not_found, "artifact " + c.name + " does not exist");
    return done(t.value(), {ev::artifact_removed{c.task, c.name}});
}

result<decision> decider::operator()(const add_comment& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto& n = *t.value().node;
    if (auto r = text("comment", c.text, lim_.comment_length, true); !r) return failure(r.error());
    if (n.comments.size() >= lim_.comments_per_task)
        return failure(
            errc::limit_exceeded,
            "a task has at most " + std::to_string(lim_.comments_per_task) + " comments");
    return done(t.value(),
                {ev::comment_added{c.task, "c" + std::to_string(n.next_comment), c.text}});
}

result<decision> decider::operator()(const edit_comment& c) {
    auto t = on_task(c.task, action::edit_work);
    if (!t) return failure(t.error());
    const auto* cm = find_by_id(t.value().node->comments, c.comment);
    if (!cm) return failure(errc::not_found, "comment " + c.comment + " does not exist");
    if (cm->author != ctx_.actor)
        return failure(errc::permission_denied, "only its author may edit a comment");
    if (auto r = text("comment", c.text, lim_.comment_length, true); !r) return failure(r.error());
    if (cm->text == c.text) return done(t.value(), {});
    return done(t.value(), {ev::comment_edited{c.task, c.comment, c.text}});
}

result<decision> decider::operator()(const delete_comment& c) {
    const auto* n = s_.node(c.task);
    const comment_state* cm = n ? find_by_id(n->comments, c.comment) : nullptr;
    // One's own comment is work; another's is a delete that needs an admin.
    const bool own = cm && cm->author == ctx_.actor;
    auto t = on_task(c.task, own ? action::edit_work : action::delete_work);
    if (!t) return failure(t.error());
    if (!cm) return failure(errc::not_found, "comment " + c.comment + " does not exist");
    return done(t.value(), {ev::comment_deleted{c.task, c.comment}});
}

result<decision> decider::operator()(const request_help& c) {
    auto t = on_journey(c.journey, action::edit_work);
    if (!t) return failure(t.error());
    const auto& j = *t.value().journey;
    if (c.target != j.id.value) {
        auto n = j.nodes.find(node_id{c.target});
        if (n == j.nodes.end() || n->second.kind == node_kind::phase)
            return failure(errc::invalid_argument,
                           "help is asked on the journey, a module or a task of it");
    }
    if (to_string(c.kind).empty()) return failure(errc::invalid_argument, "unknown help kind");
    if (auto r = text("description", c.description, lim_.description_length, true); !r)
        return failure(r.error());
    std::size_t active = 0;
    for (const auto& [id, h] : j.help) active += h.active() ? 1 : 0;
    if (active >= lim_.active_help_per_journey)
        return failure(errc::limit_exceeded, "a journey has at most " +
                                                 std::to_string(lim_.active_help_per_journey) +
                                                 " active help requests");
    return done(t.value(),
                {ev::help_requested{j.id, j.id.value + ".h" + std::to_string(j.next_help), c.target,
                                    c.kind, c.description}});
}

result<decision> decider::operator()(const accept_help& c) {
    auto t = on_journey(c.journey, action::edit_work);
    if (!t) return failure(t.error());
    auto it = t.value().journey->help.find(c.request);
    if (it == t.value().journey->help.end())
        return failure(errc::not_found, "help request " + c.request + " does not exist");
    if (it->second.at != help_state::stage::open)
        return failure(errc::rule_refused, "help request " + c.request + " is not open");
    return done(t.value(), {ev::help_accepted{c.journey, c.request}});
}

result<decision> decider::operator()(const resolve_help& c) {
    auto t = on_journey(c.journey, action::edit_work);
    if (!t) return failure(t.error());
    auto it = t.value().journey->help.find(c.request);
    if (it == t.value().journey->help.end())
        return failure(errc::not_found, "help request " + c.request + " does not exist");
    if (!it->second.active())
        return failure(errc::rule_refused, "help request " + c.request + " is already closed");
    if (auto r = text("note", c.note, lim_.comment_length, false); !r) return failure(r.error());
    return done(t.value(), {ev::help_resolved{c.journey, c.request, c.note}});
}

result<decision> decider::operator()(const cancel_help& c) {
    auto t = on_journey(c.journey, action::edit_work);
    if (!t) return failure(t.error());
    auto it = t.value().journey->help.find(c.request);
    if (it == t.value().journey->help.end())
        return failure(errc::not_found, "help request " + c.request + " does not exist");
    if (!it->second.active())
        return failure(errc::rule_refused, "help request " + c.request + " is already closed");
    return done(t.value(), {ev::help_cancelled{c.journey, c.request}});
}

// ---- alerts ------------------------------------------------------------------

result<decision> decider::operator()(const review_alerts& c) {
    if (ctx_.actor != system_actor)
        return failure(errc::permission_denied, "alerts are reviewed by the server only");
    const auto* j = s_.journey(journey_of_id(c.task.value));
    const node_state* n = j ? s_.node(c.task) : nullptr;
    if (!n || !n->is_task()) return failure(errc::not_found, c.task.value + " does not exist");
    const auto* sp = s_.space(space_of_id(c.task.value));
    if (!sp || sp->deleted) return failure(errc::not_found, "its space does not exist");
    std::vector<payload> out;
    const auto wanted = wanted_alerts(*j, *n, ctx_.time);
    for (const auto& [kind, a] : n->alerts) {
        const bool still = std::any_of(wanted.begin(), wanted.end(),
                                       [k = kind](const wanted_alert& w) { return w.kind == k; });
        if (!still) out.push_back(ev::alert_cleared{c.task, a.id, "no longer holds"});
    }
    std::uint32_t episode = n->alert_episodes;
    for (const auto& w : wanted) {
        auto active = n->alerts.find(w.kind);
        if (active == n->alerts.end()) {
            const std::string id = c.task.value + "/" + std::string(to_string(w.kind)) + "/" +
                                   std::to_string(++episode);
            out.push_back(ev::alert_raised{c.task, id, w.kind, w.reason});
        } else if (w.level > active->second.level) {
            out.push_back(ev::alert_escalated{c.task, active->second.id, w.level});
        }
    }
    return decision{std::move(out), role::none};
}

result<decision> decider::operator()(const set_alert_rules& c) {
    auto t = on_journey(c.journey, action::manage_journey);
    if (!t) return failure(t.error());
    constexpr std::uint32_t max_minutes = 366 * 24 * 60;
    const auto& r = c.rules;
    for (auto m : {r.due_soon_minutes, r.blocked_too_long_minutes,
                   r.escalate_to_journey_admins_minutes, r.escalate_to_space_admins_minutes})
        if (m > max_minutes)
            return failure(errc::invalid_argument,
                           "alert times are at most " + std::to_string(max_minutes) + " minutes");
    for (auto k : r.disabled)
        if (to_string(k).empty()) return failure(errc::invalid_argument, "unknown alert kind");
    if (t.value().journey->rules == c.rules) return done(t.value(), {});
    return done(t.value(), {ev::alert_rules_set{c.journey, c.rules}});
}

result<decision> decider::operator()(const record_notification& c) {
    if (ctx_.actor != system_actor)
        return failure(errc::permission_denied, "notifications are recorded by the server only");
    const auto* n = s_.node(c.task);
    if (!n) return failure(errc::not_found, c.task.value + " does not exist");
    if (c.message_id.empty()) return failure(errc::invalid_argument, "a message id is required");
    if (n->notified.contains(c.message_id)) return decision{{}, role::none};
    if (c.delivered)
        return decision{
            {ev::notification_sent{c.task, c.alert, c.level, c.channel, c.recipient, c.message_id}},
            role::none};
    return decision{{ev::notification_failed{c.task, c.alert, c.level, c.channel, c.recipient,
                                             c.message_id, c.reason, c.attempts}},
                    role::none};
}

}  // namespace

std::vector<std::string> missing_for_completion(const journey_state& j, const node_state& n,
                                                const user_id& completer,
                                                const std::vector<std::string>& acknowledged,
                                                ev::completion_evidence* evidence) {
    std::vector<std::string> missing;
    ev::completion_evidence scratch;
    auto& found = evidence ? *evidence : scratch;
    for (const auto& dep : n.dependencies) {
        auto it = j.nodes.find(dep);
        if (it != j.nodes.end() && it->second.in_scope && is_open(it->second.status))
            missing.push_back("waiting on task '" + it->second.title + "'");
    }
    for (const auto& k : n.criteria)
        for (auto& why : unmet_criterion(j, n, k, completer, acknowledged, found))
            missing.push_back(std::move(why));
    return missing;
}

std::vector<std::string> unmet_criterion(const journey_state& j, const node_state& n,
                                         const ev::criterion_spec& k, const user_id& completer,
                                         const std::vector<std::string>& acknowledged,
                                         ev::completion_evidence& evidence) {
    std::vector<std::string> missing;
    switch (k.kind) {
        case ev::criterion_kind::artifact:
            for (const auto& [name, a] : n.artifacts) {
                const bool name_ok = k.pattern.empty() || glob_match(k.pattern, name);
                const bool type_ok =
                    k.media_types.empty() || std::find(k.media_types.begin(), k.media_types.end(),
                                                       a.media_type) != k.media_types.end();
                if (name_ok && type_ok) {
                    evidence.artifacts.push_back({name, a.sha256});
                    return missing;
                }
            }
            missing.push_back("artifact '" + k.description + "' missing");
            break;
        case ev::criterion_kind::subtasks:
            for (const auto& sid : n.children) {
                const auto& sub = j.nodes.at(sid);
                if (sub.in_scope && is_open(sub.status))
                    missing.push_back("subtask '" + sub.title + "' not completed");
            }
            break;
        case ev::criterion_kind::steps:
            for (const auto& st : n.steps)
                if (!st.checked) missing.push_back("step '" + st.text + "' not checked");
            break;
        case ev::criterion_kind::approval:
            for (const auto& u : n.approvals)
                if (u != completer) {
                    evidence.approver = u;
                    return missing;
                }
            missing.push_back("approval '" + k.description +
                              "' needs a journey admin other than the completer");
            break;
        case ev::criterion_kind::text:
            if (std::find(acknowledged.begin(), acknowledged.end(), k.id) == acknowledged.end())
                missing.push_back("criterion '" + k.description + "' not acknowledged");
            else
                evidence.acknowledged.push_back(k.id);
            break;
    }
    return missing;
}

const std::vector<std::pair<task_status, task_status>>& task_transitions() {
    return transitions();
}

std::vector<ev::phase_spec> instantiate(const std::vector<ev::phase_spec>& phases,
                                        const journey_id& journey, std::uint32_t& next_node) {
    auto next = [&] { return journey.value + ".n" + std::to_string(next_node++); };
    auto number = [](auto& criteria, auto& steps) {
        std::uint32_t k = 1;
        for (auto& c : criteria) c.id = "a" + std::to_string(k++);
        std::uint32_t s = 1;
        for (auto& st : steps) st.id = "s" + std::to_string(s++);
    };
    auto out = phases;
    for (auto& p : out) {
        p.id = next();
        for (auto& m : p.modules) {
            m.id = next();
            for (auto& t : m.tasks) {
                t.id = next();
                number(t.criteria, t.steps);
                for (auto& sub : t.subtasks) {
                    sub.id = next();
                    number(sub.criteria, sub.steps);
                }
            }
        }
    }
    return out;
}

std::string template_hash(const ev::template_spec& t) {
    return to_hex(ev::sha256(ev::canonical_json(ev::to_json_value(t))));
}

result<decision> decide(const partition_state& state, const command_context& ctx,
                        const command& cmd) {
    decider d(state, ctx);
    if (auto r = d.check_actor(); !r) return failure(r.error());
    return std::visit(d, cmd);
}

}  // namespace migops::engine
