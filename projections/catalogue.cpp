#include "projections/catalogue.h"

#include "projections/audit_index.h"
#include "projections/board.h"
#include "projections/space_directory.h"

namespace migops::projections {

std::vector<std::unique_ptr<projection>> all_projections() {
    std::vector<std::unique_ptr<projection>> out;
    out.push_back(std::make_unique<space_directory>());
    out.push_back(std::make_unique<board>());
    out.push_back(std::make_unique<audit_index>());
    return out;
}

std::vector<std::string> all_column_families() {
    std::vector<std::string> out;
    for (const auto& p : all_projections()) out.push_back(column_family_of(*p));
    return out;
}

void tune_family(const std::string& name, rocksdb::ColumnFamilyOptions& options) {
    for (const auto& p : all_projections()) {
        const auto family = column_family_of(*p);
        if (name == family || name.starts_with(family + ".g")) {
            options.memtable_insert_with_hint_prefix_extractor = p->row_runs();
            return;
        }
    }
}

}  // namespace migops::projections
