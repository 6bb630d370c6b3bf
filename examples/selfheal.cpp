// The `selfheal` program: every sequence from the command line, for people who do not embed the
// library. Exit codes: 0 done, 1 failed, 2 usage error. With --json, standard output carries
// exactly one JSON object; progress and warnings go to standard error.
//
// Subcommands live in examples/cli/, each compiled in its own TU (<command>.cpp).

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "selfheal/version.hpp"

namespace cli = selfheal::cli;

int main(int argc, char** argv) {
  CLI::App app{"selfheal: production telemetry to verified, deployed fixes", "selfheal"};
  app.set_version_flag("--version", "selfheal " + std::string(selfheal::version));
  app.require_subcommand(1);
  cli::globals g;
  int exit_code = cli::exit_failed;

  cli::add_sequences(app, g, exit_code);
  cli::add_parse(app, g, exit_code);
  cli::add_baseline(app, g, exit_code);
  cli::add_detect(app, g, exit_code);
  cli::add_diagnose(app, g, exit_code);
  cli::add_fix(app, g, exit_code);
  cli::add_validate(app, g, exit_code);
  cli::add_deploy(app, g, exit_code);  // deploy, approve, reject
  cli::add_learn(app, g, exit_code);
  cli::add_feedback(app, g, exit_code);
  cli::add_heal(app, g, exit_code);
  cli::add_report(app, g, exit_code);
  cli::add_export(app, g, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the usage message to standard error
    return cli::exit_usage;
  }
  return exit_code;
}
