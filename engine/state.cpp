#include "engine/state.h"

#include <array>

#include "engine/commands.h"

namespace migops::engine {

namespace {
constexpr std::array<std::string_view, 4> help_stages{"open", "accepted", "resolved", "cancelled"};
}  // namespace

std::string_view to_string(help_state::stage s) {
    const auto i = static_cast<std::size_t>(s);
    return i < help_stages.size() ? help_stages.at(i) : std::string_view{};
}

bool parse(std::string_view name, help_state::stage& out) {
    for (std::size_t i = 0; i < help_stages.size(); ++i)
        if (help_stages.at(i) == name) {
            out = static_cast<help_state::stage>(i);
            return true;
        }
    return false;
}

journey_id journey_of_id(std::string_view id) {
    const auto first = id.find('.');
    if (first == std::string_view::npos) return {};
    const auto second = id.find('.', first + 1);
    return journey_id{std::string(id.substr(0, second))};
}

const space_state* partition_state::space(const space_id& id) const {
    auto it = spaces.find(id);
    return it == spaces.end() ? nullptr : &it->second;
}

const journey_state* partition_state::journey(const journey_id& id) const {
    auto it = journeys.find(id);
    return it == journeys.end() ? nullptr : &it->second;
}

const node_state* partition_state::node(const node_id& id) const {
    const auto* j = journey(journey_of_id(id.value));
    if (!j) return nullptr;
    auto it = j->nodes.find(id);
    return it == j->nodes.end() ? nullptr : &it->second;
}

bool is_waiting(const journey_state& j, const node_state& task) {
    for (const auto& dep : task.dependencies) {
        auto it = j.nodes.find(dep);
        if (it != j.nodes.end() && it->second.in_scope && is_open(it->second.status)) return true;
    }
    return false;
}

bool is_open(events::task_status s) {
    return s != events::task_status::completed && s != events::task_status::out_of_scope;
}

}  // namespace migops::engine
