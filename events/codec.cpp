#include "events/codec.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

#include <boost/json/serialize.hpp>

#include "events/json_text.h"

namespace migops::events {

namespace {

constexpr std::string_view specversion = "1.0";
constexpr std::string_view content_type = "application/json";
constexpr std::size_t sequence_digits = 20;
// compute_hash() keeps its buffers for the next event up to this size (a
// template's event may be far larger than the others).
constexpr std::size_t kept_text_bytes = std::size_t{64} * 1024;

template <class F>
bool for_type_id(std::uint32_t type_id, F&& f) {
    bool found = false;
    for_each_event_type([&]<class E>(std::type_identity<E>) {
        if (!found && E::type_id == type_id) {
            found = true;
            f(std::type_identity<E>{});
        }
    });
    return found;
}

template <class F>
bool for_type_name(std::string_view ce_type, F&& f) {
    bool found = false;
    for_each_event_type([&]<class E>(std::type_identity<E>) {
        if (!found && cloudevents_type_of(payload{E{}}) == ce_type) {
            found = true;
            f(std::type_identity<E>{});
        }
    });
    return found;
}

void append_canonical(std::string& out, const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            out += "null";
            break;
        case boost::json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            break;
        case boost::json::kind::int64:
            out += std::to_string(v.get_int64());
            break;
        case boost::json::kind::uint64:
            out += std::to_string(v.get_uint64());
            break;
        case boost::json::kind::double_:
            out += boost::json::serialize(v);
            break;
        case boost::json::kind::string:
            append_json_string(out, v.get_string());
            break;
        case boost::json::kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) out.push_back(',');
                first = false;
                append_canonical(out, e);
            }
            out.push_back(']');
            break;
        }
        case boost::json::kind::object: {
            // Its members in key order (bytewise).
            const auto& o = v.get_object();
            std::vector<const boost::json::key_value_pair*> items;
            items.reserve(o.size());
            for (const auto& kv : o) items.push_back(&kv);
            std::sort(items.begin(), items.end(), [](const auto* a, const auto* b) {
                return std::string_view(a->key()) < std::string_view(b->key());
            });
            out.push_back('{');
            for (std::size_t i = 0; i < items.size(); ++i) {
                if (i > 0) out.push_back(',');
                append_json_string(out, items[i]->key());
                out.push_back(':');
                append_canonical(out, items[i]->value());
            }
            out.push_back('}');
            break;
        }
    }
}

// The entity the event is about: its task, node, journey or team, else the
// space.
std::string_view subject_of(const envelope& e) {
    std::string_view subject;
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            for (std::string_view wanted : {"task", "node", "journey", "team"}) {
                if (!subject.empty()) return;
                std::apply(
                    [&](const auto&... f) {
                        [[maybe_unused]] auto pick = [&](const auto& fd) {
                            using M = std::remove_cvref_t<decltype(p.*(fd.member))>;
                            if constexpr (is_id<M>::value)
                                if (subject.empty() && fd.name == wanted)
                                    subject = (p.*(fd.member)).value;
                        };
                        (pick(f), ...);
                    },
                    P::fields());
            }
        },
        e.data);
    return subject.empty() ? std::string_view(e.space.value) : subject;
}

// pos in sequence_digits digits, zeros first.
void append_sequence(std::string& out, position pos) {
    char digits[sequence_digits];
    const auto end = std::to_chars(digits, digits + sizeof digits, pos).ptr;
    const auto size = static_cast<std::size_t>(end - digits);
    out.append(sequence_digits - size, '0');
    out.append(digits, end);
}

const boost::json::value* member(const boost::json::object& o, std::string_view key) {
    return o.if_contains(key);
}

std::string string_member(const boost::json::object& o, std::string_view key) {
    const auto* v = member(o, key);
    if (!v || !v->is_string())
        throw decode_error("attribute \"" + std::string(key) + "\" is missing or not a string");
    return std::string(v->get_string());
}

template <class N>
N number_member(const boost::json::object& o, std::string_view key) {
    const auto* v = member(o, key);
    boost::system::error_code ec;
    N n{};
    if (v) n = v->to_number<N>(ec);
    if (!v || ec || v->is_double())
        throw decode_error("attribute \"" + std::string(key) + "\" is missing or not an integer");
    return n;
}

hash_bytes hash_member(const boost::json::object& o, std::string_view key) {
    auto h = hash_from_hex(string_member(o, key));
    if (!h) throw decode_error("attribute \"" + std::string(key) + "\" is not 64 hex digits");
    return *h;
}

}  // namespace

std::string encode_binary(const envelope& e) {
    binary_output_archive ar;
    ar(envelope_version);
    save_value(ar, e.event_id);
    ar(e.partition, e.pos);
    save_value(ar, e.space);
    save_value(ar, e.time);
    save_value(ar, e.actor);
    save_value(ar, e.actor_role);
    save_value(ar, e.correlation_id);
    save_value(ar, e.causation_id);
    save_value(ar, e.prev_hash);
    save_value(ar, e.hash);
    ar(type_id_of(e.data));
    std::visit([&](const auto& p) { save_value(ar, p); }, e.data);
    return std::move(ar).take();
}

result<void> decode_binary(std::string_view bytes, envelope& e) {
    try {
        binary_input_archive ar(bytes);
        std::uint32_t version = 0;
        ar(version);
        if (version == 0 || version > envelope_version)
            return failure(errc::corruption,
                           "envelope version " + std::to_string(version) + " is not known");
        load_value(ar, e.event_id);
        ar(e.partition, e.pos);
        load_value(ar, e.space);
        load_value(ar, e.time);
        load_value(ar, e.actor);
        load_value(ar, e.actor_role);
        load_value(ar, e.correlation_id);
        load_value(ar, e.causation_id);
        load_value(ar, e.prev_hash);
        load_value(ar, e.hash);
        e.traceparent.clear();  // neither stored nor hashed (envelope.h)
        std::uint32_t type_id = 0;
        ar(type_id);
        const bool known = for_type_id(
            type_id, [&]<class E>(std::type_identity<E>) { load_value(ar, e.data.emplace<E>()); });
        if (!known)
            return failure(errc::corruption,
                           "event type " + std::to_string(type_id) + " is not known");
        if (!ar.at_end()) return failure(errc::corruption, "trailing bytes after the event");
        return success();
    } catch (const std::exception& ex) {
        return failure(errc::corruption, std::string("event does not decode: ") + ex.what());
    }
}

result<envelope> decode_binary(std::string_view bytes) {
    envelope e;
    if (auto d = decode_binary(bytes, e); !d) return failure(d.error());
    return e;
}

namespace {

// Every attribute of an event's CloudEvent, in the order to_cloudevent()
// writes them, "data" last.
enum attribute : std::uint8_t {
    specversion_attribute,
    id_attribute,
    source_attribute,
    type_attribute,
    subject_attribute,
    time_attribute,
    datacontenttype_attribute,
    partitionkey_attribute,
    sequence_attribute,
    migopspartition_attribute,
    migopsposition_attribute,
    migopsprevhash_attribute,
    migopshash_attribute,
    migopsactor_attribute,
    migopsactorrole_attribute,
    migopscorrelationid_attribute,
    migopscausationid_attribute,
    data_attribute,
    attribute_count
};
constexpr std::array<std::string_view, attribute_count> attribute_names = {
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "partitionkey",
    "sequence",
    "migopspartition",
    "migopsposition",
    "migopsprevhash",
    "migopshash",
    "migopsactor",
    "migopsactorrole",
    "migopscorrelationid",
    "migopscausationid",
    "data",
};
// The attributes in the order of their names: the canonical form's.
constexpr auto attributes_by_name = order_of_names(attribute_names);

// Calls f(attribute, text, number) with each attribute of e's CloudEvent but
// "data", in their order; number is set for the integers. A text that is
// not one of e's own is written into a buffer of the thread's, which the
// next one overwrites: f uses each before it returns.
template <class F>
void visit_attributes(const envelope& e, bool include_hash, F&& f) {
    thread_local std::string built;
    const auto text = [&](attribute a, std::string_view value) { f(a, value, std::nullopt); };
    const auto number = [&](attribute a, std::uint64_t value) {
        f(a, std::string_view{}, std::optional<std::uint64_t>(value));
    };
    const auto build = [&](attribute a, const auto& write) {
        built.clear();
        write(built);
        text(a, built);
    };
    text(specversion_attribute, specversion);
    text(id_attribute, e.event_id);
    // An event about a partition rather than a space (a chain checkpoint)
    // has its partition as source, and no subject or partition key (which
    // CloudEvents wants non-empty when present).
    build(source_attribute, [&](std::string& out) {
        if (e.space.empty()) {
            out += "/partitions/";
            append_json_number(out, std::uint64_t{e.partition});
        } else {
            out += "/spaces/";
            out += e.space.value;
        }
    });
    text(type_attribute, cloudevents_type_of(e.data));
    if (const auto subject = subject_of(e); !subject.empty()) text(subject_attribute, subject);
    build(time_attribute, [&](std::string& out) { append_rfc3339(out, e.time); });
    text(datacontenttype_attribute, content_type);
    if (!e.space.empty()) text(partitionkey_attribute, e.space.value);
    build(sequence_attribute, [&](std::string& out) { append_sequence(out, e.pos); });
    number(migopspartition_attribute, e.partition);
    number(migopsposition_attribute, e.pos);
    build(migopsprevhash_attribute, [&](std::string& out) { append_hex(out, e.prev_hash); });
    if (include_hash)
        build(migopshash_attribute, [&](std::string& out) { append_hex(out, e.hash); });
    text(migopsactor_attribute, e.actor.value);
    text(migopsactorrole_attribute, e.actor_role);
    text(migopscorrelationid_attribute, e.correlation_id);
    text(migopscausationid_attribute, e.causation_id);
}

}  // namespace

void for_each_attribute(const envelope& e, bool include_hash,
                        const std::function<void(const cloudevent_attribute&)>& f) {
    visit_attributes(e, include_hash,
                     [&](attribute a, std::string_view text, std::optional<std::uint64_t> number) {
                         f(cloudevent_attribute{attribute_names[a], text, number});
                     });
}

void append_data_json(std::string& out, const envelope& e, json_member_order order) {
    std::visit(
        [&](const auto& p) {
            if (order == json_member_order::by_name)
                append_json_value<json_member_order::by_name>(out, p);
            else
                append_json_value<json_member_order::declared>(out, p);
        },
        e.data);
}

boost::json::value data_of(const envelope& e) {
    return std::visit([](const auto& p) { return to_json_value(p); }, e.data);
}

boost::json::object to_cloudevent(const envelope& e, bool include_hash) {
    boost::json::object o(attribute_count);
    for_each_attribute(e, include_hash, [&](const cloudevent_attribute& a) {
        if (a.number)
            o[a.name] = *a.number;
        else
            o[a.name] = a.text;
    });
    o["data"] = data_of(e);
    return o;
}

void append_cloudevent_json(std::string& out, const envelope& e) {
    json_text w(out);
    w.begin_object();
    visit_attributes(e, /*include_hash=*/true,
                     [&](attribute a, std::string_view text, std::optional<std::uint64_t> number) {
                         w.key(attribute_names[a]);
                         if (number)
                             w.number(*number);
                         else
                             w.string(text);
                     });
    w.key("data");
    append_data_json(out, e, json_member_order::declared);
    w.end_object();
}

result<envelope> from_cloudevent(const boost::json::object& o) {
    try {
        if (string_member(o, "specversion") != specversion)
            return failure(errc::invalid_argument, "specversion must be 1.0");
        envelope e;
        e.event_id = string_member(o, "id");
        if (member(o, "partitionkey")) e.space.value = string_member(o, "partitionkey");
        auto t = parse_rfc3339(string_member(o, "time"));
        if (!t) return failure(errc::invalid_argument, "attribute \"time\" is not RFC 3339");
        e.time = *t;
        e.partition = number_member<partition_id>(o, "migopspartition");
        e.pos = number_member<position>(o, "migopsposition");
        e.prev_hash = hash_member(o, "migopsprevhash");
        if (member(o, "migopshash")) e.hash = hash_member(o, "migopshash");
        e.actor.value = string_member(o, "migopsactor");
        e.actor_role = string_member(o, "migopsactorrole");
        e.correlation_id = string_member(o, "migopscorrelationid");
        e.causation_id = string_member(o, "migopscausationid");
        const auto* data = member(o, "data");
        if (!data) return failure(errc::invalid_argument, "attribute \"data\" is missing");
        const std::string type = string_member(o, "type");
        const bool known = for_type_name(type, [&]<class E>(std::type_identity<E>) {
            E p{};
            from_json_value(*data, p, "data");
            e.data = std::move(p);
        });
        if (!known) return failure(errc::invalid_argument, "event type " + type + " is not known");
        return e;
    } catch (const std::exception& ex) {
        return failure(errc::invalid_argument, ex.what());
    }
}

std::string canonical_json(const boost::json::value& v) {
    std::string out;
    out.reserve(512);
    append_canonical(out, v);
    return out;
}

hash_bytes sha256(std::string_view bytes) {
    // The algorithm is fetched once and each thread keeps its context: an
    // implicit fetch and a new context per digest cost OpenSSL 3 more than
    // hashing an event does.
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    struct context_deleter {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    thread_local const std::unique_ptr<EVP_MD_CTX, context_deleter> ctx(EVP_MD_CTX_new());
    hash_bytes out{};
    unsigned int len = 0;
    if (!md || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size())
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    return out;
}

// canonical_json(to_cloudevent(e, false)), written without building the
// object: each attribute's canonical value goes into one buffer, then the
// attributes are written in the order of their names.
hash_bytes compute_hash(const envelope& e) {
    struct span_of_values {
        std::size_t begin = 0;
        std::size_t end = 0;
        bool present = false;
    };
    std::array<span_of_values, attribute_count> spans{};
    // Kept per thread: an event's text is rewritten in place of the last's.
    thread_local std::string values;
    thread_local std::string canonical;
    values.clear();
    canonical.clear();
    visit_attributes(e, /*include_hash=*/false,
                     [&](attribute a, std::string_view text, std::optional<std::uint64_t> number) {
                         const auto begin = values.size();
                         if (number)
                             append_json_number(values, *number);
                         else
                             append_json_string(values, text);
                         spans[a] = {begin, values.size(), true};
                     });
    const auto data_begin = values.size();
    append_data_json(values, e, json_member_order::by_name);
    spans[data_attribute] = {data_begin, values.size(), true};
    canonical.push_back('{');
    for (const auto a : attributes_by_name) {
        const auto& span = spans[a];
        if (!span.present) continue;
        if (canonical.size() > 1) canonical.push_back(',');
        append_json_string(canonical, attribute_names[a]);
        canonical.push_back(':');
        canonical.append(values, span.begin, span.end - span.begin);
    }
    canonical.push_back('}');
    const auto hash = sha256(canonical);
    if (canonical.capacity() > kept_text_bytes) {
        values = std::string();
        canonical = std::string();
    }
    return hash;
}

chain_head seal(envelope& e, const chain_head& head) {
    e.pos = head.pos + 1;
    e.prev_hash = head.hash;
    e.hash = compute_hash(e);
    return chain_head{e.pos, e.hash};
}

result<void> verify_link(const envelope& e, const chain_head& prev) {
    if (e.pos != prev.pos + 1)
        return failure(errc::corruption, "partition " + std::to_string(e.partition) +
                                             ": position " + std::to_string(e.pos) + " follows " +
                                             std::to_string(prev.pos));
    if (e.prev_hash != prev.hash)
        return failure(errc::corruption, "partition " + std::to_string(e.partition) + " position " +
                                             std::to_string(e.pos) +
                                             ": previous hash does not match the chain");
    if (compute_hash(e) != e.hash)
        return failure(errc::corruption, "partition " + std::to_string(e.partition) + " position " +
                                             std::to_string(e.pos) +
                                             ": hash does not match the event's content");
    return success();
}

void throw_json_type(std::string_view path, std::string_view expected) {
    throw decode_error(std::string(path) + " must be " + std::string(expected));
}

}  // namespace migops::events
