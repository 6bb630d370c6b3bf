#pragma once
/// \file
/// Before vs after, pure: the metrics of a deployment (beat 4), what improved (beat 5), the outcome
/// (beat 6) and the refreshed baseline (part of beat 7).
///
/// **Metrics.** Every metric the deploy's judge used (`<handler>.p50_ms`, `.p95_ms`, `.error_rate`),
/// and always the three of the healed handler. Latency: the samples are per-window quantiles (the
/// baseline's `window_p50`/`window_p95`; the post-deploy windows with at least `min_window_count`
/// calls for p50, `min_window_count_tail` for p95, the baseline's own gates); `before` and `after`
/// are their medians, `change` = after − before with a seeded percentile-bootstrap interval. Error
/// rate: errors / calls of the baseline and of the post-deploy period, with Newcombe's interval.
/// `during` is the same statistic over the anomalous period (onset → deploy) when telemetry has it.
///
/// **Normal range.** The top of the baseline's normal range is median + 3·σ with σ = 1.4826·MAD of
/// the per-window values, at least 5 % of the median (latency); the baseline rate plus the larger of
/// `min_error_increase` and three binomial standard errors of the post-deploy rate (error rate).
///
/// **Improvement.** better: significantly below the anomalous period (one-sided Mann-Whitney of the
/// windows, or a two-proportion test, at 1 − confidence); worse: the interval of the change lies
/// above 0 *and* after > before × `allowed_increase` *and* the change is at least `min_effect_ms`
/// (latency) or `min_error_increase` (error rate) — the judge's rule of "High".
///
/// **Outcome.** Rolled back → failure. Otherwise the anomaly's own metric decides (latency shift →
/// p50, tail → p95, error and SLO anomalies → error rate): success when it is back within the normal
/// range and no metric got worse; partial when it is better (or back, but another metric got worse);
/// failure otherwise. An anomaly without such a metric (behavioral, coverage) is a success when no
/// metric got worse.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/baseline.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/stats.hpp"
#include "selfheal/learning/model.hpp"
#include "selfheal/learning/stats.hpp"

namespace selfheal::learning {

inline constexpr std::string_view stat_names[] = {"p50_ms", "p95_ms", "error_rate"};

/// Splits "<handler>.<stat>" (handler names may hold dots); nullopt when the suffix is unknown.
[[nodiscard]] inline std::optional<std::pair<std::string, std::string>> split_metric(std::string_view name) {
  for (auto stat : stat_names) {
    if (name.size() > stat.size() + 1 && name.substr(name.size() - stat.size()) == stat &&
        name[name.size() - stat.size() - 1] == '.')
      return std::pair{std::string(name.substr(0, name.size() - stat.size() - 1)), std::string(stat)};
  }
  return std::nullopt;
}

/// The metric that says whether the anomaly itself is gone ("" when its kind has none).
[[nodiscard]] inline std::string primary_metric(const answered_anomaly& a) {
  const std::string subject = a.handler.empty() ? a.sequence : a.handler;
  if (subject.empty()) return {};
  if (a.kind == "latency_shift") return subject + ".p50_ms";
  if (a.kind == "latency_tail") return subject + ".p95_ms";
  if (a.type == "error" || a.type == "slo") return subject + ".error_rate";
  return {};
}

/// The metric names to compare: the judge's, then the healed handler's three, without repeats.
[[nodiscard]] inline std::vector<std::pair<std::string, bool>> metric_names(const deployment::record& d, const answered_anomaly& a) {
  std::vector<std::pair<std::string, bool>> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& st : d.stages)
    for (const auto& m : st.metrics)
      if (split_metric(m.name) && seen.insert(m.name).second) out.emplace_back(m.name, true);
  const std::string subject = !a.handler.empty() ? a.handler : !a.sequence.empty() ? a.sequence : d.handler;
  if (!subject.empty())
    for (auto stat : stat_names) {
      std::string n = subject + "." + std::string(stat);
      if (seen.insert(n).second) out.emplace_back(std::move(n), false);
    }
  return out;
}

namespace detail {
inline const anomaly::handler_series* find_series(const anomaly::telemetry_data& d, std::string_view name) {
  for (const auto& s : d.handlers)
    if (s.handler == name) return &s;
  for (const auto& s : d.sequences)
    if (s.handler == name) return &s;
  return nullptr;
}
inline const anomaly::handler_baseline* find_baseline(const anomaly::baseline& b, std::string_view name) {
  if (const auto* h = b.find(name)) return h;
  return b.find_sequence(name);
}
/// Per-window quantiles of a series under the baseline's gates.
inline std::vector<double> window_values(const anomaly::handler_series* s, bool tail, const anomaly::sample_gates& g = {}) {
  std::vector<double> out;
  if (!s) return out;
  for (const auto& w : s->windows) {
    if (!(w.p50_ms > 0)) continue;
    if (w.count < (tail ? g.min_window_count_tail : g.min_window_count)) continue;
    out.push_back(tail ? w.p95_ms : w.p50_ms);
  }
  return out;
}
/// A stable seed per metric, so that adding a metric does not move another's interval.
inline std::uint64_t seed_for(std::uint64_t seed, std::string_view name) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : name) { h ^= static_cast<unsigned char>(c); h *= 1099511628211ULL; }
  return seed ^ h;
}
}  // namespace detail

/// One metric before (baseline) and after (post-deploy), with `during` from the anomalous period.
[[nodiscard]] inline metric_change compare_metric(std::string_view name, bool from_judge, const anomaly::baseline& base,
                                                  const anomaly::telemetry_data& after, const anomaly::telemetry_data& during,
                                                  const track_request& o) {
  metric_change m;
  m.name = std::string(name);
  m.from_judge = from_judge;
  auto parts = split_metric(name);
  if (!parts) return m;
  m.handler = parts->first;
  m.stat = parts->second;
  const auto* b = detail::find_baseline(base, m.handler);
  const auto* a = detail::find_series(after, m.handler);
  const auto* d = detail::find_series(during, m.handler);
  if (!b || !a) return m;
  if (m.stat == "error_rate") {
    const auto ci = newcombe_difference(b->errors, b->samples, a->total_errors(), a->total_count(), o.confidence);
    if (ci.before_n == 0 || ci.after_n == 0) return m;
    m.before = ci.before;
    m.after = ci.after;
    m.change = ci.change;
    m.ci_low = ci.ci_low;
    m.ci_high = ci.ci_high;
    m.before_n = ci.before_n;
    m.after_n = ci.after_n;
    const double se = std::sqrt(std::max(m.before * (1 - m.before), 1e-12) / static_cast<double>(m.after_n));
    m.normal_high = m.before + std::max(o.min_error_increase, 3 * se);
    if (d && d->total_count()) m.during = static_cast<double>(d->total_errors()) / static_cast<double>(d->total_count());
    m.has_data = true;
    return m;
  }
  const bool tail = m.stat == "p95_ms";
  const std::vector<double>& before = tail ? b->window_p95 : b->window_p50;
  const auto after_v = detail::window_values(a, tail);
  if (before.empty() || after_v.empty()) return m;
  const auto ci = bootstrap_median_difference(before, after_v, detail::seed_for(o.seed, name), o.resamples, o.confidence);
  m.before = ci.before;
  m.after = ci.after;
  m.change = ci.change;
  m.ci_low = ci.ci_low;
  m.ci_high = ci.ci_high;
  m.before_n = ci.before_n;
  m.after_n = ci.after_n;
  const double sigma = std::max(anomaly::stats::mad_sigma(before), 0.05 * m.before);
  m.normal_high = m.before + 3 * sigma;
  const auto during_v = detail::window_values(d, tail);
  if (!during_v.empty()) m.during = anomaly::stats::median(during_v);
  m.has_data = true;
  return m;
}

/// Beat 5's judgement of one metric (`after` and `during` series again for the significance tests).
[[nodiscard]] inline metric_improvement improvement_of(const metric_change& m, const anomaly::telemetry_data& after,
                                                       const anomaly::telemetry_data& during, const track_request& o) {
  metric_improvement r;
  r.name = m.name;
  if (!m.has_data) return r;
  r.relative_change = m.before != 0 ? m.change / m.before : 0.0;
  if (m.during && *m.during > m.before) r.recovered = (*m.during - m.after) / (*m.during - m.before);
  r.within_normal = m.after <= m.normal_high;
  const double alpha = 1.0 - o.confidence;
  const auto* a = detail::find_series(after, m.handler);
  const auto* d = detail::find_series(during, m.handler);
  if (m.stat == "error_rate") {
    r.worse = m.ci_low > 0 && m.change >= o.min_error_increase;
    if (a && d && d->total_count() && a->total_count()) {
      const auto t = anomaly::stats::two_proportion_z(a->total_errors(), a->total_count(), d->total_errors(), d->total_count());
      r.better = t.p_greater < alpha;
    }
  } else {
    r.worse = m.ci_low > 0 && m.after > m.before * o.allowed_increase && m.change >= o.min_effect_ms;
    const bool tail = m.stat == "p95_ms";
    const auto av = detail::window_values(a, tail), dv = detail::window_values(d, tail);
    if (!av.empty() && !dv.empty()) r.better = anomaly::stats::mann_whitney_u(av, dv).p_less < alpha;
  }
  return r;
}

/// Beat 6: the outcome and the reasons for it.
struct assessment {
  learning::outcome result = outcome::failure;
  std::vector<std::string> reasons;
};

namespace detail {
inline std::string num(double v, int precision = 3) {
  return fmt::format("{:.{}g}", v, precision);
}
inline std::string describe(const metric_change& m) {
  const bool rate = m.stat == "error_rate";
  const auto show = [&](double v) { return rate ? num(v * 100) + "%" : num(v) + " ms"; };
  std::string s = m.name + " " + show(m.before) + " -> " + show(m.after) + " (change " + (m.change > 0 ? "+" : "") +
                  (rate ? num(m.change * 100) + " points" : num(m.change) + " ms") + ", CI [" +
                  (rate ? num(m.ci_low * 100) + ", " + num(m.ci_high * 100) : num(m.ci_low) + ", " + num(m.ci_high)) + "])";
  if (m.during) s += ", " + show(*m.during) + " during the anomaly";
  return s;
}
}  // namespace detail

[[nodiscard]] inline assessment assess(const deployment::record& d, const answered_anomaly& a,
                                       const std::vector<metric_change>& metrics, const std::vector<metric_improvement>& imps) {
  assessment out;
  if (d.status == "rolled_back") {
    out.result = outcome::failure;
    out.reasons.push_back("rolled back" + (d.rolled_back && !d.rolled_back->reason.empty() ? ": " + d.rolled_back->reason : std::string{}));
    return out;
  }
  std::vector<std::string> worse;
  for (std::size_t i = 0; i < metrics.size(); ++i)
    if (imps[i].worse) worse.push_back(detail::describe(metrics[i]));
  const std::string primary = primary_metric(a);
  const metric_change* pm = nullptr;
  const metric_improvement* pi = nullptr;
  for (std::size_t i = 0; i < metrics.size(); ++i)
    if (metrics[i].name == primary && metrics[i].has_data) { pm = &metrics[i]; pi = &imps[i]; }
  for (const auto& w : worse) out.reasons.push_back("worse: " + w);
  if (primary.empty() || !pm) {
    out.result = worse.empty() ? outcome::success : outcome::failure;
    out.reasons.insert(out.reasons.begin(), primary.empty() ? "a " + a.kind + " anomaly has no metric of its own: judged by whether anything got worse"
                                                            : "no post-deploy data for " + primary + ": judged by whether anything got worse");
    return out;
  }
  const std::string desc = detail::describe(*pm);
  if (pi->within_normal && worse.empty()) {
    out.result = outcome::success;
    out.reasons.insert(out.reasons.begin(), "back within the baseline's normal range (<= " + detail::num(pm->normal_high) + "): " + desc);
  } else if (pi->within_normal) {
    out.result = outcome::partial;
    out.reasons.insert(out.reasons.begin(), "back within the baseline's normal range, but another metric got worse: " + desc);
  } else if (pi->better) {
    out.result = outcome::partial;
    out.reasons.insert(out.reasons.begin(), "better than during the anomaly but not back within the normal range (<= " +
                                                detail::num(pm->normal_high) + "): " + desc);
  } else {
    out.result = outcome::failure;
    out.reasons.insert(out.reasons.begin(), "not better than during the anomaly: " + desc);
  }
  return out;
}

/// A baseline of the old baseline's period plus the healthy post-fix period (beat 7, on success).
[[nodiscard]] inline anomaly::baseline refreshed_baseline(const anomaly::telemetry_data& old_period, const anomaly::telemetry_data& after,
                                                          std::vector<std::string> records, std::int64_t created_ns) {
  const anomaly::telemetry_data parts[] = {old_period, after};
  anomaly::telemetry_data merged;
  merged.window_ns = old_period.window_ns;
  merged.handlers = anomaly::merge_series(parts);
  anomaly::telemetry_data seq_parts[2];
  for (std::size_t i = 0; i < 2; ++i) seq_parts[i].handlers = parts[i].sequences;
  merged.sequences = anomaly::merge_series(seq_parts);
  for (auto& s : merged.sequences) s.sequence = s.handler;
  merged.errors = old_period.errors;
  merged.errors.insert(merged.errors.end(), after.errors.begin(), after.errors.end());
  anomaly::baseline b = anomaly::build_baseline(merged);
  b.records = std::move(records);
  b.created_ns = created_ns;
  return b;
}

}  // namespace selfheal::learning
