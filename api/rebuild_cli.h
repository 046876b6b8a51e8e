#pragma once
// `migops projections rebuild [--server URL] [--token T]`: every read model
// replayed from position 1 into a new generation, then switched to
// (projections/read_models.h), with a progress bar and the rate on stderr.
//
// With no server on the data directory it rebuilds in this process. When a
// server holds the directory (or --server is given) the server rebuilds
// while it keeps serving (POST /v1/admin/projections/rebuild) and this
// follows its progress. The token is --token, else MIGOPS_TOKEN, else one
// signed with the configured HS256 secret for the first user of the
// `operators` setting.

#include <map>
#include <string>

namespace migops::api {

struct rebuild_request {
    std::string config_file;
    std::map<std::string, std::string> flags;  // settings given as flags
    std::string server;                        // base URL; empty: the data directory decides
    std::string token;
};

// Exit status: 0 switched to the new read models, 1 the rebuild failed,
// 2 bad arguments or configuration.
int rebuild_projections(const rebuild_request& r);

}  // namespace migops::api
