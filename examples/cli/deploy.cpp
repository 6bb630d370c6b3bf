// The `deploy`, `approve` and `reject` subcommands in a translation unit of their own.
#include "cli/commands.hpp"
#include "cli/deploy.hpp"

namespace selfheal::cli {
void add_deploy(CLI::App& app, globals& g, int& exit_code) {
  register_deploy(app, g, exit_code);
  register_decision(app, g, exit_code, true);
  register_decision(app, g, exit_code, false);
}
}  // namespace selfheal::cli
