#pragma once
// The local RocksDB database of a data directory: opens it with every column
// family it has (plus the ones asked for), holds the directory lock, and
// translates rocksdb::Status into migops errors.
//
// Lifecycle: open() → used by RocksLog, projections, … → destroyed last
// (closes the database, then releases the lock). open_reader() → read by
// the export and verify commands → destroyed.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "events/result.h"

namespace migops::events {

// Options a column family takes beyond the store's own, by its name; given
// to every family when the store opens and when one is created.
using family_tuning = std::function<void(const std::string& name, rocksdb::ColumnFamilyOptions&)>;

struct rocks_store_options {
    std::filesystem::path dir;
    std::vector<std::string> column_families;  // created when missing
    rocksdb::Env* env = nullptr;               // for fault injection in tests
    // Where RocksDB's messages go (default: a LOG file in dir).
    std::shared_ptr<rocksdb::Logger> info_log = nullptr;
    family_tuning tune_family = nullptr;
};

// What the process holding a data directory's lock says of itself: its pid
// and a note it added (a server: the URL it serves at, for the commands
// that ask it to act on the directory).
struct directory_holder {
    std::string pid;
    std::string note;  // empty until the holder adds one
};

class rocks_store {
  public:
    static result<std::unique_ptr<rocks_store>> open(const rocks_store_options& options);
    // Opens an existing data directory to read it, as a RocksDB secondary
    // instance with only the log's column families: a server may be running
    // on the directory (its lock is not taken, nothing is written to it).
    // What is read is the log as it was when this returned.
    static result<std::unique_ptr<rocks_store>> open_reader(
        const std::filesystem::path& dir, const std::vector<std::string>& column_families);
    ~rocks_store();
    rocks_store(const rocks_store&) = delete;
    rocks_store& operator=(const rocks_store&) = delete;

    rocksdb::DB& db() { return *db_; }
    rocksdb::ColumnFamilyHandle* column_family(const std::string& name) const;
    // The names of the column families open now.
    std::vector<std::string> column_family_names() const;
    // Creates a column family while the database is in use (the one of that
    // name when it exists already).
    result<rocksdb::ColumnFamilyHandle*> create_column_family(const std::string& name);
    // Drops a column family and its data. Its handle stays valid until the
    // store closes, so a reader still holding it reads what it held.
    result<void> drop_column_family(const std::string& name);
    const std::filesystem::path& dir() const { return dir_; }

    // Adds a line (no newline in it) to what the lock file says of this
    // process, after its pid; only for a store that holds the lock.
    result<void> note_holder(std::string_view note);
    // The process that holds the lock of dir, if one does.
    static std::optional<directory_holder> holder(const std::filesystem::path& dir);

  private:
    rocks_store() = default;
    rocksdb::ColumnFamilyOptions family_options(const std::string& name,
                                                const rocksdb::Options& db_options) const;

    std::filesystem::path dir_;
    std::filesystem::path secondary_dir_;  // the reader's own files, removed on close
    int lock_fd_ = -1;
    family_tuning tune_family_;
    std::unique_ptr<rocksdb::DB> db_;
    mutable std::mutex handles_mutex_;  // handles_, dropped_
    std::map<std::string, rocksdb::ColumnFamilyHandle*> handles_;
    std::vector<rocksdb::ColumnFamilyHandle*> dropped_;
};

// rocksdb::Status → error, keeping RocksDB's message.
error from_status(const rocksdb::Status& s, std::string_view what);

}  // namespace migops::events
