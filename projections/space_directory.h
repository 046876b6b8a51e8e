#pragma once
// The space directory: one row per space (name, description, creator,
// deleted, number of journeys), for listing spaces without replaying them.
// Rows: "space/<id>" → JSON object.

#include <string>
#include <vector>

#include "events/rocks_store.h"
#include "projections/runner.h"

namespace migops::projections {

struct space_entry {
    std::string id;
    std::string name;
    std::string description;
    std::string created_by;
    std::string created_at;
    bool deleted = false;
    std::uint32_t journeys = 0;
    friend bool operator==(const space_entry&, const space_entry&) = default;
};

class space_directory final : public projection {
  public:
    std::string name() const override { return "space_directory"; }
    result<void> apply(const events::envelope& e, rows& r) override;

    // Every space, in id order (deleted ones included, flagged).
    static result<std::vector<space_entry>> list(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf);
};

}  // namespace migops::projections
