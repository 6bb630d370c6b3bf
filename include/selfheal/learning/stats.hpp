#pragma once
/// \file
/// The statistics of learning.track, pure and deterministic:
/// - `bootstrap_median_difference`: the change median(after) − median(before) of two samples of
///   per-window latency quantiles with a percentile-bootstrap confidence interval. The generator is
///   SplitMix64 with a caller-given seed and the index mapping is our own, so the interval is the
///   same on every platform and standard library.
/// - `newcombe_difference`: the change of a proportion p_after − p_before (error rates) with
///   Newcombe's hybrid score interval (method 10: from the two Wilson intervals), which keeps its
///   coverage for rates near 0, where a Wald interval collapses.
/// - `beta_posterior`: the Beta posterior of a strategy's success rate (`posterior.hpp` updates it).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "selfheal/anomaly/stats.hpp"

namespace selfheal::learning {

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, the same everywhere.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) by Lemire's multiply-shift (bias below 2^-32 for the sample sizes here).
  std::size_t below(std::size_t n) noexcept {
    const unsigned __int128 m = static_cast<unsigned __int128>(next()) * static_cast<unsigned __int128>(n);
    return static_cast<std::size_t>(m >> 64);
  }

 private:
  std::uint64_t state_;
};

/// Median of a scratch buffer, reordering it (no copy: the bootstrap calls it 2 × resamples times).
[[nodiscard]] inline double median_in_place(std::vector<double>& v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)) + hi) / 2.0;
}

/// A change with its confidence interval.
struct change_interval {
  double before = 0, after = 0;
  double change = 0;          ///< after − before
  double ci_low = 0, ci_high = 0;
  std::size_t before_n = 0, after_n = 0;
};

/// median(after) − median(before) with a percentile-bootstrap interval at `confidence`, from
/// `resamples` paired resamples (each sample resampled with replacement). Either sample empty →
/// all zeros with n = 0.
[[nodiscard]] inline change_interval bootstrap_median_difference(std::span<const double> before, std::span<const double> after,
                                                                 std::uint64_t seed, std::size_t resamples = 2000,
                                                                 double confidence = 0.95) {
  change_interval r;
  r.before_n = before.size();
  r.after_n = after.size();
  if (before.empty() || after.empty()) return r;
  r.before = anomaly::stats::median(before);
  r.after = anomaly::stats::median(after);
  r.change = r.after - r.before;
  splitmix64 rng(seed);
  std::vector<double> diffs, a(after.size()), b(before.size());
  diffs.reserve(resamples);
  for (std::size_t i = 0; i < resamples; ++i) {
    for (auto& v : b) v = before[rng.below(before.size())];
    for (auto& v : a) v = after[rng.below(after.size())];
    diffs.push_back(median_in_place(a) - median_in_place(b));
  }
  std::sort(diffs.begin(), diffs.end());
  const double tail = (1.0 - confidence) / 2.0;
  r.ci_low = anomaly::stats::quantile(diffs, tail);
  r.ci_high = anomaly::stats::quantile(diffs, 1.0 - tail);
  return r;
}

/// Wilson score interval of x successes in n trials.
struct wilson_interval {
  double low = 0, high = 0;
};
[[nodiscard]] inline wilson_interval wilson(std::uint64_t x, std::uint64_t n, double z) {
  if (n == 0) return {0, 1};
  const double dn = static_cast<double>(n), p = static_cast<double>(x) / dn, z2 = z * z;
  const double centre = (p + z2 / (2 * dn)) / (1 + z2 / dn);
  const double half = z / (1 + z2 / dn) * std::sqrt(p * (1 - p) / dn + z2 / (4 * dn * dn));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

/// p_after − p_before with Newcombe's hybrid score interval at `confidence`.
[[nodiscard]] inline change_interval newcombe_difference(std::uint64_t x_before, std::uint64_t n_before,
                                                         std::uint64_t x_after, std::uint64_t n_after,
                                                         double confidence = 0.95) {
  change_interval r;
  r.before_n = static_cast<std::size_t>(n_before);
  r.after_n = static_cast<std::size_t>(n_after);
  if (n_before == 0 || n_after == 0) return r;
  const double z = anomaly::stats::normal_quantile(1.0 - (1.0 - confidence) / 2.0);
  r.before = static_cast<double>(x_before) / static_cast<double>(n_before);
  r.after = static_cast<double>(x_after) / static_cast<double>(n_after);
  r.change = r.after - r.before;
  const auto w1 = wilson(x_before, n_before, z), w2 = wilson(x_after, n_after, z);
  r.ci_low = r.change - std::sqrt((r.after - w2.low) * (r.after - w2.low) + (w1.high - r.before) * (w1.high - r.before));
  r.ci_high = r.change + std::sqrt((w2.high - r.after) * (w2.high - r.after) + (r.before - w1.low) * (r.before - w1.low));
  return r;
}

}  // namespace selfheal::learning
