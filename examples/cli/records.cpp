// `selfheal records [--kind telemetry|baseline|anomaly|diagnosis|fix|validation|deployment|learning|audit|heal]
//                   [--limit N] [--db F] [--json]`: what the store holds, newest first, one line each
// (id, kind, created, summary); `--kind audit` lists the audit log. With --json standard output is
// `{"records":[{"id","kind","created","parent","summary"}]}` (selfheal/heal/records.hpp). The store
// must exist. Exit 0 done, 1 failed, 2 usage error.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/heal/records.hpp"

namespace selfheal::cli {

void add_records(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string kind;
    std::size_t limit = 0;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("records", "List what the store holds, newest first");
  add_common_options(sub, g);
  sub->add_option("--kind", o->kind,
                  "telemetry | baseline | anomaly | diagnosis | fix | validation | deployment | learning | audit | heal");
  sub->add_option("--limit", o->limit, "at most this many lines (0: all)")->capture_default_str();
  sub->callback([o, &g, &exit_code] {
    if (!o->kind.empty() && !heal::is_record_kind(o->kind)) {
      exit_code = report_usage(g, "records", "--kind '" + o->kind + "' is not a record kind (see `selfheal records --help`)");
      return;
    }
    auto db = open_store(g, "records", exit_code);
    if (!db) return;
    auto lines = heal::list_records(*db, o->kind, o->limit);
    if (!lines) {
      exit_code = report_error(g, "records", lines.error());
      return;
    }
    if (g.json) {
      print_json(heal::records_json(*lines));
    } else {
      if (lines->empty()) std::printf("no %s%srecords in %s\n", o->kind.c_str(), o->kind.empty() ? "" : " ", g.db.c_str());
      for (const auto& r : *lines) {
        const auto when = heal::detail::time_text(r.created_ns);
        std::printf("%-16s %-10s %s  %s\n", r.id.c_str(), r.kind.c_str(), when.c_str(), r.summary.c_str());
      }
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
