#include "events/catalogue.h"

namespace migops::events {

std::uint32_t type_id_of(const payload& p) {
    return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::type_id; }, p);
}

std::string_view type_name_of(const payload& p) {
    return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::type_name; }, p);
}

std::uint32_t version_of(const payload& p) {
    return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::version; }, p);
}

const std::string& cloudevents_type_of(const payload& p) {
    return std::visit(
        [](const auto& e) -> const std::string& {
            using E = std::decay_t<decltype(e)>;
            static const std::string name =
                "io.migops." + std::string(E::type_name) + ".v" + std::to_string(type_major);
            return name;
        },
        p);
}

}  // namespace migops::events
