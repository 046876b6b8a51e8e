#include "events/rocks_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include <rocksdb/convenience.h>

namespace migops::events {

namespace {

constexpr const char* lock_file_name = "migops.lock";
// A secondary instance replays the primary's WAL files; one the server
// deletes meanwhile (after a flush) fails the open, which is then tried
// again.
constexpr int reader_open_attempts = 3;

// What the lock file says of its holder: the pid on its first line, the
// holder's note on the second.
directory_holder read_lock_file(const std::filesystem::path& lock_path) {
    directory_holder holder;
    std::ifstream in(lock_path);
    std::getline(in, holder.pid);
    std::getline(in, holder.note);
    return holder;
}

// Writes what the lock file says of this process.
result<void> write_lock_file(int fd, const std::filesystem::path& lock_path,
                             std::string_view note) {
    std::string text = std::to_string(::getpid()) + "\n";
    if (!note.empty()) text.append(note).append("\n");
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0)
        return failure(errc::io_error,
                       "cannot write " + lock_path.string() + ": " + std::strerror(errno));
    return success();
}

}  // namespace

std::optional<directory_holder> rocks_store::holder(const std::filesystem::path& dir) {
    const auto lock_path = dir / lock_file_name;
    const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::optional<directory_holder> holder;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        holder = read_lock_file(lock_path);
    else
        ::flock(fd, LOCK_UN);
    ::close(fd);
    return holder;
}

result<void> rocks_store::note_holder(std::string_view note) {
    if (lock_fd_ < 0) return failure(errc::invalid_argument, "this store holds no lock");
    if (note.find('\n') != std::string_view::npos)
        return failure(errc::invalid_argument, "a holder's note is one line");
    return write_lock_file(lock_fd_, dir_ / lock_file_name, note);
}

error from_status(const rocksdb::Status& s, std::string_view what) {
    errc code = errc::io_error;
    if (s.IsCorruption()) code = errc::corruption;
    if (s.IsNoSpace()) code = errc::unavailable;
    if (s.IsBusy() || s.IsTryAgain()) code = errc::busy;
    return make_error(code, std::string(what) + ": " + s.ToString());
}

result<std::unique_ptr<rocks_store>> rocks_store::open(const rocks_store_options& options) {
    std::unique_ptr<rocks_store> store(new rocks_store());
    store->dir_ = options.dir;
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec)
        return failure(errc::io_error, "cannot create data directory " + options.dir.string() +
                                           ": " + ec.message());

    // The directory lock: a second process on the same directory fails at once
    // with the holder's pid, before RocksDB is touched.
    const auto lock_path = options.dir / lock_file_name;
    store->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (store->lock_fd_ < 0)
        return failure(errc::io_error,
                       "cannot open " + lock_path.string() + ": " + std::strerror(errno));
    if (::flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        const auto holder = read_lock_file(lock_path);
        return failure(errc::locked, "data directory " + options.dir.string() +
                                         " is in use by another migops process" +
                                         (holder.pid.empty() ? "" : " (pid " + holder.pid + ")"));
    }
    if (auto w = write_lock_file(store->lock_fd_, lock_path, {}); !w) return failure(w.error());

    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.IncreaseParallelism(2);
    db_options.max_background_jobs = 2;
    // Read models write without a sync while the log's group commits sync:
    // a pipelined write queue lets their memtable writes go on during a sync.
    db_options.enable_pipelined_write = true;
    // LZ4 rather than the default Snappy: about as small, and cheaper to
    // write and to read back (a rebuild reads the whole log). Each table
    // file names its own compression, so files written with Snappy stay
    // readable. A RocksDB built without LZ4 keeps its default.
    const auto supported = rocksdb::GetSupportedCompressions();
    if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end())
        db_options.compression = rocksdb::kLZ4Compression;
    if (options.env) db_options.env = options.env;
    if (options.info_log) db_options.info_log = options.info_log;

    std::vector<std::string> names;
    auto listed = rocksdb::DB::ListColumnFamilies(db_options, options.dir.string(), &names);
    if (!listed.ok()) names.clear();
    if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end())
        names.insert(names.begin(), rocksdb::kDefaultColumnFamilyName);
    for (const auto& n : options.column_families)
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.reserve(names.size());
    store->tune_family_ = options.tune_family;
    for (const auto& n : names) descriptors.emplace_back(n, store->family_options(n, db_options));
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    auto s = rocksdb::DB::Open(db_options, options.dir.string(), descriptors, &handles, &raw);
    if (!s.ok()) return failure(from_status(s, "cannot open " + options.dir.string()));
    store->db_.reset(raw);
    for (std::size_t i = 0; i < names.size(); ++i) store->handles_[names[i]] = handles[i];
    return store;
}

result<std::unique_ptr<rocks_store>> rocks_store::open_reader(
    const std::filesystem::path& dir, const std::vector<std::string>& column_families) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec))
        return failure(errc::not_found, "data directory " + dir.string() + " does not exist");
    if (!std::filesystem::is_directory(dir, ec))
        return failure(errc::not_found, dir.string() + " is not a directory");
    if (!std::filesystem::exists(dir / "CURRENT", ec))
        return failure(
            errc::not_found,
            dir.string() + " is not a migops data directory (it holds no RocksDB database)");

    rocksdb::Options db_options;
    // The server may compact while this reads: open files stay readable
    // after it deletes them.
    db_options.max_open_files = -1;
    std::vector<std::string> names;
    auto listed = rocksdb::DB::ListColumnFamilies(db_options, dir.string(), &names);
    if (!listed.ok()) return failure(from_status(listed, "cannot read " + dir.string()));
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
    for (const auto& n : column_families) {
        if (std::find(names.begin(), names.end(), n) == names.end())
            return failure(
                errc::not_found,
                dir.string() + " is not a migops data directory (no \"" + n + "\" column family)");
        descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }

    std::unique_ptr<rocks_store> store(new rocks_store());
    store->dir_ = dir;
    std::string pattern =
        (std::filesystem::temp_directory_path() / "migops-reader-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
        return failure(errc::io_error,
                       std::string("cannot create a temporary directory: ") + std::strerror(errno));
    store->secondary_dir_ = pattern;

    rocksdb::Status s;
    for (int attempt = 0; attempt < reader_open_attempts; ++attempt) {
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* raw = nullptr;
        s = rocksdb::DB::OpenAsSecondary(db_options, dir.string(), store->secondary_dir_.string(),
                                         descriptors, &handles, &raw);
        if (s.ok()) {
            store->db_.reset(raw);
            for (std::size_t i = 0; i < descriptors.size(); ++i)
                store->handles_[descriptors[i].name] = handles[i];
            return store;
        }
        if (!s.IsIOError() && !s.IsPathNotFound()) break;
    }
    auto err = from_status(s, "cannot open " + dir.string() + " for reading");
    if (auto holder = rocks_store::holder(dir))
        err.message += " (migops" + (holder->pid.empty() ? "" : " pid " + holder->pid) +
                       " is running on it and holds its lock; stop it, or retry)";
    return failure(std::move(err));
}

rocks_store::~rocks_store() {
    if (db_) {
        for (auto& [name, h] : handles_) db_->DestroyColumnFamilyHandle(h);
        handles_.clear();
        for (auto* h : dropped_) db_->DestroyColumnFamilyHandle(h);
        dropped_.clear();
        db_->Close();
        db_.reset();
    }
    if (lock_fd_ >= 0) {
        ::flock(lock_fd_, LOCK_UN);
        ::close(lock_fd_);
    }
    if (!secondary_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(secondary_dir_, ec);
    }
}

rocksdb::ColumnFamilyHandle* rocks_store::column_family(const std::string& name) const {
    std::lock_guard lock(handles_mutex_);
    auto it = handles_.find(name);
    return it == handles_.end() ? nullptr : it->second;
}

rocksdb::ColumnFamilyOptions rocks_store::family_options(const std::string& name,
                                                         const rocksdb::Options& db_options) const {
    rocksdb::ColumnFamilyOptions out(db_options);
    if (tune_family_) tune_family_(name, out);
    return out;
}

std::vector<std::string> rocks_store::column_family_names() const {
    std::lock_guard lock(handles_mutex_);
    std::vector<std::string> out;
    out.reserve(handles_.size());
    for (const auto& [name, h] : handles_) out.push_back(name);
    return out;
}

result<rocksdb::ColumnFamilyHandle*> rocks_store::create_column_family(const std::string& name) {
    std::lock_guard lock(handles_mutex_);
    if (auto it = handles_.find(name); it != handles_.end()) return it->second;
    rocksdb::ColumnFamilyHandle* h = nullptr;
    const auto options = family_options(name, db_->GetOptions());
    auto s = db_->CreateColumnFamily(options, name, &h);
    if (!s.ok()) return failure(from_status(s, "cannot create column family " + name));
    handles_[name] = h;
    return h;
}

result<void> rocks_store::drop_column_family(const std::string& name) {
    std::lock_guard lock(handles_mutex_);
    auto it = handles_.find(name);
    if (it == handles_.end()) return success();
    auto s = db_->DropColumnFamily(it->second);
    if (!s.ok()) return failure(from_status(s, "cannot drop column family " + name));
    dropped_.push_back(it->second);
    handles_.erase(it);
    return success();
}

}  // namespace migops::events
