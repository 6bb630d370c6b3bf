// The `selfheal` program: every sequence from the command line, for people who do not embed the
// library. Exit codes: 0 done, 1 failed, 2 usage error. With --json, standard output carries
// exactly one JSON object, usage errors included ({"error":"usage","message":...}); progress and
// warnings go to standard error.
//
// Each subcommand is one translation unit, examples/cli/<command>.cpp, defining `add_<command>`
// (declared in cli/commands.hpp).

#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "selfheal/version.hpp"

namespace {

namespace cli = selfheal::cli;

/// Whether `--json` is among the arguments (before a `--`): known before CLI11 parses, so that even
/// a usage error it throws is printed as one JSON object.
bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") return false;
    if (a == "--json") return true;
  }
  return false;
}

/// A usage error: the message (and, for people, CLI11's usage text) on standard error; with --json
/// one {"error":"usage","message":...} object on standard output. Exit 2.
int usage_error(CLI::App& app, const cli::globals& g, const std::string& message, const CLI::ParseError* e) {
  if (e) app.exit(*e);  // the message and the usage text, on standard error
  else std::fprintf(stderr, "selfheal: %s\n", message.c_str());
  if (g.json) cli::print_error_json("usage", message);
  return cli::exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"selfheal: production telemetry to verified, deployed fixes", "selfheal"};
  app.set_version_flag("--version", "selfheal " + std::string(selfheal::version));
  app.require_subcommand(1);
  cli::globals g;
  g.json = wants_json(argc, argv);
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
  cli::add_records(app, g, exit_code);
  cli::add_show(app, g, exit_code);
  cli::add_prune(app, g, exit_code);
  cli::add_report(app, g, exit_code);
  cli::add_export(app, g, exit_code);
  cli::add_ship(app, g, exit_code);
  cli::add_ingest(app, g, exit_code);

  // The first word names the command: one that is not a command is rejected by name.
  if (argc > 1) {
    const std::string word = argv[1];
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) known = known || sub->check_name(word);
    if (!word.empty() && word[0] != '-' && !known)
      return usage_error(app, g, "unknown command '" + word + "' (see `selfheal --help`)", nullptr);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    const std::string what = e.what();
    return usage_error(app, g, what == "A subcommand is required" ? "a command is required (see `selfheal --help`)" : what, &e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, g, e.what(), &e);
  }
  return exit_code;
}
