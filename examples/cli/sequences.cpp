// `selfheal sequences [--json]`: the catalogue as compiled into this program.

#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/sequences.hpp"

namespace selfheal::cli {

void add_sequences(CLI::App& app, globals& g, int& exit_code) {
  auto* sub = app.add_subcommand("sequences", "List every sequence, its beats, and which are implemented");
  sub->add_flag("--json", g.json, "print exactly one JSON object on standard output");
  sub->callback([&g, &exit_code] {
    if (g.json) {
      std::string out;
      json_writer w(out);
      w.begin_object().key("sequences").begin_array();
      for_each_sequence([&](std::string_view file, const auto& seq) {
        using S = std::remove_cvref_t<decltype(seq)>;
        w.begin_object().member("id", S::id).member("file", "sequences/" + std::string(file));
        w.key("beats").begin_array();
        for (const auto& b : S::describe()) {
          w.begin_object()
              .member("beat", b.number)
              .member("event", b.event)
              .member("handler", b.handler)
              .member("timing", to_string(b.timing))
              .member("kind", to_string(b.kind))
              .member("implemented", b.implemented)
              .end_object();
        }
        w.end_array().end_object();
      });
      w.end_array().end_object();
      print_json(out);
    } else {
      std::size_t total = 0, done = 0;
      for_each_sequence([&](std::string_view file, const auto& seq) {
        using S = std::remove_cvref_t<decltype(seq)>;
        std::printf("%.*s  (sequences/%.*s)\n", static_cast<int>(S::id.size()), S::id.data(),
                    static_cast<int>(file.size()), file.data());
        for (const auto& b : S::describe()) {
          ++total;
          done += b.implemented ? 1 : 0;
          std::printf("  %2zu  %-44.*s %-30.*s %-9.*s %-10.*s %s\n", b.number, static_cast<int>(b.event.size()),
                      b.event.data(), static_cast<int>(b.handler.size()), b.handler.data(),
                      static_cast<int>(to_string(b.timing).size()), to_string(b.timing).data(),
                      static_cast<int>(to_string(b.kind).size()), to_string(b.kind).data(),
                      b.implemented ? "implemented" : "not implemented");
        }
      });
      std::printf("%zu of %zu beats implemented\n", done, total);
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
