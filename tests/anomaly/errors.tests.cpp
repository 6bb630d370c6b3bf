#include <selfheal/anomaly/baseline.hpp>
#include <selfheal/anomaly/errors.hpp>

#include <catch2/catch.hpp>

#include <vector>

namespace an = selfheal::anomaly;

namespace {
constexpr std::int64_t W = 60'000'000'000;

// baseline: 100 windows × 100 calls, 10 errors in all (0.1%)
an::baseline make_base(std::vector<an::error_sample> errors = {}) {
  an::handler_series s;
  s.handler = "pay";
  for (int i = 0; i < 100; ++i) s.windows.push_back({i * W, 100, i % 10 == 0 ? 1u : 0u, 10, 20, 30});
  std::vector<an::handler_series> v{s};
  auto b = an::build_baseline(v, W, errors);
  b.id = "baseline-1";
  return b;
}

// current: 20 windows × 100 calls; the last 10 have `late_errors` each
an::handler_series make_current(std::uint64_t late_errors) {
  an::handler_series s;
  s.handler = "pay";
  for (int i = 0; i < 20; ++i)
    s.windows.push_back({(500 + i) * W, 100, i >= 10 ? late_errors : (i == 3 ? 1u : 0u), 10, 20, 30});
  return s;
}
}  // namespace

TEST_CASE("an error-rate rise is tested with two proportions since its onset", "[anomaly][detectErrorPatterns]") {
  const auto base = make_base();
  const auto a = an::detect_error_rate(make_current(10), *base.find("pay"));
  REQUIRE(a.has_value());
  CHECK(a->kind == an::anomaly_kind::error_rate);
  CHECK(a->onset_ns == 510 * W);
  // since the onset: 100 of 1000 (10%) vs 10 of 10000 (0.1%): pooled 110/11000 = 1%,
  // se = √(0.01·0.99·(1/10000 + 1/1000)) = 0.0033 → z = 0.099/0.0033 = 30.0
  CHECK(a->find("error_rate")->number == Approx(0.10));
  CHECK(a->find("baseline_error_rate")->number == Approx(0.001));
  CHECK(a->find("z")->number == Approx(30.0).epsilon(1e-6));
  CHECK(a->find("errors")->number == 100);
  CHECK(a->level == an::severity::high);

  SECTION("rare steady errors are not a rise") {
    CHECK_FALSE(an::detect_error_rate(make_current(0), *base.find("pay")).has_value());
  }
  SECTION("significant but tiny (+0.5 points) is not flagged") {
    // 1 error per window on the last 10: 11 of 1000 since onset… below min_rate_increase 1%
    CHECK_FALSE(an::detect_error_rate(make_current(1), *base.find("pay")).has_value());
  }
}

TEST_CASE("error templates: new ones and spikes", "[anomaly][detectErrorPatterns]") {
  std::vector<an::error_sample> base_errors;
  for (int i = 0; i < 10; ++i) base_errors.push_back({"pay", "Timeout calling bank after " + std::to_string(100 + i) + " ms", 1});
  for (int i = 0; i < 10; ++i) base_errors.push_back({"pay", "Card 4" + std::to_string(i) + "11 declined by issuer", 1});
  const auto base = make_base(base_errors);
  an::telemetry_data cur;
  cur.handlers = {make_current(0)};
  SECTION("a message shape never seen before") {
    cur.errors = {{"pay", "Timeout calling bank after 250 ms", 2},
                  {"pay", "Disk full on /var/lib/pay/ledger", 3},
                  {"pay", "Disk full on /var/lib/pay/journal", 4}};
    const auto found = an::detect_error_templates(cur, base);
    REQUIRE(found.size() == 1);
    CHECK(found[0].kind == an::anomaly_kind::new_error_template);
    CHECK(found[0].find("template")->text == "Disk full on <*>");
    CHECK(found[0].find("count")->number == 7);
    CHECK(found[0].handler == "pay");
  }
  SECTION("too few new messages are not a pattern") {
    cur.errors = {{"pay", "Disk full on /var/lib/pay/ledger", 2}};
    CHECK(an::detect_error_templates(cur, base).empty());
  }
  SECTION("a known template whose share of the errors jumps") {
    // exposure: 2000 current calls / 10000 baseline calls → timeouts expected 10 · 0.2 = 2;
    // 40 seen: 20×, Poisson p ≈ 0; share of errors 10/20 → 40/42
    cur.errors = {{"pay", "Timeout calling bank after 300 ms", 40}, {"pay", "Card 4011 declined by issuer", 2}};
    const auto found = an::detect_error_templates(cur, base);
    REQUIRE(found.size() == 1);
    CHECK(found[0].kind == an::anomaly_kind::error_template_spike);
    CHECK(found[0].find("expected")->number == Approx(2.0));
    CHECK(found[0].find("ratio")->number == Approx(20.0));
    CHECK(found[0].find("template")->text == "Timeout calling bank after <*>");
  }
  SECTION("all templates growing together belong to the error-rate rise, not a spike") {
    cur.errors = {{"pay", "Timeout calling bank after 300 ms", 40}, {"pay", "Card 4011 declined by issuer", 40}};
    CHECK(an::detect_error_templates(cur, base).empty());
  }
}
