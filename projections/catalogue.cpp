#include "projections/catalogue.h"

#include <algorithm>

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
            // Level 0 uncompressed: compressing it was about a third of a
            // flush's time in a rebuild, and the rows a model writes again
            // (the board's) are mostly gone by the next compaction, which
            // compresses what is left from level 1 on.
            options.compression_per_level.assign(
                static_cast<std::size_t>(std::max(options.num_levels, 1)), options.compression);
            options.compression_per_level.front() = rocksdb::kNoCompression;
            return;
        }
    }
}

}  // namespace migops::projections
