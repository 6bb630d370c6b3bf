// The `feedback` subcommand in a translation unit of its own.
#include "cli/commands.hpp"
#include "cli/feedback.hpp"

namespace selfheal::cli {
void add_feedback(CLI::App& app, globals& g, int& exit_code) { register_feedback(app, g, exit_code); }
}  // namespace selfheal::cli
