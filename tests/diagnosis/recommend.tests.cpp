#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>

#include "selfheal/diagnosis/impact.hpp"
#include "selfheal/diagnosis/recommend.hpp"
#include "temp_dir.hpp"

namespace dx = selfheal::diagnosis;

namespace {

// A user's own strategy (template-based extension): the README example, compiled.
struct feature_flag_strategy {
  static constexpr std::string_view name = "feature_flag";
  std::optional<dx::recommendation> propose(const dx::diagnosis_item& d, const dx::codebase&) const {
    if (d.type != "performance") return std::nullopt;
    dx::recommendation r;
    r.strategy = std::string(name);
    r.expected_benefit = 0.9;
    r.rationale = "turn off the flag guarding " + d.handler;
    return r;
  }
};
static_assert(dx::fix_strategy<feature_flag_strategy>);

struct not_a_strategy {
  int propose(const dx::diagnosis_item&, const dx::codebase&) const { return 0; }
};
static_assert(!dx::fix_strategy<not_a_strategy>);

dx::diagnosis_item perf_item() {
  dx::diagnosis_item d;
  d.type = "performance";
  d.handler = "applyDiscount";
  d.where = dx::location{"src/cart.js", 10, 20, "applyDiscount"};
  dx::suspect_commit s;
  s.commit = std::string(40, 'a');
  s.summary = "Audit trail";
  s.score = 0.8;
  s.overlaps = true;
  s.lines_in_target = 4;
  s.lines_changed = 8;  // half the commit is elsewhere
  s.file = "src/cart.js";
  s.target_hunks = {{11, 0, 12, 4}};
  d.suspects = {s};
  d.related_config = {{"config/app.yaml", "pricing.cache_size", "128", 6}};
  d.nearby_tests = {"tests/cart.test.js:3 applies a spring discount"};
  return d;
}

}  // namespace

TEST_CASE("recommendations are ranked by applicability × prior", "[diagnosis][recommendFixes]") {
  const auto priors = dx::strategy_priors::defaults();
  const dx::codebase cb;
  const auto recs = dx::rank_fixes_with_defaults(perf_item(), cb, priors);
  // No coverage test: the handler has a test nearby and no uncovered lines were reported.
  REQUIRE(recs.size() == 5);
  // Hand-computed: revert 0.8×(0.6+0.4×0.5)=0.64 ×0.85 = 0.544; partial 0.8×(0.7+0.3×0.5)=0.68 ×0.75 = 0.51;
  // regression 0.8×0.6 = 0.48; doc 0.5×0.2 = 0.1; config 0.25×0.35 = 0.0875.
  CHECK(recs[0].strategy == "revert");
  CHECK(recs[0].expected_benefit == Approx(0.544));
  CHECK(recs[0].priority == 1);
  CHECK(recs[1].strategy == "partial_revert");
  CHECK(recs[1].expected_benefit == Approx(0.51));
  REQUIRE(recs[1].hunks.size() == 1);
  CHECK(recs[2].strategy == "regression_test");
  CHECK(recs[2].expected_benefit == Approx(0.48));
  CHECK(recs[2].file == "tests/cart.test.js");
  CHECK(recs[3].strategy == "doc_update");
  CHECK(recs[4].strategy == "config_change");
  CHECK(recs[4].expected_benefit == Approx(0.088));
  CHECK(recs[4].key == "pricing.cache_size");
  CHECK(recs[4].priority == 5);
  SECTION("without tests nearby a coverage test is proposed") {
    auto d = perf_item();
    d.nearby_tests.clear();
    const auto r = dx::rank_fixes_with_defaults(d, cb, priors);
    CHECK(std::any_of(r.begin(), r.end(), [](const dx::recommendation& x) { return x.strategy == "coverage_test"; }));
  }
}

TEST_CASE("a user strategy joins the ranking", "[diagnosis][recommendFixes]") {
  const auto priors = dx::strategy_priors::defaults();
  const dx::codebase cb;
  const auto only = dx::rank_fixes_using<feature_flag_strategy>(perf_item(), cb, priors);
  REQUIRE(only.size() == 1);
  CHECK(only[0].strategy == "feature_flag");
  CHECK(only[0].expected_benefit == Approx(0.45));  // 0.9 × the fallback prior 0.5
  const auto all = dx::rank_fixes_with_defaults<feature_flag_strategy>(perf_item(), cb, priors);
  CHECK(all.size() == 6);
}

TEST_CASE("priors come from the learning table when the store has it", "[diagnosis][recommendFixes]") {
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open((dir.path() / "s.db").string());
  REQUIRE(db);
  auto p = dx::load_priors(*db);
  REQUIRE(p);
  CHECK(p->source == "defaults");
  CHECK(p->rate("performance", "revert") == Approx(0.85));
  REQUIRE(db->exec("CREATE TABLE learning_strategy_priors(anomaly_type TEXT, strategy TEXT, successes REAL, failures REAL);"
                   "INSERT INTO learning_strategy_priors VALUES ('performance','revert',2,6);"));
  p = dx::load_priors(*db);
  REQUIRE(p);
  CHECK(p->rate("performance", "revert") == Approx(0.3));  // (2+1)/(2+6+2)
  CHECK(p->rate("performance", "partial_revert") == Approx(0.75));
}

TEST_CASE("impact: traffic share, sequences, budget burn and severity", "[diagnosis][assessImpact]") {
  dx::codebase cb;
  cb.sequences = {{"sequences/checkout.json", "checkout-symphony", "Checkout", {{1, "shop:cart:discount", "applyDiscount"}}},
                  {"sequences/quote.json", "quote-symphony", "Quote", {{1, "shop:quote", "apply_discount"}}}};
  dx::anomaly_input a;
  a.handler = "applyDiscount";
  a.handler_count = 250;
  a.total_count = 1000;
  a.baseline_p50 = 10;
  a.current_p50 = 32;
  dx::diagnosis_item d;
  d.type = "performance";
  SECTION("×3.2 on a quarter of traffic is critical") {
    const auto im = dx::estimate_impact(a, d, cb);
    CHECK(im.traffic_share == Approx(0.25));
    CHECK(im.sequences == std::vector<std::string>{"checkout-symphony", "quote-symphony"});
    CHECK(im.severity == "critical");
  }
  SECTION("an SLO burn rate") {
    a.current_p50 = 16;  // ×1.6 alone would be medium
    a.slo_target = 0.99;
    a.bad_fraction = 0.07;  // 7 % bad against a 1 % budget: burn 7
    const auto im = dx::estimate_impact(a, d, cb);
    CHECK(im.slo_budget_burn == Approx(7.0));
    CHECK(im.severity == "high");
  }
  SECTION("small and slight is low") {
    a.current_p50 = 11;
    a.handler_count = 5;
    const auto im = dx::estimate_impact(a, d, cb);
    CHECK(im.severity == "low");
  }
}
