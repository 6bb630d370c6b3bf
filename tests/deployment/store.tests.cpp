// The deployment store: a record round-trips (stages, metrics, pull request, rollback, audit ids);
// step states for resume; the resumable deployment of a validation; the rate limit's history;
// approvals with their audit rows; the audit log stays append-only.
#include <selfheal/deployment/store.hpp>

#include <catch2/catch.hpp>

#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "temp_dir.hpp"

#include <chrono>
#include <cmath>

namespace dep = selfheal::deployment;
namespace st = selfheal::store;

namespace {
selfheal::time_point at(std::int64_t s) { return selfheal::time_point{} + std::chrono::seconds{s}; }

dep::record sample() {
  dep::record r;
  r.validation_record = "validation-4";
  r.mode = "auto";
  r.status = "running";
  r.handler = "checkout";
  r.anomaly_id = "anomaly-2.1";
  r.anomaly_type = "latency_regression";
  r.strategy = "revert";
  return r;
}
}  // namespace

TEST_CASE("a deployment record round-trips through the store", "[deployment][store]") {
  selfheal::test::temp_dir tmp;
  auto db = st::database::open(selfheal::test::fresh_store_url(GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), tmp));
  REQUIRE(db);
  auto r = sample();
  auto id = dep::create_deployment(*db, r, at(100), "tester");
  REQUIRE(id);
  CHECK(*id == "deployment-1");
  r.record_id = *id;
  r.status = "rolled_back";
  r.reasons = {"canary failed", "checkout.error_rate is high"};
  r.branch = "selfheal/checkout-deployment-1";
  r.commit = "abc";
  r.merge_commit = "def";
  r.previous = "012";
  r.pr = dep::pull_request{"pr-1", "Fix checkout", "", "# body"};
  dep::stage_result s;
  s.stage = "canary";
  s.commit = "def";
  s.started_ns = 1;
  s.finished_ns = 2;
  s.verdict = "fail";
  s.score = 0;
  s.metrics.push_back({"checkout.error_rate", 0, 0.2, std::numeric_limits<double>::infinity(), 1e-9, "high", true});
  s.metrics.push_back({"checkout.p50_ms", 10, 10.5, 1.05, 0.3, "pass", true});
  r.stages = {s};
  r.rolled_back = dep::rollback{"fed", "canary failed"};
  auto audit = dep::save_deployment(*db, r, at(200), "selfheal", "deploy.rollback", "reverted def");
  REQUIRE(audit);
  CHECK(*audit > 0);
  auto back = dep::load_deployment(*db, *id);
  REQUIRE(back);
  CHECK(back->status == "rolled_back");
  CHECK(back->reasons == r.reasons);
  CHECK(back->branch == r.branch);
  CHECK(back->merge_commit == "def");
  CHECK(back->previous == "012");
  REQUIRE(back->pr);
  CHECK(back->pr->body == "# body");
  REQUIRE(back->stages.size() == 1);
  REQUIRE(back->stages[0].metrics.size() == 2);
  CHECK(std::isinf(back->stages[0].metrics[0].ratio));
  CHECK(back->stages[0].metrics[0].critical);
  CHECK(back->stages[0].metrics[1].ratio == Approx(1.05));
  REQUIRE(back->rolled_back);
  CHECK(back->rolled_back->commit == "fed");
  CHECK(back->audit.size() == 2);  // requested + rollback
  CHECK(back->handler == "checkout");
  CHECK(back->anomaly_type == "latency_regression");
  SECTION("the audit log refuses updates and deletes") {
    CHECK_FALSE(db->exec("DELETE FROM audit_log"));
    CHECK_FALSE(db->exec("UPDATE audit_log SET actor = 'x'"));
  }
  SECTION("an unknown id says how to list them") {
    auto none = dep::load_deployment(*db, "deployment-9");
    REQUIRE_FALSE(none);
    CHECK(none.error().code == selfheal::errc::not_found);
  }
}

TEST_CASE("step states, the open deployment of a validation, the handler's deploy history", "[deployment][store]") {
  selfheal::test::temp_dir tmp;
  auto db = st::database::open(selfheal::test::fresh_store_url(GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), tmp));
  REQUIRE(db);
  auto r = sample();
  auto id = dep::create_deployment(*db, r, at(100), "tester");
  REQUIRE(id);
  r.record_id = *id;
  CHECK(dep::get_step(*db, *id, "branch")->state.empty());
  REQUIRE(dep::set_step(*db, *id, "branch", "started", "", at(101)));
  REQUIRE(dep::set_step(*db, *id, "branch", "done", "selfheal/x", at(102)));
  REQUIRE(dep::set_step(*db, *id, "commit", "started", "", at(103)));
  auto b = dep::get_step(*db, *id, "branch");
  CHECK(b->state == "done");
  CHECK(b->detail == "selfheal/x");
  CHECK(b->at_ns == 102'000'000'000);  // when the state was written: a resumed stage keeps its first start
  auto steps = dep::load_steps(*db, *id);
  REQUIRE(steps->size() == 2);
  CHECK((*steps)[1].first == "commit");

  CHECK(*dep::open_deployment_for(*db, "validation-4") == *id);
  CHECK(dep::open_deployment_for(*db, "validation-5")->empty());
  CHECK(dep::deploys_of_handler(*db, "checkout")->empty());  // nothing merged yet
  r.merge_commit = "m1";
  REQUIRE(dep::save_deployment(*db, r, at(110)));
  CHECK(dep::deploys_of_handler(*db, "checkout")->size() == 1);
  CHECK(dep::deploys_of_handler(*db, "checkout", *id)->empty());
  r.status = "deployed";
  REQUIRE(dep::save_deployment(*db, r, at(120)));
  CHECK(dep::open_deployment_for(*db, "validation-4")->empty());
}

TEST_CASE("approvals and rejections are stored with their audit rows", "[deployment][store]") {
  selfheal::test::temp_dir tmp;
  auto db = st::database::open(selfheal::test::fresh_store_url(GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql), tmp));
  REQUIRE(db);
  auto id = dep::create_deployment(*db, sample(), at(100), "tester");
  REQUIRE(id);
  REQUIRE(dep::record_approval(*db, *id, {"approve", "alice", "", 0}, at(150)));
  REQUIRE(dep::record_approval(*db, *id, {"reject", "bob", "too risky", 0}, at(160)));
  auto a = dep::load_approvals(*db, *id);
  REQUIRE(a->size() == 2);
  CHECK((*a)[0].actor == "alice");
  CHECK((*a)[1].reason == "too risky");
  auto q = db->prepare("SELECT actor, action FROM audit_log WHERE record = ?1 ORDER BY id");
  q->bind(1, *id);
  std::vector<std::string> rows;
  while (*q->step()) rows.push_back(q->column_text(0) + " " + q->column_text(1));
  CHECK(rows == std::vector<std::string>{"tester deploy.requested", "alice deploy.approve", "bob deploy.reject"});
}
