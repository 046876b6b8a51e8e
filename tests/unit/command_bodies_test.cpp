// The routes' body decoders (api/command_bodies.h): what each makes of a
// good body, and the refusals beside it.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/command_bodies.h"
#include "api/json_body.h"

namespace migops::api {
namespace {

boost::json::object body(std::string_view json) {
    return boost::json::parse(json).as_object();
}

const space_id space{"0123456789abcdef"};
const journey_id journey{"0123456789abcdef.j1"};
const node_id task{"0123456789abcdef.j1.n3"};

template <class T>
void expect_refused(const result<T>& r, std::string_view says) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
}

TEST(CommandBodies, SpacesAndRoles) {
    auto created = create_space_body(body(R"({"name":"DC exit"})"), space);
    ASSERT_TRUE(created);
    EXPECT_EQ(created.value().space, space);
    EXPECT_EQ(created.value().name, "DC exit");
    EXPECT_EQ(created.value().description, "");
    expect_refused(create_space_body(body(R"({"description":"d"})"), space), "name is required");
    expect_refused(create_space_body(body(R"({"name":"a","colour":"red"})"), space),
                   "unknown field colour");

    auto renamed = edit_space_body(body(R"({"name":"B"})"), space);
    ASSERT_TRUE(renamed);
    EXPECT_EQ(std::get<engine::rename_space>(renamed.value()).name, "B");
    auto described = edit_space_body(body(R"({"description":"D"})"), space);
    ASSERT_TRUE(described);
    EXPECT_EQ(std::get<engine::describe_space>(described.value()).description, "D");
    expect_refused(edit_space_body(body(R"({"name":"B","description":"D"})"), space),
                   "one change a request");
    expect_refused(edit_space_body(body("{}"), space), "one change a request");

    EXPECT_EQ(role_body(body(R"({"role":"journey_admin"})")).value(), events::role::journey_admin);
    expect_refused(role_body(body(R"({"role":"none"})")), "role must be");
    expect_refused(role_body(body(R"({"role":"owner"})")), "role must be");
}

TEST(CommandBodies, Journeys) {
    auto from_template = create_journey_body(
        body(R"({"name":"W1","template_id":"t","target_date":"2027-01-01T01:00:00+01:00"})"),
        space);
    ASSERT_TRUE(from_template);
    EXPECT_EQ(from_template.value().template_id, "t");
    EXPECT_EQ(from_template.value().template_version, "");
    EXPECT_EQ(from_template.value().cmd.target_date, parse_rfc3339("2027-01-01T00:00:00Z"));
    expect_refused(create_journey_body(body(R"({"name":"W1","template_version":"1.0"})"), space),
                   "template_version needs template_id");
    expect_refused(create_journey_body(body(R"({"name":"W1","target_date":"tomorrow"})"), space),
                   "target_date must be an RFC 3339");

    auto status = edit_journey_body(body(R"({"status":"archived"})"), journey);
    ASSERT_TRUE(status);
    EXPECT_EQ(std::get<engine::change_journey_status>(status.value()).status,
              events::journey_status::archived);
    expect_refused(edit_journey_body(body(R"({"status":"archived","name":"x"})"), journey),
                   "a request of its own");
    auto cleared = edit_journey_body(body(R"({"target_date":null})"), journey);
    ASSERT_TRUE(cleared);
    const auto& edit = std::get<engine::edit_journey>(cleared.value());
    ASSERT_TRUE(edit.target_date);
    EXPECT_FALSE(*edit.target_date) << "null clears the date";
    EXPECT_FALSE(edit.name);
}

TEST(CommandBodies, TheTree) {
    auto phase = add_node_body(body(R"({"title":"Assess","rank":3})"), journey.value, true);
    ASSERT_TRUE(phase);
    EXPECT_EQ(std::get<engine::add_phase>(phase.value()).rank, 3u);
    auto module = add_node_body(body(R"({"title":"Plan"})"), "0123456789abcdef.j1.n1", false);
    ASSERT_TRUE(module);
    EXPECT_EQ(std::get<engine::add_module>(module.value()).phase.value, "0123456789abcdef.j1.n1");
    expect_refused(add_node_body(body(R"({"title":"A","rank":100001})"), journey.value, true),
                   "rank must be an integer from 0 to 100000");

    auto added = add_task_body(
        body(R"({"title":"T","steps":["a",{"text":"b"}],"subtasks":[{"title":"S"}],"rank":1})"),
        task, events::node_kind::module);
    ASSERT_TRUE(added);
    EXPECT_EQ(added.value().content.steps.size(), 2u);
    EXPECT_EQ(added.value().content.subtasks.at(0).title, "S");
    EXPECT_EQ(added.value().rank, 1u);
    EXPECT_EQ(added.value().under, events::node_kind::module);
    expect_refused(
        add_task_body(body(R"({"title":"T","assignee":"bob"})"), task, events::node_kind::module),
        "unknown field assignee");

    auto effort = edit_node_body(body(R"({"estimated_minutes":60})"), task);
    ASSERT_TRUE(effort);
    EXPECT_EQ(std::get<engine::set_effort>(effort.value()).estimated_minutes, 60u);
    EXPECT_FALSE(std::get<engine::set_effort>(effort.value()).spent_minutes);
    auto due = edit_node_body(body(R"({"due":null})"), task);
    ASSERT_TRUE(due);
    EXPECT_FALSE(std::get<engine::set_due_date>(due.value()).due);
    auto scope = edit_node_body(body(R"({"in_scope":false})"), task);
    ASSERT_TRUE(scope);
    EXPECT_FALSE(std::get<engine::scope_node>(scope.value()).in_scope);
    auto details = edit_node_body(body(R"({"title":"New","tools":["CLI"]})"), task);
    ASSERT_TRUE(details);
    EXPECT_EQ(std::get<engine::edit_node>(details.value()).tools,
              std::optional<std::vector<std::string>>({"CLI"}));
    expect_refused(edit_node_body(body(R"({"title":"New","rank":1})"), task), "one kind of change");
    expect_refused(edit_node_body(body("{}"), task), "one kind of change");
    expect_refused(edit_node_body(body(R"({"in_scope":null})"), task), "in_scope must be");
    expect_refused(edit_node_body(body(R"({"rank":null})"), task), "rank must be an integer");

    // A title a task may be created with, it may be edited to; one byte
    // more is refused either way.
    const std::string longest(max_short_bytes, 't');
    const auto titled = [](const std::string& t) { return body(R"({"title":")" + t + R"("})"); };
    EXPECT_TRUE(add_task_body(titled(longest), task, events::node_kind::task));
    EXPECT_TRUE(edit_node_body(titled(longest), task));
    expect_refused(add_task_body(titled(longest + "t"), task, events::node_kind::task), "title");
    expect_refused(edit_node_body(titled(longest + "t"), task), "title");
}

TEST(CommandBodies, Tasks) {
    auto assigned = assign_body(body(R"({"user":"bob"})"), task);
    ASSERT_TRUE(assigned);
    EXPECT_EQ(assigned.value().user.value, "bob");
    EXPECT_TRUE(assigned.value().team.empty());

    auto blocked = status_body(body(R"({"status":"blocked","reason":"firewall"})"), task);
    ASSERT_TRUE(blocked);
    EXPECT_EQ(blocked.value().status, events::task_status::blocked);
    EXPECT_EQ(blocked.value().reason, "firewall");
    expect_refused(status_body(body(R"({"status":"done"})"), task), "status must be planned");

    EXPECT_EQ(dependency_body(body(R"({"depends_on":"x.j1.n4"})")).value().value, "x.j1.n4");
    expect_refused(dependency_body(body("{}")), "depends_on is required");
    EXPECT_EQ(text_body(body(R"({"text":"hi"})")).value(), "hi");
    expect_refused(text_body(body(R"({"text":"a\u001bb"})")), "control character");

    auto checked = edit_step_body(body(R"({"checked":true})"), task, "s1");
    ASSERT_TRUE(checked);
    EXPECT_EQ(std::get<engine::check_step>(checked.value()).step, "s1");
    auto edited = edit_step_body(body(R"({"text":"new"})"), task, "s1");
    ASSERT_TRUE(edited);
    EXPECT_EQ(std::get<engine::edit_step>(edited.value()).text, "new");
    expect_refused(edit_step_body(body(R"({"text":"new","checked":true})"), task, "s1"),
                   "either text or checked");
    expect_refused(edit_step_body(body(R"({"checked":"yes"})"), task, "s1"),
                   "checked must be true or false");
}

TEST(CommandBodies, HelpAndAlertRules) {
    auto asked =
        help_body(body(R"({"kind":"advice","description":"which?"})"), journey, task.value);
    ASSERT_TRUE(asked);
    EXPECT_EQ(asked.value().target, task.value) << "the path's node by default";
    EXPECT_EQ(asked.value().kind, events::help_kind::advice);
    expect_refused(help_body(body(R"({"kind":"advice"})"), journey, task.value),
                   "description is required");
    EXPECT_EQ(help_note_body(body("{}")).value(), "");
    EXPECT_EQ(help_note_body(body(R"({"note":"done"})")).value(), "done");

    auto rules = alert_rules_body(body(R"({"due_soon_minutes":30,"disabled":["overdue"]})"));
    ASSERT_TRUE(rules);
    EXPECT_EQ(rules.value().due_soon_minutes, 30u);
    EXPECT_EQ(rules.value().blocked_too_long_minutes,
              events::alert_rules{}.blocked_too_long_minutes);
    EXPECT_EQ(rules.value().disabled, std::vector<events::alert_kind>{events::alert_kind::overdue});
    expect_refused(alert_rules_body(body(R"({"disabled":["late"]})")), "disabled lists");
    expect_refused(alert_rules_body(body(R"({"due_soon_minutes":-1})")),
                   "due_soon_minutes must be an integer");
}

TEST(CommandBodies, TemplatesHoldNoControlCharacters) {
    const std::string good =
        R"({"template_id":"t","version":"1","name":"T","description":"two\nlines\tok",)"
        R"("phases":[{"id":"p","title":"Assess","description":"","modules":[{"id":"m",)"
        R"("title":"M","description":"","tasks":[{"id":"a","title":"TITLE","description":"",)"
        R"("tools":[],"links":[],"criteria":[],"steps":[],"subtasks":[]}]}]}]})";
    const auto with_title = [&](const std::string& title) {
        auto body = good;
        body.replace(body.find("TITLE"), 5, title);
        return body;
    };
    auto t = template_body(with_title("Inventory"), engine::limits{});
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t.value().phases.at(0).modules.at(0).tasks.at(0).title, "Inventory");
    EXPECT_EQ(t.value().description, "two\nlines\tok");
    for (const char* bad : {R"(a\u0000b)", R"(\u001b[31mred)", R"(x\u007f)"})
        expect_refused(template_body(with_title(bad), engine::limits{}), "control character");
    expect_refused(template_body("{}", engine::limits{}), "the request body");
}

}  // namespace
TEST(JsonBody, AKeyGivenTwiceInOneObjectIsRefusedAtAnyDepth) {
    const auto parsed = [](std::string body, std::string type = "application/json") {
        api::http_request req;
        req.headers.emplace_back("content-type", std::move(type));
        req.body = std::move(body);
        return api::json_object_body(req);
    };
    const auto refused = [&](const std::string& body) -> std::string {
        auto r = parsed(body);
        if (const auto* p = std::get_if<api::problem>(&r)) return p->detail;
        return "";
    };
    EXPECT_EQ(refused(R"({"a":1,"a":1})"), R"(the key "a" is given twice in one object)");
    EXPECT_EQ(refused(R"({"a":{"b":[{"c":1,"d":2,"c":3}]}})"),
              R"(the key "c" is given twice in one object)");
    EXPECT_EQ(refused(R"({"ab":1,"ab":2})"), R"(the key "ab" is given twice in one object)")
        << "keys are compared as they decode";
    // The same key in two objects, or once as a key and once as a value, is fine.
    for (const auto* body : {R"({"a":{"k":1},"b":{"k":2}})", R"({"a":[{"k":1},{"k":2}]})",
                             R"({"k":"k","a":{"k":{"k":null}}})"}) {
        auto r = parsed(body);
        ASSERT_TRUE(std::holds_alternative<boost::json::object>(r)) << body;
    }
    EXPECT_EQ(std::get<boost::json::object>(parsed(R"({"x":1})", "Application/JSON; charset=utf-8"))
                  .at("x"),
              1);
}

}  // namespace migops::api
