// The crash model and the fault injection of fault_fs, through the
// FileSystem API RocksDB uses and through RocksDB itself.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <rocksdb/db.h>

#include "tests/unit/fault_fs.h"
#include "tests/unit/temp_dir.h"

namespace migops::testing_support {
namespace {

using rocksdb::IOOptions;

std::string contents(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

class FaultFsTest : public ::testing::Test {
  protected:
    std::unique_ptr<rocksdb::FSWritableFile> create(const std::string& name) {
        std::unique_ptr<rocksdb::FSWritableFile> f;
        EXPECT_TRUE(fs_->NewWritableFile(path(name), {}, &f, nullptr).ok());
        return f;
    }
    static void append(rocksdb::FSWritableFile& f, const std::string& data) {
        ASSERT_TRUE(f.Append(data, IOOptions(), nullptr).ok());
    }
    void sync_dir() {
        std::unique_ptr<rocksdb::FSDirectory> d;
        ASSERT_TRUE(fs_->NewDirectory(dir_.path().string(), IOOptions(), &d, nullptr).ok());
        ASSERT_TRUE(d->Fsync(IOOptions(), nullptr).ok());
    }
    std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

    temp_dir dir_;
    std::shared_ptr<fault_fs> fs_ = std::make_shared<fault_fs>();
};

TEST_F(FaultFsTest, ACutKeepsWhatWasSyncedAndNamedDurablyAndNothingElse) {
    {
        std::ofstream(dir_.path() / "CURRENT") << "old";  // there before: durable
    }
    auto kept = create("kept");
    append(*kept, "synced ");
    ASSERT_TRUE(kept->Sync(IOOptions(), nullptr).ok());
    append(*kept, "not synced");
    EXPECT_EQ(fs_->unsynced_bytes(path("kept")), 10u);
    auto tmp = create("CURRENT.tmp");
    append(*tmp, "new");
    ASSERT_TRUE(tmp->Sync(IOOptions(), nullptr).ok());
    sync_dir();  // "kept" and "CURRENT.tmp" are named durably from here

    auto unnamed = create("unnamed");  // synced, but no directory sync after it
    append(*unnamed, "data");
    ASSERT_TRUE(unnamed->Sync(IOOptions(), nullptr).ok());
    ASSERT_TRUE(fs_->RenameFile(path("CURRENT.tmp"), path("CURRENT"), {}, nullptr).ok());
    EXPECT_EQ(contents(dir_.path() / "CURRENT"), "new");

    fs_->cut_power();
    EXPECT_TRUE(fs_->power_is_cut());
    EXPECT_TRUE(kept->Append("after the cut", IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(kept->Sync(IOOptions(), nullptr).IsIOError());
    std::unique_ptr<rocksdb::FSWritableFile> late;
    EXPECT_TRUE(fs_->NewWritableFile(path("late"), {}, &late, nullptr).IsIOError());
    EXPECT_TRUE(fs_->DeleteFile(path("kept"), {}, nullptr).IsIOError());
    EXPECT_TRUE(kept->Close(IOOptions(), nullptr).IsIOError());
    ASSERT_TRUE(tmp->Close(IOOptions(), nullptr).IsIOError());
    ASSERT_TRUE(unnamed->Close(IOOptions(), nullptr).IsIOError());

    const auto report = fs_->restore_power();
    EXPECT_FALSE(fs_->power_is_cut());
    EXPECT_EQ(contents(dir_.path() / "kept"), "synced ");
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "unnamed"));
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "late"));
    EXPECT_EQ(contents(dir_.path() / "CURRENT"), "old") << "the rename was never made durable";
    EXPECT_EQ(contents(dir_.path() / "CURRENT.tmp"), "new");
    EXPECT_EQ(report.files_cut, 1u);
    EXPECT_EQ(report.bytes_dropped, 10u);
    EXPECT_EQ(report.files_removed, 1u);
    EXPECT_EQ(report.renames_undone, 1u);
}

TEST_F(FaultFsTest, ADirectorySyncKeepsARenameAndRangeSyncOrCloseKeepNoData) {
    auto tmp = create("CURRENT.tmp");
    append(*tmp, "new");
    ASSERT_TRUE(tmp->Sync(IOOptions(), nullptr).ok());
    ASSERT_TRUE(tmp->Close(IOOptions(), nullptr).ok());
    ASSERT_TRUE(fs_->RenameFile(path("CURRENT.tmp"), path("CURRENT"), {}, nullptr).ok());
    auto log = create("000004.log");
    append(*log, "started");
    ASSERT_TRUE(log->RangeSync(0, 7, IOOptions(), nullptr).ok());
    sync_dir();
    ASSERT_TRUE(log->Close(IOOptions(), nullptr).ok());
    fs_->cut_power();
    const auto report = fs_->restore_power();
    EXPECT_EQ(contents(dir_.path() / "CURRENT"), "new");
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "CURRENT.tmp"));
    EXPECT_EQ(contents(dir_.path() / "000004.log"), "");
    EXPECT_EQ(report.renames_undone, 0u);
    EXPECT_EQ(report.files_removed, 0u);
}

TEST_F(FaultFsTest, ACutAfterNOperationsFailsTheNthAndEveryLaterOne) {
    auto f = create("f");  // the first operation
    fs_->cut_power_after(3);
    append(*f, "a");
    ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
    EXPECT_FALSE(fs_->power_is_cut());
    EXPECT_TRUE(f->Append("b", IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(fs_->power_is_cut());
    EXPECT_TRUE(f->Sync(IOOptions(), nullptr).IsIOError());
    (void)f->Close(IOOptions(), nullptr);
    fs_->restore_power();
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "f")) << "its name was never synced";
}

TEST_F(FaultFsTest, InjectedFaultsFailWritesOrSyncsUntilCleared) {
    auto f = create("f");
    fs_->fail_writes(fault::no_space);
    auto full = f->Append("x", IOOptions(), nullptr);
    EXPECT_TRUE(full.IsNoSpace()) << full.ToString();
    std::uint64_t free = 1;
    ASSERT_TRUE(fs_->GetFreeSpace(dir_.path().string(), IOOptions(), &free, nullptr).ok());
    EXPECT_EQ(free, 0u) << "a full disk has no free space";
    EXPECT_TRUE(f->Sync(IOOptions(), nullptr).ok()) << "syncs still work";

    fs_->clear_faults();
    fs_->fail_syncs(fault::io_error);
    append(*f, "x");
    auto broken = f->Sync(IOOptions(), nullptr);
    EXPECT_TRUE(broken.IsIOError() && !broken.IsNoSpace()) << broken.ToString();
    EXPECT_EQ(fs_->unsynced_bytes(path("f")), 1u);
    EXPECT_EQ(fs_->injected(), 2u);

    fs_->clear_faults();
    EXPECT_TRUE(f->Sync(IOOptions(), nullptr).ok());
    EXPECT_EQ(fs_->unsynced_bytes(path("f")), 0u);
    ASSERT_TRUE(fs_->GetFreeSpace(dir_.path().string(), IOOptions(), &free, nullptr).ok());
    EXPECT_GT(free, 0u);
    EXPECT_FALSE(fs_->power_is_cut()) << "a fault is not a cut";
}

// RocksDB on the model: a synced write survives a cut, an unsynced one
// (written after it, in the same WAL) does not.
TEST_F(FaultFsTest, RocksDbKeepsSyncedWritesAndLosesUnsyncedOnesAcrossACut) {
    auto env = fault_fs::make_env(fs_);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.env = env.get();
    const auto db_dir = (dir_.path() / "db").string();
    {
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(options, db_dir, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        rocksdb::WriteOptions synced;
        synced.sync = true;
        ASSERT_TRUE(db->Put(synced, "kept", "1").ok());
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "lost", "2").ok());
        fs_->cut_power();
        EXPECT_TRUE(db->Put(synced, "refused", "3").IsIOError());
    }
    const auto report = fs_->restore_power();
    EXPECT_GT(report.bytes_dropped, 0u);
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, db_dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    EXPECT_TRUE(db->Get({}, "kept", &value).ok());
    EXPECT_TRUE(db->Get({}, "lost", &value).IsNotFound());
    EXPECT_TRUE(db->Get({}, "refused", &value).IsNotFound());
}

}  // namespace
}  // namespace migops::testing_support
