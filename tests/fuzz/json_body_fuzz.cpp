// The JSON request decoders: a request body through json_object_body, then
// through every route's decoder (api/command_bodies.h) and the field
// readers of api/json_body.h.
//
// Properties: a refusal is a 400 or 415 problem whose body is valid JSON;
// what a decoder accepts holds only text the API takes (valid UTF-8, no
// control characters but tabs and line breaks); a field reader gives back
// exactly what the body says, within its limits; an accepted time prints
// as RFC 3339 that parses back to the same instant.

#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>

#include "api/command_bodies.h"
#include "api/json_body.h"
#include "api/problems.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace migops;
using namespace migops::api;
using boost::json::object;

constexpr std::size_t field_limit = 64;
constexpr std::uint32_t uint_limit = 1000;
constexpr std::size_t list_limit = 4;

void check_problem(const problem& p) {
    const auto r = to_response(p);
    MIGOPS_FUZZ_CHECK(r.status == 400 || r.status == 415);
    boost::system::error_code ec;
    const auto v = boost::json::parse(r.body, ec);
    MIGOPS_FUZZ_CHECK(!ec && v.is_object());
    MIGOPS_FUZZ_CHECK(v.as_object().at("status").to_number<unsigned>() == r.status);
}

template <class T>
void check_decoded(const result<T>& r) {
    if (!r) {
        MIGOPS_FUZZ_CHECK(r.error().code == errc::invalid_argument);
        check_problem(problem_for(r.error()));
        return;
    }
    fuzz::each_text(r.value(), [](std::string_view s) { MIGOPS_FUZZ_CHECK(fuzz::clean_text(s)); });
}

void check_time(const timestamp& t) {
    const auto again = parse_rfc3339(format_rfc3339(t));
    MIGOPS_FUZZ_CHECK(again && *again == t);
}

// Every field reader on one field of the body.
void check_readers(const object& o, std::string_view name) {
    const auto& v = o.at(name);
    if (auto s = string_field(o, name, false, field_limit); s && s.value()) {
        MIGOPS_FUZZ_CHECK(v.is_string() && v.get_string() == *s.value());
        MIGOPS_FUZZ_CHECK(s.value()->size() <= field_limit && fuzz::clean_text(*s.value()));
    }
    if (auto b = bool_field(o, name); b && b.value()) MIGOPS_FUZZ_CHECK(v.as_bool() == *b.value());
    if (auto n = uint_field(o, name, uint_limit); n && n.value()) {
        MIGOPS_FUZZ_CHECK(*n.value() <= uint_limit);
        MIGOPS_FUZZ_CHECK(!v.is_double() && v.to_number<std::uint64_t>() == *n.value());
    }
    if (auto t = time_field(o, name); t && t.value() && *t.value()) check_time(**t.value());
    if (auto l = string_list_field(o, name, list_limit, field_limit); l && l.value()) {
        const auto& items = *l.value();
        MIGOPS_FUZZ_CHECK(items.size() <= list_limit && items.size() == v.as_array().size());
        for (std::size_t i = 0; i < items.size(); ++i)
            MIGOPS_FUZZ_CHECK(v.as_array()[i].as_string() == items[i] &&
                              fuzz::clean_text(items[i]));
    }
    check_decoded(links_body(v));
    check_decoded(criteria_body(v));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http_request req;
    req.method = "POST";
    req.target = "/v1/spaces";
    req.headers.emplace_back("content-type", "application/json; charset=utf-8");
    req.body.assign(fuzz::text_of(data, size));
    auto body = json_object_body(req);
    if (const auto* p = std::get_if<problem>(&body)) {
        check_problem(*p);
        return 0;
    }
    const auto& o = std::get<object>(body);

    const space_id space{"0123456789abcdef"};
    const journey_id journey{"0123456789abcdef.j1"};
    const node_id node{"0123456789abcdef.j1.n2"};
    check_decoded(create_space_body(o, space));
    check_decoded(edit_space_body(o, space));
    check_decoded(role_body(o));
    check_decoded(name_body(o));
    const auto journey_body = create_journey_body(o, space);
    check_decoded(journey_body);
    if (journey_body && journey_body.value().cmd.target_date)
        check_time(*journey_body.value().cmd.target_date);
    check_decoded(edit_journey_body(o, journey));
    check_decoded(add_node_body(o, journey.value, true));
    check_decoded(add_node_body(o, node.value, false));
    check_decoded(add_task_body(o, node, events::node_kind::module));
    check_decoded(edit_node_body(o, node));
    check_decoded(assign_body(o, node));
    check_decoded(status_body(o, node));
    check_decoded(dependency_body(o));
    check_decoded(text_body(o));
    check_decoded(edit_step_body(o, node, "s1"));
    check_decoded(help_body(o, journey, node.value));
    check_decoded(help_note_body(o));
    check_decoded(alert_rules_body(o));
    check_decoded(task_body(o));
    for (const auto& kv : o) check_readers(o, kv.key());
    return 0;
}
