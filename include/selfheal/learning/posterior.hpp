#pragma once
/// \file
/// A Beta posterior of the success rate of one fix strategy for one anomaly type, and its update.
///
/// **Prior.** The first time a pair (anomaly type, strategy) is learned from, its prior is the
/// success rate diagnosis ranked with until then (`diagnosis::strategy_priors`: the documented
/// defaults, or an earlier posterior), as the flattest Beta with that mean that has no pole at 0 or
/// 1: with m clamped to [0.05, 0.95], k = max(2, 1 / min(m, 1 − m)), α₀ = m·k, β₀ = (1 − m)·k (so
/// α₀, β₀ ≥ 1; m = 0.5 gives the uniform Beta(1, 1); 0.85 gives Beta(5.67, 1)). A prior worth a
/// handful of observations, so that a few real outcomes move the ranking.
///
/// **Update.** success: α += 1; failure: β += 1; partial: α += ½, β += ½ (half a success). The mean
/// is α / (α + β).
///
/// **Where diagnosis reads it.** `learning_strategy_priors(anomaly_type, strategy, successes,
/// failures, …)` is the table `diagnosis::load_priors` already reads with the mean (s + 1) / (s + f
/// + 2). learning stores s = α − 1 and f = β − 1 (≥ 0 by the choice of prior), so diagnosis ranks
/// with exactly this posterior's mean; the α and β columns hold the same numbers plainly.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace selfheal::learning {

enum class outcome : std::uint8_t { success, partial, failure };

[[nodiscard]] constexpr std::string_view to_string(outcome o) noexcept {
  switch (o) {
    case outcome::success: return "success";
    case outcome::partial: return "partial";
    case outcome::failure: return "failure";
  }
  return "failure";
}

struct beta_posterior {
  std::string anomaly_type;
  std::string strategy;
  double alpha = 1, beta = 1;
  double prior_mean = 0.5;       ///< the rate it started from
  std::uint64_t observations = 0;  ///< outcomes learned into it

  [[nodiscard]] double mean() const noexcept { return alpha / (alpha + beta); }
};

/// The prior for a pair whose current rate is `mean` (see the file comment).
[[nodiscard]] inline beta_posterior prior_from_rate(std::string anomaly_type, std::string strategy, double mean) {
  const double m = std::clamp(mean, 0.05, 0.95);
  const double k = std::max(2.0, 1.0 / std::min(m, 1.0 - m));
  beta_posterior p;
  p.anomaly_type = std::move(anomaly_type);
  p.strategy = std::move(strategy);
  p.alpha = m * k;
  p.beta = (1.0 - m) * k;
  p.prior_mean = m;
  return p;
}

/// The posterior after one more outcome.
[[nodiscard]] inline beta_posterior updated(beta_posterior p, outcome o) noexcept {
  switch (o) {
    case outcome::success: p.alpha += 1.0; break;
    case outcome::failure: p.beta += 1.0; break;
    case outcome::partial: p.alpha += 0.5; p.beta += 0.5; break;
  }
  ++p.observations;
  return p;
}

}  // namespace selfheal::learning
