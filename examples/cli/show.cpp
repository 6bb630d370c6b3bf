// `selfheal show ID [--db F] [--json]`: one record in full, through its layer's own printers: the
// handlers of a telemetry record, a baseline's handlers, the anomalies of an anomaly record, the
// findings of a diagnosis, the diff of a fix, the checks of a validation, the stages of a
// deployment, a learning's before/after, a heal run's stories, or an audit row (`audit-N`). With
// --json standard output is `{"id","kind","created","parent","summary","record":{…}}` where
// "record" is the document the command that made it prints with --json. The store must exist.
// Exit 0 done, 1 failed (no such record), 2 usage error.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/heal/records.hpp"

namespace selfheal::cli {

void add_show(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string id;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("show", "Print one record in full (a fix's diff, a validation's checks, ...)");
  add_common_options(sub, g);
  sub->add_option("ID", o->id, "the record, e.g. fix-2, validation-1, anomaly-3, audit-7")->required();
  sub->callback([o, &g, &exit_code] {
    auto db = open_store(g, "show", exit_code);
    if (!db) return;
    auto r = heal::show_record(*db, o->id);
    if (!r) {
      exit_code = report_error(g, "show", r.error());
      return;
    }
    if (g.json) {
      print_json(heal::shown_json(*r));
    } else {
      const auto when = heal::detail::time_text(r->line.created_ns);
      std::printf("%s (%s, %s%s%s)\n", r->line.id.c_str(), r->line.kind.c_str(), when.c_str(),
                  r->line.parent.empty() ? "" : ", from ", r->line.parent.c_str());
      std::fwrite(r->text.data(), 1, r->text.size(), stdout);
      if (!r->text.empty() && r->text.back() != '\n') std::fputc('\n', stdout);
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
