// `selfheal detect [--db F] [--telemetry ID] [--baseline ID] [--slo FILE] [--sequences DIR]
//                  [--coverage FILE [--repo DIR]] [--json]` (`--record` is an alias of `--telemetry`):
// runs anomaly.detect on a telemetry record (default: the newest with events, saying on standard
// error when it skipped newer empty ones) against a baseline (default: the latest). `--repo` (the monitored app's
// source tree) maps the tracefile's files to handlers through a symbol index (Universal Ctags),
// which also works for tracefiles without function records; SF paths outside DIR are never read.
// With --json standard output is exactly the object of `selfheal/anomaly/report.hpp`. Warnings
// (a sequence definition that does not parse, lcov lines skipped, SF paths outside the repository,
// ambiguous handler names) go to standard error. No baseline yet: a message saying how to make one,
// exit 1, nothing stored. Exit 0 done, 1 failed, 2 usage error.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/anomaly/report.hpp"
#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::cli {

void add_detect(CLI::App& app, globals& g, int& exit_code) {
  auto req = std::make_shared<anomaly::detect_request>();
  auto* sub = app.add_subcommand("detect", "Detect anomalies in a telemetry record against a baseline");
  add_common_options(sub, g);
  sub->add_option("--telemetry,--record", req->record_id, "telemetry record id (default: the newest with events)");
  sub->add_option("--baseline", req->baseline_id, "baseline id (default: the latest established)");
  sub->add_option("--slo", req->slo_path, "SLO objectives (JSON)");
  sub->add_option("--sequences", req->sequences_dir, "the monitored application's sequence definitions (directory of JSON)");
  sub->add_option("--coverage", req->coverage_path, "an lcov tracefile");
  sub->add_option("--repo", req->repo_path, "the monitored app's source tree: map --coverage to handlers through its symbols")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--ratio", req->options.detect.performance.ratio, "p50/p95 ratio that counts as a latency regression")
      ->capture_default_str();
  sub->add_option("--min-coverage", req->options.detect.coverage.min_line_coverage, "line coverage below which a hot handler is a gap")
      ->capture_default_str();
  sub->callback([req, &g, &exit_code] {
    auto db = open_store(g, "detect", exit_code);
    if (!db) return;
    if (req->record_id.empty()) {
      auto id = default_telemetry_record(*db, "detect");
      if (!id) {
        exit_code = report_error(g, "detect", id.error());
        return;
      }
      req->record_id = *id;
    }
    auto s = run_in(g, "detect", *db, anomaly::detect_anomalies, *req, exit_code);
    if (!s) return;
    for (const auto& w : s->warnings) std::fprintf(stderr, "selfheal detect: %s\n", w.c_str());
    if (g.json) {
      print_json(anomaly::to_json(*s));
    } else {
      std::printf("%s: %zu anomalies in %s against %s\n", s->record_id.c_str(), s->anomalies.size(),
                  s->telemetry_record.c_str(), s->baseline_id.c_str());
      for (const auto& a : s->anomalies)
        std::printf("  %-14s %-8s %-22s %-28s score %.2f  %s\n", a.id.c_str(), std::string(anomaly::to_string(a.level)).c_str(),
                    std::string(anomaly::to_string(a.kind)).c_str(), a.handler.c_str(), a.score, a.description.c_str());
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
