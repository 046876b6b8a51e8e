#include "api/cli.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "api/application.h"
#include "api/config.h"
#include "api/logging.h"

extern char** environ;

namespace migops::api {

namespace {

constexpr const char* version_text = "migops " MIGOPS_VERSION;

int serve(const std::string& config_file, const std::map<std::string, std::string>& flags) {
    auto cfg = load_config(config_file, environ, flags);
    if (!cfg) {
        std::cerr << "migops serve: " << cfg.error().message << "\n";
        return 2;
    }
    if (auto r = configure_logging(cfg.value().log_format, cfg.value().log_level); !r) {
        std::cerr << "migops serve: " << r.error().message << "\n";
        return 2;
    }

    // SIGINT and SIGTERM are taken by this thread alone (sigwait below);
    // every thread started later inherits the blocked mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    application app(cfg.value());
    if (auto r = app.start(); !r) {
        spdlog::error("cannot start: {}", r.error().message);
        app.stop();
        return 1;
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
    app.stop();
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App cli{"migops: an event-sourced workflow engine for cloud-migration programmes"};
    cli.require_subcommand(1);
    cli.set_version_flag("--version", version_text);

    auto* serve_cmd = cli.add_subcommand("serve", "run the server");
    std::string config_file;
    serve_cmd->add_option("--config", config_file, "config file (.yaml, .yml or .toml)");
    std::map<std::string, std::string> given;
    std::map<std::string, std::string> values;
    for (const auto& s : settings()) values[s.key];
    for (const auto& s : settings()) {
        const std::string flag = flag_name(s.key);
        if (s.key == "verify_all") {
            serve_cmd->add_flag_function(
                flag, [&given, key = s.key](std::int64_t) { given[key] = "true"; },
                s.description + " [env " + env_name(s.key) + "]");
        } else {
            serve_cmd->add_option(flag, values[s.key],
                                  s.description + " [env " + env_name(s.key) + "]");
        }
    }

    cli.add_subcommand("version", "print the version")->callback([] {
        std::cout << version_text << "\n";
    });

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    if (serve_cmd->parsed()) {
        for (const auto& s : settings())
            if (s.key != "verify_all" && serve_cmd->count(flag_name(s.key)) > 0)
                given[s.key] = values[s.key];
        return serve(config_file, given);
    }
    return 0;
}

}  // namespace migops::api
