#pragma once
/// \file
/// baseline.establish's pure part: per-handler baselines from window series.
///
/// For each handler: executions and errors; overall p50/p95/p99 (from merged sketches when the
/// series carries them, else the median of per-window quantiles); the dispersion across windows
/// (median and MAD of per-window p50, p95, error rate and call rate — a window in which other
/// handlers ran but this one did not counts as 0 calls; windows in which nothing ran, such as the
/// gap between two records, are not part of the period); the per-window values themselves (for rank tests later); the
/// period's merged latency sketch (for comparing samples when windows are few); a confidence
/// c = (1 − e^(−n/200)) · max(1 − e^(−w/10), s) that grows with samples n and windows w, where
/// s = `sample_credit` (0.6) when the sketch kept at least `min_samples` durations (the samples
/// themselves can be compared), else 0; and a low-confidence flag when n is below the gates, w is
/// below them without such a sketch, or c < 0.5. So 1,000 calls in one minute make a confident
/// baseline (c = 0.6: nothing is known of how the handler varies between windows), 10 calls in
/// one minute do not.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/stats.hpp"

namespace selfheal::anomaly {


/// The windows of a period. Contiguous (`starts` empty: `size` windows from `first_ns`), or only
/// the active windows (`starts`: every window in which some series had calls), so that the gap
/// between two telemetry records is not read as hours of zero traffic.
struct window_grid {
  std::int64_t first_ns = 0;
  std::int64_t window_ns = 60'000'000'000;
  std::size_t size = 0;
  std::vector<std::int64_t> starts;

  /// Index of the window starting at `start_ns`; `size` when it is not on the grid.
  [[nodiscard]] std::size_t index_of(std::int64_t start_ns) const noexcept {
    if (!starts.empty()) {
      auto it = std::lower_bound(starts.begin(), starts.end(), start_ns);
      return it != starts.end() && *it == start_ns ? static_cast<std::size_t>(it - starts.begin()) : size;
    }
    if (window_ns <= 0 || start_ns < first_ns) return size;
    const auto i = static_cast<std::size_t>((start_ns - first_ns) / window_ns);
    return i < size ? i : size;
  }
  [[nodiscard]] std::int64_t start_of(std::size_t i) const noexcept {
    return starts.empty() ? first_ns + static_cast<std::int64_t>(i) * window_ns : starts[i];
  }
};

/// The contiguous grid from the first to the last window of any series (SLO burn windows).
[[nodiscard]] inline window_grid grid_of(std::span<const handler_series> series, std::int64_t window_ns) {
  window_grid g;
  g.window_ns = window_ns > 0 ? window_ns : 60'000'000'000;
  bool any = false;
  std::int64_t lo = 0, hi = 0;
  for (const auto& s : series)
    for (const auto& w : s.windows) {
      if (!any) { lo = hi = w.start_ns; any = true; }
      lo = std::min(lo, w.start_ns);
      hi = std::max(hi, w.start_ns);
    }
  if (!any) return g;
  g.first_ns = lo;
  g.size = static_cast<std::size_t>((hi - lo) / g.window_ns) + 1;
  return g;
}

/// The active windows of a set of series (traffic baselines and comparisons).
[[nodiscard]] inline window_grid active_grid_of(std::span<const handler_series> series, std::int64_t window_ns) {
  window_grid g;
  g.window_ns = window_ns > 0 ? window_ns : 60'000'000'000;
  // the set of starts stays small (the period's windows) while the series are many: keep it sorted
  for (const auto& s : series)
    for (const auto& w : s.windows) {
      if (!w.count) continue;
      if (!g.starts.empty() && g.starts.back() == w.start_ns) continue;
      auto it = std::lower_bound(g.starts.begin(), g.starts.end(), w.start_ns);
      if (it == g.starts.end() || *it != w.start_ns) g.starts.insert(it, w.start_ns);
    }
  g.size = g.starts.size();
  if (!g.starts.empty()) g.first_ns = g.starts.front();
  return g;
}

/// Calls per grid window for one series (absent windows are 0).
[[nodiscard]] inline std::vector<double> counts_on_grid(const handler_series& s, const window_grid& g) {
  std::vector<double> out(g.size, 0.0);
  for (const auto& w : s.windows) {
    const std::size_t i = g.index_of(w.start_ns);
    if (i < out.size()) out[i] += static_cast<double>(w.count);
  }
  return out;
}

/// Confidence from sample size and window count, with the sample credit when `samples_kept`
/// (see the file comment).
[[nodiscard]] inline double baseline_confidence(std::uint64_t samples, std::size_t windows, bool samples_kept,
                                                const baseline_options& o = {}) {
  const double a = 1.0 - std::exp(-static_cast<double>(samples) / o.confidence_samples);
  const double b = 1.0 - std::exp(-static_cast<double>(windows) / o.confidence_windows);
  return a * std::max(b, samples_kept ? o.sample_credit : 0.0);
}
[[nodiscard]] inline double baseline_confidence(std::uint64_t samples, std::size_t windows,
                                                const baseline_options& o = {}) {
  return baseline_confidence(samples, windows, false, o);
}

/// Sets a baseline's `confidence` and `low_confidence` from its samples, windows and sketch.
inline void assess_confidence(handler_baseline& b, const baseline_options& o = {}) {
  const bool kept = b.latency.count() >= o.gates.min_samples;
  b.confidence = baseline_confidence(b.samples, b.windows, kept, o);
  b.low_confidence = b.samples < o.gates.min_samples || (b.window_p50.size() < o.gates.min_windows && !kept) ||
                     b.confidence < o.low_confidence_below;
}

/// One handler's baseline on a grid.
[[nodiscard]] inline handler_baseline baseline_of(const handler_series& s, const window_grid& g,
                                                  const baseline_options& o = {}) {
  handler_baseline b;
  b.handler = s.handler;
  b.sequence = s.sequence;
  std::vector<double> p99s, rates;
  for (const auto& w : s.windows) {
    b.samples += w.count;
    b.errors += w.errors;
    if (w.count == 0) continue;
    ++b.windows;
    rates.push_back(static_cast<double>(w.errors) / static_cast<double>(w.count));
    if (!(w.p50_ms > 0)) continue;  // no durations in this window: no latency statistics
    if (w.count >= o.gates.min_window_count) b.window_p50.push_back(w.p50_ms);
    if (w.count >= o.gates.min_window_count_tail) {
      b.window_p95.push_back(w.p95_ms);
      p99s.push_back(w.p99_ms);
    }
  }
  b.window_counts = counts_on_grid(s, g);
  b.p50_windows = stats::summarize(b.window_p50);
  b.p95_windows = stats::summarize(b.window_p95);
  b.error_rate_windows = stats::summarize(rates);
  b.rate_windows = stats::summarize(b.window_counts);
  if (s.overall) {
    b.p50_ms = s.overall->p50_ms;
    b.p95_ms = s.overall->p95_ms;
    b.p99_ms = s.overall->p99_ms;
  } else {
    if (!b.window_p50.empty()) b.p50_ms = b.p50_windows.median;
    if (!b.window_p95.empty()) { b.p95_ms = b.p95_windows.median; b.p99_ms = stats::median(p99s); }
  }
  b.latency = s.latency;
  assess_confidence(b, o);
  return b;
}

/// Merges several periods' series by handler (windows concatenated and sorted; windows with the
/// same start are summed, their quantiles count-weighted).
[[nodiscard]] inline std::vector<handler_series> merge_series(std::span<const telemetry_data> parts) {
  std::map<std::string, handler_series> by_name;
  for (const auto& part : parts)
    for (const auto& s : part.handlers) {
      auto& dst = by_name[s.handler];
      if (dst.handler.empty()) { dst.handler = s.handler; dst.sequence = s.sequence; dst.overall = s.overall; }
      else dst.overall.reset();  // overall quantiles of one part do not describe the union
      dst.latency.merge(s.latency);  // sketches merge exactly
      dst.windows.insert(dst.windows.end(), s.windows.begin(), s.windows.end());
    }
  std::vector<handler_series> out;
  out.reserve(by_name.size());
  for (auto& [name, s] : by_name) {
    std::sort(s.windows.begin(), s.windows.end(), [](const auto& a, const auto& b) { return a.start_ns < b.start_ns; });
    std::vector<window_point> merged;
    for (const auto& w : s.windows) {
      if (!merged.empty() && merged.back().start_ns == w.start_ns) {
        auto& m = merged.back();
        const double n1 = static_cast<double>(m.count), n2 = static_cast<double>(w.count);
        const double n = n1 + n2;
        if (n > 0) {
          m.p50_ms = (m.p50_ms * n1 + w.p50_ms * n2) / n;
          m.p95_ms = (m.p95_ms * n1 + w.p95_ms * n2) / n;
          m.p99_ms = (m.p99_ms * n1 + w.p99_ms * n2) / n;
        }
        m.count += w.count;
        m.errors += w.errors;
      } else {
        merged.push_back(w);
      }
    }
    s.windows = std::move(merged);
    out.push_back(std::move(s));
  }
  return out;
}

/// Builds a baseline from series (id and times are set by the caller / the sequence).
[[nodiscard]] inline baseline build_baseline(std::span<const handler_series> series, std::int64_t window_ns,
                                             std::span<const error_sample> errors = {},
                                             const baseline_options& o = {}) {
  baseline out;
  out.window_ns = window_ns;
  const window_grid g = active_grid_of(series, window_ns);
  out.period_windows = g.size;
  if (g.size) {
    out.from_ns = g.starts.front();
    out.until_ns = g.starts.back() + g.window_ns;
  }
  out.handlers.reserve(series.size());
  for (const auto& s : series) {
    out.handlers.push_back(baseline_of(s, g, o));
    out.total_samples += out.handlers.back().samples;
  }
  std::sort(out.handlers.begin(), out.handlers.end(),
            [](const auto& a, const auto& b) { return a.handler < b.handler; });
  out.errors.assign(errors.begin(), errors.end());
  return out;
}

/// Builds a baseline of a whole period: handlers, whole sequences (on the same window grid) and
/// the period's error messages.
[[nodiscard]] inline baseline build_baseline(const telemetry_data& data, const baseline_options& o = {}) {
  baseline out = build_baseline(data.handlers, data.window_ns, data.errors, o);
  const window_grid g = active_grid_of(data.handlers, data.window_ns);
  for (const auto& s : data.sequences) {
    auto b = baseline_of(s, g.size ? g : active_grid_of(data.sequences, data.window_ns), o);
    b.sequence = s.handler;
    out.sequences.push_back(std::move(b));
  }
  out.sort_handlers();
  return out;
}

}  // namespace selfheal::anomaly
