#pragma once
// What the fuzz targets share: a check that stops the run with a message
// (libFuzzer then keeps the input as a crash, the corpus replay fails), and
// walks over the text a decoded value holds.
//
// Each target defines LLVMFuzzerTestOneInput and is built twice: with
// clang's libFuzzer and sanitizers by ops/fuzz, and with the project's
// compiler into a replay of its committed corpus (replay_main.cpp), which
// CTest runs.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>
#include <boost/pfr.hpp>

#include "api/json_body.h"
#include "events/fields.h"
#include "events/types.h"
#include "events/utf8.h"

namespace migops::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    std::abort();
}

// A property of the target: when it does not hold, the input is a finding.
#define MIGOPS_FUZZ_CHECK(cond) \
    ((cond) ? void() : ::migops::fuzz::check_failed(#cond, __FILE__, __LINE__))

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Text as the API takes it: well-formed UTF-8 without control characters
// other than tabs and line breaks.
inline bool clean_text(std::string_view s) {
    return !api::has_control_character(s) && events::valid_utf8(s);
}

template <class F>
void each_json_string(const boost::json::value& v, const F& f) {
    if (const auto* s = v.if_string()) {
        f(std::string_view(s->data(), s->size()));
    } else if (const auto* a = v.if_array()) {
        for (const auto& e : *a) each_json_string(e, f);
    } else if (const auto* o = v.if_object()) {
        for (const auto& kv : *o) {
            f(std::string_view(kv.key()));
            each_json_string(kv.value(), f);
        }
    }
}

template <class T>
struct is_std_variant : std::false_type {};
template <class... T>
struct is_std_variant<std::variant<T...>> : std::true_type {};

// Calls f with every string a decoded value holds: strings, ids, and the
// strings of the persisted structs within (through their JSON form);
// commands and other plain aggregates field by field.
template <class T, class F>
void each_text(const T& v, const F& f) {
    if constexpr (std::is_same_v<T, std::string>) {
        f(std::string_view(v));
    } else if constexpr (events::is_id<T>::value) {
        f(std::string_view(v.value));
    } else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T> ||
                         std::is_same_v<T, timestamp>) {
        // not text
    } else if constexpr (events::reflected<T>) {
        each_json_string(events::to_json_value(v), f);
    } else if constexpr (events::is_optional<T>::value) {
        if (v) each_text(*v, f);
    } else if constexpr (events::is_vector<T>::value) {
        for (const auto& e : v) each_text(e, f);
    } else if constexpr (is_std_variant<T>::value) {
        std::visit([&](const auto& alt) { each_text(alt, f); }, v);
    } else {
        static_assert(std::is_aggregate_v<T>, "each_text cannot look into this type");
        boost::pfr::for_each_field(v, [&](const auto& field) { each_text(field, f); });
    }
}

}  // namespace migops::fuzz
