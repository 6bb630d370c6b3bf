// Every expected value here is computed by hand (shown in the comments), never by the code under test.
#include <selfheal/anomaly/stats.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace st = selfheal::anomaly::stats;

TEST_CASE("median and MAD", "[anomaly][stats]") {
  // the textbook MAD example: {1,1,2,2,4,6,9}: median 2, |x-2| = {1,1,0,0,2,4,7} → median 1
  const std::vector<double> xs{1, 1, 2, 2, 4, 6, 9};
  CHECK(st::median(xs) == 2.0);
  CHECK(st::mad(xs) == 1.0);
  CHECK(st::mad_sigma(xs) == Approx(1.4826).epsilon(1e-4));
  SECTION("even count takes the mean of the middle pair") {
    const std::vector<double> ev{4, 1, 3, 2};
    CHECK(st::median(ev) == 2.5);
    CHECK(st::mad(ev) == 1.0);  // |x-2.5| = {1.5,1.5,0.5,0.5} → 1.0
  }
  SECTION("empty is NaN") {
    CHECK(std::isnan(st::median(std::vector<double>{})));
  }
  SECTION("one outlier does not move them") {
    const std::vector<double> o{10, 10, 10, 11, 1000};
    CHECK(st::median(o) == 10.0);
    CHECK(st::mad(o) == 0.0);
  }
}

TEST_CASE("normal distribution helpers", "[anomaly][stats]") {
  CHECK(st::normal_cdf(0) == Approx(0.5));
  CHECK(st::normal_cdf(1.96) == Approx(0.9750021).epsilon(1e-6));   // table value
  CHECK(st::normal_sf(1.645) == Approx(0.0499848).epsilon(1e-5));   // table value
  CHECK(st::normal_quantile(0.975) == Approx(1.959964).epsilon(1e-6));
  CHECK(st::normal_quantile(0.5) == Approx(0.0).margin(1e-12));
  CHECK(st::normal_quantile(0.001) == Approx(-3.090232).epsilon(1e-6));
  CHECK(std::isinf(st::normal_quantile(0.0)));
}

TEST_CASE("Mann-Whitney U", "[anomaly][stats]") {
  SECTION("complete separation, no ties") {
    // x = {4,5,6}, y = {1,2,3}: every x beats every y → U_x = 9, U_y = 0;
    // μ = 4.5, σ² = 3·3/12 · 7 = 5.25; z = (9 − 4.5 − 0.5)/√5.25 = 1.745743; p = 0.0404278
    const std::vector<double> x{4, 5, 6}, y{1, 2, 3};
    const auto r = st::mann_whitney_u(x, y);
    CHECK(r.u_x == 9.0);
    CHECK(r.u_y == 0.0);
    CHECK(r.effect == 1.0);
    CHECK(r.z == Approx(1.745743).epsilon(1e-6));
    CHECK(r.p_greater == Approx(0.0404278).epsilon(1e-5));
    CHECK(r.p_less > 0.95);
  }
  SECTION("ties get average ranks and the variance correction") {
    // pooled sorted: 1 2 2 2 3 4 → ranks 1, 3,3,3, 5, 6. x = {2,3,4}: R = 3+5+6 = 14,
    // U_x = 14 − 6 = 8. Ties: one group of 3 → Σ(t³−t) = 24; σ² = 9/12 · (7 − 24/30) = 4.65;
    // z = (8 − 4.5 − 0.5)/√4.65 = 1.391217; p = 0.0820799
    const std::vector<double> x{2, 3, 4}, y{1, 2, 2};
    const auto r = st::mann_whitney_u(x, y);
    CHECK(r.u_x == 8.0);
    CHECK(r.u_y == 1.0);
    CHECK(r.z == Approx(1.391217).epsilon(1e-6));
    CHECK(r.p_greater == Approx(0.0820799).epsilon(1e-5));
  }
  SECTION("all values tied: no evidence") {
    const std::vector<double> x{1, 1}, y{1, 1, 1};
    const auto r = st::mann_whitney_u(x, y);
    CHECK(r.p_greater == 1.0);
    CHECK(r.p_two_sided == 1.0);
  }
  SECTION("an empty sample gives p = 1") {
    const std::vector<double> x{1, 2}, y{};
    CHECK(st::mann_whitney_u(x, y).p_greater == 1.0);
  }
}

TEST_CASE("two-proportion z-test", "[anomaly][stats]") {
  // 45/100 vs 60/100: pooled 0.525; se = √(0.525·0.475·0.02) = 0.0706222; z = 0.15/se = 2.123977;
  // one-sided p = 0.0168360
  const auto r = st::two_proportion_z(45, 100, 60, 100);
  CHECK(r.p1 == Approx(0.45));
  CHECK(r.p2 == Approx(0.60));
  CHECK(r.z == Approx(2.123977).epsilon(1e-6));
  CHECK(r.p_greater == Approx(0.0168360).epsilon(1e-5));
  CHECK(st::two_proportion_z(0, 0, 1, 10).p_greater == 1.0);  // no baseline data: no claim
  CHECK(st::two_proportion_z(0, 100, 0, 100).z == 0.0);         // zero variance
}

TEST_CASE("Poisson tails", "[anomaly][stats]") {
  // P(X ≤ 4 | λ = 2) = e⁻²(1 + 2 + 2 + 4/3 + 2/3) = 7e⁻² = 0.9473470
  CHECK(st::poisson_cdf(4, 2.0) == Approx(0.9473470).epsilon(1e-6));
  CHECK(st::poisson_sf(5, 2.0) == Approx(0.0526530).epsilon(1e-5));
  CHECK(st::poisson_sf(0, 3.0) == 1.0);
  CHECK(st::poisson_cdf(0, 1.0) == Approx(std::exp(-1.0)));
}

TEST_CASE("CUSUM finds the onset of a step", "[anomaly][stats]") {
  // reference mean 0, σ 1, k = ½, h = 4: s = 0,0,0, 2.5, 5.0 → alarm at index 4, onset 3
  const std::vector<double> xs{0, 0, 0, 3, 3, 3};
  const auto r = st::cusum_upper(xs, 0.0, 1.0, 0.5, 4.0);
  REQUIRE(r.alarm.has_value());
  CHECK(*r.alarm == 4);
  CHECK(*r.onset == 3);
  SECTION("noise within k never alarms") {
    const std::vector<double> calm{0.4, -0.3, 0.2, 0.5, -0.5, 0.1};
    CHECK_FALSE(st::cusum_upper(calm, 0.0, 1.0, 0.5, 4.0).alarm.has_value());
  }
  SECTION("lower CUSUM sees a drop") {
    const std::vector<double> drop{0, 0, -3, -3, -3};
    const auto d = st::cusum_lower(drop, 0.0, 1.0, 0.5, 4.0);
    REQUIRE(d.alarm.has_value());
    CHECK(*d.onset == 2);
    CHECK(*d.alarm == 3);
  }
  SECTION("zero sigma is refused") {
    CHECK_FALSE(st::cusum_upper(xs, 0.0, 0.0).alarm.has_value());
  }
}

TEST_CASE("EWMA and nearest-rank quantile", "[anomaly][stats]") {
  // λ = ½ from 0: 2 → 1, 2 → 1.5, 2 → 1.75
  const std::vector<double> xs{2, 2, 2};
  const auto e = st::ewma(xs, 0.5, 0.0);
  CHECK(e == std::vector<double>{1.0, 1.5, 1.75});
  // nearest rank of q=0.95 over 1..20 is ceil(19) = 19th value = 19
  std::vector<double> v;
  for (int i = 20; i >= 1; --i) v.push_back(i);
  CHECK(st::quantile(v, 0.95) == 19.0);
  CHECK(st::quantile(v, 0.5) == 10.0);
  CHECK(st::quantile(v, 0.0) == 1.0);
}

TEST_CASE("Mann-Whitney U on grouped samples is the plain test on the expanded samples", "[anomaly][stats]") {
  SECTION("the hand-computed tie case, as bins") {
    // the ties section above, written as (value, count): x = {2,3,4}, y = {1, 2×2} → U_x = 8, z = 1.391217
    const std::vector<st::weighted_value> x{{4, 1}, {2, 1}, {3, 1}}, y{{2, 2}, {1, 1}};
    const auto r = st::mann_whitney_u(std::span<const st::weighted_value>(x), std::span<const st::weighted_value>(y));
    CHECK(r.u_x == 8.0);
    CHECK(r.u_y == 1.0);
    CHECK(r.z == Approx(1.391217).epsilon(1e-6));
    CHECK(r.p_greater == Approx(0.0820799).epsilon(1e-5));
  }
  SECTION("large counts: 1,000 values at 1 against 500 at 2") {
    // x = 500 samples at 2, y = 1,000 at 1: complete separation, U_x = 500·1000 = 500,000, μ = 250,000.
    // Two tie groups: Σ(t³−t) = (1000³−1000) + (500³−500) = 1,124,998,500; n(n−1) = 1500·1499 = 2,248,500
    // σ² = 500·1000/12 · (1501 − 500.33289) = 41,694,463.0; σ = 6457.125; z = (250,000 − 0.5)/σ = 38.71684
    const std::vector<st::weighted_value> x{{2, 500}}, y{{1, 1000}};
    const auto r = st::mann_whitney_u(std::span<const st::weighted_value>(x), std::span<const st::weighted_value>(y));
    CHECK(r.u_x == 500'000.0);
    CHECK(r.z == Approx(38.71684).epsilon(1e-6));
    CHECK(r.p_greater < 1e-300);
    CHECK(r.p_two_sided < 1e-300);
  }
  SECTION("seeded random samples with many ties agree with the plain test") {
    std::uint64_t state = 12345;
    const auto next = [&] { state = state * 6364136223846793005ULL + 1442695040888963407ULL; return (state >> 33) % 20; };
    std::vector<double> x, y;
    std::vector<st::weighted_value> gx, gy;
    for (int i = 0; i < 300; ++i) { x.push_back(static_cast<double>(next())); gx.push_back({x.back(), 1}); }
    for (int i = 0; i < 200; ++i) { y.push_back(static_cast<double>(next() + 2)); gy.push_back({y.back(), 1}); }
    const auto plain = st::mann_whitney_u(x, y);
    const auto grouped = st::mann_whitney_u(std::span<const st::weighted_value>(gx), std::span<const st::weighted_value>(gy));
    CHECK(grouped.u_x == Approx(plain.u_x));
    CHECK(grouped.z == Approx(plain.z));
    CHECK(grouped.p_less == Approx(plain.p_less));
    CHECK(grouped.p_two_sided == Approx(plain.p_two_sided));
    CHECK(plain.p_less < 0.05);  // y was shifted up by 2
  }
}

TEST_CASE("Hodges-Lehmann shift: the median of pairwise differences", "[anomaly][stats]") {
  SECTION("odd number of pairs") {
    // x = {1,2,3}, y = {0}: differences 1, 2, 3 → 2
    const std::vector<double> x{3, 1, 2}, y{0};
    CHECK(st::hodges_lehmann(x, y) == 2.0);
  }
  SECTION("even number of pairs: mean of the middle two") {
    // x = {1,2}, y = {0, 0.5}: differences 1, 0.5, 2, 1.5 → sorted 0.5 1 1.5 2 → (1 + 1.5)/2 = 1.25
    const std::vector<double> x{1, 2}, y{0, 0.5};
    CHECK(st::hodges_lehmann(x, y) == 1.25);
  }
  SECTION("negative shifts and values of very different sizes") {
    // x = {−1e300}, y = {1e300, 0}: differences −2e300 and −1e300 → mean −1.5e300 (keys far apart)
    const std::vector<double> x{-1e300}, y{1e300, 0};
    CHECK(st::hodges_lehmann(x, y) == Approx(-1.5e300));
    const std::vector<double> a{0.002, 0.002, 0.003}, b{3.5};
    CHECK(st::hodges_lehmann(a, b) == 0.002 - 3.5);  // differences −3.498, −3.498, −3.497
  }
  SECTION("grouped counts equal the expanded samples; a brute force agrees on seeded data") {
    const std::vector<st::weighted_value> gx{{1, 2}, {5, 1}}, gy{{0, 3}};
    // x = {1,1,5}, y = {0,0,0}: nine differences 1×6, 5×3 → median 1
    CHECK(st::hodges_lehmann(std::span<const st::weighted_value>(gx), std::span<const st::weighted_value>(gy)) == 1.0);
    std::uint64_t state = 99;
    const auto next = [&] { state = state * 6364136223846793005ULL + 1442695040888963407ULL; return static_cast<double>((state >> 33) % 1000) / 7.0; };
    std::vector<double> x, y, diffs;
    for (int i = 0; i < 41; ++i) x.push_back(next() + 10);
    for (int i = 0; i < 30; ++i) y.push_back(next());
    for (double a : x)
      for (double b : y) diffs.push_back(a - b);
    std::sort(diffs.begin(), diffs.end());
    const double brute = (diffs[diffs.size() / 2 - 1] + diffs[diffs.size() / 2]) / 2.0;  // 1230 pairs: even
    CHECK(st::hodges_lehmann(x, y) == brute);
  }
  SECTION("an empty side gives NaN") {
    const std::vector<double> x{1}, y{};
    CHECK(std::isnan(st::hodges_lehmann(x, y)));
  }
}
