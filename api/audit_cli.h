#pragma once
// The audit commands of the CLI (cli.cpp parses their flags):
//   migops export (--space S | --all) [--since T] [--until T] [--out FILE]
//   migops verify (DATA_DIR | FILE.jsonl) [--public-key FILE] [--partial]
// Both read the data directory as a RocksDB secondary instance, so they work
// while the server runs on it (events/rocks_store.h, open_reader).

#include <map>
#include <optional>
#include <string>

namespace migops::api {

struct export_request {
    std::optional<std::string> space;  // else every space
    std::optional<std::string> since;  // RFC 3339
    std::optional<std::string> until;  // RFC 3339
    std::string out;                   // a file; stdout when empty
    std::string config_file;
    std::map<std::string, std::string> flags;  // settings given as flags (data_dir)
};

// Exit status: 0 written, 1 the log could not be read or the file written,
// 2 bad arguments or configuration.
int run_export(const export_request& r);

struct verify_request {
    std::string target;  // a data directory or an export file
    std::string public_key_file;
    bool partial = false;
};

// Exit status: 0 the chain verifies (summary on stdout), 1 it does not (the
// first bad event on stderr), 2 the input cannot be verified (not a data
// directory or a file, not JSON, attributes missing, a bad key file).
int run_verify(const verify_request& r);

}  // namespace migops::api
