// `selfheal baseline [--db F] [--telemetry ID...|--since T --until T] [--json]` (`--record` is an alias
// of `--telemetry`): runs baseline.establish over the newest telemetry record with events (saying on
// standard error when it skipped newer empty ones), the given records, or every record's
// windows in [since, until) (ISO-8601). With --json standard output is exactly the object of
// `selfheal/anomaly/report.hpp`. Low-confidence handlers are listed on standard error.
// Exit 0 done, 1 failed (nothing stored), 2 usage error.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "selfheal/anomaly/report.hpp"
#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/timestamp.hpp"

namespace selfheal::cli {

void add_baseline(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::vector<std::string> records;
    std::string since, until;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("baseline", "Establish per-handler baselines from stored telemetry");
  add_common_options(sub, g);
  auto* rec = sub->add_option("--telemetry,--record", o->records, "telemetry record id(s) (default: the newest with events)");
  auto* since = sub->add_option("--since", o->since, "period start, ISO-8601 (with --until; every record's windows)");
  auto* until = sub->add_option("--until", o->until, "period end, ISO-8601 (exclusive)");
  rec->excludes(since)->excludes(until);
  sub->callback([o, &g, &exit_code] {
    anomaly::baseline_request req;
    req.records = o->records;
    for (auto [text, dst, name] : {std::tuple{&o->since, &req.since_ns, "--since"}, std::tuple{&o->until, &req.until_ns, "--until"}}) {
      if (text->empty()) continue;
      const auto ns = telemetry::parse_iso8601(*text);
      if (!ns) {
        exit_code = report_usage(g, "baseline", std::string(name) + " '" + *text + "' is not an ISO-8601 time");
        return;
      }
      *dst = *ns;
    }
    auto db = open_store(g, "baseline", exit_code);
    if (!db) return;
    if (req.records.empty() && req.since_ns == anomaly::no_time_ns && req.until_ns == anomaly::no_time_ns) {
      auto id = default_telemetry_record(*db, "baseline");
      if (!id) {
        exit_code = report_error(g, "baseline", id.error());
        return;
      }
      req.records.push_back(*id);
    }
    auto s = run_in(g, "baseline", *db, anomaly::establish_baseline, std::move(req), exit_code);
    if (!s) return;
    if (!s->low_confidence.empty()) {
      std::fprintf(stderr, "selfheal baseline: %zu low-confidence handler(s) (too few calls or windows):", s->low_confidence.size());
      for (std::size_t i = 0; i < s->low_confidence.size() && i < 20; ++i) std::fprintf(stderr, " %s", s->low_confidence[i].c_str());
      std::fprintf(stderr, "%s\n", s->low_confidence.size() > 20 ? " ..." : "");
    }
    if (g.json) {
      print_json(anomaly::to_json(*s));
    } else {
      std::printf("%s: %zu handlers and %zu sequences over %zu windows (%llu calls) from %zu record(s), %zu low-confidence\n",
                  s->id.c_str(), s->handlers.size(), s->sequences.size(), s->windows, static_cast<unsigned long long>(s->samples),
                  s->records.size(), s->low_confidence.size());
      std::size_t shown = 0;
      for (const auto& h : s->handlers) {
        if (++shown > 20) break;
        std::printf("  %-40s %8llu calls  err %5.2f%%  p50 %9.3f ms (MAD %.3f)  p95 %9.3f ms  conf %.2f%s\n", h.handler.c_str(),
                    static_cast<unsigned long long>(h.samples), 100.0 * h.error_rate(), h.p50_ms, h.p50_windows.mad, h.p95_ms,
                    h.confidence, h.low_confidence ? "  (low)" : "");
      }
    }
    exit_code = exit_ok;
  });
}

}  // namespace selfheal::cli
