#pragma once
// The JSON the API shows of the domain's state: a journey board (the whole
// tree with progress), a task with its details, a space overview and a
// task summary for "my tasks". Pure functions of engine state; the board
// read model stores what they render. Every view starts with its "version"
// (what the API sends as ETag), so it is read without parsing the rest.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/state.h"

namespace migops::projections {

// Tasks of a subtree by status; progress counts in-scope top-level tasks
// whose status is not out_of_scope.
struct progress {
    std::array<std::uint32_t, 5> by_status{};  // index: task_status - 1
    std::uint32_t total = 0;
    std::uint32_t completed = 0;
    void add(const progress& other);
    // {"completed", "total", "percent", "by_status": {status: count}}
    void append_json(std::string& out) const;
};

// A task or subtask as the board shows it (subtasks nested), appended as
// JSON text. With details: also run book, tools, links, comments, help
// requests and evidence.
void append_task_json(std::string& out, const engine::journey_state& j, const engine::node_state& n,
                      bool with_details);

// A task's text as the journey shows it (without details) and as its own
// row does (with details), rendered together.
struct task_texts {
    std::string brief;
    std::string detailed;
};
task_texts task_json(const engine::journey_state& j, const engine::node_state& n);

// The whole tree of a journey with progress per module, phase and journey,
// as JSON text. task_text appends a module's task as append_task_json(…,
// false) does; module_text appends a module as append_module_json does
// with its progress p. The board passes what it keeps rendered, so that a
// change renders its own tasks and modules again and not the whole tree.
using task_text_fn = std::function<void(const engine::node_state& task, std::string& out)>;
using module_text_fn =
    std::function<void(const engine::node_state& module, const progress& p, std::string& out)>;
void append_module_json(std::string& out, const engine::journey_state& j,
                        const engine::node_state& module, const progress& p,
                        const task_text_fn& task_text);
// Appended to out, with the journey's progress_tree() already counted.
struct journey_progress;
void append_journey_json(std::string& out, const engine::journey_state& j,
                         const journey_progress& p, const module_text_fn& module_text);
std::string journey_json(const engine::journey_state& j);

// A journey as its space lists it: {"id", "name", "status", "version",
// "progress"}, as JSON text.
std::string journey_entry_json(const engine::journey_state& j, const progress& p);

// A space as JSON text: details, members, teams and its journeys.
// journey_entry appends a journey's journey_entry_json: the board passes
// what it keeps rendered, so that a change renders its own journey's entry
// again and not every journey of the space.
using journey_entry_fn = std::function<void(const engine::journey_state& j, std::string& out)>;
std::string space_json(const engine::partition_state& s, const engine::space_state& sp,
                       const journey_entry_fn& journey_entry);

// Who holds which role: the space's members and teams, and each journey's
// own members.
boost::json::object members_view(const engine::partition_state& s, const engine::space_state& sp);

// One line of "my tasks", as JSON text.
std::string task_summary_json(const engine::journey_state& j, const engine::node_state& n);

// The progress of one node's subtree (a phase, a module) or of the journey.
progress progress_of(const engine::journey_state& j, const engine::node_state& n);
progress progress_of(const engine::journey_state& j);

// A journey's progress in all, per phase and per module (modules[phase]
// [module]), in the tree's order; each module counted once.
struct journey_progress {
    progress total;
    std::vector<progress> phases;
    std::vector<std::vector<progress>> modules;
};
journey_progress progress_tree(const engine::journey_state& j);
// The same, each module's progress as module_progress gives it (the board
// passes what it kept of the modules no event changed).
using module_progress_fn = std::function<progress(const engine::node_state& module)>;
journey_progress progress_tree(const engine::journey_state& j,
                               const module_progress_fn& module_progress);

}  // namespace migops::projections
