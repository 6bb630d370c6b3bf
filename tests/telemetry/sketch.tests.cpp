#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "selfheal/telemetry/sketch.hpp"

namespace tel = selfheal::telemetry;

namespace {
// Exact nearest-rank quantile, computed independently of the sketch.
double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}
std::vector<double> lognormal_sample(std::uint32_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(3.0, 1.2);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
}  // namespace

TEST_CASE("sketch quantiles are within 1% of exact nearest-rank", "[telemetry][sketch]") {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const auto values = lognormal_sample(seed, 20000);
    tel::quantile_sketch s;
    for (double x : values) s.add(x);
    REQUIRE(s.count() == values.size());
    for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
      const double exact = exact_quantile(values, q);
      CHECK(std::fabs(s.quantile(q) - exact) <= 0.01 * exact);
    }
  }
  SECTION("small and zero values") {
    tel::quantile_sketch s;
    for (double x : {0.0, 0.0, 5.0}) s.add(x);
    CHECK(s.quantile(0.5) == 0.0);
    CHECK(s.quantile(1.0) == 5.0);
    CHECK(tel::quantile_sketch{}.quantile(0.5) == 0.0);
  }
}

TEST_CASE("merging two sketches equals sketching the union", "[telemetry][sketch]") {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    const auto a = lognormal_sample(static_cast<std::uint32_t>(rng()), rng() % 500);
    const auto b = lognormal_sample(static_cast<std::uint32_t>(rng()), rng() % 500);
    tel::quantile_sketch sa, sb, su;
    for (double x : a) { sa.add(x); su.add(x); }
    for (double x : b) { sb.add(x); su.add(x); }
    tel::quantile_sketch ab = sa;
    ab.merge(sb);
    tel::quantile_sketch ba = sb;
    ba.merge(sa);
    CHECK(ab == su);
    CHECK(ba == su);
  }
}

TEST_CASE("sketch serialises to a blob and back", "[telemetry][sketch]") {
  tel::quantile_sketch s;
  for (double x : lognormal_sample(9, 1000)) s.add(x);
  s.add(0.0);
  const auto blob = s.serialize();
  const auto back = tel::quantile_sketch::deserialize(blob);
  REQUIRE(back);
  CHECK(*back == s);
  CHECK(back->quantile(0.95) == s.quantile(0.95));
  CHECK_FALSE(tel::quantile_sketch::deserialize("nope"));
  CHECK_FALSE(tel::quantile_sketch::deserialize(blob.substr(0, blob.size() - 3)));
  const auto empty = tel::quantile_sketch::deserialize(tel::quantile_sketch{}.serialize());
  REQUIRE(empty);
  CHECK(empty->count() == 0);
}
