#pragma once
/// \file
/// generateInsights, pure: plain statements with their numbers, from every outcome learned so far
/// (this one included) and every detection in the store.
///
/// - `this_fix`: the outcome and the anomaly's metric before, during and after;
/// - `strategy_success`: per (anomaly type, strategy), how many fixes succeeded, were partial, failed,
///   with the posterior mean diagnosis now ranks with;
/// - `time_to_heal`: the mean time from an anomaly's onset (event time) to the verified deploy of a
///   successful or partial fix;
/// - `repeat_regressions`: handlers that regressed in two or more detections;
/// - `coverage`: how often handlers with a coverage gap regressed, against those without one.

#include <algorithm>
#include <array>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "selfheal/learning/compare.hpp"
#include "selfheal/learning/model.hpp"
#include "selfheal/learning/posterior.hpp"

namespace selfheal::learning {

namespace detail {
inline std::string pct(double part, double whole) {
  return fmt::format("{:.0f}%", whole > 0 ? 100.0 * part / whole : 0.0);
}
inline std::string duration_text(double s) {
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.1f} h", s / 3600);
}
}  // namespace detail

/// The insights after learning `now` (its outcome included in `history` by the caller or not: pass
/// `history` without it and `now` separately).
[[nodiscard]] inline std::vector<insight> build_insights(const past_outcome& now, const std::vector<past_outcome>& history,
                                                            const std::vector<metric_change>& metrics, const std::string& primary,
                                                            std::span<const beta_posterior> posteriors,
                                                            const std::vector<handler_history>& handlers) {
  std::vector<insight> out;
  {  // this fix
    std::string t = now.strategy + " for the " + now.anomaly_type + " anomaly on " + now.handler + ": " + std::string(to_string(now.result));
    for (const auto& m : metrics)
      if (m.name == primary && m.has_data) t += "; " + detail::describe(m);
    out.push_back({"this_fix", std::move(t)});
  }
  std::vector<past_outcome> all = history;
  all.push_back(now);
  {  // strategies per anomaly type
    std::map<std::pair<std::string, std::string>, std::array<std::size_t, 3>> counts;
    for (const auto& p : all) ++counts[{p.anomaly_type, p.strategy}][static_cast<std::size_t>(p.result)];
    for (const auto& [key, c] : counts) {
      const std::size_t n = c[0] + c[1] + c[2];
      std::string t = key.second + " healed " + std::to_string(c[0]) + " of " + std::to_string(n) + " " + key.first +
                      " anomalies (" + detail::pct(static_cast<double>(c[0]), static_cast<double>(n)) + "; " +
                      std::to_string(c[1]) + " partial, " + std::to_string(c[2]) + " failed)";
      for (const auto& p : posteriors)
        if (p.anomaly_type == key.first && p.strategy == key.second)
          t += "; diagnosis now ranks it with a success rate of " + detail::num(p.mean(), 2) + " (Beta(" + detail::num(p.alpha) +
               ", " + detail::num(p.beta) + "), from " + detail::num(p.prior_mean, 2) + ")";
      out.push_back({"strategy_success", std::move(t)});
    }
  }
  {  // time to heal
    double sum = 0;
    std::size_t n = 0;
    for (const auto& p : all)
      if (p.result != outcome::failure && p.time_to_heal_s >= 0) { sum += p.time_to_heal_s; ++n; }
    if (n)
      out.push_back({"time_to_heal", "mean time to heal " + detail::duration_text(sum / static_cast<double>(n)) + " over " +
                                         std::to_string(n) + " fix(es) that worked (anomaly onset to verified deploy)"});
  }
  {  // handlers that regress repeatedly
    std::vector<const handler_history*> repeat;
    for (const auto& h : handlers)
      if (h.regressions >= 2) repeat.push_back(&h);
    std::sort(repeat.begin(), repeat.end(), [](const auto* a, const auto* b) {
      return std::tie(b->regressions, a->handler) < std::tie(a->regressions, b->handler);
    });
    for (std::size_t i = 0; i < repeat.size() && i < 5; ++i) {
      std::size_t fixes = 0, failed = 0;
      for (const auto& p : all)
        if (p.handler == repeat[i]->handler) { ++fixes; failed += p.result == outcome::failure ? 1u : 0u; }
      out.push_back({"repeat_regressions", repeat[i]->handler + " regressed in " + std::to_string(repeat[i]->regressions) +
                                               " detections (" + std::to_string(fixes) + " fix(es) learned from, " +
                                               std::to_string(failed) + " failed)"});
    }
  }
  {  // coverage gaps vs regressions
    std::size_t gap = 0, gap_reg = 0, nogap = 0, nogap_reg = 0;
    for (const auto& h : handlers) {
      if (h.coverage_gap) { ++gap; gap_reg += h.regressions ? 1u : 0u; }
      else { ++nogap; nogap_reg += h.regressions ? 1u : 0u; }
    }
    if (gap)
      out.push_back({"coverage", std::to_string(gap_reg) + " of " + std::to_string(gap) + " handlers with a coverage gap regressed (" +
                                     detail::pct(static_cast<double>(gap_reg), static_cast<double>(gap)) + "), against " +
                                     std::to_string(nogap_reg) + " of " + std::to_string(nogap) + " without one (" +
                                     detail::pct(static_cast<double>(nogap_reg), static_cast<double>(nogap)) + ")"});
  }
  return out;
}

}  // namespace selfheal::learning
