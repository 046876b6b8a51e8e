#include "engine/domain.h"

namespace migops::engine {

namespace {

using events::payload;
using decision = result<std::vector<payload>>;

result<void> check_text(std::string_view what, const std::string& value, std::size_t max,
                        bool required) {
    if (required && value.empty())
        return failure(errc::invalid_argument, std::string(what) + " is required");
    if (value.size() > max)
        return failure(errc::invalid_argument,
                       std::string(what) + " is longer than " + std::to_string(max) + " bytes");
    return success();
}

result<const space_state*> live_space(const partition_state& state, const space_id& id) {
    auto it = state.spaces.find(id);
    if (it == state.spaces.end() || it->second.deleted)
        return failure(errc::not_found, "space " + id.value + " does not exist");
    return &it->second;
}

decision decide_one(const partition_state& state, const command_context&, const create_space& c) {
    if (c.space.empty()) return failure(errc::invalid_argument, "space id is required");
    if (auto r = check_text("name", c.name, max_name_length, true); !r) return failure(r.error());
    if (auto r = check_text("description", c.description, max_description_length, false); !r)
        return failure(r.error());
    if (state.spaces.contains(c.space))
        return failure(errc::already_exists, "space " + c.space.value + " exists");
    return std::vector<payload>{events::space_created{c.name, c.description}};
}

decision decide_one(const partition_state& state, const command_context&, const rename_space& c) {
    auto s = live_space(state, c.space);
    if (!s) return failure(s.error());
    if (auto r = check_text("name", c.name, max_name_length, true); !r) return failure(r.error());
    if (s.value()->name == c.name) return std::vector<payload>{};
    return std::vector<payload>{events::space_renamed{c.name}};
}

decision decide_one(const partition_state& state, const command_context&, const describe_space& c) {
    auto s = live_space(state, c.space);
    if (!s) return failure(s.error());
    if (auto r = check_text("description", c.description, max_description_length, false); !r)
        return failure(r.error());
    if (s.value()->description == c.description) return std::vector<payload>{};
    return std::vector<payload>{events::space_described{c.description}};
}

decision decide_one(const partition_state& state, const command_context&, const delete_space& c) {
    auto s = live_space(state, c.space);
    if (!s) return failure(s.error());
    return std::vector<payload>{events::space_deleted{}};
}

}  // namespace

result<std::vector<payload>> decide(const partition_state& state, const command_context& ctx,
                                    const command& cmd) {
    return std::visit([&](const auto& c) { return decide_one(state, ctx, c); }, cmd);
}

void apply(partition_state& state, const events::envelope& e) {
    std::visit(
        [&](const auto& p) {
            using E = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<E, events::space_created>) {
                auto& s = state.spaces[e.space];
                s.id = e.space;
                s.name = p.name;
                s.description = p.description;
                s.created_by = e.actor;
                s.created_at = e.time;
                s.version = e.pos;
            } else {
                auto& s = state.spaces[e.space];
                s.version = e.pos;
                if constexpr (std::is_same_v<E, events::space_renamed>) s.name = p.name;
                if constexpr (std::is_same_v<E, events::space_described>)
                    s.description = p.description;
                if constexpr (std::is_same_v<E, events::space_deleted>) s.deleted = true;
            }
        },
        e.data);
    state.head = events::chain_head{e.pos, e.hash};
}

}  // namespace migops::engine
