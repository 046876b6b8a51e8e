#pragma once
// A RocksDB file system for tests that models what survives a machine crash
// and injects disk errors. It wraps a file system of local files (the
// default one), so RocksDB's files are real files in a temp dir.
//
// What it tracks, for every file written through it since the last
// restore_power():
// - contents: the bytes appended, and how many of them a Sync/Fsync made
//   durable. RangeSync and Close do not (sync_file_range only starts
//   write-back; close(2) does not sync).
// - names: a file created, or renamed onto, has a durable name only after
//   an fsync of its directory (FSDirectory::Fsync, which RocksDB calls after
//   creating a WAL it syncs, new SST files, MANIFEST and CURRENT). A name a
//   file had before this file system saw it is durable.
// - deletions are taken as durable at once (simpler than keeping deleted
//   files around; RocksDB deletes only files it no longer needs).
//
// cut_power() (or cut_power_after(n) operations) makes every later write,
// sync, create, rename and delete fail with an I/O error, so closing the
// database writes nothing more. restore_power(), called once the database
// is closed, makes the directory look as after a crash at that moment:
// files cut back to their synced length, files whose name was never made
// durable removed, renames never made durable undone. Then power is on again
// and every file counts as durable.
//
// fail_writes()/fail_syncs() inject an error (NoSpace: a full disk; IOError)
// into every later write or sync until clear_faults(). While writes fail
// with NoSpace, GetFreeSpace reports 0 bytes free.
//
// Thread-safety: every operation may be called from any thread; one mutex
// orders them, held across the call into the real file system, so an
// operation happens wholly before or after a cut.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace migops::testing_support {

enum class fault { none, no_space, io_error };

// What restore_power() undid.
struct crash_report {
    std::uint64_t files_cut = 0;      // cut back to their synced length
    std::uint64_t bytes_dropped = 0;  // by those cuts
    std::uint64_t files_removed = 0;  // names never made durable
    std::uint64_t renames_undone = 0;
};

class fault_fs final : public rocksdb::FileSystemWrapper {
  public:
    explicit fault_fs(
        const std::shared_ptr<rocksdb::FileSystem>& base = rocksdb::FileSystem::Default());

    // An Env for rocksdb::Options::env: this file system with the default
    // Env's threads and clock. It holds fs; keep it until the DB is closed.
    static std::unique_ptr<rocksdb::Env> make_env(const std::shared_ptr<fault_fs>& fs);

    static const char* kClassName() { return "MigopsFaultFs"; }
    const char* Name() const override { return kClassName(); }

    void cut_power();
    // Cuts power just before the n-th write, sync, create, rename or delete
    // from now (n >= 1; that operation already fails).
    void cut_power_after(std::uint64_t n);
    bool power_is_cut() const;
    crash_report restore_power();

    void fail_writes(fault f);
    void fail_syncs(fault f);
    void clear_faults();
    // How many operations an injected fault (not a power cut) failed.
    std::uint64_t injected() const;
    // How many writes, syncs, creates, renames and deletes were asked for
    // (what cut_power_after counts).
    std::uint64_t operations() const;

    // The bytes of path written through this file system and not yet synced
    // (0 for a file it does not track).
    std::uint64_t unsynced_bytes(const std::string& path) const;

    // -- rocksdb::FileSystem --------------------------------------------
    rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                         std::unique_ptr<rocksdb::FSWritableFile>* r,
                                         rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                        const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSWritableFile>* r,
                                        rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                   std::unique_ptr<rocksdb::FSDirectory>* r,
                                   rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                                 rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                                 const rocksdb::IOOptions& o,
                                 rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                         rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus DeleteDir(const std::string& d, const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& o,
                                   uint64_t* free, rocksdb::IODebugContext* dbg) override;

  private:
    friend class tracked_file;
    friend class tracked_directory;

    enum class op { write, sync, name };

    struct file_state {
        std::uint64_t size = 0;    // bytes appended
        std::uint64_t synced = 0;  // of them, made durable
        bool durable_name = false;
        // Set while the name comes from a rename no directory sync covered:
        // the old name (and whether it was durable), and what the new name
        // held before (nullopt: nothing durable).
        std::optional<std::string> renamed_from;
        bool renamed_from_durable = false;
        std::optional<std::string> replaced;
    };

    // Counts op toward a pending cut and says whether it may proceed; under
    // mutex_.
    rocksdb::IOStatus admit(op kind);
    file_state& track(const std::string& path, bool existed);
    void appended(const std::string& path, std::uint64_t end);
    void synced_file(const std::string& path, std::uint64_t size);
    void synced_dir(const std::string& dir);
    bool exists(const std::string& path);

    mutable std::mutex mutex_;
    std::map<std::string, file_state> files_;  // by normalised path
    bool power_cut_ = false;
    std::optional<std::uint64_t> cut_countdown_;
    fault write_fault_ = fault::none;
    fault sync_fault_ = fault::none;
    std::uint64_t injected_ = 0;
    std::uint64_t operations_ = 0;
};

}  // namespace migops::testing_support
