// `selfheal feedback`: per-handler detection thresholds tuned by people, stored, read by detect, and
// reported by learn. The data are real parsed logs; detection runs the real anomaly.detect.
#include <selfheal/anomaly/thresholds.hpp>
#include <selfheal/learning/sequence.hpp>

#include <catch2/catch.hpp>

#include <string>

#include "scenario.hpp"

namespace an = selfheal::anomaly;
namespace ln = selfheal::learning;
using namespace learn_test;

TEST_CASE("a false positive marked twice stops firing on the same data, a true positive still fires",
          "[learning][feedback][anomaly]") {
  shop s;
  s.baseline(s.parse({0, 20}));
  const std::string current = s.parse({20, 35, 1.8, 1.8});  // both handlers 1.8x slower
  auto first = s.detect(current);
  const std::string checkout = anomaly_on(first, "checkout"), pay = anomaly_on(first, "pay");
  REQUIRE(!checkout.empty());
  REQUIRE(!pay.empty());

  auto fp1 = an::record_feedback(s.db, checkout, an::verdict::false_positive, s.clock.now());
  REQUIRE(fp1);
  CHECK(fp1->handler == "checkout");
  CHECK(fp1->factor_before == 1.0);
  CHECK(fp1->factor_after == Approx(1.25));
  auto tp = an::record_feedback(s.db, pay, an::verdict::true_positive, s.clock.now());
  REQUIRE(tp);
  CHECK(tp->factor_after == 1.0);  // a true positive never relaxes below the configured thresholds

  auto second = s.detect(current);  // the threshold is 1.3 x 1.25 = 1.625: 1.8x still fires
  const std::string checkout2 = anomaly_on(second, "checkout");
  REQUIRE(!checkout2.empty());
  CHECK(!anomaly_on(second, "pay").empty());
  bool tagged = false;
  for (const auto& a : second.anomalies)
    if (a.handler == "checkout") tagged = a.find("threshold_factor") != nullptr;
  CHECK(tagged);

  auto fp2 = an::record_feedback(s.db, checkout2, an::verdict::false_positive, s.clock.now());
  REQUIRE(fp2);
  CHECK(fp2->factor_before == Approx(1.25));
  CHECK(fp2->factor_after == Approx(1.5625));

  auto third = s.detect(current);  // 1.3 x 1.5625 = 2.03 > 1.8: checkout no longer fires
  CHECK(anomaly_on(third, "checkout").empty());
  CHECK(!anomaly_on(third, "pay").empty());

  auto th = an::load_thresholds(s.db);
  REQUIRE(th);
  CHECK(th->factor_of("checkout") == Approx(1.5625));
  CHECK(th->factor_of("pay") == 1.0);

  SECTION("feedback on a handler is audited and its history kept") {
    auto all = an::load_feedback(s.db);
    REQUIRE(all);
    REQUIRE(all->size() == 3);
    CHECK((*all)[0].anomaly_id == checkout);
    CHECK((*all)[2].factor_after == Approx(1.5625));
    auto st = s.db.prepare("SELECT COUNT(*) FROM audit_log WHERE action = 'feedback'");
    REQUIRE(st);
    REQUIRE(*st->step());
    CHECK(st->column_int(0) == 3);
  }
  SECTION("true positives relax a tuned handler back, never below 1") {
    auto a = an::record_feedback(s.db, checkout2, an::verdict::true_positive, s.clock.now());
    REQUIRE(a);
    CHECK(a->factor_after == Approx(1.5625 * 0.9));
    CHECK(an::tuned_factor(1.05, an::verdict::true_positive) == 1.0);
  }
  SECTION("an unknown anomaly id is not found and changes nothing") {
    auto bad = an::record_feedback(s.db, "anomaly-99.1", an::verdict::false_positive, s.clock.now());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == sh::errc::not_found);
    auto again = an::load_thresholds(s.db);
    REQUIRE(again);
    CHECK(again->factor_of("checkout") == Approx(1.5625));
  }
}

TEST_CASE("learn reports the threshold changes given since the previous learn", "[learning][feedback][updateLearningModels]") {
  shop s;
  s.baseline(s.parse({0, 20}));
  s.parse({20, 35, 2.0});
  auto d = s.detect();
  const std::string checkout = anomaly_on(d, "checkout");
  REQUIRE(!checkout.empty());
  REQUIRE(an::record_feedback(s.db, checkout, an::verdict::true_positive, s.clock.now()));
  s.parse({35, 50});
  ln::track_request req;
  req.deployment = deployed("deployment-1", checkout, "revert", 35);
  auto r = sh::run(ln::track_learning, s.ctx, req);
  REQUIRE(r);
  REQUIRE(r->threshold_changes.size() == 1);
  CHECK(r->threshold_changes[0].handler == "checkout");
  CHECK(r->threshold_changes[0].verdict == "true-positive");
  req.deployment = deployed("deployment-2", checkout, "revert", 35);
  auto next = sh::run(ln::track_learning, s.ctx, req);
  REQUIRE(next);
  CHECK(next->threshold_changes.empty());  // reported once
}
