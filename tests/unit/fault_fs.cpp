#include "tests/unit/fault_fs.h"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace migops::testing_support {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

std::string normal(const std::string& path) {
    auto p = std::filesystem::path(path).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();  // "a/b/" names the directory a/b
    return p.string();
}

std::string parent_of(const std::string& path) {
    return std::filesystem::path(path).parent_path().string();
}

IOStatus status_of(fault f, const std::string& what) {
    if (f == fault::no_space) return IOStatus::NoSpace("injected: no space left for " + what);
    return IOStatus::IOError("injected: I/O error on " + what);
}

}  // namespace

// A writable file whose appends and syncs are counted and may fail.
class tracked_file final : public rocksdb::FSWritableFileOwnerWrapper {
  public:
    tracked_file(fault_fs& fs, std::string path, std::unique_ptr<rocksdb::FSWritableFile> file)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)) {}

    IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::write); !s.ok()) return s;
        auto s = target()->Append(data, o, dbg);
        if (s.ok()) fs_.appended(path_, size_of_file() + data.size());
        return s;
    }
    IOStatus Append(const Slice& data, const IOOptions& o,
                    const rocksdb::DataVerificationInfo& /*info*/, IODebugContext* dbg) override {
        return Append(data, o, dbg);
    }
    IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                              IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::write); !s.ok()) return s;
        auto s = target()->PositionedAppend(data, offset, o, dbg);
        if (s.ok()) fs_.appended(path_, offset + data.size());
        return s;
    }
    IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                              const rocksdb::DataVerificationInfo& /*info*/,
                              IODebugContext* dbg) override {
        return PositionedAppend(data, offset, o, dbg);
    }
    IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::write); !s.ok()) return s;
        auto s = target()->Truncate(size, o, dbg);
        if (s.ok()) {
            auto it = fs_.files_.find(path_);
            if (it != fs_.files_.end()) {
                it->second.size = size;
                it->second.synced = std::min<std::uint64_t>(it->second.synced, size);
            }
        }
        return s;
    }
    IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& o,
                      IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::write); !s.ok()) return s;
        return target()->Allocate(offset, len, o, dbg);
    }
    IOStatus Flush(const IOOptions& o, IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (fs_.power_cut_) return IOStatus::IOError("power is cut");
        return target()->Flush(o, dbg);
    }
    IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
        return sync([&] { return target()->Sync(o, dbg); });
    }
    IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
        return sync([&] { return target()->Fsync(o, dbg); });
    }
    // Starts write-back at most: nothing becomes durable.
    IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                       IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::sync); !s.ok()) return s;
        return target()->RangeSync(offset, nbytes, o, dbg);
    }
    // The real file is closed in any case, so that its descriptor is not
    // kept; after a cut the close reports the failure RocksDB would see.
    IOStatus Close(const IOOptions& o, IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        auto s = target()->Close(o, dbg);
        if (fs_.power_cut_) return IOStatus::IOError("power is cut");
        return s;
    }

  private:
    template <class F>
    IOStatus sync(F&& call) {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::sync); !s.ok()) return s;
        auto s = call();
        if (s.ok()) fs_.synced_file(path_, size_of_file());
        return s;
    }
    // Under fs_.mutex_.
    std::uint64_t size_of_file() const {
        auto it = fs_.files_.find(path_);
        return it == fs_.files_.end() ? 0 : it->second.size;
    }

    fault_fs& fs_;
    std::string path_;
};

// A directory whose fsync makes the names in it durable.
class tracked_directory final : public rocksdb::FSDirectoryWrapper {
  public:
    tracked_directory(fault_fs& fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> dir)
        : FSDirectoryWrapper(std::move(dir)), fs_(fs), path_(std::move(path)) {}

    IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::sync); !s.ok()) return s;
        auto s = FSDirectoryWrapper::Fsync(o, dbg);
        if (s.ok()) fs_.synced_dir(path_);
        return s;
    }
    IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                                 const rocksdb::DirFsyncOptions& options) override {
        std::lock_guard lock(fs_.mutex_);
        if (auto s = fs_.admit(fault_fs::op::sync); !s.ok()) return s;
        auto s = FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, options);
        if (s.ok()) fs_.synced_dir(path_);
        return s;
    }

  private:
    fault_fs& fs_;
    std::string path_;
};

fault_fs::fault_fs(const std::shared_ptr<rocksdb::FileSystem>& base) : FileSystemWrapper(base) {}

std::unique_ptr<rocksdb::Env> fault_fs::make_env(const std::shared_ptr<fault_fs>& fs) {
    return rocksdb::NewCompositeEnv(fs);
}

IOStatus fault_fs::admit(op kind) {
    ++operations_;
    if (power_cut_) return IOStatus::IOError("power is cut");
    if (cut_countdown_ && --*cut_countdown_ == 0) {
        cut_countdown_.reset();
        power_cut_ = true;
        return IOStatus::IOError("power is cut");
    }
    const fault f = kind == op::write ? write_fault_ : kind == op::sync ? sync_fault_ : fault::none;
    if (f != fault::none) {
        ++injected_;
        return status_of(f, kind == op::write ? "a write" : "a sync");
    }
    return IOStatus::OK();
}

fault_fs::file_state& fault_fs::track(const std::string& path, bool existed) {
    auto& f = files_[path];
    f = file_state{};
    f.durable_name = existed;
    return f;
}

void fault_fs::appended(const std::string& path, std::uint64_t end) {
    auto it = files_.find(path);
    if (it != files_.end()) it->second.size = std::max(it->second.size, end);
}

void fault_fs::synced_file(const std::string& path, std::uint64_t size) {
    auto it = files_.find(path);
    if (it != files_.end()) it->second.synced = std::max(it->second.synced, size);
}

void fault_fs::synced_dir(const std::string& dir) {
    const auto d = normal(dir);
    for (auto& [path, f] : files_) {
        if (parent_of(path) != d) continue;
        f.durable_name = true;
        f.renamed_from.reset();
        f.replaced.reset();
    }
}

bool fault_fs::exists(const std::string& path) {
    return target()->FileExists(path, IOOptions(), nullptr).ok();
}

void fault_fs::cut_power() {
    std::lock_guard lock(mutex_);
    power_cut_ = true;
    cut_countdown_.reset();
}

void fault_fs::cut_power_after(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    if (n == 0) {
        power_cut_ = true;
        return;
    }
    cut_countdown_ = n;
}

bool fault_fs::power_is_cut() const {
    std::lock_guard lock(mutex_);
    return power_cut_;
}

crash_report fault_fs::restore_power() {
    std::lock_guard lock(mutex_);
    crash_report report;
    const IOOptions o;
    // Renames first: a name restored by an undone rename is then cut to
    // what its file had synced.
    std::map<std::string, file_state> undone;
    for (auto it = files_.begin(); it != files_.end();) {
        auto& [path, f] = *it;
        if (f.durable_name) {
            ++it;
            continue;
        }
        const bool restore_old = f.renamed_from && f.renamed_from_durable;
        if (restore_old) {
            target()->RenameFile(path, *f.renamed_from, o, nullptr).PermitUncheckedError();
            ++report.renames_undone;
        } else {
            target()->DeleteFile(path, o, nullptr).PermitUncheckedError();
            ++report.files_removed;
        }
        if (f.replaced)
            rocksdb::WriteStringToFile(target(), *f.replaced, path, true).PermitUncheckedError();
        if (restore_old) {
            file_state back = f;
            back.durable_name = true;
            back.renamed_from.reset();
            back.replaced.reset();
            undone[*f.renamed_from] = back;
        }
        it = files_.erase(it);
    }
    for (auto& [path, f] : undone) files_[path] = f;
    for (auto& [path, f] : files_) {
        if (f.size <= f.synced) continue;
        // The default FileSystem does not truncate by name; its files are
        // local files.
        std::error_code ec;
        std::filesystem::resize_file(path, f.synced, ec);
        ++report.files_cut;
        report.bytes_dropped += f.size - f.synced;
    }
    files_.clear();
    power_cut_ = false;
    cut_countdown_.reset();
    return report;
}

void fault_fs::fail_writes(fault f) {
    std::lock_guard lock(mutex_);
    write_fault_ = f;
}

void fault_fs::fail_syncs(fault f) {
    std::lock_guard lock(mutex_);
    sync_fault_ = f;
}

void fault_fs::clear_faults() {
    std::lock_guard lock(mutex_);
    write_fault_ = fault::none;
    sync_fault_ = fault::none;
}

std::uint64_t fault_fs::injected() const {
    std::lock_guard lock(mutex_);
    return injected_;
}

std::uint64_t fault_fs::operations() const {
    std::lock_guard lock(mutex_);
    return operations_;
}

std::uint64_t fault_fs::unsynced_bytes(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = files_.find(normal(path));
    return it == files_.end() ? 0 : it->second.size - it->second.synced;
}

IOStatus fault_fs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                   std::unique_ptr<rocksdb::FSWritableFile>* r,
                                   IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::write); !s.ok()) return s;
    const auto path = normal(f);
    const bool existed = exists(path);
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->NewWritableFile(f, o, &file, dbg);
    if (!s.ok()) return s;
    const bool was_durable = existed && (!files_.contains(path) || files_[path].durable_name);
    track(path, was_durable);
    *r = std::make_unique<tracked_file>(*this, path, std::move(file));
    return s;
}

IOStatus fault_fs::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::write); !s.ok()) return s;
    const auto path = normal(f);
    const bool existed = exists(path);
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReopenWritableFile(f, o, &file, dbg);
    if (!s.ok()) return s;
    if (!files_.contains(path)) {
        // What it held before this file system saw it counts as durable.
        std::uint64_t size = 0;
        if (existed)
            target()->GetFileSize(path, IOOptions(), &size, nullptr).PermitUncheckedError();
        auto& state = track(path, existed);
        state.size = size;
        state.synced = size;
    }
    *r = std::make_unique<tracked_file>(*this, path, std::move(file));
    return s;
}

// A recycled WAL: RocksDB renames an old log and overwrites it. Taken as a
// new file under the new name (the old one is gone).
IOStatus fault_fs::ReuseWritableFile(const std::string& f, const std::string& old,
                                     const rocksdb::FileOptions& o,
                                     std::unique_ptr<rocksdb::FSWritableFile>* r,
                                     IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReuseWritableFile(f, old, o, &file, dbg);
    if (!s.ok()) return s;
    files_.erase(normal(old));
    const auto path = normal(f);
    track(path, false);
    *r = std::make_unique<tracked_file>(*this, path, std::move(file));
    return s;
}

// RocksDB does not use random read-write files for its database; refused
// after a cut, not tracked.
IOStatus fault_fs::NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                   std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                   IODebugContext* dbg) {
    {
        std::lock_guard lock(mutex_);
        if (auto s = admit(op::write); !s.ok()) return s;
    }
    return target()->NewRandomRWFile(f, o, r, dbg);
}

IOStatus fault_fs::NewDirectory(const std::string& name, const IOOptions& o,
                                std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* dbg) {
    std::unique_ptr<rocksdb::FSDirectory> dir;
    auto s = target()->NewDirectory(name, o, &dir, dbg);
    if (!s.ok()) return s;
    *r = std::make_unique<tracked_directory>(*this, normal(name), std::move(dir));
    return s;
}

IOStatus fault_fs::DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    auto s = target()->DeleteFile(f, o, dbg);
    if (s.ok()) files_.erase(normal(f));
    return s;
}

IOStatus fault_fs::RenameFile(const std::string& from, const std::string& to, const IOOptions& o,
                              IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    const auto src = normal(from);
    const auto dst = normal(to);
    // What a crash before the next directory sync brings back under dst.
    std::optional<std::string> replaced;
    const auto old_dst = files_.find(dst);
    const bool dst_durable = old_dst == files_.end() ? exists(dst) : old_dst->second.durable_name;
    if (dst_durable) {
        std::string content;
        if (rocksdb::ReadFileToString(target(), dst, &content).ok()) {
            if (old_dst != files_.end()) content.resize(old_dst->second.synced);
            replaced = std::move(content);
        }
    }
    auto s = target()->RenameFile(from, to, o, dbg);
    if (!s.ok()) return s;
    file_state moved;
    if (auto it = files_.find(src); it != files_.end()) {
        moved = it->second;
        files_.erase(it);
    } else {
        std::uint64_t size = 0;
        target()->GetFileSize(dst, IOOptions(), &size, nullptr).PermitUncheckedError();
        moved.size = size;
        moved.synced = size;
        moved.durable_name = true;
    }
    // A chain of renames no directory sync covered is undone to its first
    // name.
    file_state& f = files_[dst];
    f = moved;
    if (!moved.renamed_from) {
        f.renamed_from = src;
        f.renamed_from_durable = moved.durable_name;
    }
    f.durable_name = false;
    f.replaced = std::move(replaced);
    return s;
}

IOStatus fault_fs::LinkFile(const std::string& from, const std::string& to, const IOOptions& o,
                            IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    return target()->LinkFile(from, to, o, dbg);
}

IOStatus fault_fs::Truncate(const std::string& f, size_t size, const IOOptions& o,
                            IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::write); !s.ok()) return s;
    auto s = target()->Truncate(f, size, o, dbg);
    if (s.ok()) {
        auto it = files_.find(normal(f));
        if (it != files_.end()) {
            it->second.size = size;
            it->second.synced = std::min<std::uint64_t>(it->second.synced, size);
        }
    }
    return s;
}

IOStatus fault_fs::CreateDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    return target()->CreateDir(d, o, dbg);
}

IOStatus fault_fs::CreateDirIfMissing(const std::string& d, const IOOptions& o,
                                      IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    return target()->CreateDirIfMissing(d, o, dbg);
}

IOStatus fault_fs::DeleteDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) {
    std::lock_guard lock(mutex_);
    if (auto s = admit(op::name); !s.ok()) return s;
    return target()->DeleteDir(d, o, dbg);
}

IOStatus fault_fs::GetFreeSpace(const std::string& path, const IOOptions& o, uint64_t* free,
                                IODebugContext* dbg) {
    {
        std::lock_guard lock(mutex_);
        if (write_fault_ == fault::no_space) {
            *free = 0;
            return IOStatus::OK();
        }
    }
    return target()->GetFreeSpace(path, o, free, dbg);
}

}  // namespace migops::testing_support
