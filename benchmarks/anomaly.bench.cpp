// anomaly.detect's detectors on 10,000 handlers × 60 one-minute windows (target: < 200 ms), against
// two references measured in the same run:
// - BM_naive_mean_ratio: the original system's approach (mean of window p50s vs the baseline's,
//   fixed 1.3 ratio, no significance, no onset) — the floor: what the statistics cost on top of it;
// - BM_naive_statistics: the same decisions computed naively (Mann-Whitney U by comparing every
//   pair, medians by a full sort). It finds each handler's baseline with the same lookup as the
//   measured code (`baseline::find`, a binary search), so the ratio is the statistics' alone.
// Reported: handlers/s (items) and the time per run; the ratio is read off the same output.
//
//   anomaly_bench --benchmark_min_time=0.3

#include <selfheal/anomaly/baseline.hpp>
#include <selfheal/anomaly/detectors.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace an = selfheal::anomaly;

namespace {

constexpr std::int64_t W = 60'000'000'000;
constexpr std::size_t handlers = 10'000;
constexpr std::size_t windows = 60;

struct dataset {
  an::telemetry_data base_data, cur_data;
  an::baseline base;
};

const dataset& data() {
  static const dataset d = [] {
    dataset out;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::normal_distribution<double> noise(0.0, 1.0);
    const auto make = [&](an::telemetry_data& td, std::int64_t t0, bool current) {
      td.window_ns = W;
      std::mt19937_64 local(current ? 7 : 3);
      for (std::size_t h = 0; h < handlers; ++h) {
        std::mt19937_64 hr(h * 2654435761u);
        std::uniform_real_distribution<double> hu(0.0, 1.0);
        const double median = 5 + 200 * hu(hr), rate = 20 + 300 * hu(hr);
        const bool shifted = current && h % 500 == 0;   // 20 latency regressions
        const bool surged = current && h % 700 == 3;    // 15 traffic surges
        const bool failing = current && h % 900 == 5;   // 12 error-rate rises
        an::handler_series s;
        s.handler = "handler" + std::to_string(h);
        for (std::size_t w = 0; w < windows; ++w) {
          const bool after = w >= 30;
          double m = median * (1 + 0.04 * noise(local));
          if (shifted && after) m *= 2;
          double n = rate * (1 + 0.05 * noise(local));
          if (surged && after) n *= 3;
          const auto count = static_cast<std::uint64_t>(std::max(1.0, n));
          const auto errors = static_cast<std::uint64_t>(static_cast<double>(count) * (failing && after ? 0.1 : 0.002 * u(local)));
          s.windows.push_back({t0 + static_cast<std::int64_t>(w) * W, count, errors, m, m * 3, m * 5});
        }
        td.handlers.push_back(std::move(s));
      }
    };
    make(out.base_data, 0, false);
    make(out.cur_data, 1000 * W, true);
    out.base = an::build_baseline(out.base_data.handlers, W);
    return out;
  }();
  return d;
}

void BM_detect_all(benchmark::State& state) {
  const auto& d = data();
  std::size_t found = 0;
  for (auto _ : state) {
    auto f = an::detect_all(d.cur_data, d.base);
    auto ranked = an::aggregate_anomalies(f.all());
    found = ranked.size();
    benchmark::DoNotOptimize(ranked.data());
  }
  state.counters["anomalies"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(handlers));
}
BENCHMARK(BM_detect_all)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_build_baseline(benchmark::State& state) {
  const auto& d = data();
  for (auto _ : state) {
    auto b = an::build_baseline(d.base_data.handlers, W);
    benchmark::DoNotOptimize(b.handlers.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(handlers));
}
BENCHMARK(BM_build_baseline)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_naive_mean_ratio(benchmark::State& state) {
  const auto& d = data();
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const auto& s : d.cur_data.handlers) {
      const auto* b = d.base.find(s.handler);
      if (!b) continue;
      double cur = 0;
      for (const auto& w : s.windows) cur += w.p50_ms;
      cur /= static_cast<double>(s.windows.size());
      double ref = 0;
      for (double v : b->window_p50) ref += v;
      ref /= static_cast<double>(b->window_p50.size());
      if (cur / ref > 1.3) ++found;
    }
    benchmark::DoNotOptimize(found);
  }
  state.counters["anomalies"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(handlers));
}
BENCHMARK(BM_naive_mean_ratio)->Unit(benchmark::kMillisecond)->UseRealTime();

double naive_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double naive_u(const std::vector<double>& x, const std::vector<double>& y) {
  double u = 0;
  for (double a : x)
    for (double b : y) u += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  return u;
}

void BM_naive_statistics(benchmark::State& state) {
  const auto& d = data();
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const auto& s : d.cur_data.handlers) {
      const an::handler_baseline* b = d.base.find(s.handler);  // the measured code's lookup
      if (!b) continue;
      std::vector<double> p50, p95, counts;
      for (const auto& w : s.windows) { p50.push_back(w.p50_ms); p95.push_back(w.p95_ms); counts.push_back(static_cast<double>(w.count)); }
      const double nx = static_cast<double>(p50.size()), ny = static_cast<double>(b->window_p50.size());
      const double sd = std::sqrt(nx * ny * (nx + ny + 1) / 12);
      const auto z = [&](double u) { return (u - nx * ny / 2) / sd; };
      const bool lat = naive_median(p50) / naive_median(b->window_p50) >= 1.3 && z(naive_u(p50, b->window_p50)) > 3.09;
      const bool tail = naive_median(p95) / naive_median(b->window_p95) >= 1.3 && z(naive_u(p95, b->window_p95)) > 3.09;
      const bool traffic = naive_median(counts) / naive_median(b->window_counts) >= 1.5 && z(naive_u(counts, b->window_counts)) > 3.09;
      found += (lat || tail || traffic) ? 1u : 0u;
    }
    benchmark::DoNotOptimize(found);
  }
  state.counters["anomalies"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(handlers));
}
BENCHMARK(BM_naive_statistics)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
