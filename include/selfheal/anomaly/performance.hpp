#pragma once
/// \file
/// detectPerformanceAnomalies' latency part: a regression is flagged only when it is both large and
/// real.
///
/// For a handler with a confident baseline and enough current data (`sample_gates`: executions,
/// usable windows of at least `min_window_count` calls — so a handler seen in one window, or a
/// handful of calls, is never flagged):
/// 1. onset: the per-window p50 (for a shift) and p95 (for a tail) are divided by the baseline
///    median and standardised by the baseline's robust sigma (1.4826·MAD, floored at 2% of the
///    median); when a one-sided CUSUM (k = ½, h = 5) alarms, the onset is the likelihood-ratio
///    shift point (`stats::change_onset`), else the first window;
/// 2. size: ratio = median of the post-onset window quantiles / baseline median, for p50 and p95;
/// 3. reality: one-sided Mann-Whitney U of post-onset window quantiles against the baseline's
///    window quantiles at `alpha` (default 0.001, i.e. 99.9% confidence).
/// `latency_shift` when p50's ratio ≥ `ratio` and significant (the whole distribution moved);
/// `latency_tail` when only p95's is. Confidence = (1 − p) · √(baseline confidence).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/stats.hpp"

namespace selfheal::anomaly {

/// The latency verdict for one handler, or nullopt.
[[nodiscard]] inline std::optional<anomaly> detect_latency(const handler_series& cur, const handler_baseline& base,
                                                           const performance_options& o = {}) {
  const auto& g = o.gates;
  if (base.low_confidence || base.window_p50.size() < g.min_windows || base.samples < g.min_samples) return std::nullopt;
  if (!(base.p50_windows.median > 0)) return std::nullopt;
  const bool tail_ok = base.window_p95.size() >= g.min_windows && base.p95_windows.median > 0;
  // per-window quantiles relative to the baseline median; p95 only from windows large enough
  // that it is not simply their maximum
  std::vector<double> p50, p95;
  std::vector<std::int64_t> s50, s95;
  std::uint64_t total = 0;
  for (const auto& w : cur.windows) {
    total += w.count;
    if (!(w.p50_ms > 0)) continue;  // a window without durations has no latency to compare
    if (w.count >= g.min_window_count) {
      p50.push_back(w.p50_ms / base.p50_windows.median);
      s50.push_back(w.start_ns);
    }
    if (tail_ok && w.count >= g.min_window_count_tail) {
      p95.push_back(w.p95_ms / base.p95_windows.median);
      s95.push_back(w.start_ns);
    }
  }
  if (total < g.min_samples || p50.size() < g.min_windows) return std::nullopt;

  const auto rel_sigma = [&](const stats::robust_summary& s) {
    return std::max(1.482602218505602 * s.mad / s.median, o.min_relative_sigma);
  };
  const auto onset_of = [&](const std::vector<double>& xs, const stats::robust_summary& s) {
    return stats::change_onset(xs, 1.0, rel_sigma(s), true, o.cusum_k, o.cusum_h, g.min_windows).value_or(0);
  };
  const std::size_t on50 = onset_of(p50, base.p50_windows);
  const std::span<const double> post50(p50.data() + on50, p50.size() - on50);
  const double r50 = stats::median(post50);
  const bool have95 = p95.size() >= g.min_windows;
  const std::size_t on95 = have95 ? onset_of(p95, base.p95_windows) : 0;
  const std::span<const double> post95 = have95 ? std::span<const double>(p95.data() + on95, p95.size() - on95)
                                                : std::span<const double>{};
  const double r95 = have95 ? stats::median(post95) : 0.0;
  if (r50 < o.ratio && r95 < o.ratio) return std::nullopt;  // not large: no test needed

  // rank tests in absolute ms against the baseline windows
  std::vector<double> abs50(post50.begin(), post50.end()), abs95(post95.begin(), post95.end());
  for (double& v : abs50) v *= base.p50_windows.median;
  for (double& v : abs95) v *= base.p95_windows.median;
  const auto mw50 = stats::mann_whitney_u(abs50, base.window_p50);
  const auto mw95 = have95 ? stats::mann_whitney_u(abs95, base.window_p95) : stats::mann_whitney_result{};
  // p95's ratio since p50's onset, reported with a shift
  double r95_at50 = 0;
  if (have95) {
    std::vector<double> since;
    for (std::size_t i = 0; i < p95.size(); ++i)
      if (s95[i] >= s50[on50]) since.push_back(p95[i]);
    r95_at50 = since.empty() ? 0.0 : stats::median(since);
  }

  anomaly a;
  double p = 1, ratio = 1;
  std::size_t windows_used = 0;
  if (r50 >= o.ratio && mw50.p_greater < o.alpha) {
    a.kind = anomaly_kind::latency_shift;
    p = mw50.p_greater;
    ratio = r50;
    a.onset_ns = s50[on50];
    windows_used = post50.size();
  } else if (have95 && r95 >= o.ratio && mw95.p_greater < o.alpha && r50 < o.ratio) {
    a.kind = anomaly_kind::latency_tail;
    p = mw95.p_greater;
    ratio = r95;
    a.onset_ns = s95[on95];
    windows_used = post95.size();
  } else {
    return std::nullopt;
  }
  a.handler = cur.handler;
  a.sequence = cur.sequence.empty() ? base.sequence : cur.sequence;
  a.kinds = {a.kind};
  a.level = severity_from_ratio(ratio);
  a.confidence = std::clamp((1.0 - p) * std::sqrt(base.confidence), 0.0, 1.0);
  const bool shift = a.kind == anomaly_kind::latency_shift;
  const double shown95 = shift ? r95_at50 : r95;
  const double now50 = r50 * base.p50_windows.median, now95 = shown95 * base.p95_windows.median;
  a.description = (shift ? "latency shift: p50 " : "latency tail: p95 ") + detail::fmt_num(ratio) + "x baseline (" +
                  detail::fmt_num(shift ? now50 : now95) + " ms vs " +
                  detail::fmt_num(shift ? base.p50_windows.median : base.p95_windows.median) + " ms) since " +
                  iso8601(a.onset_ns) + "; Mann-Whitney p=" + detail::fmt_num(p, 2) + " over " +
                  std::to_string(windows_used) + " windows";
  a.number("p50_ratio", r50).number("p95_ratio", shown95);
  a.number("p50_ms", now50).number("p95_ms", now95);
  a.number("baseline_p50_ms", base.p50_windows.median).number("baseline_p95_ms", base.p95_windows.median);
  {  // p99 since the onset (windows large enough for a p99 estimate), beside the baseline's
    std::vector<double> p99s;
    for (const auto& w : cur.windows)
      if (w.start_ns >= a.onset_ns && w.count >= g.min_window_count_tail && w.p99_ms > 0) p99s.push_back(w.p99_ms);
    if (!p99s.empty()) a.number("p99_ms", stats::median(p99s));
    if (base.p99_ms > 0) a.number("baseline_p99_ms", base.p99_ms);
  }
  a.number("p_value", p).number("mann_whitney_u", shift ? mw50.u_x : mw95.u_x);
  a.number("windows", static_cast<double>(windows_used)).number("samples", static_cast<double>(total));
  a.number("threshold_ratio", o.ratio).number("alpha", o.alpha);
  return a;
}

/// Latency regressions of every handler, and every whole sequence, that has a baseline.
[[nodiscard]] inline std::vector<anomaly> detect_performance(const telemetry_data& cur, const baseline& base,
                                                             const performance_options& o = {}) {
  std::vector<anomaly> out;
  for (const auto& s : cur.handlers) {
    const auto* b = base.find(s.handler);
    if (!b) continue;
    if (auto a = detect_latency(s, *b, o)) out.push_back(std::move(*a));
  }
  for (const auto& s : cur.sequences) {
    const auto* b = base.find_sequence(s.handler);
    if (!b) continue;
    if (auto a = detect_latency(s, *b, o)) {
      as_sequence_anomaly(*a);
      out.push_back(std::move(*a));
    }
  }
  return out;
}

}  // namespace selfheal::anomaly
