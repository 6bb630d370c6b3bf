// Latency detection on hand-built window series; expected values computed by hand in the comments.
#include <selfheal/anomaly/baseline.hpp>
#include <selfheal/anomaly/performance.hpp>

#include <catch2/catch.hpp>

#include <cmath>
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
