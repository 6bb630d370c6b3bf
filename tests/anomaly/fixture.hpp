#pragma once
// The hand-built baseline the anomaly test files share; expected values are computed by hand in
// the tests that use it.

#include <selfheal/anomaly/baseline.hpp>

#include <cstdint>
#include <span>

namespace selfheal::test {

inline constexpr std::int64_t W = 60'000'000'000;  ///< one-minute windows

// 20 baseline windows of 100 calls: p50 = 10.0, 10.1, …, 10.4 repeating (median 10.2, MAD 0.1),
// p95 = 30.0 … 30.4 (median 30.2), p99 = 50
inline anomaly::handler_series baseline_series(const char* name = "checkout") {
  anomaly::handler_series s;
  s.handler = name;
  for (int i = 0; i < 20; ++i)
    s.windows.push_back({i * W, 100, 0, 10.0 + 0.1 * (i % 5), 30.0 + 0.1 * (i % 5), 50.0});
  return s;
}

/// The baseline of `baseline_series()` on its own grid.
inline anomaly::handler_baseline make_baseline() {
  const auto s = baseline_series();
  const anomaly::window_grid g = anomaly::grid_of(std::span<const anomaly::handler_series>(&s, 1), W);
  return anomaly::baseline_of(s, g);
}

}  // namespace selfheal::test
