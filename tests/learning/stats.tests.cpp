// The statistics of learning.track: the seeded bootstrap, Newcombe's interval, the Beta posterior.
#include <selfheal/learning/posterior.hpp>
#include <selfheal/learning/stats.hpp>

#include <catch2/catch.hpp>

#include <vector>

namespace ln = selfheal::learning;

TEST_CASE("bootstrap of a median difference: deterministic for a seed, bounds a real shift", "[learning][compareMetrics]") {
  std::vector<double> before, after;
  for (int i = 0; i < 20; ++i) before.push_back(13.0 + (i % 5) * 0.1);
  for (int i = 0; i < 15; ++i) after.push_back(26.0 + (i % 3) * 0.2);
  const auto a = ln::bootstrap_median_difference(before, after, 42);
  const auto b = ln::bootstrap_median_difference(before, after, 42);
  CHECK(a.ci_low == b.ci_low);
  CHECK(a.ci_high == b.ci_high);
  CHECK(a.before == Approx(13.2));
  CHECK(a.after == Approx(26.2));
  CHECK(a.change == Approx(13.0));
  CHECK(a.ci_low <= a.change);
  CHECK(a.ci_high >= a.change);
  CHECK(a.ci_low > 12.5);   // the whole interval is a real increase
  CHECK(a.ci_high < 13.5);
  SECTION("no difference: the interval holds 0") {
    const auto z = ln::bootstrap_median_difference(before, before, 7);
    CHECK(z.change == 0);
    CHECK(z.ci_low <= 0);
    CHECK(z.ci_high >= 0);
  }
  SECTION("an empty sample gives no interval") {
    const auto e = ln::bootstrap_median_difference(before, {}, 1);
    CHECK(e.after_n == 0);
    CHECK(e.change == 0);
  }
}

TEST_CASE("Newcombe's hybrid score interval matches the published example", "[learning][compareMetrics]") {
  // Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80 → 0.0524 to 0.3339.
  const auto r = ln::newcombe_difference(48, 80, 56, 70, 0.95);
  CHECK(r.change == Approx(0.2));
  CHECK(r.ci_low == Approx(0.0524).margin(1e-4));
  CHECK(r.ci_high == Approx(0.3339).margin(1e-4));
  SECTION("rates near zero keep a non-degenerate interval") {
    const auto z = ln::newcombe_difference(0, 1000, 0, 1000);
    CHECK(z.change == 0);
    CHECK(z.ci_low < 0);
    CHECK(z.ci_high > 0);
  }
}

TEST_CASE("the Beta posterior starts from diagnosis's rate and updates exactly", "[learning][updateLearningModels]") {
  SECTION("prior: the flattest Beta with that mean and no pole") {
    const auto p = ln::prior_from_rate("performance", "revert", 0.85);
    CHECK(p.alpha == Approx(0.85 / 0.15));
    CHECK(p.beta == Approx(1.0));
    CHECK(p.mean() == Approx(0.85));
    const auto u = ln::prior_from_rate("x", "y", 0.5);
    CHECK(u.alpha == 1.0);
    CHECK(u.beta == 1.0);
    const auto c = ln::prior_from_rate("coverage", "revert", 0.05);
    CHECK(c.alpha == Approx(1.0));
    CHECK(c.beta == Approx(19.0));
  }
  SECTION("success adds 1 to alpha, failure 1 to beta, partial half to each") {
    const auto p = ln::prior_from_rate("performance", "partial_revert", 0.75);  // Beta(3, 1)
    REQUIRE(p.alpha == Approx(3.0));
    REQUIRE(p.beta == Approx(1.0));
    const auto s = ln::updated(p, ln::outcome::success);
    CHECK(s.alpha == Approx(4.0));
    CHECK(s.beta == Approx(1.0));
    CHECK(s.observations == 1);
    const auto f = ln::updated(s, ln::outcome::failure);
    CHECK(f.alpha == Approx(4.0));
    CHECK(f.beta == Approx(2.0));
    CHECK(f.mean() == Approx(4.0 / 6.0));
    const auto h = ln::updated(f, ln::outcome::partial);
    CHECK(h.alpha == Approx(4.5));
    CHECK(h.beta == Approx(2.5));
    CHECK(h.observations == 3);
    CHECK(h.prior_mean == Approx(0.75));
  }
}
