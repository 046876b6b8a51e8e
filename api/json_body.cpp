#include "api/json_body.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

namespace migops::api {

std::variant<boost::json::object, problem> json_object_body(const http_request& req) {
    const auto* type = req.header("content-type");
    const std::string_view media = type ? std::string_view(*type).substr(0, type->find(';')) : "";
    if (media != "application/json")
        return make_problem(415, "/problems/unsupported-media-type", "Send application/json",
                            "the body must be application/json");
    boost::json::parse_options options;
    options.max_depth = max_json_depth;
    boost::system::error_code ec;
    auto v = boost::json::parse(req.body, ec, {}, options);
    if (ec)
        return make_problem(400, "/problems/invalid-json", "The body is not valid JSON",
                            ec.message());
    if (!v.is_object())
        return make_problem(400, "/problems/invalid-json", "The body is not valid JSON",
                            "the body must be a JSON object");
    return std::move(v.as_object());
}

result<std::optional<std::string>> string_field(const boost::json::object& o, std::string_view name,
                                                bool required, std::size_t max_bytes) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) {
        if (required) return failure(errc::invalid_argument, std::string(name) + " is required");
        return std::optional<std::string>{};
    }
    if (!v->is_string())
        return failure(errc::invalid_argument, std::string(name) + " must be a string");
    const auto& s = v->get_string();
    if (s.size() > max_bytes)
        return failure(errc::invalid_argument, std::string(name) + " is longer than " +
                                                   std::to_string(max_bytes) + " bytes");
    return std::optional<std::string>{std::string(s)};
}

}  // namespace migops::api
