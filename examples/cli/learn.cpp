// The `learn` subcommand in a translation unit of its own.
#include "cli/commands.hpp"
#include "cli/learn.hpp"

namespace selfheal::cli {
void add_learn(CLI::App& app, globals& g, int& exit_code) { register_learn(app, g, exit_code); }
}  // namespace selfheal::cli
