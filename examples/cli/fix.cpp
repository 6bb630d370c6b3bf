// The `fix` subcommand in a translation unit of its own.
#include "cli/commands.hpp"
#include "cli/fix.hpp"

namespace selfheal::cli {
void add_fix(CLI::App& app, globals& g, int& exit_code) { register_fix(app, g, exit_code); }
}  // namespace selfheal::cli
