#pragma once
// Commands: what a user asks for, in the imperative. Every id inside a space
// starts with the space id ("<space>.j3.n17"), so any command can be routed
// to its space's partition from the id it names.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/content.h"
#include "events/types.h"
#include "events/vocabulary.h"

namespace migops::engine {

using events::criterion_spec;
using events::guidance_link;
using events::help_kind;
using events::journey_status;
using events::role;
using events::task_spec;
using events::task_status;
using events::template_spec;

// ---- spaces, teams, roles --------------------------------------------------
struct create_space {
    space_id space;  // chosen by the caller (the API), so it can be routed
    std::string name;
    std::string description;
};
struct rename_space {
    space_id space;
    std::string name;
};
struct describe_space {
    space_id space;
    std::string description;
};
struct delete_space {
    space_id space;
};
struct create_team {
    space_id space;
    std::string name;
};
struct delete_team {
    team_id team;
};
struct add_team_member {
    team_id team;
    user_id user;
};
struct remove_team_member {
    team_id team;
    user_id user;
};
// On the space when journey is empty; to the user or the team (one of them).
struct grant_role {
    space_id space;
    journey_id journey;
    user_id user;
    team_id team;
    role granted = role::none;
};
struct revoke_role {
    space_id space;
    journey_id journey;
    user_id user;
    team_id team;
};

// ---- templates -------------------------------------------------------------
// Templates live in the partition of template_space_id.
inline const space_id template_space_id{"templates"};
struct publish_template {
    template_spec content;
};

// ---- journeys --------------------------------------------------------------
struct create_journey {
    space_id space;
    std::string name;
    std::string description;
    std::optional<timestamp> target_date;
    // The template's content as published (the API looks it up), or nullopt
    // for a custom journey that starts empty.
    std::optional<template_spec> from_template;
    std::string template_hash;
};
struct copy_journey {
    journey_id source;
    std::string name;
};
struct edit_journey {
    journey_id journey;
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<std::optional<timestamp>> target_date;  // set, or clear with nullopt inside
};
struct change_journey_status {
    journey_id journey;
    journey_status status = journey_status::not_started;
};
struct delete_journey {
    journey_id journey;
};

// ---- the tree --------------------------------------------------------------
struct add_phase {
    journey_id journey;
    std::string title;
    std::string description;
    std::optional<std::uint32_t> rank;  // position among siblings; last when empty
};
struct add_module {
    node_id phase;
    std::string title;
    std::string description;
    std::optional<std::uint32_t> rank;
};
// A task under a module, or a subtask under a task: the parent's kind
// decides which. When `under` is given the parent must be of that kind (the
// route that adds tasks names a module, the one that adds subtasks a task).
struct add_task {
    node_id parent;
    task_spec content;  // ids are assigned by the engine
    std::optional<std::uint32_t> rank;
    std::optional<events::node_kind> under;
};
struct edit_node {
    node_id node;
    std::optional<std::string> title;
    std::optional<std::string> description;
    std::optional<std::vector<std::string>> tools;
    std::optional<std::vector<guidance_link>> links;
    std::optional<std::vector<criterion_spec>> criteria;
};
struct move_node {
    node_id node;
    std::uint32_t rank = 0;
};
struct scope_node {
    node_id node;
    bool in_scope = true;
};
struct delete_node {
    node_id node;
};

// ---- tasks -----------------------------------------------------------------
struct assign_task {
    node_id task;
    user_id user;  // empty: nobody
    team_id team;  // empty: no team
};
struct change_task_status {
    node_id task;
    task_status status = task_status::planned;
    std::string reason;                     // required for blocked
    std::vector<std::string> acknowledged;  // text criteria the completer acknowledges
};
struct set_due_date {
    node_id task;
    std::optional<timestamp> due;
};
struct set_effort {
    node_id task;
    std::optional<std::uint32_t> estimated_minutes;
    std::optional<std::uint32_t> spent_minutes;
};
struct add_dependency {
    node_id task;
    node_id depends_on;
};
struct remove_dependency {
    node_id task;
    node_id depends_on;
};
struct add_step {
    node_id task;
    std::string text;
};
struct edit_step {
    node_id task;
    std::string step;
    std::string text;
};
struct check_step {
    node_id task;
    std::string step;
    bool checked = true;
};
struct remove_step {
    node_id task;
    std::string step;
};
struct approve_task {
    node_id task;
};

// ---- artifacts, comments, help ---------------------------------------------
// The blob is already durable in the blob store (see blob_store.h).
struct upload_artifact {
    node_id task;
    std::string name;
    std::string media_type;
    std::uint64_t size = 0;
    std::string sha256;
};
struct remove_artifact {
    node_id task;
    std::string name;
};
struct add_comment {
    node_id task;
    std::string text;
};
struct edit_comment {
    node_id task;
    std::string comment;
    std::string text;
};
struct delete_comment {
    node_id task;
    std::string comment;
};
// target: the journey id, a module id or a task id of that journey.
struct request_help {
    journey_id journey;
    std::string target;
    help_kind kind = help_kind::task_assistance;
    std::string description;
};
struct accept_help {
    journey_id journey;
    std::string request;
};
struct resolve_help {
    journey_id journey;
    std::string request;
    std::string note;
};
struct cancel_help {
    journey_id journey;
    std::string request;
};

// ---- alerts ------------------------------------------------------------------
// The actor of what the server does by itself (the scheduler, the notifier).
inline const user_id system_actor{"migops"};

// Raises, escalates and clears the task's alerts to what the rules say at
// the command's time. Only the system actor issues it.
struct review_alerts {
    node_id task;
};
struct set_alert_rules {
    journey_id journey;
    events::alert_rules rules;
};
// A notification delivered (or given up on). Only the system actor.
struct record_notification {
    node_id task;
    std::string alert;
    std::uint32_t level = 0;
    std::string channel;
    std::string recipient;
    std::string message_id;
    bool delivered = true;
    std::string reason;
    std::uint32_t attempts = 0;
};

using command =
    std::variant<create_space, rename_space, describe_space, delete_space, create_team, delete_team,
                 add_team_member, remove_team_member, grant_role, revoke_role, publish_template,
                 create_journey, copy_journey, edit_journey, change_journey_status, delete_journey,
                 add_phase, add_module, add_task, edit_node, move_node, scope_node, delete_node,
                 assign_task, change_task_status, set_due_date, set_effort, add_dependency,
                 remove_dependency, add_step, edit_step, check_step, remove_step, approve_task,
                 upload_artifact, remove_artifact, add_comment, edit_comment, delete_comment,
                 request_help, accept_help, resolve_help, cancel_help, review_alerts,
                 set_alert_rules, record_notification>;

// The space an id belongs to: the part before the first '.'.
space_id space_of_id(std::string_view id);
// The space a command acts in (routes it to a partition).
space_id space_of(const command& c);
// The command's name in snake case ("assign_task"), for logs and metrics.
std::string_view name_of(const command& c);

}  // namespace migops::engine
