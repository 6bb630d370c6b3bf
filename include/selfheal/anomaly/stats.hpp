#pragma once
/// \file
/// The statistics the detectors stand on, written out so each can be checked by hand:
/// median and MAD, normal CDF/quantile, Mann-Whitney U (normal approximation, tie and continuity
/// corrections; on plain samples or on grouped samples such as a sketch's bins), the Hodges-Lehmann
/// shift estimate, the pooled two-proportion z-test, Poisson tail probabilities, and a one-sided
/// CUSUM change-point with onset. All functions are pure and allocation-light. Nothing here
/// depends on the rest of selfheal: the canary judge of deployment uses the same tests.
///
/// \code
/// namespace st = selfheal::anomaly::stats;
/// const auto mw = st::mann_whitney_u(canary_ms, baseline_ms);   // mw.p_two_sided, mw.p_greater
/// const double shift_ms = st::hodges_lehmann(canary_ms, baseline_ms);  // median of canary_i - baseline_j
/// \endcode

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

namespace selfheal::anomaly::stats {

/// Median of `xs` (mean of the two middle values for an even count); NaN when empty.
[[nodiscard]] inline double median(std::span<const double> xs) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v(xs.begin(), xs.end());
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo + hi) / 2.0;
}

/// Median absolute deviation from the median (unscaled); NaN when empty.
[[nodiscard]] inline double mad(std::span<const double> xs) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double m = median(xs);
  std::vector<double> d;
  d.reserve(xs.size());
  for (double x : xs) d.push_back(std::fabs(x - m));
  return median(d);
}

/// MAD scaled to estimate a normal standard deviation (× 1.4826).
[[nodiscard]] inline double mad_sigma(std::span<const double> xs) { return 1.482602218505602 * mad(xs); }

/// Median and MAD together: the robust centre and spread of a series.
struct robust_summary {
  double median = 0;
  double mad = 0;
  std::size_t n = 0;
};
[[nodiscard]] inline robust_summary summarize(std::span<const double> xs) {
  if (xs.empty()) return {};
  return {median(xs), mad(xs), xs.size()};
}

/// Arithmetic mean; NaN when empty.
[[nodiscard]] inline double mean(std::span<const double> xs) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
}

/// Standard normal CDF Φ(z).
[[nodiscard]] inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
/// Upper tail 1 - Φ(z), accurate far into the tail.
[[nodiscard]] inline double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

/// Inverse standard normal CDF (Acklam's rational approximation refined by one Halley step;
/// |error| < 1e-12). p outside (0,1) gives ∓infinity.
[[nodiscard]] inline double normal_quantile(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  const double plow = 0.02425;
  double x = 0;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - plow) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2 * 3.14159265358979323846) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

/// Result of a Mann-Whitney U test of `x` against `y`.
struct mann_whitney_result {
  double u_x = 0;          ///< U statistic of x: number of (x_i, y_j) pairs with x_i > y_j (ties ½)
  double u_y = 0;          ///< n_x·n_y − u_x
  double z = 0;            ///< normal approximation for "x tends to exceed y" (tie- and continuity-corrected)
  double p_greater = 1;    ///< one-sided p-value, H1: x stochastically greater than y
  double p_less = 1;       ///< one-sided p-value, H1: x stochastically smaller than y
  double p_two_sided = 1;  ///< two-sided p-value
  /// Common-language effect size: P(X > Y) + ½ P(X = Y) = u_x / (n_x n_y).
  double effect = 0.5;
};

/// Mann-Whitney U with average ranks for ties, the tie correction of the variance
/// σ² = n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))) and a ½ continuity correction.
/// Either sample empty → the neutral result (p = 1).
[[nodiscard]] inline mann_whitney_result mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  mann_whitney_result r;
  const std::size_t nx = x.size(), ny = y.size();
  if (nx == 0 || ny == 0) return r;
  struct item { double v; bool from_x; };
  std::vector<item> all;
  all.reserve(nx + ny);
  for (double v : x) all.push_back({v, true});
  for (double v : y) all.push_back({v, false});
  std::sort(all.begin(), all.end(), [](const item& a, const item& b) { return a.v < b.v; });
  const std::size_t n = all.size();
  double rank_sum_x = 0, tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].v == all[i].v) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].from_x) rank_sum_x += avg_rank;
    i = j;
  }
  const double dnx = static_cast<double>(nx), dny = static_cast<double>(ny), dn = static_cast<double>(n);
  r.u_x = rank_sum_x - dnx * (dnx + 1) / 2.0;
  r.u_y = dnx * dny - r.u_x;
  r.effect = r.u_x / (dnx * dny);
  const double mu = dnx * dny / 2.0;
  const double var = dnx * dny / 12.0 * ((dn + 1) - (dn > 1 ? tie_term / (dn * (dn - 1)) : 0.0));
  if (var <= 0) return r;  // all values tied: no evidence either way
  const double sd = std::sqrt(var);
  const double diff = r.u_x - mu;
  const double zg = (diff - 0.5) / sd;  // H1: x greater
  const double zl = (diff + 0.5) / sd;  // H1: x smaller
  r.z = diff > 0 ? std::max(0.0, diff - 0.5) / sd : std::min(0.0, diff + 0.5) / sd;
  r.p_greater = normal_sf(zg);
  r.p_less = normal_cdf(zl);
  r.p_two_sided = std::min(1.0, 2 * normal_sf(std::fabs(r.z)));
  return r;
}

/// One distinct value and how many samples hold it: a sketch bin (its representative value and
/// count), or a run of equal samples.
struct weighted_value {
  double value = 0;
  std::uint64_t count = 0;
};

namespace detail {
/// Sorted by value, equal values merged, zero counts and NaN dropped.
inline std::vector<weighted_value> normalized(std::span<const weighted_value> xs) {
  std::vector<weighted_value> v;
  v.reserve(xs.size());
  for (const auto& x : xs)
    if (x.count > 0 && !std::isnan(x.value)) v.push_back(x);
  std::sort(v.begin(), v.end(), [](const weighted_value& a, const weighted_value& b) { return a.value < b.value; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (out > 0 && v[out - 1].value == v[i].value) v[out - 1].count += v[i].count;
    else v[out++] = v[i];
  }
  v.resize(out);
  return v;
}
inline std::vector<weighted_value> unit_weights(std::span<const double> xs) {
  std::vector<weighted_value> v;
  v.reserve(xs.size());
  for (double x : xs) v.push_back({x, 1});
  return normalized(v);
}
/// A total order of doubles as integers (−0 and +0 both 0), for bisection on the bit pattern.
inline std::int64_t ordered_key(double d) noexcept {
  const auto bits = std::bit_cast<std::int64_t>(d);
  return bits >= 0 ? bits : -(bits & std::numeric_limits<std::int64_t>::max());
}
inline double from_ordered_key(std::int64_t k) noexcept {
  if (k >= 0) return std::bit_cast<double>(k);
  return std::bit_cast<double>((-k) | std::numeric_limits<std::int64_t>::min());
}
/// Weight of the pairs (i, j) with x_i − y_j ≤ d (x and y sorted ascending).
inline std::uint64_t pairs_at_most(std::span<const weighted_value> x, std::span<const weighted_value> y, double d) {
  std::uint64_t total = 0, prefix = 0;
  std::size_t i = 0;
  for (const auto& yj : y) {
    while (i < x.size() && x[i].value - yj.value <= d) prefix += x[i++].count;
    total += prefix * yj.count;
  }
  return total;
}
/// The k-th smallest (1-based, by weight) of the differences x_i − y_j: a bisection over the
/// doubles' bit patterns, so at most 64 passes of O(|x| + |y|) each, and the answer is exact.
inline double kth_difference(std::span<const weighted_value> x, std::span<const weighted_value> y, std::uint64_t k) {
  std::int64_t lo = ordered_key(x.front().value - y.back().value) - 1;  // fewer than k pairs at or below
  std::int64_t hi = ordered_key(x.back().value - y.front().value);      // every pair at or below
  for (;;) {
    // unsigned: the keys of two far-apart doubles differ by more than INT64_MAX
    const std::uint64_t gap = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (gap <= 1) break;
    const auto mid = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + gap / 2);
    if (pairs_at_most(x, y, from_ordered_key(mid)) >= k) hi = mid;
    else lo = mid;
  }
  return from_ordered_key(hi);
}
}  // namespace detail

/// Mann-Whitney U on grouped samples: each `weighted_value` is `count` samples equal to `value`
/// (so a bin is one tie group). Exactly the plain test on the expanded samples, in
/// O((|x| + |y|) log) whatever the counts: the way to compare two quantile sketches' bins.
[[nodiscard]] inline mann_whitney_result mann_whitney_u(std::span<const weighted_value> x,
                                                        std::span<const weighted_value> y) {
  mann_whitney_result r;
  const auto xs = detail::normalized(x), ys = detail::normalized(y);
  double nx = 0, ny = 0;
  for (const auto& v : xs) nx += static_cast<double>(v.count);
  for (const auto& v : ys) ny += static_cast<double>(v.count);
  if (nx == 0 || ny == 0) return r;
  const double n = nx + ny;
  double below = 0, rank_sum_x = 0, tie_term = 0;
  std::size_t i = 0, j = 0;
  while (i < xs.size() || j < ys.size()) {
    const double v = j >= ys.size() || (i < xs.size() && xs[i].value <= ys[j].value) ? xs[i].value : ys[j].value;
    double cx = 0, cy = 0;
    if (i < xs.size() && xs[i].value == v) cx = static_cast<double>(xs[i++].count);
    if (j < ys.size() && ys[j].value == v) cy = static_cast<double>(ys[j++].count);
    const double t = cx + cy;
    const double avg_rank = below + (t + 1) / 2.0;
    rank_sum_x += cx * avg_rank;
    tie_term += t * t * t - t;
    below += t;
  }
  r.u_x = rank_sum_x - nx * (nx + 1) / 2.0;
  r.u_y = nx * ny - r.u_x;
  r.effect = r.u_x / (nx * ny);
  const double mu = nx * ny / 2.0;
  const double var = nx * ny / 12.0 * ((n + 1) - (n > 1 ? tie_term / (n * (n - 1)) : 0.0));
  if (var <= 0) return r;
  const double sd = std::sqrt(var);
  const double diff = r.u_x - mu;
  r.z = diff > 0 ? std::max(0.0, diff - 0.5) / sd : std::min(0.0, diff + 0.5) / sd;
  r.p_greater = normal_sf((diff - 0.5) / sd);
  r.p_less = normal_cdf((diff + 0.5) / sd);
  r.p_two_sided = std::min(1.0, 2 * normal_sf(std::fabs(r.z)));
  return r;
}

/// The k-th smallest (1-based, by weight) of all differences x_i − y_j on grouped samples: exact,
/// O((|x| + |y|) · 64) time. `hodges_lehmann` takes the middle rank; a confidence interval for the
/// shift takes two others (deployment's canary judge). NaN when a side is empty or k is out of range.
[[nodiscard]] inline double kth_difference(std::span<const weighted_value> x, std::span<const weighted_value> y, std::uint64_t k) {
  const auto xs = detail::normalized(x), ys = detail::normalized(y);
  std::uint64_t nx = 0, ny = 0;
  for (const auto& v : xs) nx += v.count;
  for (const auto& v : ys) ny += v.count;
  if (nx == 0 || ny == 0 || k == 0 || k > nx * ny) return std::numeric_limits<double>::quiet_NaN();
  return detail::kth_difference(xs, ys, k);
}

/// Hodges-Lehmann estimate of the shift of x against y: the median of all differences x_i − y_j
/// (the mean of the two middle ones for an even count), on grouped samples. Exact; O((|x| + |y|)
/// · 64) time, no pairwise table. NaN when either side is empty.
[[nodiscard]] inline double hodges_lehmann(std::span<const weighted_value> x, std::span<const weighted_value> y) {
  const auto xs = detail::normalized(x), ys = detail::normalized(y);
  std::uint64_t nx = 0, ny = 0;
  for (const auto& v : xs) nx += v.count;
  for (const auto& v : ys) ny += v.count;
  if (nx == 0 || ny == 0) return std::numeric_limits<double>::quiet_NaN();
  const std::uint64_t pairs = nx * ny;
  const double upper = detail::kth_difference(xs, ys, pairs / 2 + 1);
  if (pairs % 2 == 1) return upper;
  return (detail::kth_difference(xs, ys, pairs / 2) + upper) / 2.0;
}

/// Hodges-Lehmann on plain samples: median of x_i − y_j over all pairs.
[[nodiscard]] inline double hodges_lehmann(std::span<const double> x, std::span<const double> y) {
  return hodges_lehmann(std::span<const weighted_value>(detail::unit_weights(x)),
                        std::span<const weighted_value>(detail::unit_weights(y)));
}

/// Pooled two-proportion z-test of p₂ = x₂/n₂ against p₁ = x₁/n₁.
struct two_proportion_result {
  double p1 = 0, p2 = 0;
  double z = 0;              ///< (p₂ − p₁) / √(p̂(1−p̂)(1/n₁ + 1/n₂)), p̂ pooled
  double p_greater = 1;      ///< one-sided p, H1: p₂ > p₁
  double p_two_sided = 1;
};
[[nodiscard]] inline two_proportion_result two_proportion_z(std::uint64_t x1, std::uint64_t n1, std::uint64_t x2,
                                                            std::uint64_t n2) {
  two_proportion_result r;
  if (n1 == 0 || n2 == 0) return r;
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2);
  r.p1 = static_cast<double>(x1) / dn1;
  r.p2 = static_cast<double>(x2) / dn2;
  const double pooled = static_cast<double>(x1 + x2) / (dn1 + dn2);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / dn1 + 1 / dn2));
  if (se <= 0) return r;
  r.z = (r.p2 - r.p1) / se;
  r.p_greater = normal_sf(r.z);
  r.p_two_sided = std::min(1.0, 2 * normal_sf(std::fabs(r.z)));
  return r;
}

/// P(X ≤ k) for X ~ Poisson(λ), summed in log space (exact for any k, λ ≥ 0).
[[nodiscard]] inline double poisson_cdf(std::uint64_t k, double lambda) {
  if (lambda <= 0) return 1.0;
  // for large λ the sum is long; the normal approximation with continuity correction is within 1e-3
  if (lambda > 1e5) return normal_cdf((static_cast<double>(k) + 0.5 - lambda) / std::sqrt(lambda));
  double term = std::exp(-lambda), sum = term;
  for (std::uint64_t i = 1; i <= k; ++i) {
    term *= lambda / static_cast<double>(i);
    sum += term;
    if (term < 1e-300 && static_cast<double>(i) > lambda) break;
  }
  return std::min(1.0, sum);
}

/// P(X ≥ k) for X ~ Poisson(λ).
[[nodiscard]] inline double poisson_sf(std::uint64_t k, double lambda) {
  if (k == 0) return 1.0;
  return std::max(0.0, 1.0 - poisson_cdf(k - 1, lambda));
}

/// One-sided upper CUSUM on a series standardised by a reference: s_t = max(0, s_{t−1} + z_t − k)
/// with z_t = (x_t − mean) / sigma. An alarm when s_t > h; the onset is the first index of the
/// excursion that raised it (the step after s was last 0). Page (1954); k = ½, h = 4–5 are usual.
struct cusum_result {
  std::optional<std::size_t> alarm;  ///< first index with s_t > h
  std::optional<std::size_t> onset;  ///< start of the excursion that alarmed
  double peak = 0;                   ///< largest s_t seen
};
[[nodiscard]] inline cusum_result cusum_upper(std::span<const double> xs, double mean, double sigma, double k = 0.5,
                                              double h = 5.0) {
  cusum_result r;
  if (!(sigma > 0)) return r;
  double s = 0;
  std::size_t start = 0;
  for (std::size_t t = 0; t < xs.size(); ++t) {
    const double z = (xs[t] - mean) / sigma;
    const double next = s + z - k;
    if (next <= 0) {
      s = 0;
      start = t + 1;
      continue;
    }
    s = next;
    r.peak = std::max(r.peak, s);
    if (s > h && !r.alarm) {
      r.alarm = t;
      r.onset = start;
    }
  }
  return r;
}

/// Lower CUSUM: the same on the negated series (a drop below the reference).
[[nodiscard]] inline cusum_result cusum_lower(std::span<const double> xs, double mean, double sigma, double k = 0.5,
                                              double h = 5.0) {
  std::vector<double> neg(xs.begin(), xs.end());
  for (double& v : neg) v = -v;
  return cusum_upper(neg, -mean, sigma, k, h);
}

/// Most likely start of a shift away from a known level: values are standardised by `mean` and
/// `sigma` (each clipped to ±4 so one outlier cannot place it) and
/// τ = argmax over τ ∈ [0, n − min_tail] of max(0, ±Σ_{t≥τ} z_t)² / (n − τ), the likelihood-ratio
/// estimate of "at the known level before τ, at an unknown higher (`upper`) or lower level from τ".
/// τ = 0 means the series was shifted from its start. Returns 0 for an empty series.
[[nodiscard]] inline std::size_t shift_point(std::span<const double> xs, double mean, double sigma, bool upper = true,
                                             std::size_t min_tail = 1) {
  const std::size_t n = xs.size();
  if (n == 0 || !(sigma > 0)) return 0;
  const double sign = upper ? 1.0 : -1.0;
  double tail_sum = 0, best_stat = -1;
  std::size_t best = 0;
  for (std::size_t i = n; i-- > 0;) {
    tail_sum += sign * std::clamp((xs[i] - mean) / sigma, -4.0, 4.0);
    const std::size_t len = n - i;
    if (len < min_tail) continue;
    const double pos = std::max(0.0, tail_sum);
    const double stat = pos * pos / static_cast<double>(len);
    if (stat >= best_stat) { best_stat = stat; best = i; }
  }
  return best;
}

/// Onset of an upward (or, with `upper` false, downward) change: nullopt unless a CUSUM (k, h)
/// alarms; then the likelihood-ratio `shift_point` over the whole series (a CUSUM excursion may
/// start early on noise and run into the real change, so its start alone is a poor onset).
[[nodiscard]] inline std::optional<std::size_t> change_onset(std::span<const double> xs, double mean, double sigma,
                                                             bool upper = true, double k = 0.5, double h = 5.0,
                                                             std::size_t min_tail = 1) {
  const auto c = upper ? cusum_upper(xs, mean, sigma, k, h) : cusum_lower(xs, mean, sigma, k, h);
  if (!c.alarm) return std::nullopt;
  return shift_point(xs, mean, sigma, upper, min_tail);
}

/// Exponentially weighted moving average of a series (λ weight on the newest value).
[[nodiscard]] inline std::vector<double> ewma(std::span<const double> xs, double lambda, double start) {
  std::vector<double> out;
  out.reserve(xs.size());
  double e = start;
  for (double x : xs) {
    e = lambda * x + (1 - lambda) * e;
    out.push_back(e);
  }
  return out;
}

/// Nearest-rank quantile q ∈ [0,1] of `xs` (copied and partially sorted); NaN when empty.
[[nodiscard]] inline double quantile(std::span<const double> xs, double q) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v(xs.begin(), xs.end());
  const double rank = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size()));
  const std::size_t idx = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

}  // namespace selfheal::anomaly::stats
