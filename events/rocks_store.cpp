#include "events/rocks_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace migops::events {

namespace {
constexpr const char* lock_file_name = "migops.lock";
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
        std::string holder;
        std::ifstream in(lock_path);
        std::getline(in, holder);
        return failure(errc::locked, "data directory " + options.dir.string() +
                                         " is in use by another migops process" +
                                         (holder.empty() ? "" : " (pid " + holder + ")"));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(store->lock_fd_, 0) != 0 ||
        ::pwrite(store->lock_fd_, pid.data(), pid.size(), 0) < 0)
        return failure(errc::io_error, "cannot write " + lock_path.string());

    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.IncreaseParallelism(2);
    db_options.max_background_jobs = 2;
    // Read models write without a sync while the log's group commits sync:
    // a pipelined write queue lets their memtable writes go on during a sync.
    db_options.enable_pipelined_write = true;
    if (options.env) db_options.env = options.env;

    std::vector<std::string> names;
    auto listed = rocksdb::DB::ListColumnFamilies(db_options, options.dir.string(), &names);
    if (!listed.ok()) names.clear();
    if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end())
        names.insert(names.begin(), rocksdb::kDefaultColumnFamilyName);
    for (const auto& n : options.column_families)
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.reserve(names.size());
    for (const auto& n : names)
        descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions(db_options));
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    auto s = rocksdb::DB::Open(db_options, options.dir.string(), descriptors, &handles, &raw);
    if (!s.ok()) return failure(from_status(s, "cannot open " + options.dir.string()));
    store->db_.reset(raw);
    for (std::size_t i = 0; i < names.size(); ++i) store->handles_[names[i]] = handles[i];
    return store;
}

rocks_store::~rocks_store() {
    if (db_) {
        for (auto& [name, h] : handles_) db_->DestroyColumnFamilyHandle(h);
        handles_.clear();
        db_->Close();
        db_.reset();
    }
    if (lock_fd_ >= 0) {
        ::flock(lock_fd_, LOCK_UN);
        ::close(lock_fd_);
    }
}

rocksdb::ColumnFamilyHandle* rocks_store::column_family(const std::string& name) const {
    auto it = handles_.find(name);
    return it == handles_.end() ? nullptr : it->second;
}

}  // namespace migops::events
