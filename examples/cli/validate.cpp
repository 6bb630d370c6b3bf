// The `validate` subcommand in a translation unit of its own, so that the program's commands compile
// in parallel and no TU pays for every sequence's code.
#include "cli/commands.hpp"
#include "cli/validate.hpp"

namespace selfheal::cli {
void add_validate(CLI::App& app, globals& g, int& exit_code) { register_validate(app, g, exit_code); }
}  // namespace selfheal::cli
