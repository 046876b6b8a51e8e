#pragma once
// Every read model the server keeps, so that the server, the rebuild
// command and the store agree on the list (and on its column families).

#include <memory>
#include <string>
#include <vector>

#include "projections/runner.h"

namespace migops::projections {

std::vector<std::unique_ptr<projection>> all_projections();
std::vector<std::string> all_column_families();

// The options of a read model's column family, of any generation, beyond
// the store's: its row_runs, and level 0 uncompressed (levels 1 and on keep
// the store's compression). For rocks_store_options::tune_family.
void tune_family(const std::string& name, rocksdb::ColumnFamilyOptions& options);

}  // namespace migops::projections
