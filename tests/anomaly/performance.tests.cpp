// Latency detection on hand-built window series; expected values computed by hand in the comments.
#include <selfheal/anomaly/baseline.hpp>
#include <selfheal/anomaly/performance.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fixture.hpp"

namespace an = selfheal::anomaly;

namespace {
using selfheal::test::W;
using selfheal::test::baseline_series;
using selfheal::test::make_baseline;

an::handler_series current_series(double p50_after, double p95_after, std::uint64_t count = 100) {
  an::handler_series s;
  s.handler = "checkout";
  const std::int64_t t0 = 1000 * W;
  for (int i = 0; i < 10; ++i) s.windows.push_back({t0 + i * W, count, 0, 10.0 + 0.1 * (i % 5), 30.0 + 0.1 * (i % 5), 50.0});
  for (int k = 0; k < 10; ++k)
    s.windows.push_back({t0 + (10 + k) * W, count, 0, p50_after + 0.1 * k, p95_after + 0.1 * k, 90.0});
  return s;
}

}  // namespace

TEST_CASE("a large and significant p50 rise is a latency shift with its onset", "[anomaly][detectPerformanceAnomalies]") {
  const auto b = make_baseline();
  const auto cur = current_series(20.0, 60.0);
  const auto a = an::detect_latency(cur, b);
  REQUIRE(a.has_value());
  CHECK(a->kind == an::anomaly_kind::latency_shift);
  CHECK(a->onset_ns == (1000 + 10) * W);  // the first shifted window
  // post-onset p50 median 20.45 / 10.2
  CHECK(a->find("p50_ratio")->number == Approx(20.45 / 10.2));
  CHECK(a->find("p95_ratio")->number == Approx(60.45 / 30.2));
  // Mann-Whitney: 10 post values all above 20 baseline values, U = 200; ties: 5 groups of 4 →
  // σ² = 200/12 · (31 − 300/870) = 510.92; z = 99.5/22.604 = 4.40197; p = 5.3637e-6
  CHECK(a->find("mann_whitney_u")->number == 200.0);
  CHECK(a->find("p_value")->number == Approx(5.3637e-6).epsilon(1e-3));
  CHECK(a->level == an::severity::high);  // ratio 2.005 ≥ 2
  CHECK(a->find("p99_ms")->number == 90.0);           // the shifted windows' p99
  CHECK(a->find("baseline_p99_ms")->number == 50.0);  // median of the baseline windows' p99
  CHECK(a->confidence > 0.9);
}

TEST_CASE("a p95-only rise is a tail regression", "[anomaly][detectPerformanceAnomalies]") {
  const auto a = an::detect_latency(current_series(10.2, 90.0), make_baseline());
  REQUIRE(a.has_value());
  CHECK(a->kind == an::anomaly_kind::latency_tail);
  CHECK(a->find("p95_ratio")->number == Approx(90.45 / 30.2));
  CHECK(a->level == an::severity::high);  // 2.995: just under 3
  CHECK(a->onset_ns == (1000 + 10) * W);
}

TEST_CASE("small, insignificant or tiny-sample changes are never flagged", "[anomaly][detectPerformanceAnomalies]") {
  const auto b = make_baseline();
  SECTION("a 5% drift") {
    CHECK_FALSE(an::detect_latency(current_series(10.7, 31.7), b).has_value());
  }
  SECTION("below the ratio threshold (1.25×)") {
    CHECK_FALSE(an::detect_latency(current_series(12.75, 37.75), b).has_value());
  }
  SECTION("a configurable threshold: 1.2 flags the 1.25× rise") {
    an::performance_options o;
    o.ratio = 1.2;
    CHECK(an::detect_latency(current_series(12.75, 37.75), b, o).has_value());
  }
  SECTION("tiny samples: 3 calls per window") {
    CHECK_FALSE(an::detect_latency(current_series(40.0, 120.0, 3), b).has_value());
  }
  SECTION("a handler present in one window only") {
    an::handler_series one;
    one.handler = "checkout";
    one.windows = {{5000 * W, 10000, 0, 500.0, 900.0, 990.0}};
    CHECK_FALSE(an::detect_latency(one, b).has_value());
  }
  SECTION("one slow window among normal ones is not a regression") {
    auto cur = current_series(10.2, 30.2);
    cur.windows[15].p50_ms = 300;
    cur.windows[15].p95_ms = 900;
    CHECK_FALSE(an::detect_latency(cur, b).has_value());
  }
  SECTION("a low-confidence baseline makes no latency claim") {
    auto lb = b;
    lb.low_confidence = true;
    CHECK_FALSE(an::detect_latency(current_series(20.0, 60.0), lb).has_value());
  }
}

TEST_CASE("detect_performance runs over every handler with a baseline", "[anomaly][detectPerformanceAnomalies]") {
  std::vector<an::handler_series> base_series{baseline_series()};
  const auto base = an::build_baseline(base_series, W);
  an::telemetry_data cur;
  cur.handlers.push_back(current_series(20.0, 60.0));
  auto unknown = current_series(20.0, 60.0);
  unknown.handler = "unknown";  // no baseline: not a latency claim
  cur.handlers.push_back(unknown);
  const auto found = an::detect_performance(cur, base);
  REQUIRE(found.size() == 1);
  CHECK(found[0].handler == "checkout");
  CHECK(found[0].description.find("latency shift: p50 2x baseline") == 0);
}

TEST_CASE("iso8601 formats UTC nanoseconds", "[anomaly][model]") {
  CHECK(an::iso8601(0) == "1970-01-01T00:00:00.000Z");
  // 2026-01-01T00:00:00Z = 1767225600 s
  CHECK(an::iso8601(1'767'225'600'123'000'000) == "2026-01-01T00:00:00.123Z");
  CHECK(an::iso8601(951'782'400'000'000'000) == "2000-02-29T00:00:00.000Z");
  CHECK(an::iso8601(an::no_time_ns).empty());
}

namespace {
// One window holding `n` calls of `center_ms` ± 25 % (11 evenly spaced values), sketch and all.
an::handler_series dense_period(std::int64_t start_ns, int n, double center_ms) {
  an::handler_series s;
  s.handler = "batch";
  selfheal::telemetry::metric_stats st;
  for (int i = 0; i < n; ++i) {
    const double ms = center_ms * (0.75 + 0.05 * (i % 11));
    st.add(false, static_cast<std::int64_t>(std::llround(ms * 1e6)));
  }
  s.windows.push_back({start_ns, st.count, 0, st.quantile_ms(0.5), st.quantile_ms(0.95), st.quantile_ms(0.99)});
  s.latency = st.sketch;
  return s;
}
}  // namespace

TEST_CASE("a short dense period: 1,000 calls in one minute against 500 at 1,750x is a shift found in the samples",
          "[anomaly][detectPerformanceAnomalies][samples]") {
  // baseline: 1,000 calls in one window, p50 0.002 ms; current: 500 calls in one window, p50 3.5 ms
  const auto base_series = dense_period(0, 1000, 0.002);
  const auto cur = dense_period(1000 * W, 500, 3.5);
  const auto b = an::baseline_of(base_series, an::grid_of(std::span<const an::handler_series>(&base_series, 1), W));
  // one window: the window factor alone (1 − e^(−1/10) = 0.095) would make it low confidence; the kept
  // samples credit it 0.6 → c = (1 − e^(−1000/200)) · 0.6 = 0.99326 · 0.6 = 0.59596
  CHECK(b.windows == 1);
  CHECK(b.confidence == Approx(0.59596).epsilon(1e-4));
  CHECK_FALSE(b.low_confidence);
  const auto a = an::detect_latency(cur, b);
  REQUIRE(a.has_value());
  CHECK(a->kind == an::anomaly_kind::latency_shift);
  CHECK(a->level == an::severity::critical);
  CHECK(a->find("compared")->text == "samples");
  // p50s from the sketches (1 % accurate): 3.5 / 0.002 = 1,750
  CHECK(a->find("p50_ratio")->number == Approx(1750).epsilon(0.03));
  CHECK(a->find("baseline_p50_ms")->number == Approx(0.002).epsilon(0.02));
  // complete separation: U = 500 · 1,000 = μ + 250,000; eleven tie groups per side → z ≈ 31.7, p ≈ 3e-220
  CHECK(a->find("mann_whitney_u")->number == 500'000.0);
  CHECK(a->find("p_value")->number < 1e-100);
  // every current call exceeds every baseline call by 3.5·(0.75 … 1.25) − 0.002·(…): the median shift ≈ 3.5 ms
  CHECK(a->find("hodges_lehmann_ms")->number == Approx(3.5).epsilon(0.02));
  CHECK(a->find("samples")->number == 500.0);
  CHECK(a->find("baseline_samples")->number == 1000.0);
  CHECK(a->onset_ns == 1000 * W);
  INFO(a->description);
  CHECK(a->description.find("latency shift: p50 17") == 0);  // "1736x", not "1.74e+03x"
  CHECK(a->description.find("x baseline (3.49 ms vs 0.00201 ms)") != std::string::npos);
  CHECK(a->description.find("500 calls compared with the baseline's 1000 (too few windows to compare windows): "
                            "Mann-Whitney p=") != std::string::npos);
  CHECK(a->confidence == Approx(std::sqrt(b.confidence)).epsilon(1e-6));
}

TEST_CASE("a short dense period that did not change gives nothing, nor do too few samples",
          "[anomaly][detectPerformanceAnomalies][samples]") {
  const auto base_series = dense_period(0, 1000, 0.002);
  const auto b = an::baseline_of(base_series, an::grid_of(std::span<const an::handler_series>(&base_series, 1), W));
  CHECK_FALSE(an::detect_latency(dense_period(1000 * W, 500, 0.002), b).has_value());
  CHECK_FALSE(an::detect_latency(dense_period(1000 * W, 49, 3.5), b).has_value());  // below min_samples (50)
  // a baseline of 40 calls: too few samples to be confident, however many windows
  const auto thin = dense_period(0, 40, 0.002);
  const auto tb = an::baseline_of(thin, an::grid_of(std::span<const an::handler_series>(&thin, 1), W));
  CHECK(tb.low_confidence);
  CHECK_FALSE(an::detect_latency(dense_period(1000 * W, 500, 3.5), tb).has_value());
}

TEST_CASE("a short dense period whose tail alone moved is a latency tail from the share above the baseline p95",
          "[anomaly][detectPerformanceAnomalies][samples]") {
  const auto base_series = dense_period(0, 1000, 2.0);
  const auto b = an::baseline_of(base_series, an::grid_of(std::span<const an::handler_series>(&base_series, 1), W));
  // current: the same 1,000 calls, except every 5th is 10 ms (20 % of calls far above the baseline's p95 2.5 ms)
  an::handler_series cur;
  cur.handler = "batch";
  selfheal::telemetry::metric_stats st;
  for (int i = 0; i < 1000; ++i)
    st.add(false, static_cast<std::int64_t>(std::llround((i % 5 == 0 ? 10.0 : 2.0 * (0.75 + 0.05 * (i % 11))) * 1e6)));
  cur.windows.push_back({1000 * W, st.count, 0, st.quantile_ms(0.5), st.quantile_ms(0.95), st.quantile_ms(0.99)});
  cur.latency = st.sketch;
  const auto a = an::detect_latency(cur, b);
  REQUIRE(a.has_value());
  CHECK(a->kind == an::anomaly_kind::latency_tail);
  CHECK(a->find("compared")->text == "samples");
  CHECK(a->find("p95_ratio")->number == Approx(10.0 / 2.5).epsilon(0.03));
  // baseline: 1,000 calls of 1.5 … 2.5 ms, none above its own p95 (2.5, the max) → share 0; now ≈ 0.2
  CHECK(a->find("baseline_share_above_p95")->number == 0.0);
  CHECK(a->find("share_above_baseline_p95")->number == Approx(0.2).epsilon(0.01));
}

TEST_CASE("sketch bins are the sketch's samples, grouped", "[anomaly][samples]") {
  selfheal::telemetry::quantile_sketch s;
  s.add(0.0, 3);     // zero bucket
  s.add(10.0, 2);
  s.add(10.05, 1);   // same 1 % bucket as 10.0
  s.add(100.0, 4);
  const auto bins = an::sketch_bins(s);
  REQUIRE(bins.size() == 3);
  CHECK(bins[0].value == 0.0);
  CHECK(bins[0].count == 3);
  CHECK(bins[1].value == Approx(10.0).epsilon(0.01));
  CHECK(bins[1].count == 3);
  CHECK(bins[2].value == 100.0);  // clamped to the exact max
  CHECK(bins[2].count == 4);
  CHECK(an::sketch_bins(selfheal::telemetry::quantile_sketch{}).empty());
}

namespace {
// `windows` consecutive windows of `per_window` calls each, `center_ms` ± 25 %, with the period's sketch.
an::handler_series dense_windows(std::int64_t start_ns, int windows, int per_window, double center_ms) {
  an::handler_series s;
  s.handler = "batch";
  for (int w = 0; w < windows; ++w) {
    selfheal::telemetry::metric_stats st;
    for (int i = 0; i < per_window; ++i) {
      const auto ns = static_cast<std::int64_t>(std::llround(center_ms * (0.75 + 0.05 * (i % 11)) * 1e6));
      st.add(false, ns);
    }
    s.latency.merge(st.sketch);
    s.windows.push_back({start_ns + w * W, st.count, 0, st.quantile_ms(0.5), st.quantile_ms(0.95), st.quantile_ms(0.99)});
  }
  return s;
}
}  // namespace

TEST_CASE("a few windows too few for a window test to reach alpha are judged by their samples",
          "[anomaly][detectPerformanceAnomalies][samples]") {
  // 5 baseline windows against 6: even complete separation gives a one-sided Mann-Whitney p of
  // 0.5·erfc(z/√2) with z = 15 / √(30·12/12) = 2.74 → p = 0.003 > alpha (1e-3). Before, nothing fired
  // however large the change; the 600 calls against 720 decide now.
  CHECK_FALSE(an::window_test_can_reach(6, 5, 1e-3));
  CHECK(an::window_test_can_reach(8, 8, 1e-3));  // z = 32 / √(64·17/12) = 3.36 → p = 4e-4
  const auto base_series = dense_windows(0, 5, 120, 0.002);
  const auto b = an::baseline_of(base_series, an::grid_of(std::span<const an::handler_series>(&base_series, 1), W));
  REQUIRE(b.windows == 5);
  REQUIRE_FALSE(b.low_confidence);
  const auto a = an::detect_latency(dense_windows(1000 * W, 6, 120, 3.5), b);
  REQUIRE(a.has_value());
  CHECK(a->kind == an::anomaly_kind::latency_shift);
  CHECK(a->find("compared")->text == "samples");
  CHECK(a->find("p_value")->number < 1e-100);
  // the same few windows without a change still give nothing
  CHECK_FALSE(an::detect_latency(dense_windows(1000 * W, 6, 120, 0.002), b).has_value());
}
