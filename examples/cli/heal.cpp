// The `heal` subcommand in a translation unit of its own.
#include "cli/commands.hpp"
#include "cli/heal.hpp"

namespace selfheal::cli {
void add_heal(CLI::App& app, globals& g, int& exit_code) { register_heal(app, g, exit_code); }
}  // namespace selfheal::cli
