#pragma once
// Our own template format — the JSON form of events::template_spec — and
// the templates built into the binary (engine/templates/*.json, compiled
// in, so that `migops serve` needs no file to offer them).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain.h"
#include "events/content.h"
#include "events/result.h"

namespace migops::engine {

// Parses and validates one template; origin names it in errors.
result<events::template_spec> parse_template(std::string_view json, std::string_view origin,
                                             const limits& bounds = {});

// The template as our format's JSON (indented, stable key order).
std::string template_to_json(const events::template_spec& t);

// Checks a template against the rules a publication is held to.
result<void> validate_template(const events::template_spec& t, const limits& bounds = {});

// The built-in templates, parsed and validated.
result<std::vector<events::template_spec>> builtin_templates();

// Every *.json file of a directory, in name order.
result<std::vector<events::template_spec>> load_template_dir(const std::filesystem::path& dir,
                                                             const limits& bounds = {});

}  // namespace migops::engine
