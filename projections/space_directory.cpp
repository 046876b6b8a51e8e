#include "projections/space_directory.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace migops::projections {

namespace {

std::string row_key(const space_id& id) {
    return "space/" + id.value;
}

space_entry from_json(const std::string& text) {
    auto o = boost::json::parse(text).as_object();
    space_entry s;
    s.id = o.at("id").as_string();
    s.name = o.at("name").as_string();
    s.description = o.at("description").as_string();
    s.created_by = o.at("created_by").as_string();
    s.created_at = o.at("created_at").as_string();
    s.deleted = o.at("deleted").as_bool();
    s.journeys = static_cast<std::uint32_t>(o.at("journeys").to_number<std::uint64_t>());
    return s;
}

std::string to_json(const space_entry& s) {
    boost::json::object o;
    o["id"] = s.id;
    o["name"] = s.name;
    o["description"] = s.description;
    o["created_by"] = s.created_by;
    o["created_at"] = s.created_at;
    o["deleted"] = s.deleted;
    o["journeys"] = s.journeys;
    return boost::json::serialize(o);
}

}  // namespace

result<void> space_directory::apply(const events::envelope& e, rows& r) {
    const bool relevant = std::visit(
        [](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            return std::is_same_v<P, events::space_created> ||
                   std::is_same_v<P, events::space_renamed> ||
                   std::is_same_v<P, events::space_described> ||
                   std::is_same_v<P, events::space_deleted> ||
                   std::is_same_v<P, events::journey_created> ||
                   std::is_same_v<P, events::journey_deleted>;
        },
        e.data);
    if (!relevant) return success();
    auto current = r.get(row_key(e.space));
    if (!current) return failure(current.error());
    space_entry s;
    if (current.value()) s = from_json(*current.value());
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<P, events::space_created>) {
                s = space_entry{
                    e.space.value, p.name, p.description, e.actor.value, format_rfc3339(e.time),
                    false,         0};
            } else if constexpr (std::is_same_v<P, events::space_renamed>) {
                s.name = p.name;
            } else if constexpr (std::is_same_v<P, events::space_described>) {
                s.description = p.description;
            } else if constexpr (std::is_same_v<P, events::space_deleted>) {
                s.deleted = true;
            } else if constexpr (std::is_same_v<P, events::journey_created>) {
                ++s.journeys;
            } else if constexpr (std::is_same_v<P, events::journey_deleted>) {
                if (s.journeys > 0) --s.journeys;
            }
        },
        e.data);
    r.put(row_key(e.space), to_json(s));
    return success();
}

result<std::vector<space_entry>> space_directory::list(rocksdb::DB& db,
                                                       rocksdb::ColumnFamilyHandle* cf) {
    std::vector<space_entry> out;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
    for (it->Seek("space/"); it->Valid() && it->key().starts_with("space/"); it->Next())
        out.push_back(from_json(it->value().ToString()));
    if (!it->status().ok()) return failure(events::from_status(it->status(), "cannot list spaces"));
    return out;
}

}  // namespace migops::projections
