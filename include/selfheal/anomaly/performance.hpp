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
///
/// Short, dense periods (a batch job, a canary stage, a test run: thousands of calls in one or two
/// windows) have too few windows for that, but plenty of samples. When the baseline or the current
/// period has fewer than `min_windows` usable windows and both kept their durations in a sketch
/// with at least `min_samples` calls, the samples themselves are compared
/// (`detect_latency_in_samples`): Mann-Whitney U on the two sketches' bins (each bin one tie
/// group; bins are 1% wide), the ratio of the sketches' p50 and p95, the Hodges-Lehmann shift, and
/// for a tail the share of current calls above the baseline's p95 (two-proportion z-test). The
/// anomaly says `"compared": "samples"` in its evidence; window-based ones say `"windows"`.

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/stats.hpp"
#include "selfheal/telemetry/sketch.hpp"

namespace selfheal::anomaly {

/// A sketch's bins as grouped samples: (representative value in ms, count), ascending, the zero
/// bucket as value 0; every value clamped to the sketch's exact min and max. Read from the
/// sketch's documented serial form ("DDS1", varints), so telemetry's class needs no accessor.
/// Empty for an empty sketch.
[[nodiscard]] inline std::vector<stats::weighted_value> sketch_bins(const telemetry::quantile_sketch& s) {
  std::vector<stats::weighted_value> out;
  if (s.empty()) return out;
  const std::string blob = s.serialize();
  std::string_view in(blob);
  in.remove_prefix(4);  // "DDS1"
  const auto varint = [&in](std::uint64_t& v) {
    v = 0;
    for (unsigned shift = 0; shift < 64 && !in.empty(); shift += 7) {
      const auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  std::uint64_t total = 0, zeros = 0, zz = 0, n = 0;
  if (!varint(total) || !varint(zeros) || !varint(zz) || !varint(n)) return out;
  const auto half = static_cast<std::int64_t>(zz >> 1);
  const std::int64_t offset = (zz & 1) ? -half - 1 : half;
  const double gamma = (1.0 + telemetry::quantile_sketch::relative_accuracy) /
                       (1.0 - telemetry::quantile_sketch::relative_accuracy);
  const double lg = std::log(gamma);
  const double lo = s.min(), hi = s.max();
  if (zeros) out.push_back({std::clamp(0.0, lo, hi), zeros});
  for (std::uint64_t k = 0; k < n; ++k) {
    std::uint64_t c = 0;
    if (!varint(c)) return {};
    if (c == 0) continue;
    const double v = 2.0 * std::exp(static_cast<double>(offset + static_cast<std::int64_t>(k)) * lg) / (gamma + 1.0);
    out.push_back({std::clamp(v, lo, hi), c});
  }
  return out;
}

namespace detail {
/// A ratio for messages: "1740x" rather than "1.74e+03x".
inline std::string fmt_ratio(double r) {
  if (!(r >= 100) || !std::isfinite(r)) return fmt_num(r);
  return fmt::format("{:.0f}", r);
}
}  // namespace detail

/// Calls in usable windows (at least `min_window_count` calls and a latency) of a series.
[[nodiscard]] inline std::size_t usable_windows(const handler_series& s, const sample_gates& g) noexcept {
  std::size_t n = 0;
  for (const auto& w : s.windows) n += (w.count >= g.min_window_count && w.p50_ms > 0) ? 1u : 0u;
  return n;
}

/// The latency verdict from the samples themselves (see the file comment), or nullopt. Needs
/// at least `min_samples` timed calls on both sides and a confident baseline.
[[nodiscard]] inline std::optional<anomaly> detect_latency_in_samples(const handler_series& cur,
                                                                      const handler_baseline& base,
                                                                      const performance_options& o = {}) {
  const auto& g = o.gates;
  if (base.low_confidence || cur.latency.count() < g.min_samples || base.latency.count() < g.min_samples)
    return std::nullopt;
  const double base50 = base.latency.quantile(0.5), base95 = base.latency.quantile(0.95);
  if (!(base50 > 0) || !(base95 > 0)) return std::nullopt;
  const double now50 = cur.latency.quantile(0.5), now95 = cur.latency.quantile(0.95);
  const double r50 = now50 / base50, r95 = now95 / base95;
  if (r50 < o.ratio && r95 < o.ratio) return std::nullopt;
  const auto x = sketch_bins(cur.latency), y = sketch_bins(base.latency);
  const auto mw = stats::mann_whitney_u(std::span<const stats::weighted_value>(x), std::span<const stats::weighted_value>(y));
  // the tail: the share of calls above the baseline's p95, now against then
  std::uint64_t above_now = 0, above_then = 0;
  for (const auto& b : x) above_now += b.value > base95 ? b.count : 0;
  for (const auto& b : y) above_then += b.value > base95 ? b.count : 0;
  const auto tail = stats::two_proportion_z(above_then, base.latency.count(), above_now, cur.latency.count());
  anomaly a;
  double p = 1, ratio = 1;
  if (r50 >= o.ratio && mw.p_greater < o.alpha) {
    a.kind = anomaly_kind::latency_shift;
    p = mw.p_greater;
    ratio = r50;
  } else if (r95 >= o.ratio && tail.p_greater < o.alpha) {
    a.kind = anomaly_kind::latency_tail;
    p = tail.p_greater;
    ratio = r95;
  } else {
    return std::nullopt;
  }
  const bool shift = a.kind == anomaly_kind::latency_shift;
  const double hl = stats::hodges_lehmann(std::span<const stats::weighted_value>(x), std::span<const stats::weighted_value>(y));
  std::size_t windows = 0;
  for (const auto& w : cur.windows)
    if (w.count) {
      if (a.onset_ns == no_time_ns) a.onset_ns = w.start_ns;  // no series to place an onset in: the period's start
      ++windows;
    }
  a.handler = cur.handler;
  a.sequence = cur.sequence.empty() ? base.sequence : cur.sequence;
  a.kinds = {a.kind};
  a.level = severity_from_ratio(ratio);
  a.confidence = std::clamp((1.0 - p) * std::sqrt(base.confidence), 0.0, 1.0);
  a.description = (shift ? "latency shift: p50 " : "latency tail: p95 ") + detail::fmt_ratio(ratio) + "x baseline (" +
                  detail::fmt_num(shift ? now50 : now95) + " ms vs " + detail::fmt_num(shift ? base50 : base95) +
                  " ms)" + (a.onset_ns == no_time_ns ? "" : " since " + iso8601(a.onset_ns)) + "; " +
                  std::to_string(cur.latency.count()) + " calls compared with the baseline's " +
                  std::to_string(base.latency.count()) + " (too few windows to compare windows): " +
                  (shift ? "Mann-Whitney" : "share above the baseline p95,") + " p=" +
                  (p < 1e-300 ? std::string("<1e-300") : detail::fmt_num(p, 2)) + ", Hodges-Lehmann shift " +
                  (hl >= 0 ? "+" : "") + detail::fmt_num(hl) + " ms";
  a.text("compared", "samples");
  a.number("p50_ratio", r50).number("p95_ratio", r95);
  a.number("p50_ms", now50).number("p95_ms", now95);
  a.number("baseline_p50_ms", base50).number("baseline_p95_ms", base95);
  a.number("p99_ms", cur.latency.quantile(0.99)).number("baseline_p99_ms", base.latency.quantile(0.99));
  a.number("p_value", p).number("mann_whitney_u", mw.u_x).number("mann_whitney_p", mw.p_greater);
  a.number("hodges_lehmann_ms", hl);
  if (!shift) a.number("share_above_baseline_p95", tail.p2).number("baseline_share_above_p95", tail.p1);
  a.number("windows", static_cast<double>(windows)).number("samples", static_cast<double>(cur.latency.count()));
  a.number("baseline_samples", static_cast<double>(base.latency.count()));
  a.number("threshold_ratio", o.ratio).number("alpha", o.alpha);
  return a;
}

/// Whether a one-sided Mann-Whitney test of `n` against `m` values can reach `alpha` at all (its
/// smallest p, every current value above every baseline one, by the normal approximation).
[[nodiscard]] inline bool window_test_can_reach(std::size_t n, std::size_t m, double alpha) noexcept {
  if (n == 0 || m == 0) return false;
  const double nm = static_cast<double>(n) * static_cast<double>(m);
  const double z = (nm / 2.0) / std::sqrt(nm * static_cast<double>(n + m + 1) / 12.0);
  return 0.5 * std::erfc(z / std::sqrt(2.0)) < alpha;
}

/// The latency verdict for one handler, or nullopt.
[[nodiscard]] inline std::optional<anomaly> detect_latency(const handler_series& cur, const handler_baseline& base,
                                                           const performance_options& o = {}) {
  const auto& g = o.gates;
  if (base.window_p50.size() < g.min_windows || usable_windows(cur, g) < g.min_windows)
    return detect_latency_in_samples(cur, base, o);  // a short, dense period: compare the samples
  if (base.low_confidence || base.samples < g.min_samples) return std::nullopt;
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
  } else if (!window_test_can_reach(post50.size(), base.window_p50.size(), o.alpha)) {
    // Large, but too few windows for any window-level test to reach alpha (5 against 6 cannot go
    // below p = 0.002): the calls themselves decide, as for a period with too few windows.
    return detect_latency_in_samples(cur, base, o);
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
  a.description = (shift ? "latency shift: p50 " : "latency tail: p95 ") + detail::fmt_ratio(ratio) + "x baseline (" +
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
  a.text("compared", "windows");
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
