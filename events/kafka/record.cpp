#include "events/kafka/record.h"

#include <charconv>

#include <boost/json/parse.hpp>

#include "events/codec.h"

namespace migops::events::kafka {

namespace {

constexpr std::string_view attribute_prefix = "ce_";
constexpr std::string_view content_type_header = "content-type";
// The CloudEvents distributed-tracing extension.
constexpr std::string_view traceparent_attribute = "traceparent";
constexpr std::string_view content_type_attribute = "datacontenttype";
// The headers of a record at most: every attribute, traceparent and the
// three migops_ ones.
constexpr std::size_t cloudevent_headers = 24;
// Attributes that to_cloudevent() writes as JSON integers.
constexpr std::string_view integer_attributes[] = {"migopspartition", "migopsposition"};

bool is_integer_attribute(std::string_view name) {
    for (const auto a : integer_attributes)
        if (a == name) return true;
    return false;
}

}  // namespace

const std::string* record::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (n == name) return &v;
    return nullptr;
}

record to_record(const envelope& e) {
    record r;
    r.key = e.space.value;
    r.headers.reserve(cloudevent_headers);
    for_each_attribute(e, /*include_hash=*/true, [&](const cloudevent_attribute& a) {
        std::string value = a.number ? std::to_string(*a.number) : std::string(a.text);
        if (a.name == content_type_attribute)
            r.headers.emplace_back(content_type_header, std::move(value));
        else
            r.headers.emplace_back(std::string(attribute_prefix) + std::string(a.name),
                                   std::move(value));
    });
    r.value = canonical_json(data_of(e));
    if (!e.traceparent.empty())
        r.headers.emplace_back(std::string(attribute_prefix) + std::string(traceparent_attribute),
                               e.traceparent);
    r.headers.emplace_back("migops_position", std::to_string(e.pos));
    r.headers.emplace_back("migops_prev_hash", to_hex(e.prev_hash));
    r.headers.emplace_back("migops_hash", to_hex(e.hash));
    return r;
}

result<envelope> from_record(const record& r) {
    boost::json::object ce;
    std::string traceparent;
    for (const auto& [name, value] : r.headers) {
        if (name == content_type_header) {
            ce[content_type_attribute] = value;
            continue;
        }
        if (!name.starts_with(attribute_prefix)) continue;
        const std::string attribute = name.substr(attribute_prefix.size());
        if (attribute == traceparent_attribute) {
            traceparent = value;
            continue;
        }
        if (is_integer_attribute(attribute)) {
            std::uint64_t n = 0;
            const auto* end = value.data() + value.size();
            const auto [ptr, ec] = std::from_chars(value.data(), end, n);
            if (ec != std::errc{} || ptr != end || value.empty())
                return failure(errc::corruption,
                               "header " + name + " is not an integer: \"" + value + "\"");
            ce[attribute] = n;
        } else {
            ce[attribute] = value;
        }
    }
    boost::system::error_code ec;
    auto data = boost::json::parse(r.value, ec);
    if (ec) return failure(errc::corruption, "record value is not JSON: " + ec.message());
    ce["data"] = std::move(data);
    auto e = from_cloudevent(ce);
    if (!e) return failure(errc::corruption, "record is not an event: " + e.error().message);
    if (!ce.contains("migopshash"))
        return failure(errc::corruption, "record has no ce_migopshash header");
    if (compute_hash(e.value()) != e.value().hash)
        return failure(errc::corruption, "partition " + std::to_string(e.value().partition) +
                                             " position " + std::to_string(e.value().pos) +
                                             ": the record's hash does not match its content");
    e.value().traceparent = std::move(traceparent);
    return e;
}

}  // namespace migops::events::kafka
