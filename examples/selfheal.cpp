// The `selfheal` program: every sequence from the command line, for people who do not embed the
// library. Exit codes: 0 done, 1 failed, 2 usage error. With --json, standard output carries
// exactly one JSON object; progress and warnings go to standard error.
//
// Subcommands live in examples/cli/<command>.hpp, each compiled in its own TU (<command>.cpp); a
// command whose sequence is not implemented yet says so plainly and exits 1.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "selfheal/version.hpp"

namespace {

namespace cli = selfheal::cli;

/// A subcommand whose sequence is not implemented yet: it says so and fails, never pretends.
void register_unavailable(CLI::App& app, cli::globals& g, int& exit_code, const char* name, const char* sequence,
                          const char* what) {
  auto* sub = app.add_subcommand(name, what);
  cli::add_common_options(sub, g);
  sub->allow_extras();
  sub->callback([&g, &exit_code, name, sequence] {
    selfheal::error e{selfheal::errc::not_implemented,
                      std::string(sequence) + " is not available yet (see `selfheal sequences`)", 0, {}};
    exit_code = cli::report_error(g, name, e);
  });
}

}  // namespace

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
  register_unavailable(app, g, exit_code, "report", "report", "Summarise the store");

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
