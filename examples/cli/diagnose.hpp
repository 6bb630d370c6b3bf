#pragma once
// `selfheal diagnose --repo DIR [--db F] [--record ID] [--telemetry-record ID] [--anomaly ID]... [--lcov F] [--json]`:
// runs diagnosis.analyze on an anomaly record (default: the latest) against a git repository and
// prints the diagnoses: the function, the commit to blame, the evidence and the recommended fixes.
// With --json, standard output is exactly one object (the schema in selfheal/diagnosis/report.hpp).

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/report.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::cli {

/// "ctags" or "ctags, 10 of 12 files from the cache".
inline std::string diagnose_symbol_source(const diagnosis::analysis_summary& s) {
  std::string out = s.symbol_source;
  const std::size_t total = s.symbol_files_cached + s.symbol_files_indexed;
  if (total > 0)
    out += ", " + std::to_string(s.symbol_files_cached) + " of " + std::to_string(total) + " files from the cache";
  return out;
}

inline void register_diagnose(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string repo;
    std::string record;
    std::string telemetry_record;
    std::vector<std::string> anomaly_ids;
    std::string lcov;
    bool no_ctags = false;
  };
  static options o;
  auto* sub = app.add_subcommand("diagnose", "Explain anomalies: the function, the commit to blame, the fix");
  add_common_options(sub, g);
  sub->add_option("--repo", o.repo, "the monitored git repository")->required();
  sub->add_option("--record", o.record, "the anomaly record to diagnose (default: the latest)");
  sub->add_option("--telemetry-record", o.telemetry_record,
                  "telemetry record for deploy markers and traffic (default: the anomaly record's parent)");
  sub->add_option("--anomaly", o.anomaly_ids, "diagnose only this anomaly id (repeatable)");
  sub->add_option("--lcov", o.lcov, "an lcov tracefile: uncovered lines of hot handlers");
  sub->add_flag("--no-ctags", o.no_ctags, "index symbols with the built-in scanner instead of Universal Ctags");
  sub->callback([&g, &exit_code] {
    diagnosis::analyze_request req;
    req.repo = o.repo;
    req.anomaly_record = o.record;
    req.telemetry_record = o.telemetry_record;
    req.anomaly_ids = o.anomaly_ids;
    req.coverage_report = o.lcov;
    req.codebase.use_ctags = !o.no_ctags;
    auto s = run_on_store(g, "diagnose", diagnosis::analyze_diagnosis, std::move(req), exit_code);
    if (!s) return;
    for (const auto& w : s->warnings) std::fprintf(stderr, "selfheal diagnose: warning: %s\n", w.c_str());
    std::fprintf(stderr, "selfheal diagnose: %zu symbols (%s), %zu commits (%zu read from git, %zu from the cache)\n",
                 s->symbols, diagnose_symbol_source(*s).c_str(), s->commits, s->commits_from_git,
                 s->commits_from_cache);
    if (g.json) {
      print_json(diagnosis::diagnoses_json(s->record_id, s->anomaly_record, s->diagnoses));
    } else {
      std::printf("diagnosis %s of %s: %zu finding(s)\n\n", s->record_id.c_str(),
                  s->anomaly_record.empty() ? "(given anomalies)" : s->anomaly_record.c_str(), s->diagnoses.size());
      for (const auto& d : s->diagnoses) std::printf("%s\n", diagnosis::diagnosis_text(d).c_str());
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
