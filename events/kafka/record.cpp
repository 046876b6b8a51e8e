#include "events/kafka/record.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <stdexcept>

#include <boost/json/parse.hpp>

#include "events/codec.h"

namespace migops::events::kafka {

namespace {

constexpr std::string_view attribute_prefix = "ce_";
constexpr std::string_view content_type_header = "content-type";
// The CloudEvents distributed-tracing extension.
constexpr std::string_view traceparent_attribute = "traceparent";
constexpr std::string_view content_type_attribute = "datacontenttype";
// The longest header name: "ce_" and an attribute's name.
constexpr std::size_t header_name_capacity = 48;
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

void for_each_header(const envelope& e,
                     const std::function<void(std::string_view, std::string_view)>& f) {
    std::array<char, header_name_capacity> name{};
    std::copy(attribute_prefix.begin(), attribute_prefix.end(), name.begin());
    std::array<char, std::numeric_limits<std::uint64_t>::digits10 + 1> digits{};
    const auto decimal = [&](std::uint64_t n) {
        const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
        return std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data()));
    };
    // "ce_" and the attribute's name, in name.
    const auto prefixed = [&](std::string_view attribute) {
        if (attribute_prefix.size() + attribute.size() > name.size())
            throw std::logic_error("CloudEvents attribute name too long: " +
                                   std::string(attribute));
        std::copy(attribute.begin(), attribute.end(), name.begin() + attribute_prefix.size());
        return std::string_view(name.data(), attribute_prefix.size() + attribute.size());
    };
    for_each_attribute(e, /*include_hash=*/true, [&](const cloudevent_attribute& a) {
        const std::string_view value = a.number ? decimal(*a.number) : a.text;
        if (a.name == content_type_attribute)
            f(content_type_header, value);
        else
            f(prefixed(a.name), value);
    });
    if (!e.traceparent.empty()) f(prefixed(traceparent_attribute), e.traceparent);
    f("migops_position", decimal(e.pos));
    f("migops_prev_hash", to_hex(e.prev_hash));
    f("migops_hash", to_hex(e.hash));
}

std::string record_value(const envelope& e) {
    std::string value;
    append_data_json(value, e, json_member_order::by_name);
    return value;
}

std::size_t record_size(const envelope& e) {
    // A length prefix is a varint of at most 5 bytes; a record's framing
    // (its length, attributes, timestamp and offset deltas, header count)
    // takes at most 64 bytes more.
    constexpr std::size_t length_prefix = 5;
    constexpr std::size_t framing = 64;
    std::size_t size = framing + 2 * length_prefix + e.space.value.size() + record_value(e).size();
    for_each_header(e, [&](std::string_view name, std::string_view value) {
        size += 2 * length_prefix + name.size() + value.size();
    });
    return size;
}

std::size_t record_size_bound(const envelope& e) {
    constexpr std::size_t value_per_byte = 128;
    constexpr std::size_t headers_per_byte = 2;
    constexpr std::size_t fixed = 8192;
    return (value_per_byte + headers_per_byte) * encode_binary(e).size() + e.traceparent.size() +
           fixed;
}

record to_record(const envelope& e) {
    record r;
    r.key = e.space.value;
    r.headers.reserve(max_record_headers);
    for_each_header(e, [&](std::string_view name, std::string_view value) {
        r.headers.emplace_back(name, value);
    });
    r.value = record_value(e);
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
