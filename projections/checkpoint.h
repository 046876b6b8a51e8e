#pragma once
// A projection's checkpoint: the last position it has applied in each
// partition. It is written in the same rocksdb::WriteBatch as the rows it
// covers (DESIGN.md invariant 4), so after a crash a projection resumes
// exactly where its rows end.
//
// Stored under the key "checkpoint" in the projection's own column family:
// a u32 partition count, then one u64 position per partition, big-endian
// (persisted format).

#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "events/result.h"
#include "events/types.h"

namespace migops::projections {

class checkpoint {
  public:
    explicit checkpoint(std::uint32_t partitions) : positions_(partitions, 0) {}

    static result<checkpoint> load(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                   std::uint32_t partitions);
    // Whether the column family holds a checkpoint.
    static result<bool> stored(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf);

    position at(partition_id p) const { return positions_.at(p); }
    void advance(partition_id p, position pos) { positions_.at(p) = pos; }

    // Adds the checkpoint to the batch that carries the rows.
    result<void> put(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf) const;

    std::string encode() const;
    static result<checkpoint> decode(std::string_view bytes);

    friend bool operator==(const checkpoint&, const checkpoint&) = default;

  private:
    std::vector<position> positions_;
};

}  // namespace migops::projections
