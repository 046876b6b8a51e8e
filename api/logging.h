#pragma once
// Process-wide structured logging (spdlog): text for people, JSON lines for
// log collectors.

#include <memory>
#include <string>

#include "events/result.h"

namespace rocksdb {
class Logger;
}

namespace migops::api {

result<void> configure_logging(const std::string& format, const std::string& level);

// RocksDB's own messages through the process's logger (warnings and errors;
// everything from info down at log level debug or trace), instead of a LOG
// file in the data directory: a file on the data disk cannot take the
// report of that disk's own failure (a full disk would make RocksDB abort
// while logging it).
std::shared_ptr<rocksdb::Logger> rocksdb_logger();

}  // namespace migops::api
