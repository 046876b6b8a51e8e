#pragma once
// Fixed sample values of every event type, shared by the codec and golden
// tests. Each type must have a sample: sample_of<E>() fails to compile when
// a new type is added without one.

#include "events/catalogue.h"
#include "events/codec.h"
#include "events/envelope.h"

namespace migops::testing {

template <class E>
E sample_of();

// A small template with every kind of content.
inline events::template_spec sample_template() {
    events::task_spec task{"space-1.j1.n3",
                           "Build the business case",
                           "Use the [calculator](https://calculator.aws/) and write the deck.",
                           {"AWS Pricing Calculator"},
                           {{"calculator", "https://calculator.aws/"}},
                           {{"a1",
                             events::criterion_kind::artifact,
                             "Business case deck",
                             "*business case*",
                             {"application/pdf"}},
                            {"a2", events::criterion_kind::text, "Sponsor agrees", "", {}},
                            {"a3", events::criterion_kind::approval, "CFO sign-off", "", {}}},
                           {{"s1", "Collect costs"}, {"s2", "Write the deck"}},
                           {{"space-1.j1.n4", "Collect licences", "", {}, {}, {}, {}}}};
    events::module_spec module{"space-1.j1.n2", "Business case", "Why move", {task}};
    events::phase_spec phase{"space-1.j1.n1", "Assess", "", {module}};
    return {"general-migration", "1.0", "General migration", "Assess to operate", {phase}};
}

template <>
inline events::space_created sample_of() {
    return {"Data centre exit", "Move the Frankfurt estate — \"all\" of it\n\tby Q3"};
}
template <>
inline events::space_renamed sample_of() {
    return {"DC exit 2027"};
}
template <>
inline events::space_described sample_of() {
    return {"Üñíçødé and control \x01 characters"};
}
template <>
inline events::space_deleted sample_of() {
    return {};
}

template <>
inline events::team_created sample_of() {
    return {team_id{"space-1.t1"}, "Database experts"};
}
template <>
inline events::team_deleted sample_of() {
    return {team_id{"space-1.t1"}};
}
template <>
inline events::team_member_added sample_of() {
    return {team_id{"space-1.t1"}, user_id{"bob"}};
}
template <>
inline events::team_member_removed sample_of() {
    return {team_id{"space-1.t1"}, user_id{"bob"}};
}
template <>
inline events::role_granted sample_of() {
    return {journey_id{"space-1.j1"}, user_id{"bob"}, team_id{"space-1.t1"},
            events::role::journey_admin};
}
template <>
inline events::role_revoked sample_of() {
    return {journey_id{"space-1.j1"}, user_id{"bob"}, team_id{"space-1.t1"}};
}
template <>
inline events::template_published sample_of() {
    return {sample_template(), "Évidence \"quoted\" text"};
}
template <>
inline events::journey_created sample_of() {
    return {journey_id{"space-1.j1"},   "Évidence \"quoted\" text",
            "Évidence \"quoted\" text", timestamp{1'800'000'000'000'000},
            "Évidence \"quoted\" text", "Évidence \"quoted\" text",
            "Évidence \"quoted\" text", journey_id{"space-1.j1"},
            sample_template().phases,   {{node_id{"space-1.j1.n4"}, node_id{"space-1.j1.n5"}}}};
}
template <>
inline events::journey_edited sample_of() {
    return {journey_id{"space-1.j1"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text",
            timestamp{1'800'000'000'000'000}};
}
template <>
inline events::journey_status_changed sample_of() {
    return {journey_id{"space-1.j1"}, events::journey_status::in_progress};
}
template <>
inline events::journey_deleted sample_of() {
    return {journey_id{"space-1.j1"}};
}
template <>
inline events::node_added sample_of() {
    return {node_id{"space-1.j1.n4"}, node_id{"space-1.j1.n4"}, events::node_kind::task, 3,
            sample_template().phases[0].modules[0].tasks[0]};
}
template <>
inline events::node_edited sample_of() {
    return {node_id{"space-1.j1.n4"},
            "Évidence \"quoted\" text",
            "Évidence \"quoted\" text",
            {"AWS CloudWatch", "Jira"},
            {{"Playbook", "https://docs.aws.amazon.com/prescriptive-guidance/"}},
            sample_template().phases[0].modules[0].tasks[0].criteria};
}
template <>
inline events::node_moved sample_of() {
    return {node_id{"space-1.j1.n4"}, 3};
}
template <>
inline events::node_scoped sample_of() {
    return {node_id{"space-1.j1.n4"}, true};
}
template <>
inline events::node_deleted sample_of() {
    return {node_id{"space-1.j1.n4"}};
}
template <>
inline events::task_assigned sample_of() {
    return {node_id{"space-1.j1.n4"}, user_id{"bob"}, team_id{"space-1.t1"}};
}
template <>
inline events::task_status_changed sample_of() {
    return {node_id{"space-1.j1.n4"},
            events::task_status::in_progress,
            events::task_status::in_progress,
            "Évidence \"quoted\" text",
            {{{"business-case.pdf", std::string(64, 'a')}}, user_id{"carol"}, {"a2"}}};
}
template <>
inline events::due_date_set sample_of() {
    return {node_id{"space-1.j1.n4"}, timestamp{1'800'000'000'000'000}};
}
template <>
inline events::effort_set sample_of() {
    return {node_id{"space-1.j1.n4"}, 3, 3};
}
template <>
inline events::dependency_added sample_of() {
    return {node_id{"space-1.j1.n4"}, node_id{"space-1.j1.n4"}};
}
template <>
inline events::dependency_removed sample_of() {
    return {node_id{"space-1.j1.n4"}, node_id{"space-1.j1.n4"}};
}
template <>
inline events::step_added sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text"};
}
template <>
inline events::step_edited sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text"};
}
template <>
inline events::step_checked sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text", true};
}
template <>
inline events::step_removed sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text"};
}
template <>
inline events::task_approved sample_of() {
    return {node_id{"space-1.j1.n4"}};
}
template <>
inline events::artifact_uploaded sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text",
            1234567, "Évidence \"quoted\" text"};
}
template <>
inline events::artifact_removed sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text"};
}
template <>
inline events::comment_added sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text"};
}
template <>
inline events::comment_edited sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text"};
}
template <>
inline events::comment_deleted sample_of() {
    return {node_id{"space-1.j1.n4"}, "Évidence \"quoted\" text"};
}
template <>
inline events::help_requested sample_of() {
    return {journey_id{"space-1.j1"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text",
            events::help_kind::advice, "Évidence \"quoted\" text"};
}
template <>
inline events::help_accepted sample_of() {
    return {journey_id{"space-1.j1"}, "Évidence \"quoted\" text"};
}
template <>
inline events::help_resolved sample_of() {
    return {journey_id{"space-1.j1"}, "Évidence \"quoted\" text", "Évidence \"quoted\" text"};
}
template <>
inline events::help_cancelled sample_of() {
    return {journey_id{"space-1.j1"}, "Évidence \"quoted\" text"};
}
template <>
inline events::alert_raised sample_of() {
    return {node_id{"space-1.j1.n3"}, "space-1.j1.n3/overdue/1", events::alert_kind::overdue,
            "Évidence \"quoted\" text"};
}
template <>
inline events::alert_escalated sample_of() {
    return {node_id{"space-1.j1.n3"}, "space-1.j1.n3/overdue/1", 2};
}
template <>
inline events::alert_cleared sample_of() {
    return {node_id{"space-1.j1.n3"}, "space-1.j1.n3/overdue/1", "Évidence \"quoted\" text"};
}
template <>
inline events::alert_rules_set sample_of() {
    return {journey_id{"space-1.j1"},
            {60, 120, 240, 480, {events::alert_kind::due_soon, events::alert_kind::blocked}}};
}
template <>
inline events::notification_sent sample_of() {
    return {node_id{"space-1.j1.n3"}, "space-1.j1.n3/overdue/1",         1, "email",
            "bob@example.com",        "0123456789abcdef0123456789abcdef"};
}
template <>
inline events::notification_failed sample_of() {
    return {node_id{"space-1.j1.n3"},
            "space-1.j1.n3/overdue/1",
            1,
            "webhook",
            "https://hooks.example.com/migops",
            "0123456789abcdef0123456789abcdef",
            "Évidence \"quoted\" text",
            5};
}

template <>
inline events::chain_checkpoint sample_of() {
    events::chain_checkpoint c;
    c.partition = 3;
    c.position = 6;
    c.head_hash = events::sha256("golden");
    c.signed_at = timestamp{1'795'000'000'123'456};
    c.algorithm = "ed25519";
    c.key_id = "4f1a0c2e9b7d3a6f5e8c1b2a0d9f8e7c6b5a4d3c2b1a0f9e8d7c6b5a4f3e2d1c";
    c.signature = std::string(128, 'a');
    return c;
}

// A sealed envelope with fixed ids, time and chain link around payload p.
inline events::envelope sample_envelope(events::payload p) {
    events::envelope e;
    e.event_id = "0123456789abcdef0123456789abcdef";
    e.partition = 3;
    e.space = space_id{"space-1"};
    e.time = timestamp{1'795'000'000'123'456};
    e.actor = user_id{"alice"};
    e.actor_role = "space_admin";
    e.correlation_id = "req-1";
    e.causation_id = "cmd-1";
    e.data = std::move(p);
    return e;
}

}  // namespace migops::testing
