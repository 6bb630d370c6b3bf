// Baselines from hand-built window series; expected values computed by hand in the comments.
#include <selfheal/anomaly/baseline.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <vector>

#include "fixture.hpp"

namespace an = selfheal::anomaly;

namespace {
using selfheal::test::W;
using selfheal::test::baseline_series;
using selfheal::test::make_baseline;
}  // namespace

TEST_CASE("a baseline holds quantiles, dispersion and a confidence", "[anomaly][computeBaselineStatistics]") {
  const auto b = make_baseline();
  CHECK(b.samples == 2000);
  CHECK(b.windows == 20);
  CHECK(b.p50_windows.median == Approx(10.2));
  CHECK(b.p50_windows.mad == Approx(0.1));
  CHECK(b.p95_windows.median == Approx(30.2));
  CHECK(b.rate_windows.median == 100.0);
  // (1 − e^(−2000/200)) (1 − e^(−20/10)) = 0.9999546 · 0.8646647 = 0.864625
  CHECK(b.confidence == Approx(0.864625).epsilon(1e-5));
  CHECK_FALSE(b.low_confidence);

  SECTION("absent windows count as zero calls on the grid") {
    an::handler_series s;
    s.handler = "sparse";
    s.windows = {{0, 100, 1, 5, 9, 12}, {2 * W, 200, 3, 6, 10, 14}};  // window 1 missing
    const an::window_grid g = an::grid_of(std::span<const an::handler_series>(&s, 1), W);
    REQUIRE(g.size == 3);
    const auto sb = an::baseline_of(s, g);
    CHECK(sb.window_counts == std::vector<double>{100, 0, 200});
    CHECK(sb.rate_windows.median == 100.0);
    CHECK(sb.errors == 4);
    CHECK(sb.error_rate() == Approx(4.0 / 300.0));
    // (1 − e^(−1.5)) (1 − e^(−0.2)) = 0.776870 · 0.181269 = 0.140823: low confidence
    CHECK(sb.confidence == Approx(0.140823).epsilon(1e-5));
    CHECK(sb.low_confidence);
  }
  SECTION("windows where nothing ran (the gap between two records) are not zero-traffic windows") {
    an::handler_series a1 = baseline_series("api"), a2 = baseline_series("api");
    for (auto& w : a2.windows) w.start_ns += 10'000 * W;  // a second record a week later
    a1.windows.insert(a1.windows.end(), a2.windows.begin(), a2.windows.end());
    std::vector<an::handler_series> v{a1};
    const auto base = an::build_baseline(v, W);
    CHECK(base.period_windows == 40);
    CHECK(base.find("api")->rate_windows.median == 100.0);
    CHECK(base.find("api")->window_counts.size() == 40);
    CHECK(base.until_ns == (10'000 + 20) * W);
  }
  SECTION("merged sketches' quantiles win over window medians") {
    auto s = baseline_series();
    s.overall = an::overall_quantiles{11.0, 33.0, 55.0};
    const an::window_grid g = an::grid_of(std::span<const an::handler_series>(&s, 1), W);
    const auto sb = an::baseline_of(s, g);
    CHECK(sb.p50_ms == 11.0);
    CHECK(sb.p99_ms == 55.0);
  }
  SECTION("build_baseline sorts handlers and finds them") {
    std::vector<an::handler_series> v{baseline_series("zeta"), baseline_series("alpha")};
    const auto base = an::build_baseline(v, W);
    REQUIRE(base.handlers.size() == 2);
    CHECK(base.handlers[0].handler == "alpha");
    CHECK(base.find("zeta") != nullptr);
    CHECK(base.find("nope") == nullptr);
    CHECK(base.period_windows == 20);
    CHECK(base.total_samples == 4000);
  }
}

