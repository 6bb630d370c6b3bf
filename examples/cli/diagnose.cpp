// `selfheal diagnose --repo DIR [--anomaly ID]... [--telemetry ID] [--coverage FILE] [--no-ctags] [--db F] [--json]`:
// runs diagnosis.analyze against a git repository and prints the diagnoses: the function, the
// commit to blame, the evidence and the recommended fixes. `--anomaly` takes an anomaly record
// (`anomaly-2`: all of its anomalies; default: the latest record) or one anomaly of a record
// (`anomaly-2.1`, repeatable; the record is the one the id names, whether or not it is the latest);
// `--record` is an alias. `--telemetry` is the record for deploy markers and traffic (default: the
// one the anomalies were detected in). With --json, standard output is exactly one object (the
// schema in selfheal/diagnosis/report.hpp).

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/report.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::cli {

namespace {

/// "ctags" or "ctags, 10 of 12 files from the cache".
std::string diagnose_symbol_source(const diagnosis::analysis_summary& s) {
  std::string out = s.symbol_source;
  const std::size_t total = s.symbol_files_cached + s.symbol_files_indexed;
  if (total > 0)
    out += ", " + std::to_string(s.symbol_files_cached) + " of " + std::to_string(total) + " files from the cache";
  return out;
}

}  // namespace

void add_diagnose(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string repo;
    std::vector<std::string> anomalies;  // anomaly-2 (a record) or anomaly-2.1 (one anomaly)
    std::string telemetry;
    std::string coverage;
    bool no_ctags = false;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("diagnose", "Explain anomalies: the function, the commit to blame, the fix");
  add_common_options(sub, g);
  sub->add_option("--repo", o->repo, "the monitored git repository")->required();
  sub->add_option("--anomaly,--record", o->anomalies,
                  "an anomaly record (anomaly-2; default: the latest) or one anomaly of it (anomaly-2.1; repeatable)");
  sub->add_option("--telemetry", o->telemetry,
                  "telemetry record for deploy markers and traffic (default: the one the anomalies came from)");
  sub->add_option("--coverage", o->coverage, "an lcov tracefile: uncovered lines of hot handlers");
  sub->add_flag("--no-ctags", o->no_ctags, "index symbols with the built-in scanner instead of Universal Ctags");
  sub->callback([o, &g, &exit_code] {
    diagnosis::analyze_request req;
    req.repo = o->repo;
    for (const auto& id : o->anomalies) {
      if (anomaly::record_of_anomaly(id)) {
        req.anomaly_ids.push_back(id);
      } else if (req.anomaly_record.empty() || req.anomaly_record == id) {
        req.anomaly_record = id;
      } else {
        exit_code = report_usage(g, "diagnose", "--anomaly names two anomaly records (" + req.anomaly_record + ", " + id + "): diagnose one at a time");
        return;
      }
    }
    req.telemetry_record = o->telemetry;
    req.coverage_report = o->coverage;
    req.codebase.use_ctags = !o->no_ctags;
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
