// `selfheal learn [--deployment ID] [--db F] [--json] [--seed N] [--confidence C] [--no-baseline]`
// (`--record` is an alias of `--deployment`):
// runs learning.track on a deployment record (default: the latest). Before vs after for every metric
// the deploy's judge used (and the healed handler's p50, p95 and error rate) with confidence
// intervals, the outcome (success | partial | failure), the updated Beta posterior that `diagnose`
// ranks strategies with from then on, the threshold changes given through `selfheal feedback`
// since the last `learn`, a refreshed baseline after a success, and insights. Learning twice from
// the same deployment counts once (the second run prints the first record, `already_learned`).
// With --json standard output is exactly the object of `selfheal/learning/report.hpp`.
// `[canary] allowed_increase` and `min_effect_ms` of --config (default <repo>/selfheal.toml, when it
// exists) say what counts as worse, as for the judge. Exit 0 done (whatever the outcome: learning from a failure is a successful learn), 1 failed,
// 2 usage error.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/learning/report.hpp"
#include "selfheal/learning/sequence.hpp"
#include "selfheal/learning/settings.hpp"

namespace selfheal::cli {

void add_learn(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    learning::track_request req;
    bool no_baseline = false;
    std::string repo;
    std::string config;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("learn", "Learn from a deployed fix: before/after, outcome, posteriors, insights");
  add_common_options(sub, g);
  sub->add_option("--deployment,--record", o->req.deployment_record, "deployment record id (default: the latest)");
  sub->add_option("--repo", o->repo, "the monitored repository: its selfheal.toml's [canary] says what counts as worse")
      ->capture_default_str();
  sub->add_option("--config", o->config, "the settings file (default: <repo>/selfheal.toml; none there: the judge's defaults)");
  sub->add_option("--seed", o->req.seed, "bootstrap seed")->capture_default_str();
  sub->add_option("--confidence", o->req.confidence, "confidence of every interval")->capture_default_str();
  sub->add_option("--allowed-increase", o->req.allowed_increase, "a metric is worse only above before x this")->capture_default_str();
  sub->add_flag("--no-baseline", o->no_baseline, "do not store a refreshed baseline after a success");
  sub->callback([o, &g, &exit_code] {
    auto req = o->req;
    req.refresh_baseline = !o->no_baseline;
    auto settings = source::load_settings(o->repo.empty() ? std::string(".") : o->repo, o->config);
    if (settings) {
      learning::apply_settings(req, *settings);
    } else if (!o->config.empty() || settings.error().code != errc::not_found) {
      exit_code = report_error(g, "learn", settings.error(), exit_usage);  // a named or broken settings file
      return;
    }
    auto s = run_on_store(g, "learn", learning::track_learning, std::move(req), exit_code);
    if (!s) return;
    if (g.json) {
      print_json(learning::to_json(*s));
    } else {
      std::printf("%s: %s for %s (%s, %s on %s)%s\n", s->record_id.c_str(), std::string(learning::to_string(s->result)).c_str(),
                  s->deployment_record.c_str(), s->anomaly_id.c_str(), s->strategy.c_str(), s->handler.c_str(),
                  s->already_learned ? " [learned before: counted once]" : "");
      for (const auto& r : s->reasons) std::printf("  because %s\n", r.c_str());
      for (const auto& m : s->metrics) {
        if (!m.has_data) continue;
        std::printf("  %-36s before %10.4g  after %10.4g  change %+10.4g  CI [%+.4g, %+.4g]\n", m.name.c_str(), m.before, m.after,
                    m.change, m.ci_low, m.ci_high);
      }
      for (const auto& p : s->posteriors)
        std::printf("  posterior %s/%s: Beta(%.4g, %.4g), mean %.3f (from %.3f)\n", p.anomaly_type.c_str(), p.strategy.c_str(),
                    p.alpha, p.beta, p.mean(), p.prior_mean);
      for (const auto& t : s->threshold_changes)
        std::printf("  threshold %s: factor %.4g -> %.4g (%s on %s)\n", t.handler.c_str(), t.factor_before, t.factor_after,
                    t.verdict.c_str(), t.anomaly_id.c_str());
      if (s->baseline_record) std::printf("  new baseline %s (the old period plus the healthy post-fix period)\n", s->baseline_record->c_str());
      for (const auto& i : s->insights) std::printf("  - %s\n", i.text.c_str());
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
