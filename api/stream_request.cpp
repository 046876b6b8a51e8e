#include "api/stream_request.h"

#include <charconv>
#include <map>
#include <unordered_map>

#include <boost/json/parse.hpp>

#include "api/json_body.h"
#include "api/router.h"
#include "engine/commands.h"
#include "engine/state.h"
#include "events/event_log.h"

namespace migops::api {

namespace ev = events;

namespace {

constexpr std::size_t max_position_digits = 20;

// "task.status_changed" and "io.migops.task.status_changed.v1" → type id.
const std::unordered_map<std::string, std::uint32_t>& type_ids_by_name() {
    static const auto names = [] {
        std::unordered_map<std::string, std::uint32_t> out;
        ev::for_each_event_type([&]<class E>(std::type_identity<E>) {
            const std::string name(E::type_name);
            out.emplace(name, E::type_id);
            out.emplace("io.migops." + name + ".v" + std::to_string(ev::type_major), E::type_id);
        });
        return out;
    }();
    return names;
}

result<std::string> id_parameter(std::string_view name, const std::string& value) {
    if (value.empty() || value.size() > max_id_bytes)
        return failure(errc::invalid_argument, std::string(name) + " must be an id of 1 to " +
                                                   std::to_string(max_id_bytes) + " bytes");
    // Ids are ASCII (hex digits, '.', letters and digits); refusing the rest
    // keeps them safe to repeat in a close reason.
    for (const char c : value)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E ||
            c == ',')
            return failure(errc::invalid_argument,
                           std::string(name) + " must be printable ASCII without spaces or commas");
    return value;
}

}  // namespace

std::string format_cursor(const std::vector<position>& positions,
                          std::optional<partition_id> only) {
    if (only) return std::to_string(positions.at(*only));
    std::string out;
    for (std::size_t p = 0; p < positions.size(); ++p) {
        if (p > 0) out.push_back('.');
        out += std::to_string(positions[p]);
    }
    return out;
}

result<std::vector<position>> parse_cursor(std::string_view text, std::uint32_t partitions,
                                           std::optional<partition_id> only) {
    std::vector<position> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = text.find('.', start);
        const auto part =
            text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
        position n = 0;
        const auto* end = part.data() + part.size();
        auto [ptr, ec] = std::from_chars(part.data(), end, n);
        if (part.empty() || part.size() > max_position_digits || ec != std::errc{} || ptr != end)
            return failure(errc::invalid_argument,
                           "from must be a cursor this server gave: positions joined by '.'");
        parts.push_back(n);
        if (parts.size() > partitions)
            return failure(errc::invalid_argument, "from has more positions than the " +
                                                       std::to_string(partitions) + " partitions");
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (parts.size() == partitions) return parts;
    if (parts.size() == 1 && only) {
        std::vector<position> out(partitions, 0);
        out.at(*only) = parts.front();
        return out;
    }
    return failure(errc::invalid_argument,
                   "from must be a cursor of " + std::to_string(partitions) +
                       " positions, or one position when a space, journey or task is given");
}

result<stream_request> parse_stream_target(std::string_view target, std::uint32_t partitions) {
    stream_request out;
    const auto q = target.find('?');
    const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
    std::map<std::string, std::string, std::less<>> params;
    std::size_t start = 0;
    while (start <= query.size() && !query.empty()) {
        const auto amp = query.find('&', start);
        const auto item =
            query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
        if (!item.empty()) {
            const auto eq = item.find('=');
            auto key = percent_decode(item.substr(0, eq));
            auto value = percent_decode(eq == std::string_view::npos ? "" : item.substr(eq + 1));
            if (!key || !value)
                return failure(errc::invalid_argument, "the query has a bad percent escape");
            if (*key != "space" && *key != "journey" && *key != "task" && *key != "types" &&
                *key != "from")
                return failure(errc::invalid_argument,
                               "unknown parameter \"" + key->substr(0, max_id_bytes) +
                                   "\"; the stream takes space, journey, task, types and from");
            if (!params.emplace(*key, std::move(*value)).second)
                return failure(errc::invalid_argument, *key + " is given twice");
        }
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    auto& f = out.filter;
    if (auto it = params.find("task"); it != params.end()) {
        auto id = id_parameter("task", it->second);
        if (!id) return failure(id.error());
        const journey_id journey = engine::journey_of_id(id.value());
        if (journey.empty() || journey.value == id.value() || id.value().front() == '.')
            return failure(errc::invalid_argument, "task must be a task id (<space>.j1.n2)");
        f.task = node_id{id.value()};
        f.journey = journey;
    }
    if (auto it = params.find("journey"); it != params.end()) {
        auto id = id_parameter("journey", it->second);
        if (!id) return failure(id.error());
        const journey_id journey{id.value()};
        if (engine::journey_of_id(journey.value) != journey || journey.value.find('.') == 0)
            return failure(errc::invalid_argument, "journey must be a journey id (<space>.j1)");
        if (f.journey && *f.journey != journey)
            return failure(errc::invalid_argument, "the task is not in that journey");
        f.journey = journey;
    }
    if (f.journey) f.space = engine::space_of_id(f.journey->value);
    if (auto it = params.find("space"); it != params.end()) {
        auto id = id_parameter("space", it->second);
        if (!id) return failure(id.error());
        if (id.value().find('.') != std::string::npos)
            return failure(errc::invalid_argument, "space must be a space id");
        const space_id space{id.value()};
        if (f.space && *f.space != space)
            return failure(errc::invalid_argument, "the journey or task is not in that space");
        f.space = space;
    }
    if (auto it = params.find("types"); it != params.end()) {
        const std::string& list = it->second;
        std::size_t from = 0;
        for (;;) {
            const auto comma = list.find(',', from);
            std::string name =
                list.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
            while (!name.empty() && name.back() == ' ') name.pop_back();
            while (!name.empty() && name.front() == ' ') name.erase(0, 1);
            const auto& known = type_ids_by_name();
            auto t = known.find(name);
            if (t == known.end())
                return failure(errc::invalid_argument,
                               "unknown event type \"" + name.substr(0, max_id_bytes) +
                                   "\" (short names like task.status_changed, or CloudEvents "
                                   "types like io.migops.task.status_changed.v1)");
            f.types.insert(t->second);
            if (comma == std::string::npos) break;
            from = comma + 1;
        }
    }
    if (auto it = params.find("from"); it != params.end()) {
        std::optional<partition_id> only;
        if (f.space) only = ev::partition_of(*f.space, partitions);
        auto cursor = parse_cursor(it->second, partitions, only);
        if (!cursor) return failure(cursor.error());
        out.from = std::move(cursor).value();
    }
    return out;
}

result<std::string> parse_stream_message(std::string_view message) {
    const auto bad = [] {
        return failure(errc::invalid_argument, "the first message must be {\"token\": \"<JWT>\"}");
    };
    boost::system::error_code ec;
    auto v = boost::json::parse(message, ec);
    if (ec || !v.is_object()) return bad();
    const auto& o = v.get_object();
    const auto* t = o.if_contains("token");
    if (o.size() != 1 || !t || !t->is_string()) return bad();
    return std::string(t->get_string());
}

}  // namespace migops::api
