#pragma once
// The `migops` command line: serve, version.

namespace migops::api {

int run_cli(int argc, char** argv);

}  // namespace migops::api
