#include "engine/template_catalog.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>

#include "events/fields.h"
#include "events/json_parse.h"

namespace migops::engine {

// Generated from engine/templates/*.json by CMake (builtin_templates.cpp).
extern const std::vector<std::pair<std::string_view, std::string_view>> builtin_template_sources;

namespace {

void pretty(std::string& out, const boost::json::value& v, int indent);

void pretty_string(std::string& out, std::string_view s) {
    out += boost::json::serialize(boost::json::value(boost::json::string(s)));
}

void pretty(std::string& out, const boost::json::value& v, int indent) {
    const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
    if (const auto* o = v.if_object()) {
        if (o->empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& kv : *o) {
            if (!first) out += ",\n";
            first = false;
            out += inner;
            pretty_string(out, kv.key());
            out += ": ";
            pretty(out, kv.value(), indent + 1);
        }
        out += "\n" + pad + "}";
    } else if (const auto* a = v.if_array()) {
        if (a->empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        bool first = true;
        for (const auto& e : *a) {
            if (!first) out += ",\n";
            first = false;
            out += inner;
            pretty(out, e, indent + 1);
        }
        out += "\n" + pad + "]";
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

result<void> validate_template(const events::template_spec& t, const limits& bounds) {
    const partition_state empty;
    auto d = decide(empty, command_context{user_id{"validator"}, timestamp{}, &bounds},
                    publish_template{t});
    if (!d) return failure(d.error());
    return success();
}

result<events::template_spec> parse_template(std::string_view json, std::string_view origin,
                                             const limits& bounds) {
    auto parsed = events::parse_json(json, boost::json::parse_options{}.max_depth);
    if (parsed.twice)
        return failure(errc::invalid_argument, std::string(origin) + ": " + parsed.twice_detail());
    if (parsed.error)
        return failure(errc::invalid_argument,
                       std::string(origin) + ": not JSON (" + parsed.error.message() + ")");
    events::template_spec t;
    try {
        events::from_json_value(parsed.value, t, "template");
    } catch (const std::exception& e) {
        return failure(errc::invalid_argument, std::string(origin) + ": " + e.what());
    }
    if (auto r = validate_template(t, bounds); !r)
        return failure(errc::invalid_argument, std::string(origin) + ": " + r.error().message);
    return t;
}

std::string template_to_json(const events::template_spec& t) {
    std::string out;
    pretty(out, events::to_json_value(t), 0);
    out += "\n";
    return out;
}

result<std::vector<events::template_spec>> builtin_templates() {
    std::vector<events::template_spec> out;
    for (const auto& [name, json] : builtin_template_sources) {
        auto t = parse_template(json, name);
        if (!t) return failure(t.error());
        out.push_back(std::move(t).value());
    }
    return out;
}

result<std::vector<events::template_spec>> load_template_dir(const std::filesystem::path& dir,
                                                             const limits& bounds) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return failure(errc::invalid_argument,
                       "templates directory " + dir.string() + " does not exist");
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".json")
            files.push_back(entry.path());
    if (ec) return failure(errc::io_error, "cannot read " + dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    std::vector<events::template_spec> out;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        auto t = parse_template(ss.str(), f.string(), bounds);
        if (!t) return failure(t.error());
        out.push_back(std::move(t).value());
    }
    return out;
}

}  // namespace migops::engine
