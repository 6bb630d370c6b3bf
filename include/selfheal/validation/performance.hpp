#pragma once
/// \file
/// Performance of a patch (beat 6): the `[performance] command` (a workload that prints beat events,
/// NDJSON as DESIGN.md defines them) runs `runs` times on the base and `runs` times on the candidate,
/// interleaved (base, candidate, base, candidate, …, so that drift of the machine hits both alike).
/// Its events are read by selfheal's own telemetry code (`ndjson_parser` + `event_normalizer`, the
/// same extraction and start/completion pairing as `selfheal parse`), and every handler's durations
/// are compared with a Mann-Whitney U test (anomaly/stats.hpp):
/// - a handler whose p50 ratio candidate/base exceeds `max_regression`, is significantly slower
///   (one-sided p < `alpha`) and at least `min_regression_ms` slower at p50 is a regression, named
///   (the floor: a call of a microsecond or less moves by timer noise and interpreter warm-up, and
///   its samples come in clusters of one process each, which the rank test takes as independent);
/// - for a fix of a latency anomaly, its handler must be at least `min_improvement` times faster
///   (base/candidate p50) and significantly so.
///
/// ```cpp
/// auto samples = selfheal::validation::run_interleaved(cmd, base_dir, candidate_dir, 5);
/// auto v = selfheal::validation::compare_performance(samples->base, samples->candidate, opts);
/// // v.result.handlers: main_p50_ms, candidate_p50_ms, ratio, p_value per handler; v.reasons
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "selfheal/anomaly/stats.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/telemetry/ndjson.hpp"
#include "selfheal/telemetry/normalize.hpp"
#include "selfheal/validation/model.hpp"
#include "selfheal/validation/tests.hpp"

namespace selfheal::validation {

/// Handler durations (ms) seen in a workload's output.
struct workload_samples {
  std::map<std::string, std::vector<double>> by_handler;
  std::size_t events = 0;     ///< events read
  std::size_t bad_lines = 0;  ///< lines the telemetry parser refused
};

namespace detail {
struct workload_sink {
  telemetry::interner names;
  telemetry::event_normalizer norm{names};
  workload_samples* out = nullptr;
  std::string reason;
  void event(const telemetry::raw_event_view& e) {
    ++out->events;
    bool deferred = false;
    reason.clear();
    auto n = norm.normalize(e, reason, deferred);
    if (!n) {
      ++out->bad_lines;
      return;
    }
    if (deferred || !n->execution || n->duration_ns < 0 || n->handler == telemetry::no_name) return;
    out->by_handler[names.name(n->handler)].push_back(static_cast<double>(n->duration_ns) / 1e6);
  }
  void bad(std::uint64_t, std::string) { ++out->bad_lines; }
};
}  // namespace detail

/// Adds the handler executions of one workload run's output (NDJSON beat events) to `into`.
inline void add_workload_events(std::string_view ndjson, workload_samples& into) {
  std::string buf(ndjson);
  const std::size_t size = buf.size();
  buf.append(telemetry::chunk_padding, ' ');
  telemetry::ndjson_parser parser;
  detail::workload_sink sink;
  sink.out = &into;
  parser.parse(telemetry::padded_view::of(buf, size), 1, sink);
}

[[nodiscard]] inline workload_samples parse_workload_events(std::string_view ndjson) {
  workload_samples s;
  add_workload_events(ndjson, s);
  return s;
}

/// Both sides of an interleaved benchmark.
struct interleaved_samples {
  workload_samples base, candidate;
  double seconds = 0;
  std::size_t runs = 0;  ///< per side
};

/// Runs `cmd` `runs` times in each folder, alternating base and candidate. A run that fails, times
/// out or prints no handler event is an error naming the side and the run.
[[nodiscard]] inline result<interleaved_samples> run_interleaved(const command_spec& cmd, const std::filesystem::path& base_dir,
                                                                 const std::filesystem::path& candidate_dir, std::size_t runs,
                                                                 const std::vector<std::pair<std::string, std::optional<std::string>>>& env = {}) {
  if (cmd.argv.empty()) return fail(errc::invalid_request, "[performance] command is empty");
  if (runs == 0) return fail(errc::invalid_request, "[performance] runs must be at least 1");
  interleaved_samples s;
  s.runs = runs;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < runs; ++i) {
    for (int side = 0; side < 2; ++side) {
      process_options opts;
      opts.cwd = side == 0 ? base_dir : candidate_dir;
      opts.timeout = cmd.timeout;
      opts.env = env;
      auto out = run_process(std::span<const std::string>(cmd.argv), opts);
      const std::string where = std::string(side == 0 ? "base" : "candidate") + " run " + std::to_string(i + 1);
      if (!out) return fail(out.error().code, "workload (" + where + "): " + out.error().detail);
      if (out->exit_code != 0) {
        std::string tail = out->err.size() > 300 ? out->err.substr(out->err.size() - 300) : out->err;
        return fail(errc::process_failed, "workload (" + where + ") exited with status " +
                                              std::to_string(out->exit_code) + (tail.empty() ? "" : ": " + tail));
      }
      auto& into = side == 0 ? s.base : s.candidate;
      const std::size_t before = into.events;
      add_workload_events(out->out, into);
      if (into.events == before)
        return fail(errc::parse_error, "workload (" + where + ") printed no beat event on standard output");
    }
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

/// What the comparison is held to.
struct performance_options {
  double max_regression = 1.10;   ///< any handler's p50 candidate/base above this (and significant) fails
  double min_improvement = 1.20;  ///< the anomalous handler's base/candidate p50 must reach this
  double alpha = 0.05;            ///< one-sided significance of the rank test
  double min_regression_ms = 0.01;  ///< a p50 slowdown smaller than this (absolute) is not a regression
  std::size_t min_samples = 3;    ///< fewer executions on a side: the handler is not judged
  std::string handler;            ///< the anomalous handler (empty: none)
  bool expect_improvement = false;  ///< the patch fixes a latency anomaly of `handler`
};

struct performance_verdict {
  performance_result result;
  std::vector<std::string> reasons;  ///< why it fails (empty: pass)
  std::string detail;                ///< one line for the check
};

namespace detail {
inline double median_of(std::vector<double> v) {
  return anomaly::stats::median(std::span<const double>(v));
}
inline std::string fixed2(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << v;
  return o.str();
}
/// A duration in ms with three significant digits ("6.56", "0.000258").
inline std::string ms_text(double v) {
  std::ostringstream o;
  o.precision(3);
  o << v;
  return o.str();
}
inline std::string p_text(double p) {
  std::ostringstream o;
  o.precision(2);
  o << p;
  return o.str();
}
}  // namespace detail

/// Compares every handler seen on both sides (pure).
[[nodiscard]] inline performance_verdict compare_performance(const workload_samples& base, const workload_samples& candidate,
                                                             const performance_options& opt) {
  performance_verdict v;
  auto& r = v.result;
  r.handler = opt.handler;
  std::vector<std::string> not_judged;
  for (const auto& [name, b] : base.by_handler) {
    auto it = candidate.by_handler.find(name);
    if (it == candidate.by_handler.end() || b.size() < opt.min_samples || it->second.size() < opt.min_samples) {
      not_judged.push_back(name);
      continue;
    }
    const auto& c = it->second;
    handler_comparison h;
    h.handler = name;
    h.main_p50_ms = detail::median_of(b);
    h.candidate_p50_ms = detail::median_of(c);
    h.ratio = h.main_p50_ms > 0 ? h.candidate_p50_ms / h.main_p50_ms : (h.candidate_p50_ms > 0 ? 1e9 : 1.0);
    const auto mw = anomaly::stats::mann_whitney_u(std::span<const double>(c), std::span<const double>(b));
    h.p_value = h.ratio >= 1.0 ? mw.p_greater : mw.p_less;  // one-sided, in the direction it moved
    if (h.ratio > opt.max_regression && mw.p_greater < opt.alpha && h.candidate_p50_ms - h.main_p50_ms >= opt.min_regression_ms) {
      r.regressions.push_back(name);
      v.reasons.push_back("performance: " + name + " is slower: p50 " + detail::ms_text(h.main_p50_ms) + " -> " +
                          detail::ms_text(h.candidate_p50_ms) + " ms (x" + detail::fixed2(h.ratio) + " > " +
                          detail::fixed2(opt.max_regression) + ", p = " + detail::p_text(mw.p_greater) + ")");
    }
    if (name == opt.handler) {
      r.main_p50_ms = h.main_p50_ms;
      r.candidate_p50_ms = h.candidate_p50_ms;
      r.ratio = h.ratio;
      r.p_value = h.p_value;
      if (opt.expect_improvement) {
        const double speedup = h.candidate_p50_ms > 0 ? h.main_p50_ms / h.candidate_p50_ms : 1e9;
        if (speedup < opt.min_improvement || mw.p_less >= opt.alpha)
          v.reasons.push_back("performance: the fix does not make " + name + " faster enough: p50 " +
                              detail::ms_text(h.main_p50_ms) + " -> " + detail::ms_text(h.candidate_p50_ms) + " ms (x" +
                              detail::fixed2(speedup) + " faster, needs x" + detail::fixed2(opt.min_improvement) +
                              ", p = " + detail::p_text(mw.p_less) + ")");
      }
    }
    r.handlers.push_back(std::move(h));
  }
  for (const auto& [name, c] : candidate.by_handler)
    if (!base.by_handler.contains(name)) not_judged.push_back(name);
  const bool handler_judged = std::any_of(r.handlers.begin(), r.handlers.end(),
                                          [&](const handler_comparison& h) { return h.handler == opt.handler; });
  if (opt.expect_improvement && !opt.handler.empty() && !handler_judged)
    v.reasons.push_back("performance: the workload gave too few executions of " + opt.handler +
                        " to show the fix makes it faster");
  if (r.handler.empty() && !r.handlers.empty()) {
    // a --patch without an anomaly: headline the handler that moved most
    const auto worst = std::max_element(r.handlers.begin(), r.handlers.end(),
                                        [](const handler_comparison& a, const handler_comparison& b) { return a.ratio < b.ratio; });
    r.handler = worst->handler;
    r.main_p50_ms = worst->main_p50_ms;
    r.candidate_p50_ms = worst->candidate_p50_ms;
    r.ratio = worst->ratio;
    r.p_value = worst->p_value;
  }
  v.detail = std::to_string(r.handlers.size()) + " handler(s) compared";
  if (!r.handler.empty() && r.main_p50_ms > 0)
    v.detail += "; " + r.handler + " p50 " + detail::ms_text(r.main_p50_ms) + " -> " + detail::ms_text(r.candidate_p50_ms) +
                " ms (x" + detail::ms_text(r.ratio) + ", p = " + detail::p_text(r.p_value) + ")";
  if (!r.regressions.empty()) {
    v.detail += "; slower: ";
    for (std::size_t i = 0; i < r.regressions.size(); ++i) v.detail += (i ? ", " : "") + r.regressions[i];
  }
  if (!not_judged.empty()) {
    v.detail += "; too few executions to judge: ";
    for (std::size_t i = 0; i < not_judged.size() && i < 5; ++i) v.detail += (i ? ", " : "") + not_judged[i];
  }
  return v;
}

/// Whether an anomaly type is about latency (its fix must make the handler faster).
[[nodiscard]] inline bool is_latency_anomaly(std::string_view type) {
  return type == "performance" || type == "slo" || type.starts_with("latency");
}

}  // namespace selfheal::validation
