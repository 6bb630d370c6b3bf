// `selfheal prune --keep-days N [--now ISO-8601] [--by NAME] [--db F] [--json]`: deletes telemetry
// records created more than N days ago with all their aggregates, in one transaction, and writes
// one audit row. Never deletes an audit row, the newest telemetry record, a record a log source
// resumes from, or a record another record refers to (those are listed as kept, with the reason).
// With --json standard output is `{"cutoff","deleted":[…],"rows","kept":[{"id","reason"}],"audit"}`.
// The store must exist. Exit 0 done (also when nothing was old enough), 1 failed, 2 usage error.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/heal/records.hpp"
#include "selfheal/telemetry/timestamp.hpp"

namespace selfheal::cli {

void add_prune(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    double keep_days = -1;
    std::string now;
    std::string by = "selfheal";
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("prune", "Delete old telemetry aggregates (never audit rows, never a referenced record)");
  add_common_options(sub, g);
  sub->add_option("--keep-days", o->keep_days, "keep telemetry records created in the last N days")->required();
  sub->add_option("--now", o->now, "the time to count from, ISO-8601 (default: now)");
  sub->add_option("--by", o->by, "who prunes (recorded in the audit log)")->capture_default_str();
  sub->callback([o, &g, &exit_code] {
    if (!(o->keep_days >= 0)) {
      exit_code = report_usage(g, "prune", "--keep-days must be zero or more");
      return;
    }
    time_point now = default_clock().now();
    if (!o->now.empty()) {
      const auto ns = telemetry::parse_iso8601(o->now);
      if (!ns) {
        exit_code = report_usage(g, "prune", "--now '" + o->now + "' is not an ISO-8601 time");
        return;
      }
      now = time_point(std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds(*ns)));
    }
    auto db = open_store(g, "prune", exit_code);
    if (!db) return;
    auto r = heal::prune_telemetry(*db, o->keep_days, now, o->by);
    if (!r) {
      exit_code = report_error(g, "prune", r.error(), r.error().code == errc::invalid_request ? exit_usage : exit_failed);
      return;
    }
    for (const auto& k : r->kept) std::fprintf(stderr, "selfheal prune: kept %s: %s\n", k.id.c_str(), k.reason.c_str());
    if (g.json) {
      std::string out;
      json_writer w(out);
      w.begin_object().member("cutoff", heal::detail::time_text(r->cutoff_ns)).key("deleted").begin_array();
      for (const auto& id : r->deleted) w.value(id);
      w.end_array().member("rows", r->rows).key("kept").begin_array();
      for (const auto& k : r->kept) w.begin_object().member("id", k.id).member("reason", k.reason).end_object();
      w.end_array().key("audit");
      if (r->audit.empty()) w.value(nullptr); else w.value(r->audit);
      w.end_object();
      print_json(out);
    } else if (r->deleted.empty()) {
      std::printf("nothing to prune: no telemetry record older than %s can go (%zu kept)\n",
                  heal::detail::time_text(r->cutoff_ns).c_str(), r->kept.size());
    } else {
      std::printf("deleted %zu telemetry record(s) created before %s (%llu aggregate rows):", r->deleted.size(),
                  heal::detail::time_text(r->cutoff_ns).c_str(), static_cast<unsigned long long>(r->rows));
      for (const auto& id : r->deleted) std::printf(" %s", id.c_str());
      std::printf("\n%zu kept; audit row %s\n", r->kept.size(), r->audit.c_str());
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
