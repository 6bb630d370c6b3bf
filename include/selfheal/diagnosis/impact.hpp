#pragma once
/// \file
/// `assessImpact`: how much an anomaly matters — the handler's share of traffic, the sequences it
/// belongs to, the SLO error-budget burn when an objective is given, and a severity with reasons.
///
/// Severity rules (first that holds):
///   critical: budget burn ≥ 14.4 (the 1-hour fast-burn page of the SRE workbook), or a ×3 latency
///             ratio / error rate ≥ 10 % on ≥ 10 % of traffic;
///   high:     burn ≥ 6, or ratio ≥ 2, or error rate ≥ 5 %;
///   medium:   burn ≥ 1, or ratio ≥ 1.5, or error rate ≥ 1 %, or a behavioral anomaly;
///   low:      otherwise (coverage gaps start here and rise with traffic share ≥ 20 % to medium).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/symbols.hpp"

namespace selfheal::diagnosis {

[[nodiscard]] inline impact estimate_impact(const anomaly_input& a, const diagnosis_item& d, const codebase& cb) {
  impact im;
  im.traffic_share = a.total_count ? static_cast<double>(a.handler_count) / static_cast<double>(a.total_count) : 0.0;
  im.traffic_share = std::round(im.traffic_share * 10000.0) / 10000.0;
  if (!a.sequence.empty()) im.sequences.push_back(a.sequence);
  const std::string want = normalized_name(a.handler);
  for (const auto& s : cb.sequences)
    for (const auto& b : s.beats)
      if (!want.empty() && normalized_name(b.handler) == want) {
        const std::string id = s.id.empty() ? s.name : s.id;
        if (std::find(im.sequences.begin(), im.sequences.end(), id) == im.sequences.end()) im.sequences.push_back(id);
      }
  if (a.slo_target && *a.slo_target < 1.0 && *a.slo_target > 0.0) {
    im.slo_budget_burn = std::round(a.bad_fraction / (1.0 - *a.slo_target) * 100.0) / 100.0;
  }
  const double r50 = a.baseline_p50 > 0 ? a.current_p50 / a.baseline_p50 : 0;
  const double r95 = a.baseline_p95 > 0 ? a.current_p95 / a.baseline_p95 : 0;
  const double ratio = std::max(r50, r95);
  const double err_rate = a.handler_count ? static_cast<double>(a.error_count) / static_cast<double>(a.handler_count) : 0.0;
  auto pct = [](double v) { return std::to_string(static_cast<int>(std::lround(v * 100))) + "%"; };
  auto x = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "×%.2f", v);
    return std::string(b);
  };
  im.reasons.push_back("handles " + pct(im.traffic_share) + " of traffic");
  if (!im.sequences.empty()) im.reasons.push_back("in " + std::to_string(im.sequences.size()) + " sequence(s)");
  if (ratio > 0) im.reasons.push_back("latency " + x(ratio) + " the baseline");
  if (err_rate > 0) im.reasons.push_back("error rate " + pct(err_rate));
  if (im.slo_budget_burn > 0) im.reasons.push_back("error budget burning " + x(im.slo_budget_burn) + " the sustainable rate");
  const double burn = im.slo_budget_burn;
  const bool broad = im.traffic_share >= 0.10;
  if (burn >= 14.4 || (broad && (ratio >= 3.0 || err_rate >= 0.10))) im.severity = "critical";
  else if (burn >= 6 || ratio >= 2.0 || err_rate >= 0.05) im.severity = "high";
  else if (burn >= 1 || ratio >= 1.5 || err_rate >= 0.01 || d.type == "behavioral") im.severity = "medium";
  else im.severity = (d.type == "coverage" && im.traffic_share >= 0.20) ? "medium" : "low";
  return im;
}

}  // namespace selfheal::diagnosis
