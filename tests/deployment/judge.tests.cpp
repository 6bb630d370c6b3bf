// The canary judge: each statistic against a naive reference written here (all n·m pairwise
// differences sorted; anomaly's sort-based Mann-Whitney), each classification rule on data built
// to hit it, and the scoring rules. Random data comes from fixed seeds.
#include <selfheal/anomaly/stats.hpp>
#include <selfheal/deployment/judge.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace dep = selfheal::deployment;
namespace st = selfheal::anomaly::stats;

namespace {

std::vector<double> lognormal(std::uint64_t seed, std::size_t n, double mu, double sigma) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(mu, sigma);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// Every pairwise difference canary − baseline, sorted: the definition itself.
std::vector<double> all_differences(const std::vector<double>& canary, const std::vector<double>& baseline) {
  std::vector<double> d;
  for (double y : canary)
    for (double x : baseline) d.push_back(y - x);
  std::sort(d.begin(), d.end());
  return d;
}

std::vector<double> scaled(std::vector<double> v, double f) {
  for (auto& x : v) x *= f;
  return v;
}

}  // namespace

TEST_CASE("pairwise-difference order statistics match all n*m differences sorted", "[deployment][judge]") {
  const auto b = lognormal(1, 57, 3, 0.4);
  const auto c = lognormal(2, 43, 3.2, 0.4);
  const auto diffs = all_differences(c, b);
  const auto sb = dep::summarize_samples(b), sc = dep::summarize_samples(c);
  REQUIRE_FALSE(sb.binned);
  for (std::size_t k : {std::size_t{1}, std::size_t{17}, diffs.size() / 2, diffs.size() - 3, diffs.size()}) {
    const double got = dep::pairwise_difference_rank(sc, sb, static_cast<double>(k));
    CHECK(got == Approx(diffs[k - 1]).margin(1e-6));
  }
  SECTION("Hodges-Lehmann is the (lower) median difference, its interval the k-th from each end") {
    const auto hl = dep::hodges_lehmann(sc, sb, 0.95);
    const double N = static_cast<double>(diffs.size());
    CHECK(hl.estimate == Approx(diffs[static_cast<std::size_t>(std::ceil(N / 2)) - 1]).margin(1e-6));
    const double k = std::floor(N / 2 - 1.959964 * std::sqrt(N * (43 + 57 + 1) / 12.0));
    CHECK(hl.lower == Approx(diffs[static_cast<std::size_t>(k) - 1]).margin(1e-6));
    CHECK(hl.upper == Approx(diffs[static_cast<std::size_t>(N - k)]).margin(1e-6));
    CHECK(hl.lower < hl.estimate);
    CHECK(hl.estimate < hl.upper);
  }
}

TEST_CASE("Mann-Whitney over summaries equals the sort-based test, ties included", "[deployment][judge]") {
  std::vector<double> b{1, 2, 2, 3, 5, 5, 5, 8, 9, 9, 12};
  std::vector<double> c{2, 3, 3, 5, 7, 9, 10, 11, 12, 12};
  const auto ours = dep::mann_whitney(dep::summarize_samples(c), dep::summarize_samples(b));
  const auto ref = st::mann_whitney_u(c, b);
  CHECK(ours.u_x == Approx(ref.u_x));
  CHECK(ours.p_two_sided == Approx(ref.p_two_sided));
  CHECK(ours.p_greater == Approx(ref.p_greater));
}

TEST_CASE("large samples are grouped at 2^-8 relative width and judged like the exact values", "[deployment][judge]") {
  const auto b = lognormal(3, 20000, 3, 0.5);
  const auto c = lognormal(4, 20000, 3.05, 0.5);
  const auto gb = dep::summarize_samples(b), gc = dep::summarize_samples(c);
  const auto eb = dep::summarize_samples(b, 1u << 30), ec = dep::summarize_samples(c, 1u << 30);
  REQUIRE(gb.binned);
  REQUIRE_FALSE(eb.binned);
  CHECK(gb.entries.size() < eb.entries.size() / 4);
  CHECK(gb.mean == Approx(eb.mean).epsilon(1e-9));            // group values are their samples' means
  CHECK(gb.median == Approx(eb.median).epsilon(0.004));       // within one group's width
  const auto g = dep::hodges_lehmann(gc, gb, 0.98), e = dep::hodges_lehmann(ec, eb, 0.98);
  CHECK(g.estimate == Approx(e.estimate).epsilon(0.02));
  CHECK(dep::mann_whitney(gc, gb).z == Approx(dep::mann_whitney(ec, eb).z).epsilon(0.02));
  SECTION("zeros are their own group; negative values fall back to exact") {
    std::vector<double> z(10000, 0.0);
    for (std::size_t i = 0; i < z.size(); i += 3) z[i] = 0.01 * static_cast<double>(i % 7 + 1);
    const auto s = dep::summarize_samples(z);
    CHECK(s.binned);
    CHECK(s.entries.front().value == 0.0);
    CHECK(s.entries.front().count == Approx(10000 - 3334));
    z[5] = -1;
    CHECK_FALSE(dep::summarize_samples(z).binned);
  }
}

TEST_CASE("classify_metric: each rule of Kayenta's classifier", "[deployment][judge]") {
  dep::judge_options opt;
  const auto base = lognormal(10, 200, std::log(20.0), 0.2);  // ~20 ms
  SECTION("a 50% slower handler is high") {
    const auto v = dep::classify_metric("checkout.p50_ms", base, scaled(lognormal(11, 200, std::log(20.0), 0.2), 1.5), opt, true);
    CHECK(v.classification == "high");
    CHECK(v.ratio == Approx(1.5).epsilon(0.1));
    CHECK(v.p_value < 0.001);
    CHECK(v.critical);
  }
  SECTION("a 2x faster handler is low") {
    CHECK(dep::classify_metric("checkout.p50_ms", base, scaled(lognormal(12, 200, std::log(20.0), 0.2), 0.5), opt).classification == "low");
  }
  SECTION("a significant 10% increase is within allowed_increase: pass") {
    const auto v = dep::classify_metric("checkout.p50_ms", base, scaled(lognormal(13, 200, std::log(20.0), 0.2), 1.1), opt);
    CHECK(v.p_value < 0.01);
    CHECK(v.classification == "pass");
  }
  SECTION("a 50% increase of a 0.1 ms handler is below min_effect_ms: pass") {
    const auto tiny = scaled(base, 0.005);
    CHECK(dep::classify_metric("fast.p50_ms", tiny, scaled(lognormal(14, 200, std::log(20.0), 0.2), 0.0075), opt).classification == "pass");
    SECTION("but the same for an error rate (no ms threshold) is high") {
      CHECK(dep::classify_metric("fast.error_rate", tiny, scaled(lognormal(14, 200, std::log(20.0), 0.2), 0.0075), opt).classification == "high");
    }
  }
  SECTION("the same distribution again is pass, identical samples are pass") {
    CHECK(dep::classify_metric("checkout.p95_ms", base, lognormal(15, 200, std::log(20.0), 0.2), opt).classification == "pass");
    CHECK(dep::classify_metric("checkout.p95_ms", base, base, opt).classification == "pass");
  }
  SECTION("fewer than min_samples on a side is nodata") {
    const std::vector<double> few(base.begin(), base.begin() + 29);
    CHECK(dep::classify_metric("checkout.p50_ms", base, few, opt).classification == "nodata");
    CHECK(dep::classify_metric("checkout.p50_ms", few, base, opt).classification == "nodata");
  }
  SECTION("an error rate that was always 0 and now is mostly positive is high (ratio infinite)") {
    std::vector<double> zero(100, 0.0), errs(100);
    for (std::size_t i = 0; i < errs.size(); ++i) errs[i] = i % 5 == 0 ? 0.0 : 0.1 + 0.01 * static_cast<double>(i % 7);
    const auto v = dep::classify_metric("checkout.error_rate", zero, errs, opt, true);
    CHECK(v.classification == "high");
    CHECK(std::isinf(v.ratio));
    CHECK(dep::classify_metric("checkout.error_rate", zero, zero, opt).classification == "pass");
  }
}

TEST_CASE("score_metrics: pass share, the critical rule, thresholds and no data", "[deployment][judge]") {
  dep::judge_options opt;
  auto metric = [](std::string name, std::string cls, bool critical = false) {
    dep::metric_verdict m;
    m.name = std::move(name);
    m.classification = std::move(cls);
    m.critical = critical;
    return m;
  };
  SECTION("19 pass + 1 low of 20 judged, 1 nodata ignored: 100, pass") {
    std::vector<dep::metric_verdict> ms(19, metric("a.p50_ms", "pass"));
    ms.push_back(metric("b.p50_ms", "low"));
    ms.push_back(metric("c.p50_ms", "nodata"));
    const auto j = dep::score_metrics(ms, opt);
    CHECK(j.score == 100);
    CHECK(j.verdict == "pass");
  }
  SECTION("one non-critical high of 20: 95, pass; of 10: 90, marginal; 3 of 6: 50, fail") {
    std::vector<dep::metric_verdict> ms(19, metric("a.p50_ms", "pass"));
    ms.push_back(metric("b.p95_ms", "high"));
    CHECK(dep::score_metrics(ms, opt).score == 95);
    CHECK(dep::score_metrics(ms, opt).verdict == "pass");
    std::vector<dep::metric_verdict> ten(9, metric("a.p50_ms", "pass"));
    ten.push_back(metric("b.p95_ms", "high"));
    CHECK(dep::score_metrics(ten, opt).verdict == "marginal");
    std::vector<dep::metric_verdict> six(3, metric("a.p50_ms", "pass"));
    for (int i = 0; i < 3; ++i) six.push_back(metric("b.p95_ms", "high"));
    const auto j = dep::score_metrics(six, opt);
    CHECK(j.score == 50);
    CHECK(j.verdict == "fail");
  }
  SECTION("a critical high makes the score 0 whatever else passed") {
    std::vector<dep::metric_verdict> ms(30, metric("a.p50_ms", "pass"));
    ms.push_back(metric("checkout.error_rate", "high", true));
    const auto j = dep::score_metrics(ms, opt);
    CHECK(j.score == 0);
    CHECK(j.verdict == "fail");
    CHECK(std::any_of(j.reasons.begin(), j.reasons.end(), [](const std::string& r) { return r.find("critical") != std::string::npos; }));
  }
  SECTION("nothing judged: marginal, a person decides") {
    const auto j = dep::score_metrics({metric("a.p50_ms", "nodata")}, opt);
    CHECK(j.verdict == "marginal");
    CHECK(j.score == 0);
  }
}

TEST_CASE("judge over views: a regressed handler among healthy ones", "[deployment][judge]") {
  dep::judge_options opt;
  std::vector<dep::metric_samples> ms;
  for (int h = 0; h < 5; ++h) {
    const auto name = "h" + std::to_string(h);
    ms.push_back({name + ".p50_ms", lognormal(static_cast<std::uint64_t>(100 + h), 60, 2, 0.2),
                  lognormal(static_cast<std::uint64_t>(200 + h), 60, 2, 0.2), h == 0});
  }
  auto j = dep::judge(std::span<const dep::metric_samples>(ms), opt);
  CHECK(j.verdict == "pass");
  CHECK(j.score == 100);
  ms[0].canary = scaled(ms[0].canary, 3);
  j = dep::judge(std::span<const dep::metric_samples>(ms), opt);
  CHECK(j.metrics[0].classification == "high");
  CHECK(j.verdict == "fail");
  CHECK(j.score == 0);
}
