#include <gtest/gtest.h>

#include "events/rocks_store.h"
#include "projections/checkpoint.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

TEST(Checkpoint, EncodesAndDecodes) {
    checkpoint c(3);
    c.advance(0, 7);
    c.advance(2, 1ULL << 40);
    auto d = checkpoint::decode(c.encode());
    ASSERT_TRUE(d);
    EXPECT_EQ(d.value(), c);
    EXPECT_EQ(d.value().at(2), 1ULL << 40);
}

TEST(Checkpoint, RefusesDamagedBytes) {
    EXPECT_EQ(checkpoint::decode("").error().code, errc::corruption);
    auto bytes = checkpoint(2).encode();
    EXPECT_FALSE(checkpoint::decode(bytes.substr(0, bytes.size() - 1)));
    EXPECT_FALSE(checkpoint::decode(bytes + "x"));
}

// The checkpoint lands in the same batch as the rows it covers: both or
// neither, and it survives a reopen.
TEST(Checkpoint, IsWrittenWithTheRowsAndSurvivesReopen) {
    testing_support::temp_dir dir;
    {
        auto store = events::rocks_store::open({dir.path(), {"board"}, nullptr});
        ASSERT_TRUE(store);
        auto* cf = store.value()->column_family("board");
        auto c = checkpoint::load(store.value()->db(), cf, 4);
        ASSERT_TRUE(c);
        EXPECT_EQ(c.value().at(3), 0u);
        rocksdb::WriteBatch batch;
        ASSERT_TRUE(batch.Put(cf, "row", "value").ok());
        c.value().advance(3, 42);
        ASSERT_TRUE(c.value().put(batch, cf));
        rocksdb::WriteOptions wo;
        wo.sync = true;
        ASSERT_TRUE(store.value()->db().Write(wo, &batch).ok());
    }
    auto store = events::rocks_store::open({dir.path(), {"board"}, nullptr});
    auto* cf = store.value()->column_family("board");
    auto c = checkpoint::load(store.value()->db(), cf, 4);
    ASSERT_TRUE(c);
    EXPECT_EQ(c.value().at(3), 42u);
    std::string row;
    EXPECT_TRUE(store.value()->db().Get({}, cf, "row", &row).ok());
    auto other = checkpoint::load(store.value()->db(), cf, 5);
    EXPECT_EQ(other.error().code, errc::corruption) << "another partition count is refused";
}

}  // namespace
}  // namespace migops::projections
