// The `parse` subcommand in a translation unit of its own, so that the program's commands compile
// in parallel and no TU pays for every sequence's code.
#include "cli/commands.hpp"
#include "cli/parse.hpp"

namespace selfheal::cli {
void add_parse(CLI::App& app, globals& g, int& exit_code) { register_parse(app, g, exit_code); }
}  // namespace selfheal::cli
