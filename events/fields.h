#pragma once
// Field lists: one declaration per persisted struct drives its storage
// encoding (cereal portable binary), its JSON form and its JSON decoding,
// so the three can never disagree.
//
// A persisted struct declares
//     static constexpr std::uint32_t version = N;   (or format_version = N)
//     static constexpr auto fields() { return std::tuple{field("name", &T::name, since)...}; }
// Rules (persisted forever):
//   - fields are only appended, with a `since` equal to the version that
//     added them, and version is bumped with them;
//   - binary: [u32 version][fields with since <= version]; on load, fields
//     newer than the stored version keep their default;
//   - JSON: fields with since == 1 are always written (an empty optional is
//     omitted); fields added later are omitted while they hold their default,
//     so an old event decoded by a new build has the same JSON, hence the
//     same hash.
//   - no std::variant, no size_t: counts are u32 on the wire.

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>
#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

#include "events/json_text.h"
#include "events/types.h"

namespace migops::events {

template <class T, class M>
struct field_t {
    std::string_view name;
    M T::*member;
    std::uint32_t since;
};

template <class T, class M>
constexpr field_t<T, M> field(std::string_view name, M T::*member, std::uint32_t since = 1) {
    return {name, member, since};
}

// The format version of a persisted struct: `format_version` where the
// struct has a member of its own called version (the engine's state, whose
// entities carry a version), else `version`.
template <class T>
concept has_format_version = requires {
    { T::format_version } -> std::convertible_to<std::uint32_t>;
};

template <class T>
concept reflected = requires {
    T::fields();
}
&&(has_format_version<T> || requires {
    { T::version } -> std::convertible_to<std::uint32_t>;
});

template <class T>
constexpr std::uint32_t format_version_of() {
    if constexpr (has_format_version<T>)
        return T::format_version;
    else
        return T::version;
}

template <class T>
struct is_id : std::false_type {};
template <class Tag>
struct is_id<id<Tag>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
// Maps and sets are stored (binary only) as a u32 count and their entries in
// key order; they have no JSON form.
template <class T>
struct is_map : std::false_type {};
template <class K, class V, class C>
struct is_map<std::map<K, V, C>> : std::true_type {};
template <class T>
struct is_set : std::false_type {};
template <class K, class C>
struct is_set<std::set<K, C>> : std::true_type {};

// Raised while decoding stored or received data that does not fit.
class decode_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Enums are persisted as their underlying integer and shown in JSON by
// name; each enum provides to_string(E) and parse(std::string_view, E&).
template <class E>
concept named_enum = std::is_enum_v<E> && requires(E e, std::string_view s) {
    { to_string(e) } -> std::convertible_to<std::string_view>;
    { parse(s, e) } -> std::same_as<bool>;
};

// ---- binary ------------------------------------------------------------

// Cereal archives of the portable binary format, as
// cereal::PortableBinaryOutputArchive writes it with its default options on
// a little-endian machine (a byte-order byte, 1, then each value's bytes,
// little-endian), read from and written to memory directly rather than
// through a std::istream or std::ostream, whose construction and calls per
// value cost more than the values. The bytes are the same, so each reads
// what the other, or cereal's own portable binary archives, wrote (tested).
namespace binary_detail {
// Reverses the bytes of each Size-byte value in data[0, size): from one
// byte order to the other.
template <std::size_t Size>
void swap_each(char* data, std::size_t size) {
    for (std::size_t i = 0; i + Size <= size; i += Size) std::reverse(data + i, data + i + Size);
}
}  // namespace binary_detail

class binary_output_archive
    : public cereal::OutputArchive<binary_output_archive, cereal::AllowEmptyClassElision> {
  public:
    binary_output_archive() : OutputArchive(this) { (*this)(std::uint8_t{1}); }
    binary_output_archive(const binary_output_archive&) = delete;
    binary_output_archive& operator=(const binary_output_archive&) = delete;

    template <std::size_t Size>
    void save_binary(const void* data, std::size_t size) {
        const auto at = bytes_.size();
        bytes_.append(static_cast<const char*>(data), size);
        if constexpr (std::endian::native == std::endian::big && Size > 1)
            binary_detail::swap_each<Size>(bytes_.data() + at, size);
    }
    // The bytes written; the archive is done with.
    std::string take() && { return std::move(bytes_); }

  private:
    std::string bytes_;
};

// Reads stored bytes in place. It knows how many bytes it was given, so
// that no stored length or count can make it allocate more than that.
class binary_input_archive
    : public cereal::InputArchive<binary_input_archive, cereal::AllowEmptyClassElision> {
  public:
    explicit binary_input_archive(std::string_view bytes)
        : InputArchive(this), at_(bytes.data()), end_(bytes.data() + bytes.size()) {
        std::uint8_t little = 0;
        (*this)(little);
        if (little > 1) throw decode_error("the stored byte order is neither 0 nor 1");
        swap_ = (little == 1) != (std::endian::native == std::endian::little);
    }
    binary_input_archive(const binary_input_archive&) = delete;
    binary_input_archive& operator=(const binary_input_archive&) = delete;

    template <std::size_t Size>
    void load_binary(void* data, std::size_t size) {
        if (size > left()) throw decode_error("the record ends early");
        std::memcpy(data, at_, size);
        at_ += size;
        if (swap_ && Size > 1) binary_detail::swap_each<Size>(static_cast<char*>(data), size);
    }
    // The next n bytes, which it moves past.
    std::string_view take(std::size_t n) {
        if (n > left()) throw decode_error("the record ends early");
        const std::string_view out(at_, n);
        at_ += n;
        return out;
    }
    void check_count(std::uint64_t n) const {
        if (n > left()) throw decode_error("a stored length is larger than the record");
    }
    // Whether every byte was read.
    bool at_end() const { return at_ == end_; }

  private:
    std::size_t left() const { return static_cast<std::size_t>(end_ - at_); }
    const char* at_;
    const char* end_;
    bool swap_ = false;
};

// What cereal calls to save and load values with them (the portable
// binary archives' own, for these archives).
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(binary_output_archive& ar,
                                                                    const T& t) {
    static_assert(!std::is_floating_point_v<T> || std::numeric_limits<T>::is_iec559);
    ar.save_binary<sizeof(T)>(std::addressof(t), sizeof(t));
}
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(binary_input_archive& ar,
                                                                    T& t) {
    static_assert(!std::is_floating_point_v<T> || std::numeric_limits<T>::is_iec559);
    ar.load_binary<sizeof(T)>(std::addressof(t), sizeof(t));
}
template <class Archive, class T>
CEREAL_ARCHIVE_RESTRICT(binary_input_archive, binary_output_archive)
CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& t) {
    ar(t.value);
}
template <class Archive, class T>
CEREAL_ARCHIVE_RESTRICT(binary_input_archive, binary_output_archive)
CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::SizeTag<T>& t) {
    ar(t.size);
}
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(binary_output_archive& ar, const cereal::BinaryData<T>& bd) {
    ar.save_binary<sizeof(std::remove_pointer_t<T>)>(bd.data, static_cast<std::size_t>(bd.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(binary_input_archive& ar, cereal::BinaryData<T>& bd) {
    ar.load_binary<sizeof(std::remove_pointer_t<T>)>(bd.data, static_cast<std::size_t>(bd.size));
}

// Archive: binary_output_archive, or cereal::PortableBinaryOutputArchive
// (which writes the same bytes through a stream).
template <class Archive, class M>
void save_value(Archive& ar, const M& v);
template <class M>
void load_value(binary_input_archive& ar, M& v);

inline void load_string(binary_input_archive& ar, std::string& s) {
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    s.assign(ar.take(static_cast<std::size_t>(n)));
}

template <class Archive, class M>
void save_value(Archive& ar, const M& v) {
    if constexpr (reflected<M>) {
        ar(format_version_of<M>());
        std::apply([&](const auto&... f) { (save_value(ar, v.*(f.member)), ...); }, M::fields());
    } else if constexpr (std::is_same_v<M, std::string>) {
        ar(v);
    } else if constexpr (std::is_same_v<M, bool> || std::is_integral_v<M>) {
        static_assert(sizeof(M) == 1 || sizeof(M) == 2 || sizeof(M) == 4 || sizeof(M) == 8);
        ar(v);
    } else if constexpr (std::is_enum_v<M>) {
        ar(static_cast<std::uint16_t>(v));
    } else if constexpr (is_id<M>::value) {
        ar(v.value);
    } else if constexpr (std::is_same_v<M, timestamp>) {
        ar(v.micros);
    } else if constexpr (std::is_same_v<M, hash_bytes>) {
        ar(cereal::binary_data(v.data(), v.size()));  // the bytes in order, as one by one
    } else if constexpr (is_optional<M>::value) {
        ar(v.has_value());
        if (v) save_value(ar, *v);
    } else if constexpr (is_vector<M>::value || is_set<M>::value) {
        ar(static_cast<std::uint32_t>(v.size()));
        for (const auto& e : v) save_value(ar, e);
    } else if constexpr (is_map<M>::value) {
        ar(static_cast<std::uint32_t>(v.size()));
        for (const auto& [k, e] : v) {
            save_value(ar, k);
            save_value(ar, e);
        }
    } else {
        static_assert(sizeof(M) == 0, "type has no persisted encoding");
    }
}

template <class M>
void load_value(binary_input_archive& ar, M& v) {
    if constexpr (reflected<M>) {
        std::uint32_t stored = 0;
        ar(stored);
        if (stored == 0 || stored > format_version_of<M>())
            throw decode_error("record version " + std::to_string(stored) +
                               " is not known to this build (newest " +
                               std::to_string(format_version_of<M>()) + ")");
        std::apply(
            [&](const auto&... f) {
                ((f.since <= stored ? load_value(ar, v.*(f.member)) : void()), ...);
            },
            M::fields());
    } else if constexpr (std::is_same_v<M, std::string>) {
        load_string(ar, v);
    } else if constexpr (std::is_same_v<M, bool>) {
        std::uint8_t raw = 0;  // exactly 0 or 1: any other byte is damage
        ar(raw);
        if (raw > 1) throw decode_error("a stored flag is neither 0 nor 1");
        v = raw == 1;
    } else if constexpr (std::is_integral_v<M>) {
        ar(v);
    } else if constexpr (std::is_enum_v<M>) {
        std::uint16_t raw = 0;
        ar(raw);
        using underlying = std::underlying_type_t<M>;
        if (raw > std::numeric_limits<underlying>::max())
            throw decode_error("enum value " + std::to_string(raw) + " is out of range");
        v = static_cast<M>(raw);
        if (!named_enum<M> || to_string(v).empty())
            throw decode_error("unknown enum value " + std::to_string(raw));
    } else if constexpr (is_id<M>::value) {
        load_string(ar, v.value);
    } else if constexpr (std::is_same_v<M, timestamp>) {
        ar(v.micros);
    } else if constexpr (std::is_same_v<M, hash_bytes>) {
        ar(cereal::binary_data(v.data(), v.size()));
    } else if constexpr (is_optional<M>::value) {
        bool has = false;
        load_value(ar, has);
        if (has) {
            typename M::value_type inner{};
            load_value(ar, inner);
            v = std::move(inner);
        } else {
            v.reset();
        }
    } else if constexpr (is_vector<M>::value || is_set<M>::value) {
        std::uint32_t n = 0;
        ar(n);
        ar.check_count(n);
        v.clear();
        for (std::uint32_t i = 0; i < n; ++i) {
            typename M::value_type e{};
            load_value(ar, e);
            v.insert(v.end(), std::move(e));
        }
    } else if constexpr (is_map<M>::value) {
        std::uint32_t n = 0;
        ar(n);
        ar.check_count(n);
        v.clear();
        for (std::uint32_t i = 0; i < n; ++i) {
            typename M::key_type k{};
            typename M::mapped_type e{};
            load_value(ar, k);
            load_value(ar, e);
            v.insert_or_assign(v.end(), std::move(k), std::move(e));
        }
    } else {
        static_assert(sizeof(M) == 0, "type has no persisted encoding");
    }
}

// ---- JSON --------------------------------------------------------------

template <class M>
boost::json::value to_json_value(const M& v);
template <class M>
void from_json_value(const boost::json::value& j, M& v, std::string_view path);

// Whether a field's JSON leaves out the value it holds: an empty optional,
// or a field added after version 1 that holds its default.
template <class F, class M>
bool json_omits(const F& fd, const M& member) {
    if constexpr (is_optional<M>::value) {
        if (!member) return true;
    }
    return fd.since > 1 && member == M{};
}

template <class M>
boost::json::value to_json_value(const M& v) {
    if constexpr (reflected<M>) {
        boost::json::object o;
        std::apply(
            [&](const auto&... f) {
                [[maybe_unused]] auto put = [&](const auto& fd) {
                    const auto& member = v.*(fd.member);
                    if (json_omits(fd, member)) return;
                    o[fd.name] = to_json_value(member);
                };
                (put(f), ...);
            },
            M::fields());
        return o;
    } else if constexpr (std::is_same_v<M, std::string>) {
        return boost::json::string(v);
    } else if constexpr (std::is_same_v<M, bool>) {
        return v;
    } else if constexpr (std::is_integral_v<M>) {
        if constexpr (std::is_signed_v<M>)
            return static_cast<std::int64_t>(v);
        else
            return static_cast<std::uint64_t>(v);
    } else if constexpr (named_enum<M>) {
        return boost::json::string(to_string(v));
    } else if constexpr (is_id<M>::value) {
        return boost::json::string(v.value);
    } else if constexpr (std::is_same_v<M, timestamp>) {
        return boost::json::string(format_rfc3339(v));
    } else if constexpr (std::is_same_v<M, hash_bytes>) {
        return boost::json::string(to_hex(v));
    } else if constexpr (is_optional<M>::value) {
        return to_json_value(*v);
    } else if constexpr (is_vector<M>::value) {
        boost::json::array a;
        a.reserve(v.size());
        for (const auto& e : v) a.push_back(to_json_value(e));
        return a;
    } else {
        static_assert(sizeof(M) == 0, "type has no JSON encoding");
    }
}

// The JSON of a value written as text, without building a document. An
// object's members come in the order fields() declares them (the bytes
// boost::json::serialize(to_json_value(v)) gives), or in the order of their
// names, bytewise (the bytes of canonical_json(to_json_value(v)), codec.h).
enum class json_member_order { declared, by_name };

// The indexes of names in the bytewise order of the names: the order of a
// canonical JSON object's members.
template <std::size_t N>
constexpr std::array<std::size_t, N> order_of_names(const std::array<std::string_view, N>& names) {
    std::array<std::size_t, N> order{};
    for (std::size_t i = 0; i < N; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
    return order;
}

namespace json_detail {
// The indexes of M's fields in the order of their names.
template <class M>
constexpr auto fields_by_name() {
    constexpr auto fields = M::fields();
    std::array<std::string_view, std::tuple_size_v<decltype(fields)>> names{};
    std::apply(
        [&](const auto&... f) {
            std::size_t i = 0;
            ((names[i++] = f.name), ...);
        },
        fields);
    return order_of_names(names);
}
}  // namespace json_detail

template <json_member_order Order, class M>
void append_json_value(std::string& out, const M& v) {
    if constexpr (reflected<M>) {
        static constexpr auto fields = M::fields();
        out.push_back('{');
        bool first = true;
        [[maybe_unused]] const auto put = [&](const auto& fd) {
            const auto& member = v.*(fd.member);
            if (json_omits(fd, member)) return;
            if (!first) out.push_back(',');
            first = false;
            append_json_string(out, fd.name);
            out.push_back(':');
            append_json_value<Order>(out, member);
        };
        if constexpr (Order == json_member_order::by_name) {
            static constexpr auto order = json_detail::fields_by_name<M>();
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (put(std::get<order[K]>(fields)), ...);
            }
            (std::make_index_sequence<order.size()>{});
        } else {
            std::apply([&](const auto&... f) { (put(f), ...); }, fields);
        }
        out.push_back('}');
    } else if constexpr (std::is_same_v<M, std::string>) {
        append_json_string(out, v);
    } else if constexpr (std::is_same_v<M, bool>) {
        out += v ? "true" : "false";
    } else if constexpr (std::is_integral_v<M>) {
        if constexpr (std::is_signed_v<M>)
            append_json_number(out, static_cast<std::int64_t>(v));
        else
            append_json_number(out, static_cast<std::uint64_t>(v));
    } else if constexpr (named_enum<M>) {
        append_json_string(out, to_string(v));
    } else if constexpr (is_id<M>::value) {
        append_json_string(out, v.value);
    } else if constexpr (std::is_same_v<M, timestamp> || std::is_same_v<M, hash_bytes>) {
        // Quoted; neither holds a character JSON escapes.
        out.push_back('"');
        if constexpr (std::is_same_v<M, timestamp>)
            append_rfc3339(out, v);
        else
            append_hex(out, v);
        out.push_back('"');
    } else if constexpr (is_optional<M>::value) {
        append_json_value<Order>(out, *v);
    } else if constexpr (is_vector<M>::value) {
        out.push_back('[');
        bool first = true;
        for (const auto& e : v) {
            if (!first) out.push_back(',');
            first = false;
            append_json_value<Order>(out, e);
        }
        out.push_back(']');
    } else {
        static_assert(sizeof(M) == 0, "type has no JSON encoding");
    }
}

[[noreturn]] void throw_json_type(std::string_view path, std::string_view expected);

template <class M>
void from_json_value(const boost::json::value& j, M& v, std::string_view path) {
    if constexpr (reflected<M>) {
        const auto* o = j.if_object();
        if (!o) throw_json_type(path, "an object");
        std::apply(
            [&](const auto&... f) {
                [[maybe_unused]] auto get = [&](const auto& fd) {
                    auto& member = v.*(fd.member);
                    using member_t = std::remove_cvref_t<decltype(member)>;
                    std::string sub = std::string(path) + "." + std::string(fd.name);
                    if (const auto* found = o->if_contains(fd.name)) {
                        from_json_value(*found, member, sub);
                    } else if (!is_optional<member_t>::value && fd.since == 1) {
                        throw decode_error(sub + " is missing");
                    }
                };
                (get(f), ...);
            },
            M::fields());
    } else if constexpr (std::is_same_v<M, std::string>) {
        const auto* s = j.if_string();
        if (!s) throw_json_type(path, "a string");
        v.assign(s->data(), s->size());
    } else if constexpr (std::is_same_v<M, bool>) {
        const auto* b = j.if_bool();
        if (!b) throw_json_type(path, "true or false");
        v = *b;
    } else if constexpr (std::is_integral_v<M>) {
        boost::system::error_code ec;
        auto n = j.to_number<M>(ec);
        if (ec || j.is_double()) throw_json_type(path, "an integer in range");
        v = n;
    } else if constexpr (named_enum<M>) {
        const auto* s = j.if_string();
        if (!s || !parse(std::string_view(s->data(), s->size()), v))
            throw_json_type(path, "one of the known names");
    } else if constexpr (is_id<M>::value) {
        const auto* s = j.if_string();
        if (!s) throw_json_type(path, "a string id");
        v.value.assign(s->data(), s->size());
    } else if constexpr (std::is_same_v<M, timestamp>) {
        const auto* s = j.if_string();
        auto t = s ? parse_rfc3339(std::string_view(s->data(), s->size())) : std::nullopt;
        if (!t) throw_json_type(path, "an RFC 3339 date-time");
        v = *t;
    } else if constexpr (std::is_same_v<M, hash_bytes>) {
        const auto* s = j.if_string();
        auto h = s ? hash_from_hex(std::string_view(s->data(), s->size())) : std::nullopt;
        if (!h) throw_json_type(path, "64 lower-case hex digits");
        v = *h;
    } else if constexpr (is_optional<M>::value) {
        if (j.is_null()) {
            v.reset();
            return;
        }
        typename M::value_type inner{};
        from_json_value(j, inner, path);
        v = std::move(inner);
    } else if constexpr (is_vector<M>::value) {
        const auto* a = j.if_array();
        if (!a) throw_json_type(path, "an array");
        v.clear();
        v.reserve(a->size());
        std::size_t i = 0;
        for (const auto& e : *a) {
            typename M::value_type item{};
            from_json_value(e, item, std::string(path) + "[" + std::to_string(i++) + "]");
            v.push_back(std::move(item));
        }
    } else {
        static_assert(sizeof(M) == 0, "type has no JSON decoding");
    }
}

}  // namespace migops::events
