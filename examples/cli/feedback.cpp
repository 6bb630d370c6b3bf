// `selfheal feedback ANOMALY_ID --verdict false-positive|true-positive [--db F] [--json]`: a person's
// verdict on a detected anomaly. It tunes that handler's detection threshold factor (a false
// positive makes the detector 25 % stricter for it, a true positive relaxes it back towards the
// configured thresholds), which `selfheal detect` applies from then on and `selfheal learn` reports.
// One transaction with an audit row. Exit 0 done, 1 failed (e.g. no such anomaly), 2 usage error.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/learning/report.hpp"

namespace selfheal::cli {

void add_feedback(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string id;
    std::string verdict;
    std::string actor = "user";
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("feedback", "Mark a detected anomaly as a false or true positive (tunes its handler's thresholds)");
  add_common_options(sub, g);
  sub->add_option("ANOMALY_ID", o->id, "the anomaly (e.g. anomaly-3.1)")->required();
  sub->add_option("--verdict", o->verdict, "false-positive | true-positive")
      ->required()
      ->check(CLI::IsMember({"false-positive", "true-positive"}));
  sub->add_option("--by", o->actor, "who gives the verdict (recorded in the audit log)")->capture_default_str();
  sub->callback([o, &g, &exit_code] {
    auto v = anomaly::parse_verdict(o->verdict);
    if (!v) {
      exit_code = report_usage(g, "feedback", "--verdict must be false-positive or true-positive");
      return;
    }
    auto db = open_store(g, "feedback", exit_code);
    if (!db) return;
    const context ctx;
    auto e = anomaly::record_feedback(*db, o->id, *v, ctx.now(), o->actor);
    if (!e) {
      exit_code = report_error(g, "feedback", e.error(), e.error().code == errc::invalid_request ? exit_usage : exit_failed);
      return;
    }
    if (g.json) {
      print_json(learning::to_json(*e));
    } else {
      std::printf("%s: %s; %s's threshold factor %.4g -> %.4g (`selfheal detect` applies it, `selfheal learn` reports it)\n",
                  e->anomaly_id.c_str(), o->verdict.c_str(), e->handler.c_str(), e->factor_before, e->factor_after);
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
