#include "projections/checkpoint.h"

#include "events/big_endian.h"
#include "events/rocks_store.h"

namespace migops::projections {

namespace {
constexpr std::string_view checkpoint_key = "checkpoint";

}  // namespace

std::string checkpoint::encode() const {
    std::string out(4 + positions_.size() * 8, '\0');
    events::put_big_endian(out.data(), positions_.size(), 4);
    for (std::size_t i = 0; i < positions_.size(); ++i)
        events::put_big_endian(out.data() + 4 + i * 8, positions_[i], 8);
    return out;
}

result<checkpoint> checkpoint::decode(std::string_view bytes) {
    if (bytes.size() < 4) return failure(errc::corruption, "checkpoint is truncated");
    const auto n = static_cast<std::uint32_t>(events::get_big_endian(bytes.data(), 4));
    if (bytes.size() != 4 + std::size_t{n} * 8)
        return failure(errc::corruption, "checkpoint has the wrong size");
    checkpoint c(n);
    for (std::uint32_t i = 0; i < n; ++i)
        c.positions_[i] = events::get_big_endian(bytes.data() + 4 + std::size_t{i} * 8, 8);
    return c;
}

result<checkpoint> checkpoint::load(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                    std::uint32_t partitions) {
    std::string value;
    auto s = db.Get({}, cf, rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()), &value);
    if (s.IsNotFound()) return checkpoint(partitions);
    if (!s.ok()) return failure(events::from_status(s, "cannot read a checkpoint"));
    auto c = decode(value);
    if (!c) return c;
    if (c.value().positions_.size() != partitions)
        return failure(errc::corruption, "checkpoint was written for another partition count");
    return c;
}

result<bool> checkpoint::stored(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
    std::string value;
    auto s = db.Get({}, cf, rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()), &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return failure(events::from_status(s, "cannot read a checkpoint"));
    return true;
}

result<void> checkpoint::put(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf) const {
    auto s = batch.Put(cf, rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()), encode());
    if (!s.ok()) return failure(events::from_status(s, "cannot add a checkpoint"));
    return success();
}

}  // namespace migops::projections
