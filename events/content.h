#pragma once
// The content of a journey tree, as carried by events: a template publishes
// it whole (template_published), a journey is created with its instantiated
// copy (journey_created), so replay never reads a template file (DESIGN.md
// invariant 1). Persisted: the rules of fields.h apply.
//
// In a template the ids are empty; instantiating it gives every node,
// criterion and step an id.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "events/fields.h"

namespace migops::events {

// Persisted numbers: never change, never reuse.
enum class criterion_kind : std::uint8_t {
    artifact = 1,  // at least one uploaded file matching pattern and/or media types
    subtasks = 2,  // every in-scope subtask completed
    steps = 3,     // every step checked
    approval = 4,  // a journey admin other than the completer signed off
    text = 5,      // free text the completer acknowledges
};
std::string_view to_string(criterion_kind k);
bool parse(std::string_view s, criterion_kind& k);

struct guidance_link {
    static constexpr std::uint32_t version = 1;
    std::string title;
    std::string url;
    static constexpr auto fields() {
        return std::tuple{field("title", &guidance_link::title), field("url", &guidance_link::url)};
    }
    friend bool operator==(const guidance_link&, const guidance_link&) = default;
};

struct criterion_spec {
    static constexpr std::uint32_t version = 1;
    std::string id;
    criterion_kind kind = criterion_kind::text;
    std::string description;
    std::string pattern;                   // artifact: a file-name glob, e.g. "*business case*"
    std::vector<std::string> media_types;  // artifact: allowed types, e.g. "application/pdf"
    static constexpr auto fields() {
        return std::tuple{field("id", &criterion_spec::id), field("kind", &criterion_spec::kind),
                          field("description", &criterion_spec::description),
                          field("pattern", &criterion_spec::pattern),
                          field("media_types", &criterion_spec::media_types)};
    }
    friend bool operator==(const criterion_spec&, const criterion_spec&) = default;
};

struct step_spec {
    static constexpr std::uint32_t version = 1;
    std::string id;
    std::string text;
    static constexpr auto fields() {
        return std::tuple{field("id", &step_spec::id), field("text", &step_spec::text)};
    }
    friend bool operator==(const step_spec&, const step_spec&) = default;
};

struct subtask_spec {
    static constexpr std::uint32_t version = 1;
    std::string id;
    std::string title;
    std::string description;  // the run book (Markdown)
    std::vector<std::string> tools;
    std::vector<guidance_link> links;
    std::vector<criterion_spec> criteria;
    std::vector<step_spec> steps;
    static constexpr auto fields() {
        return std::tuple{field("id", &subtask_spec::id),
                          field("title", &subtask_spec::title),
                          field("description", &subtask_spec::description),
                          field("tools", &subtask_spec::tools),
                          field("links", &subtask_spec::links),
                          field("criteria", &subtask_spec::criteria),
                          field("steps", &subtask_spec::steps)};
    }
    friend bool operator==(const subtask_spec&, const subtask_spec&) = default;
};

struct task_spec {
    static constexpr std::uint32_t version = 1;
    std::string id;
    std::string title;
    std::string description;
    std::vector<std::string> tools;
    std::vector<guidance_link> links;
    std::vector<criterion_spec> criteria;
    std::vector<step_spec> steps;
    std::vector<subtask_spec> subtasks;
    static constexpr auto fields() {
        return std::tuple{field("id", &task_spec::id),
                          field("title", &task_spec::title),
                          field("description", &task_spec::description),
                          field("tools", &task_spec::tools),
                          field("links", &task_spec::links),
                          field("criteria", &task_spec::criteria),
                          field("steps", &task_spec::steps),
                          field("subtasks", &task_spec::subtasks)};
    }
    friend bool operator==(const task_spec&, const task_spec&) = default;
};

struct module_spec {
    static constexpr std::uint32_t version = 1;
    std::string id;
    std::string title;
    std::string description;
    std::vector<task_spec> tasks;
    static constexpr auto fields() {
        return std::tuple{field("id", &module_spec::id), field("title", &module_spec::title),
                          field("description", &module_spec::description),
                          field("tasks", &module_spec::tasks)};
    }
    friend bool operator==(const module_spec&, const module_spec&) = default;
};

struct phase_spec {
    static constexpr std::uint32_t version = 1;
    std::string id;
    std::string title;
    std::string description;
    std::vector<module_spec> modules;
    static constexpr auto fields() {
        return std::tuple{field("id", &phase_spec::id), field("title", &phase_spec::title),
                          field("description", &phase_spec::description),
                          field("modules", &phase_spec::modules)};
    }
    friend bool operator==(const phase_spec&, const phase_spec&) = default;
};

// A journey template: our own format, stored as its JSON (to_json_value).
struct template_spec {
    static constexpr std::uint32_t version = 1;
    std::string template_id;       // e.g. "rehost-migration"
    std::string template_version;  // e.g. "2.0"
    std::string name;
    std::string description;
    std::vector<phase_spec> phases;
    static constexpr auto fields() {
        return std::tuple{field("template_id", &template_spec::template_id),
                          field("version", &template_spec::template_version),
                          field("name", &template_spec::name),
                          field("description", &template_spec::description),
                          field("phases", &template_spec::phases)};
    }
    friend bool operator==(const template_spec&, const template_spec&) = default;
};

}  // namespace migops::events
