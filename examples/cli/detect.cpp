// The `detect` subcommand in a translation unit of its own, so that the program's commands compile
// in parallel and no TU pays for every sequence's code.
#include "cli/commands.hpp"
#include "cli/detect.hpp"

namespace selfheal::cli {
void add_detect(CLI::App& app, globals& g, int& exit_code) { register_detect(app, g, exit_code); }
}  // namespace selfheal::cli
