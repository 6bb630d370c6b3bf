// learning.track end to end on a real SQLite file: the shop's logs are written as NDJSON and parsed
// with telemetry.parse, a baseline is established, the regression is detected, and then a deploy
// (the record deployment.deploy stores) is learned from with the post-deploy telemetry.
#include <selfheal/diagnosis/recommend.hpp>
#include <selfheal/learning/report.hpp>
#include <selfheal/learning/sequence.hpp>
#include <selfheal/learning/store.hpp>

#include <catch2/catch.hpp>

#include <string>

#include "scenario.hpp"

namespace ln = selfheal::learning;
using namespace learn_test;

namespace {

/// Baseline (windows 0–19), a checkout regression ×2 (20–34) detected, then `after` from window 35.
struct learned_shop : shop {
  std::string anomaly_id;
  explicit learned_shop(period after) {
    baseline(parse({0, 20}));
    parse({20, 35, 2.0});
    auto d = detect();
    anomaly_id = anomaly_on(d, "checkout");
    REQUIRE(!anomaly_id.empty());
    REQUIRE(anomaly_on(d, "pay").empty());
    after.from = 35;
    after.to = 50;
    parse(after);
  }
  sh::result<ln::track_summary> learn(const std::string& deployment_id, const std::string& strategy = "revert",
                                      const std::string& status = "deployed") {
    ln::track_request req;
    req.deployment = deployed(deployment_id, anomaly_id, strategy, 35, status);
    return sh::run(ln::track_learning, ctx, std::move(req));
  }
};

const ln::metric_change* metric(const ln::track_summary& s, const std::string& name) {
  for (const auto& m : s.metrics)
    if (m.name == name && m.has_data) return &m;
  return nullptr;
}

std::int64_t count(sh::store::database& db, const char* sql) {
  auto st = db.prepare(sql);
  REQUIRE(st);
  auto r = st->step();
  REQUIRE(r);
  return st->column_int(0);
}

}  // namespace

TEST_CASE("the anomalous period ends where the first stage began: canary traffic already runs the fix",
          "[learning][sequence]") {
  // baseline 0–19, checkout ×2 in 20–29, a canary from window 30 serving the fix (fast) until the
  // full stage finished at window 45, then the healthy period 45–59
  shop s;
  s.baseline(s.parse({0, 20}));
  s.parse({20, 30, 2.0});
  const auto d = s.detect();
  const auto anomaly_id = anomaly_on(d, "checkout");
  REQUIRE(!anomaly_id.empty());
  s.parse({30, 60});
  ln::track_request req;
  req.deployment = deployed("deployment-1", anomaly_id, "revert", 45);
  req.deployment->stages.front().started_ns = t0 + 30 * W;  // the canary began at window 30
  auto r = sh::run(ln::track_learning, s.ctx, std::move(req));
  REQUIRE(r);
  const auto* p50 = metric(*r, "checkout.p50_ms");
  REQUIRE(p50);
  REQUIRE(p50->during);
  // windows 20–29 only: 2 x 13 ms. Ending at the deploy, the fifteen fast canary windows outnumbered
  // the ten slow ones and "during" read as healthy.
  CHECK(*p50->during == Approx(26).margin(1.0));
}

TEST_CASE("a fix that brings the handler back is a success, with a refreshed baseline", "[learning][sequence][assessSuccess]") {
  learned_shop s(period{0, 0, 1.0});
  auto r = s.learn("deployment-1");
  REQUIRE(r);
  CHECK(r->record_id == "learning-1");
  CHECK(r->result == ln::outcome::success);
  CHECK_FALSE(r->already_learned);
  const auto* p50 = metric(*r, "checkout.p50_ms");
  REQUIRE(p50);
  CHECK(p50->from_judge);
  CHECK(p50->before == Approx(13).margin(0.5));
  CHECK(p50->after == Approx(13).margin(0.5));
  REQUIRE(p50->during);
  CHECK(*p50->during == Approx(26).margin(1.0));
  CHECK(p50->ci_low <= p50->change);
  CHECK(p50->ci_high >= p50->change);
  CHECK(p50->ci_low <= 0.5);
  CHECK(p50->ci_high >= -0.5);
  REQUIRE(metric(*r, "checkout.p95_ms"));
  REQUIRE(metric(*r, "pay.error_rate"));
  // every metric the judge used is there
  for (const char* n : {"checkout.p50_ms", "checkout.p95_ms", "checkout.error_rate", "pay.p50_ms", "pay.p95_ms", "pay.error_rate"})
    CHECK(metric(*r, n));
  // the posterior moved by exactly one success from diagnosis's default 0.85 (Beta(5.67, 1))
  REQUIRE(r->posteriors.size() == 1);
  CHECK(r->posteriors[0].anomaly_type == "performance");
  CHECK(r->posteriors[0].strategy == "revert");
  CHECK(r->posteriors[0].alpha == Approx(0.85 / 0.15 + 1));
  CHECK(r->posteriors[0].beta == Approx(1.0));
  // a new baseline with the healthy post-fix period
  REQUIRE(r->baseline_record);
  auto b = sh::anomaly::load_baseline(s.db, *r->baseline_record);
  REQUIRE(b);
  CHECK(b->records.size() == 2);
  const auto* h = b->find("checkout");
  REQUIRE(h);
  CHECK(h->samples == 35 * 40);
  CHECK(h->window_p50.size() == 35);
  // mean time to heal: onset (window 20) to the deploy (window 35) = 15 min
  CHECK(r->time_to_heal_s == Approx(15 * 60));
  bool has_mttr = false;
  for (const auto& i : r->insights) has_mttr |= i.topic == "time_to_heal" && i.text.find("15.0 min") != std::string::npos;
  CHECK(has_mttr);
  // stored: one record, its metrics, the posterior row diagnosis reads, an audit row
  CHECK(count(s.db, "SELECT COUNT(*) FROM learning_runs") == 1);
  CHECK(count(s.db, "SELECT COUNT(*) FROM learning_metrics WHERE record_id = 'learning-1'") == 6);
  CHECK(count(s.db, "SELECT COUNT(*) FROM audit_log WHERE action = 'learn'") == 1);
  const auto json = ln::to_json(*r);
  CHECK(json.find("\"outcome\":\"success\"") != std::string::npos);
  CHECK(json.find("\"ci_low\":") != std::string::npos);
  CHECK(json.find("\"baseline_record\":\"baseline-2\"") != std::string::npos);
}

TEST_CASE("better but not back is partial, with no refreshed baseline", "[learning][sequence][assessSuccess]") {
  learned_shop s(period{0, 0, 1.4});
  auto r = s.learn("deployment-1");
  REQUIRE(r);
  CHECK(r->result == ln::outcome::partial);
  const auto* p50 = metric(*r, "checkout.p50_ms");
  REQUIRE(p50);
  CHECK(p50->after == Approx(13 * 1.4).margin(0.8));
  CHECK(p50->ci_low > 0);  // still above the baseline
  CHECK(p50->after > p50->normal_high);
  CHECK_FALSE(r->baseline_record);
  CHECK(r->posteriors[0].alpha == Approx(0.85 / 0.15 + 0.5));
  CHECK(r->posteriors[0].beta == Approx(1.5));
  CHECK(r->time_to_heal_s == Approx(15 * 60));
}

TEST_CASE("back to normal but another handler got worse is partial", "[learning][sequence][assessSuccess]") {
  learned_shop s(period{0, 0, 1.0, 1.0, 6});  // pay fails 6 calls in 40 after the deploy
  auto r = s.learn("deployment-1");
  REQUIRE(r);
  CHECK(r->result == ln::outcome::partial);
  const auto* err = metric(*r, "pay.error_rate");
  REQUIRE(err);
  CHECK(err->before == 0);
  CHECK(err->after == Approx(0.15));
  CHECK(err->ci_low > 0);
  bool named = false;
  for (const auto& reason : r->reasons) named |= reason.find("worse: pay.error_rate") != std::string::npos;
  CHECK(named);
}

TEST_CASE("no better is a failure, and so is a roll-back", "[learning][sequence][assessSuccess]") {
  SECTION("still slow after the deploy") {
    learned_shop s(period{0, 0, 2.0});
    auto r = s.learn("deployment-1");
    REQUIRE(r);
    CHECK(r->result == ln::outcome::failure);
    CHECK(r->posteriors[0].alpha == Approx(0.85 / 0.15));
    CHECK(r->posteriors[0].beta == Approx(2.0));
    CHECK(r->time_to_heal_s < 0);
  }
  SECTION("rolled back by the canary judge") {
    learned_shop s(period{0, 0, 2.0});
    auto r = s.learn("deployment-1", "revert", "rolled_back");
    REQUIRE(r);
    CHECK(r->result == ln::outcome::failure);
    REQUIRE_FALSE(r->reasons.empty());
    CHECK(r->reasons.front().find("rolled back") == 0);
  }
}

TEST_CASE("learning twice from the same deployment counts once", "[learning][sequence][storeEffectiveness]") {
  learned_shop s(period{0, 0, 1.0});
  auto first = s.learn("deployment-1");
  REQUIRE(first);
  auto again = s.learn("deployment-1");
  REQUIRE(again);
  CHECK(again->already_learned);
  CHECK(again->record_id == first->record_id);
  CHECK(again->posteriors[0].alpha == Approx(first->posteriors[0].alpha));
  CHECK(again->posteriors[0].beta == Approx(first->posteriors[0].beta));
  CHECK_FALSE(again->baseline_record == std::optional<std::string>("baseline-3"));
  CHECK(count(s.db, "SELECT COUNT(*) FROM learning_runs") == 1);
  CHECK(count(s.db, "SELECT COUNT(*) FROM records WHERE kind = 'learning'") == 1);
  CHECK(count(s.db, "SELECT COUNT(*) FROM records WHERE kind = 'baseline'") == 2);
  auto stored = ln::load_posterior(s.db, "performance", "revert");
  REQUIRE(stored);
  CHECK(stored->first.observations == 1);
  CHECK(stored->first.alpha == Approx(0.85 / 0.15 + 1));
}

TEST_CASE("diagnose ranks strategies with the learned posterior", "[learning][sequence][updateLearningModels]") {
  // a suspect commit with half its changed lines inside the handler: both reverts apply
  sh::diagnosis::diagnosis_item item;
  item.type = "performance";
  item.handler = "checkout";
  sh::diagnosis::suspect_commit c;
  c.commit = "0123456789abcdef0123456789abcdef01234567";
  c.summary = "cache the cart";
  c.score = 1.0;
  c.overlaps = true;
  c.lines_changed = 20;
  c.lines_in_target = 10;
  c.file = "src/cart.js";
  c.target_hunks = {{10, 5, 10, 7}};
  item.suspects = {c};
  const sh::diagnosis::codebase code;
  learned_shop s(period{0, 0, 2.0});
  auto before = sh::diagnosis::load_priors(s.db);
  REQUIRE(before);
  auto ranked = sh::diagnosis::rank_fixes_with_defaults(item, code, *before);
  REQUIRE(ranked.size() >= 2);
  CHECK(ranked[0].strategy == "revert");
  CHECK(ranked[1].strategy == "partial_revert");
  auto r = s.learn("deployment-1", "revert");  // the revert did not help
  REQUIRE(r);
  REQUIRE(r->result == ln::outcome::failure);
  auto after = sh::diagnosis::load_priors(s.db);
  REQUIRE(after);
  CHECK(after->rate("performance", "revert") == Approx(r->posteriors[0].mean()));
  CHECK(after->rate("performance", "partial_revert") == Approx(0.75));
  auto reranked = sh::diagnosis::rank_fixes_with_defaults(item, code, *after);
  REQUIRE(reranked.size() >= 2);
  CHECK(reranked[0].strategy == "partial_revert");
  CHECK(reranked[1].strategy == "revert");
}

TEST_CASE("learning needs a deployment that reached production and telemetry after it", "[learning][sequence][trackRequested]") {
  learned_shop s(period{0, 0, 1.0});
  SECTION("a dry run is refused") {
    auto r = s.learn("deployment-1", "revert", "dry_run");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == sh::errc::invalid_request);
    CHECK(r.error().handler == "loadDeploymentInfo");
  }
  SECTION("a malformed record id is refused before anything is read") {
    ln::track_request req;
    req.deployment_record = "validation-3";
    auto r = sh::run(ln::track_learning, s.ctx, std::move(req));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == sh::errc::invalid_request);
    CHECK(r.error().beat == 1);
  }
  SECTION("no telemetry after the deploy") {
    ln::track_request req;
    req.deployment = deployed("deployment-2", s.anomaly_id, "revert", 60);
    auto r = sh::run(ln::track_learning, s.ctx, std::move(req));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == sh::errc::not_found);
    CHECK(r.error().handler == "collectPostDeploymentMetrics");
    CHECK(count(s.db, "SELECT COUNT(*) FROM learning_runs") == 0);
  }
}

TEST_CASE("learn reads the deployment that deploy stored, by id or the latest", "[learning][sequence][loadDeploymentInfo]") {
  learned_shop s(period{0, 0, 1.0});
  auto d = deployed("", s.anomaly_id, "revert", 35);
  auto id = sh::deployment::create_deployment(s.db, d, s.clock.now(), "test");
  REQUIRE(id);
  d.record_id = *id;
  REQUIRE(sh::deployment::save_deployment(s.db, d, s.clock.now()));
  SECTION("the latest") {
    auto r = sh::run(ln::track_learning, s.ctx, ln::track_request{});
    REQUIRE(r);
    CHECK(r->deployment_record == *id);
    CHECK(r->result == ln::outcome::success);
    CHECK(count(s.db, ("SELECT COUNT(*) FROM records WHERE kind = 'learning' AND parent = '" + *id + "'").c_str()) == 1);
  }
  SECTION("by id, and an unknown id is not found") {
    ln::track_request req;
    req.deployment_record = *id;
    auto r = sh::run(ln::track_learning, s.ctx, req);
    REQUIRE(r);
    CHECK(metric(*r, "checkout.p50_ms"));
    req.deployment_record = "deployment-42";
    auto missing = sh::run(ln::track_learning, s.ctx, req);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == sh::errc::not_found);
  }
}
