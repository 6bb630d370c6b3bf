#pragma once
// The subcommands of the `selfheal` program, one translation unit each (examples/cli/<command>.cpp).
// `add_<command>` registers the command, its one option holder and its callback, which sets
// `exit_code` (cli::exit_ok, exit_failed, exit_usage).

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace selfheal::cli {

void add_sequences(CLI::App& app, globals& g, int& exit_code);
void add_parse(CLI::App& app, globals& g, int& exit_code);
void add_baseline(CLI::App& app, globals& g, int& exit_code);
void add_detect(CLI::App& app, globals& g, int& exit_code);
void add_diagnose(CLI::App& app, globals& g, int& exit_code);
void add_learn(CLI::App& app, globals& g, int& exit_code);
void add_feedback(CLI::App& app, globals& g, int& exit_code);
void add_fix(CLI::App& app, globals& g, int& exit_code);
void add_validate(CLI::App& app, globals& g, int& exit_code);
void add_deploy(CLI::App& app, globals& g, int& exit_code);  // deploy, approve, reject
void add_heal(CLI::App& app, globals& g, int& exit_code);
void add_report(CLI::App& app, globals& g, int& exit_code);
void add_export(CLI::App& app, globals& g, int& exit_code);
void add_records(CLI::App& app, globals& g, int& exit_code);
void add_show(CLI::App& app, globals& g, int& exit_code);
void add_prune(CLI::App& app, globals& g, int& exit_code);
void add_ship(CLI::App& app, globals& g, int& exit_code);    // NATS JetStream (selfheal::fleet)
void add_ingest(CLI::App& app, globals& g, int& exit_code);  // NATS JetStream (selfheal::fleet)

}  // namespace selfheal::cli
