#pragma once
// Commands: what a user asks for, in the imperative. A command names the
// space it acts in, which routes it to that space's partition.

#include <string>
#include <variant>

#include "events/types.h"

namespace migops::engine {

struct create_space {
    space_id space;  // chosen by the caller (the API), so it can be routed
    std::string name;
    std::string description;
};

struct rename_space {
    space_id space;
    std::string name;
};

struct describe_space {
    space_id space;
    std::string description;
};

struct delete_space {
    space_id space;
};

using command = std::variant<create_space, rename_space, describe_space, delete_space>;

inline const space_id& space_of(const command& c) {
    return std::visit([](const auto& v) -> const space_id& { return v.space; }, c);
}

}  // namespace migops::engine
