#pragma once
// The event catalogue: every event type migops has ever written.
//
// Persisted forever (DESIGN.md invariant 5):
//   - type_id numbers are never reused; a retired type stays listed below as
//     a comment with its number;
//   - a field is only appended (see fields.h), with version bumped;
//   - a change of meaning is a new type with a new number, its type_name
//     suffixed by the new major (`.v2` in the CloudEvents type).
// Numbers are grouped by area: 100 spaces.
//
// Every type has golden files in tests/golden/, decoded by every build.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>

#include "events/fields.h"
#include "events/types.h"

namespace migops::events {

// ---- spaces (100..199) ---------------------------------------------------

struct space_created {
    static constexpr std::uint32_t type_id = 100;
    static constexpr std::string_view type_name = "space.created";
    static constexpr std::uint32_t version = 1;

    std::string name;
    std::string description;

    static constexpr auto fields() {
        return std::tuple{field("name", &space_created::name),
                          field("description", &space_created::description)};
    }
    friend bool operator==(const space_created&, const space_created&) = default;
};

struct space_renamed {
    static constexpr std::uint32_t type_id = 101;
    static constexpr std::string_view type_name = "space.renamed";
    static constexpr std::uint32_t version = 1;

    std::string name;

    static constexpr auto fields() { return std::tuple{field("name", &space_renamed::name)}; }
    friend bool operator==(const space_renamed&, const space_renamed&) = default;
};

struct space_described {
    static constexpr std::uint32_t type_id = 102;
    static constexpr std::string_view type_name = "space.described";
    static constexpr std::uint32_t version = 1;

    std::string description;

    static constexpr auto fields() {
        return std::tuple{field("description", &space_described::description)};
    }
    friend bool operator==(const space_described&, const space_described&) = default;
};

struct space_deleted {
    static constexpr std::uint32_t type_id = 103;
    static constexpr std::string_view type_name = "space.deleted";
    static constexpr std::uint32_t version = 1;

    static constexpr auto fields() { return std::tuple{}; }
    friend bool operator==(const space_deleted&, const space_deleted&) = default;
};

// In memory only: the payload of an envelope. Never persisted as a variant;
// the codec writes the alternative's type_id.
using payload = std::variant<space_created, space_renamed, space_described, space_deleted>;

// The CloudEvents major of each type; a new major is a new type_id.
inline constexpr std::uint32_t type_major = 1;

std::uint32_t type_id_of(const payload& p);
std::string_view type_name_of(const payload& p);
std::uint32_t version_of(const payload& p);
// "io.migops.space.created.v1"
std::string cloudevents_type_of(const payload& p);

// Visits every type in the catalogue: f(std::type_identity<E>{}).
template <class F>
void for_each_event_type(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::type_identity<std::variant_alternative_t<I, payload>>{}), ...);
    }
    (std::make_index_sequence<std::variant_size_v<payload>>{});
}

}  // namespace migops::events
