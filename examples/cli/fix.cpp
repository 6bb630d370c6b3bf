// `selfheal fix [--repo DIR] [--config FILE] [--diagnosis ID] [--anomaly ID]... [--strategy NAME]
//               [--out FILE.patch] [--db F] [--json]` (`--record` is an alias of `--diagnosis`):
// runs fix.generate on a diagnosis record (default: the latest): one patch per diagnosis — the top
// recommended strategy that applies, or the one named — with a regression test and a runbook entry,
// stored in one transaction. With --json, standard output is exactly one object (HEALING.md).

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/fix/report.hpp"
#include "selfheal/fix/sequence.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::cli {

void add_fix(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string repo = ".";
    std::string config;
    std::string diagnosis;
    std::vector<std::string> anomaly_ids;
    std::string strategy;
    std::string out;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("fix", "Generate a patch for a diagnosis: code fix, regression test, runbook");
  add_common_options(sub, g);
  sub->add_option("--repo", o->repo, "the monitored git repository")->capture_default_str();
  sub->add_option("--config", o->config, "selfheal.toml (default: <repo>/selfheal.toml)");
  sub->add_option("--diagnosis,--record", o->diagnosis, "the diagnosis record to fix (default: the latest)");
  sub->add_option("--anomaly", o->anomaly_ids, "fix only this anomaly's diagnosis (repeatable)");
  sub->add_option("--strategy", o->strategy, "revert | partial_revert | config_change | external (default: the top that applies)");
  sub->add_option("--out", o->out, "also write the diff to this file");
  sub->callback([o, &g, &exit_code] {
    fix::generate_request req;
    req.repo = o->repo;
    req.config = o->config;
    req.diagnosis_record = o->diagnosis;
    req.anomaly_ids = o->anomaly_ids;
    req.strategy = o->strategy;
    auto s = run_on_store(g, "fix", fix::generate_fix, std::move(req), exit_code);
    if (!s) return;
    for (const auto& w : s->warnings) std::fprintf(stderr, "selfheal fix: warning: %s\n", w.c_str());
    for (const auto& k : s->skipped)
      std::fprintf(stderr, "selfheal fix: %s %s: %s skipped: %s\n", k.anomaly_id.c_str(), k.handler.c_str(), k.strategy.c_str(),
                   k.reason.c_str());
    if (!o->out.empty()) {
      std::string all;
      for (const auto& p : s->patches) all += p.diff;
      std::ofstream f(o->out, std::ios::binary);
      f << all;
      if (!f) {
        exit_code = report_error(g, "fix", error{errc::io_error, "cannot write --out " + o->out, 0, {}});
        return;
      }
      std::fprintf(stderr, "selfheal fix: wrote %s\n", o->out.c_str());
    }
    if (g.json) {
      print_json(fix::fix_json(s->record_id, s->diagnosis_record, s->patches, s->skipped));
    } else {
      std::printf("fix %s of %s on %s: %zu patch(es)\n\n", s->record_id.c_str(), s->diagnosis_record.c_str(),
                  s->base_commit.substr(0, 12).c_str(), s->patches.size());
      for (const auto& p : s->patches) std::printf("%s\n", fix::patch_text(p).c_str());
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
