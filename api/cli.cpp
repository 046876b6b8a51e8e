#include "api/cli.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "api/application.h"
#include "api/audit_cli.h"
#include "api/config.h"
#include "api/logging.h"
#include "api/rebuild_cli.h"
#include "engine/template_catalog.h"
#include "engine/template_importer.h"
#include "events/fields.h"
#include "scheduler/clock.h"

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
    if (!app.demo_link().empty())
        std::cout << "Dashboard: " << app.demo_link() << "\n"
                  << "  (the link signs you in as demo for 12 hours; Ctrl-C stops the server)"
                  << std::endl;
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
    app.stop();
    return 0;
}

// `migops templates import DIR [--out DIR]`: one JSON line per template
// version imported; with --out, each written as <id>-<version>.json in our
// format.
int import_templates(const std::string& dir, const std::string& out) {
    auto imported = engine::import_migops_templates(dir);
    if (!imported) {
        std::cerr << "migops templates import: " << imported.error().message << "\n";
        return 2;
    }
    if (!out.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(out, ec);
        if (ec) {
            std::cerr << "migops templates import: cannot create " << out << ": " << ec.message()
                      << "\n";
            return 2;
        }
    }
    int status = 0;
    for (const auto& t : imported.value()) {
        boost::json::object line;
        line["template_id"] = t.spec.template_id;
        line["version"] = t.spec.template_version;
        line["phases"] = t.phases;
        line["modules"] = t.modules;
        line["tasks"] = t.tasks;
        line["subtasks"] = t.subtasks;
        boost::json::array warnings;
        for (const auto& w : t.warnings) warnings.emplace_back(w);
        if (auto valid = engine::validate_template(t.spec); !valid) {
            warnings.emplace_back("not publishable: " + valid.error().message);
            status = 1;
        }
        line["warnings"] = std::move(warnings);
        if (!out.empty()) {
            const auto path = std::filesystem::path(out) /
                              (t.spec.template_id + "-" + t.spec.template_version + ".json");
            std::ofstream file(path, std::ios::binary);
            file << engine::template_to_json(t.spec);
            if (!file) {
                std::cerr << "migops templates import: cannot write " << path << "\n";
                return 2;
            }
            line["file"] = path.string();
        }
        std::cout << boost::json::serialize(line) << "\n";
    }
    return status;
}

// `migops token --user U`: an HS256 token signed with the configured secret
// (or the data directory's), for local use.
int print_token(const std::string& config_file, const std::map<std::string, std::string>& flags,
                const std::string& user, std::int64_t lifetime_hours) {
    auto cfg = load_config(config_file, environ, flags);
    if (!cfg) {
        std::cerr << "migops token: " << cfg.error().message << "\n";
        return 2;
    }
    auto auth = resolve_auth(cfg.value());
    if (!auth) {
        std::cerr << "migops token: " << auth.error().message << "\n";
        return 2;
    }
    const auto now = scheduler::system_clock_source{}.now();
    auto token = issue_token(auth.value(), user_id{user}, now, std::chrono::hours(lifetime_hours));
    if (!token) {
        std::cerr << "migops token: " << token.error().message << "\n";
        return 2;
    }
    std::cout << token.value() << "\n";
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
        if (s.key == "verify_all" || s.key == "demo") {
            serve_cmd->add_flag_function(
                flag, [&given, key = s.key](std::int64_t) { given[key] = "true"; },
                s.description + " [env " + env_name(s.key) + "]");
        } else {
            serve_cmd->add_option(flag, values[s.key],
                                  s.description + " [env " + env_name(s.key) + "]");
        }
    }

    auto* templates_cmd = cli.add_subcommand("templates", "work with journey templates");
    templates_cmd->require_subcommand(1);
    auto* import_cmd = templates_cmd->add_subcommand(
        "import",
        "convert MigOps-format templates (<Template>/v<N>/<Name>/<Phase>/<Module>/tasks.md)");
    std::string import_dir;
    std::string import_out;
    import_cmd->add_option("DIR", import_dir, "a corpus, one template folder, or one v<N> folder")
        ->required();
    import_cmd->add_option("--out", import_out, "write each template version here as JSON");

    auto* projections_cmd = cli.add_subcommand("projections", "maintain the read models");
    projections_cmd->require_subcommand(1);
    auto* rebuild_cmd = projections_cmd->add_subcommand(
        "rebuild",
        "replay every read model from position 1 into new ones, then switch to them; a server "
        "running on the data directory does it while it serves");
    std::string rebuild_config;
    std::string rebuild_data_dir;
    std::string rebuild_partitions;
    std::string rebuild_server;
    std::string rebuild_token;
    rebuild_cmd->add_option("--config", rebuild_config, "config file (.yaml, .yml or .toml)");
    rebuild_cmd->add_option("--data-dir", rebuild_data_dir, "data directory");
    rebuild_cmd->add_option("--partitions", rebuild_partitions, "partitions of the data directory");
    rebuild_cmd->add_option("--server", rebuild_server,
                            "the server's base URL (default: when a server holds the data "
                            "directory, where it said it serves)");
    rebuild_cmd->add_option("--token", rebuild_token,
                            "an operator's bearer token for the server (default: MIGOPS_TOKEN, "
                            "or one signed for the first of the operators setting)");

    auto* token_cmd = cli.add_subcommand(
        "token", "print a bearer token for a user, signed with the configured secret");
    std::string token_user;
    std::int64_t token_hours = 12;
    std::string token_config;
    std::string token_data_dir;
    token_cmd->add_option("--user", token_user, "the user id (the token's sub)")->required();
    token_cmd->add_option("--hours", token_hours, "lifetime in hours")
        ->check(CLI::Range(1, 24 * 365));
    token_cmd->add_option("--config", token_config, "config file (.yaml, .yml or .toml)");
    token_cmd->add_option("--data-dir", token_data_dir, "data directory (its jwt-secret)");

    auto* export_cmd = cli.add_subcommand(
        "export",
        "write events as CloudEvents JSON lines, with their hash chain attributes (the server "
        "may be running)");
    std::string export_space;
    std::string export_since;
    std::string export_until;
    std::string export_out;
    std::string export_config;
    std::string export_data_dir;
    auto* space_opt = export_cmd->add_option("--space", export_space, "only this space's events");
    bool export_all = false;
    auto* all_opt = export_cmd->add_flag("--all", export_all, "every space's events");
    space_opt->excludes(all_opt);
    export_cmd->add_option("--since", export_since, "only events at or after this RFC 3339 time");
    export_cmd->add_option("--until", export_until, "only events before this RFC 3339 time");
    export_cmd->add_option("--out", export_out, "write to this file (default: stdout)");
    export_cmd->add_option("--config", export_config, "config file (.yaml, .yml or .toml)");
    export_cmd->add_option("--data-dir", export_data_dir, "data directory");

    auto* verify_cmd = cli.add_subcommand(
        "verify", "check the hash chain of a data directory or of an export file");
    verify_request verify_args;
    verify_cmd->add_option("TARGET", verify_args.target, "a data directory or an export (.jsonl)")
        ->required();
    verify_cmd->add_option("--public-key", verify_args.public_key_file,
                           "check checkpoint signatures with this Ed25519 public key (PEM)");
    verify_cmd->add_flag("--partial", verify_args.partial,
                         "the export is of one space or a time range: gaps are expected");

    cli.add_subcommand("version", "print the version")->callback([] {
        std::cout << version_text << "\n";
    });

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; a usage error, whichever, exits 2.
        return cli.exit(e) == 0 ? 0 : 2;
    }
    if (import_cmd->parsed()) return import_templates(import_dir, import_out);
    if (token_cmd->parsed()) {
        std::map<std::string, std::string> flags;
        if (token_cmd->count("--data-dir") > 0) flags["data_dir"] = token_data_dir;
        return print_token(token_config, flags, token_user, token_hours);
    }
    if (export_cmd->parsed()) {
        if (export_cmd->count("--space") == 0 && !export_all) {
            std::cerr << "migops export: give --space SPACE or --all\n";
            return 2;
        }
        export_request r;
        if (export_cmd->count("--space") > 0) r.space = export_space;
        if (export_cmd->count("--since") > 0) r.since = export_since;
        if (export_cmd->count("--until") > 0) r.until = export_until;
        r.out = export_out;
        r.config_file = export_config;
        if (export_cmd->count("--data-dir") > 0) r.flags["data_dir"] = export_data_dir;
        return run_export(r);
    }
    if (verify_cmd->parsed()) return run_verify(verify_args);
    if (rebuild_cmd->parsed()) {
        rebuild_request r{rebuild_config, {}, rebuild_server, rebuild_token};
        if (rebuild_cmd->count("--data-dir") > 0) r.flags["data_dir"] = rebuild_data_dir;
        if (rebuild_cmd->count("--partitions") > 0) r.flags["partitions"] = rebuild_partitions;
        return rebuild_projections(r);
    }
    if (serve_cmd->parsed()) {
        for (const auto& s : settings())
            if (s.key != "verify_all" && s.key != "demo" && serve_cmd->count(flag_name(s.key)) > 0)
                given[s.key] = values[s.key];
        return serve(config_file, given);
    }
    return 0;
}

}  // namespace migops::api
