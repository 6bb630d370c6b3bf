#pragma once
/// \file
/// `assessImpact`: how much an anomaly matters — the handler's share of traffic, the sequences it
/// belongs to, the SLO error-budget burn when an objective is given, and a severity with reasons.
///
/// Severity: one scale with anomaly.detect (`anomaly::severity`). The level detect gave the anomaly
/// is the level reported (`anomaly_input::severity`). An anomaly given without one (a host's own
/// input) is rated by the detectors' own rules, the highest that applies:
///   latency ratio (max of p50, p95): `anomaly::severity_from_ratio` (≥ 3 critical, ≥ 2 high, ≥ 1.5 medium);
///   error rate:  ≥ 25 % critical, ≥ 10 % high, ≥ 3 % medium (the error-rate detector's);
///   SLO burn:    ≥ 14.4 critical, ≥ 6 high, ≥ 3 medium (slo.hpp's multiwindow table);
///   behavioral:  medium; coverage: low, medium on ≥ 20 % of traffic.

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/diagnosis/symbols.hpp"

namespace selfheal::diagnosis {

/// The `anomaly::severity` named `s` ("low", "medium", "high", "critical"), if it is one.
[[nodiscard]] inline std::optional<anomaly::severity> parse_severity(std::string_view s) {
  for (const auto v : {anomaly::severity::low, anomaly::severity::medium, anomaly::severity::high, anomaly::severity::critical})
    if (anomaly::to_string(v) == s) return v;
  return std::nullopt;
}

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
  auto x = [](double v) { return fmt::format("×{:.2f}", v); };
  im.reasons.push_back("handles " + pct(im.traffic_share) + " of traffic");
  if (!im.sequences.empty()) im.reasons.push_back("in " + std::to_string(im.sequences.size()) + " sequence(s)");
  if (ratio > 0) im.reasons.push_back("latency " + x(ratio) + " the baseline");
  if (err_rate > 0) im.reasons.push_back("error rate " + pct(err_rate));
  if (im.slo_budget_burn > 0) im.reasons.push_back("error budget burning " + x(im.slo_budget_burn) + " the sustainable rate");
  const double burn = im.slo_budget_burn;
  if (const auto detected = parse_severity(a.severity)) {
    im.severity = std::string(anomaly::to_string(*detected));
    im.reasons.push_back("severity " + im.severity + " as anomaly.detect rated it");
    return im;
  }
  using anomaly::severity;
  auto level = anomaly::severity_from_ratio(ratio);
  const auto by_errors = err_rate >= 0.25 ? severity::critical : err_rate >= 0.10 ? severity::high
                         : err_rate >= 0.03 ? severity::medium : severity::low;
  const auto by_burn = burn >= 14.4 ? severity::critical : burn >= 6 ? severity::high : burn >= 3 ? severity::medium : severity::low;
  level = std::max({level, by_errors, by_burn});
  if (d.type == "behavioral") level = std::max(level, severity::medium);
  if (d.type == "coverage" && im.traffic_share >= 0.20) level = std::max(level, severity::medium);
  im.severity = std::string(anomaly::to_string(level));
  return im;
}

}  // namespace selfheal::diagnosis
