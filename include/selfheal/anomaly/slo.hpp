#pragma once
/// \file
/// SLO objectives (`--slo FILE`) and multi-window, multi-burn-rate alerting (Google SRE workbook,
/// "Alerting on SLOs", table 5-8). For a 30-day budget:
///
/// | long | short | burn | action            | severity here |
/// |------|-------|------|-------------------|---------------|
/// | 1 h  | 5 m   | 14.4 | page              | critical      |
/// | 6 h  | 30 m  | 6    | page              | high          |
/// | 1 d  | 2 h   | 3    | ticket            | medium        |
/// | 3 d  | 6 h   | 1    | ticket            | low           |
///
/// A rule fires at window t when the burn rate (bad share / budget) over both its long and short
/// windows ending at t reaches its factor. **Scaling:** the data rarely spans 3 days, so every
/// window is multiplied by s = min(1, span / 3 d) (span = windows × window length), then rounded to
/// whole windows (at least 1): the longest rule then covers the whole span and every rule keeps its
/// long:short ratio. The scale is reported with each breach. A breach must also be real: the bad
/// events in the long window must be unlikely (Poisson, p < `alpha`) if the budget were burning at
/// exactly 1×, and the long window must hold `min_requests` calls.
///
/// SLIs: `error_rate` (budget = the rate) and `availability` (budget = 1 − a) count failed calls;
/// `p95_ms` / `p99_ms` (budget 5% / 1%) count calls slower than the threshold, estimated per window
/// by log-linear interpolation of the window's p50/p95/p99.
///
/// File format: `{"period_days": 30, "objectives": [{"handler": "checkout", "p95_ms": 300,
/// "p99_ms": 900, "error_rate": 0.01, "availability": 0.999}, {"handler": "*", "error_rate": 0.05}]}`;
/// a missing or `"*"` handler is global (applies to handlers without their own objective).

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/anomaly/baseline.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/performance.hpp"
#include "selfheal/anomaly/stats.hpp"
#include "selfheal/core/result.hpp"

namespace selfheal::anomaly {

struct slo_objective {
  std::string handler;  ///< empty means global
  std::optional<double> p95_ms, p99_ms, error_rate, availability;
};

struct slo_config {
  double period_days = 30;
  std::vector<slo_objective> objectives;
};


/// One burn-rate rule (windows in hours).
struct burn_rule {
  double long_h, short_h, factor;
  severity level;
  std::string_view action;
};
inline constexpr burn_rule sre_burn_rules[] = {
    {1, 5.0 / 60.0, 14.4, severity::critical, "page"},
    {6, 0.5, 6, severity::high, "page"},
    {24, 2, 3, severity::medium, "ticket"},
    {72, 6, 1, severity::low, "ticket"},
};

/// The rules scaled to the data.
struct scaled_rules {
  double scale = 1;
  std::size_t long_windows[4]{};
  std::size_t short_windows[4]{};
  std::string statement;  ///< e.g. "windows scaled by 0.0139 (60 windows of 60 s span 1 h; rules assume 3 d)"
};

[[nodiscard]] inline scaled_rules scale_burn_rules(std::size_t windows, std::int64_t window_ns) {
  scaled_rules r;
  const double window_h = static_cast<double>(window_ns) / 3.6e12;
  const double span_h = static_cast<double>(windows) * window_h;
  r.scale = span_h > 0 ? std::min(1.0, span_h / 72.0) : 1.0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& rule = sre_burn_rules[i];
    const auto to_windows = [&](double h) {
      const double w = window_h > 0 ? std::round(h * r.scale / window_h) : 1.0;
      return static_cast<std::size_t>(std::max(1.0, w));
    };
    r.long_windows[i] = std::min(std::max<std::size_t>(windows, 1), to_windows(rule.long_h));
    r.short_windows[i] = std::min(r.long_windows[i], to_windows(rule.short_h));
  }
  r.statement = "burn-rate windows scaled by " + detail::fmt_num(r.scale, 4) + " (" + std::to_string(windows) +
                " windows of " + detail::fmt_num(window_h * 3600.0) + " s span " + detail::fmt_num(span_h) +
                " h; the rules assume 3 d of data for a 30-day budget)";
  return r;
}

/// Share of a window's calls slower than `threshold_ms`, from its p50/p95/p99 (log-linear).
[[nodiscard]] inline double share_slower(const window_point& w, double threshold_ms) {
  if (w.count == 0 || !(threshold_ms > 0)) return 0;
  const double l = std::log(threshold_ms);
  const auto lg = [](double v) { return std::log(std::max(v, 1e-9)); };
  const double q50 = lg(w.p50_ms), q95 = lg(std::max(w.p95_ms, w.p50_ms)), q99 = lg(std::max({w.p99_ms, w.p95_ms, w.p50_ms}));
  double cdf = 0;
  if (l >= q99) cdf = 0.99 + 0.01 * (1.0 - std::exp(q99 - l));
  else if (l >= q95) cdf = q99 > q95 ? 0.95 + 0.04 * (l - q95) / (q99 - q95) : 0.99;
  else if (l >= q50) cdf = q95 > q50 ? 0.5 + 0.45 * (l - q50) / (q95 - q50) : 0.95;
  else cdf = 0.5 * std::exp(l - q50);
  return std::clamp(1.0 - cdf, 0.0, 1.0);
}

/// Parses an SLO file's text; `source` names it in errors.
[[nodiscard]] inline result<slo_config> parse_slo(std::string_view json, std::string_view source) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc))
    return fail(errc::parse_error, std::string(source) + ": not valid JSON: " + simdjson::error_message(err));
  slo_config cfg;
  simdjson::dom::object root;
  if (doc.get(root)) return fail(errc::parse_error, std::string(source) + ": the top level must be an object");
  double period = 0;
  if (!root["period_days"].get(period)) cfg.period_days = period;
  simdjson::dom::array objectives;
  if (root["objectives"].get(objectives))
    return fail(errc::parse_error, std::string(source) + ": missing \"objectives\" array");
  std::size_t index = 0;
  for (auto el : objectives) {
    simdjson::dom::object o;
    if (el.get(o)) return fail(errc::parse_error, std::string(source) + ": objectives[" + std::to_string(index) + "] is not an object");
    slo_objective obj;
    std::string_view h;
    if (!o["handler"].get(h) && h != "*") obj.handler = std::string(h);
    const auto num = [&](const char* key, std::optional<double>& dst) -> bool {
      auto f = o[key];
      if (f.error() == simdjson::NO_SUCH_FIELD) return true;
      double v = 0;
      if (f.get(v) || !(v > 0)) return false;
      dst = v;
      return true;
    };
    for (const char* key : {"p95_ms", "p99_ms", "error_rate", "availability"}) {
      std::optional<double>* dst = std::string_view(key) == "p95_ms" ? &obj.p95_ms
                                   : std::string_view(key) == "p99_ms" ? &obj.p99_ms
                                   : std::string_view(key) == "error_rate" ? &obj.error_rate
                                                                           : &obj.availability;
      if (!num(key, *dst))
        return fail(errc::parse_error, std::string(source) + ": objectives[" + std::to_string(index) + "]." + key +
                                           " must be a positive number");
    }
    if (obj.availability && *obj.availability >= 1)
      return fail(errc::parse_error, std::string(source) + ": objectives[" + std::to_string(index) +
                                         "].availability must be below 1 (a 100% target has no budget)");
    if (obj.error_rate && *obj.error_rate >= 1)
      return fail(errc::parse_error, std::string(source) + ": objectives[" + std::to_string(index) + "].error_rate must be below 1");
    cfg.objectives.push_back(std::move(obj));
    ++index;
  }
  return cfg;
}

[[nodiscard]] inline result<slo_config> load_slo_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(errc::not_found, "cannot read SLO file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_slo(ss.str(), path);
}

namespace detail {
struct sli {
  std::string_view name;
  double objective;
  double budget;
  double latency_ms;  // 0 for error-based
};
}  // namespace detail

/// Burn-rate breaches of one handler against one objective, one anomaly per breached SLI.
[[nodiscard]] inline std::vector<anomaly> evaluate_slo(const handler_series& s, const slo_objective& obj,
                                                       const window_grid& grid, const scaled_rules& rules,
                                                       const slo_options& o = {}) {
  std::vector<anomaly> out;
  std::vector<detail::sli> slis;
  if (obj.error_rate) slis.push_back({"error_rate", *obj.error_rate, *obj.error_rate, 0});
  if (obj.availability) slis.push_back({"availability", *obj.availability, 1.0 - *obj.availability, 0});
  if (obj.p95_ms) slis.push_back({"p95_ms", *obj.p95_ms, 0.05, *obj.p95_ms});
  if (obj.p99_ms) slis.push_back({"p99_ms", *obj.p99_ms, 0.01, *obj.p99_ms});
  if (slis.empty() || grid.size == 0) return out;
  std::vector<double> n(grid.size + 1, 0.0);
  for (const auto& w : s.windows) {
    const std::size_t i = grid.index_of(w.start_ns);
    if (i < grid.size) n[i + 1] += static_cast<double>(w.count);
  }
  for (std::size_t i = 1; i <= grid.size; ++i) n[i] += n[i - 1];
  for (const auto& sl : slis) {
    std::vector<double> bad(grid.size + 1, 0.0);
    for (const auto& w : s.windows) {
      const std::size_t i = grid.index_of(w.start_ns);
      if (i >= grid.size) continue;
      bad[i + 1] += sl.latency_ms > 0 ? static_cast<double>(w.count) * share_slower(w, sl.latency_ms)
                                      : static_cast<double>(w.errors);
    }
    for (std::size_t i = 1; i <= grid.size; ++i) bad[i] += bad[i - 1];
    // the most severe rule that fires anywhere, with its first firing
    for (std::size_t r = 0; r < 4; ++r) {
      const std::size_t L = rules.long_windows[r], S = rules.short_windows[r];
      const auto& rule = sre_burn_rules[r];
      std::optional<std::size_t> first;
      double burn_long = 0, burn_short = 0, p = 1, calls = 0, bad_calls = 0;
      for (std::size_t t = L; t <= grid.size; ++t) {
        const double nl = n[t] - n[t - L], ns = n[t] - n[t - S];
        if (nl < static_cast<double>(o.min_requests) || ns <= 0) continue;
        const double bl = (bad[t] - bad[t - L]) / nl / sl.budget;
        const double bs = (bad[t] - bad[t - S]) / ns / sl.budget;
        if (bl < rule.factor || bs < rule.factor) continue;
        const double k = std::floor(bad[t] - bad[t - L]);
        const double pv = stats::poisson_sf(static_cast<std::uint64_t>(std::max(0.0, k)), sl.budget * nl);
        if (pv >= o.alpha) continue;
        first = t - S;
        burn_long = bl; burn_short = bs; p = pv; calls = nl; bad_calls = bad[t] - bad[t - L];
        break;
      }
      if (!first) continue;
      anomaly a;
      a.kind = anomaly_kind::slo_burn;
      a.kinds = {a.kind};
      a.handler = s.handler;
      a.sequence = s.sequence;
      a.level = rule.level;
      a.confidence = std::clamp(1.0 - p, 0.0, 1.0);
      a.onset_ns = grid.first_ns + static_cast<std::int64_t>(*first) * grid.window_ns;
      a.description = "SLO " + std::string(sl.name) + " " + detail::fmt_num(sl.objective) + ": error budget burning at " +
                      detail::fmt_num(burn_long) + "x over the long window and " + detail::fmt_num(burn_short) +
                      "x over the short one (" + std::string(rule.action) + " rule " + detail::fmt_num(rule.factor) +
                      "x, " + detail::fmt_num(rule.long_h) + " h/" + detail::fmt_num(rule.short_h) + " h scaled); " + rules.statement;
      a.text("sli", std::string(sl.name)).number("objective", sl.objective).number("budget", sl.budget);
      a.number("burn_rate_long", burn_long).number("burn_rate_short", burn_short).number("rule_factor", rule.factor);
      a.number("long_windows", static_cast<double>(L)).number("short_windows", static_cast<double>(S));
      a.number("window_scale", rules.scale).text("scaling", rules.statement).text("action", std::string(rule.action));
      a.number("calls", calls).number("bad_calls", bad_calls).number("p_value", p);
      out.push_back(std::move(a));
      break;  // rules are in decreasing severity: the first that fires is reported
    }
  }
  return out;
}

/// Every handler against its own objectives, or the global ones when it has none.
[[nodiscard]] inline std::vector<anomaly> detect_slo_breaches(const telemetry_data& cur, const slo_config& cfg,
                                                              const slo_options& o = {}) {
  std::vector<anomaly> out;
  if (cfg.objectives.empty()) return out;
  const window_grid grid = grid_of(cur.handlers, cur.window_ns);
  const scaled_rules rules = scale_burn_rules(grid.size, grid.window_ns);
  for (const auto& s : cur.handlers) {
    bool own = false;
    for (const auto& obj : cfg.objectives)
      if (obj.handler == s.handler) {
        own = true;
        auto v = evaluate_slo(s, obj, grid, rules, o);
        out.insert(out.end(), std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
      }
    if (own) continue;
    for (const auto& obj : cfg.objectives)
      if (obj.handler.empty()) {
        auto v = evaluate_slo(s, obj, grid, rules, o);
        out.insert(out.end(), std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
      }
  }
  return out;
}

}  // namespace selfheal::anomaly
