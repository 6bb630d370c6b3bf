// selfheal heal through the real program: a second anomaly while the first heals, a rollback that
// is not retried with the same strategy, approve mode, and the C++ demo service end to end.

#include "service.hpp"

using namespace selfheal::test::heal_service;

namespace {
void baseline(service& s) {
  s.traffic();
  auto first = s.heal();
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  REQUIRE(json_string(first.out, "status") == "nothing_to_do");
}
std::string column(const service& s, const std::string& col, const std::string& handler) {
  return s.sql("SELECT " + col + " FROM heal_anomalies WHERE handler = '" + handler + "' ORDER BY detected_ns LIMIT 1");
}
}  // namespace

TEST_CASE("two handlers regress in two commits: both healed, each once, each with its own records", "[heal][e2e][slow]") {
  service s;
  baseline(s);
  s.regress("cart: validate every line", slow_total(handlers_v1), "Grace Hopper");
  s.regress("payment: audit every charge synchronously", slow_pay(slow_total(handlers_v1)), "Linus Torvalds");
  s.traffic();
  auto r = s.heal();
  INFO(r.err);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(json_string(r.out, "status") == "healed");
  for (const char* h : {"total", "pay"}) {
    INFO(h);
    CHECK(column(s, "status", h) == "deployed");
  }
  for (const char* step : {"diagnosis", "fix", "validation", "deployment"}) {
    INFO(step);
    CHECK(column(s, step, "total") != column(s, step, "pay"));
    CHECK(s.records(step) == 2);
  }
  CHECK(s.branches().size() == 2);
  CHECK(s.merges() == 2);
  CHECK(all_fast(s.live_handlers()));  // both reverts live
  // the next round learns both, and heals neither twice
  s.traffic();
  auto next = s.heal();
  INFO(next.err);
  CHECK(next.exit_code == 0);
  CHECK(s.count("SELECT count(*) FROM heal_anomalies") == 2);
  CHECK(column(s, "status", "total") == "healed");
  CHECK(column(s, "status", "pay") == "healed");
  CHECK(s.records("learning") == 2);
  CHECK(s.records("deployment") == 2);
  CHECK(s.sql("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a fix that passes the tests while production stays slow is rolled back, and not retried the same way",
          "[heal][e2e][slow]") {
  service s;
  baseline(s);
  // the slow commit ships just as the payment processor itself slows down: reverting the commit
  // passes the tests, but cannot make production fast
  { std::ofstream(s.prod / "processor-slow") << "1"; }
  s.regress("payment: audit every charge synchronously", slow_pay(handlers_v1), "Linus Torvalds");
  s.traffic();
  auto r = s.heal();
  INFO(r.err);
  INFO(r.out);
  CHECK(r.exit_code == 1);  // a rolled-back fix is a failed heal
  CHECK(json_string(r.out, "status") == "failed");
  CHECK(column(s, "status", "pay") == "rolled_back");
  const auto tried = column(s, "strategy", "pay");
  CHECK((tried == "revert" || tried == "partial_revert"));
  CHECK(r.out.find("Rolled back: ") != std::string::npos);
  // main holds the merge and its revert; production runs the slow commit's tree again
  CHECK(s.merges() == 1);
  CHECK(trim(s.repo.git({"log", "-1", "--format=%s", "main"})).find("Revert") == 0);
  CHECK(s.live_handlers() == slow_pay(handlers_v1));
  CHECK(s.count("SELECT count(*) FROM audit_log WHERE action = 'deploy.rollback'") == 1);
  // production is still slow: the next round sees the handler again and does not try revert again
  s.traffic();
  auto next = s.heal();
  INFO(next.err);
  INFO(next.out);
  const auto second = s.sql("SELECT strategy || '|' || status || '|' || reason FROM heal_anomalies WHERE handler = 'pay' "
                            "ORDER BY detected_ns DESC LIMIT 1");
  CHECK(s.count("SELECT count(*) FROM heal_anomalies WHERE handler = 'pay'") == 2);
  CHECK_FALSE(second.starts_with(tried + "|"));
  CHECK(s.count("SELECT count(*) FROM heal_anomalies WHERE handler = 'pay' AND strategy = '" + tried + "'") == 1);
  CHECK(s.sql("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a deployed fix that learning judges a failure leaves the anomaly failed, not healed", "[heal][e2e][slow]") {
  service s;
  baseline(s);
  s.regress("payment: audit every charge synchronously", slow_pay(handlers_v1), "Linus Torvalds");
  s.traffic();
  auto r = s.heal();
  INFO(r.err);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  REQUIRE(column(s, "status", "pay") == "deployed");
  // after the verified deploy the payment processor itself turns twice as slow as the regression was:
  // production says the fix did not help, whatever the canary saw
  { std::ofstream(s.prod / "processor-slow-ms") << "8"; }
  s.traffic();
  auto next = s.heal();
  INFO(next.err);
  INFO(next.out);
  CHECK(s.count("SELECT count(*) FROM learning_runs WHERE outcome = 'failure'") == 1);
  CHECK(column(s, "status", "pay") == "failed");
  CHECK(column(s, "reason", "pay").find("judged the deployed fix a failure") != std::string::npos);
  CHECK(s.count("SELECT count(*) FROM heal_anomalies WHERE status = 'healed'") == 0);
}

TEST_CASE("approve mode: heal stops at the gate, selfheal approve, heal again: healed", "[heal][e2e][slow]") {
  service s("approve");
  baseline(s);
  s.regress("payment: audit every charge synchronously", slow_pay(handlers_v1), "Linus Torvalds");
  s.traffic();
  auto blocked = s.heal();
  INFO(blocked.err);
  INFO(blocked.out);
  CHECK(blocked.exit_code == 0);
  CHECK(json_string(blocked.out, "status") == "blocked");
  CHECK(column(s, "status", "pay") == "open");
  CHECK_FALSE(column(s, "reason", "pay").empty());
  const auto deployment = column(s, "deployment", "pay");
  REQUIRE_FALSE(deployment.empty());
  CHECK(s.merges() == 0);  // nothing merged or deployed before a person said yes
  CHECK(s.live_handlers() == slow_pay(handlers_v1));
  // a heal before the approval changes nothing
  auto still = s.heal();
  CHECK(json_string(still.out, "status") == "blocked");
  CHECK(s.merges() == 0);

  auto ok = s.run({s.exe.string(), "approve", deployment, "--by", "alice", "--db", s.db, "--json"});
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  auto after = s.heal();
  INFO(after.err);
  INFO(after.out);
  REQUIRE(after.exit_code == 0);
  const auto status = column(s, "status", "pay");
  CHECK((status == "deployed" || status == "healed"));  // the resumed run may learn from the stages' traffic at once
  CHECK(column(s, "deployment", "pay") == deployment);  // the approved deployment went on, no new one
  CHECK(s.records("deployment") == 1);
  CHECK(s.merges() == 1);
  CHECK(all_fast(s.live_handlers()));
  s.traffic();
  auto learned = s.heal();
  CHECK(learned.exit_code == 0);
  CHECK(column(s, "status", "pay") == "healed");
}

TEST_CASE("the C++ demo service heals end to end (examples/heal-demo)", "[heal][e2e][demo][slow]") {
  const auto script = fs::path(SELFHEAL_SOURCE_DIR) / "examples" / "heal-demo" / "run-heal-demo.sh";
  REQUIRE(fs::exists(script));
  selfheal::test::temp_dir dir;
  const auto out = dir.path() / "demo";
  selfheal::process_options o;
  o.timeout = std::chrono::seconds{600};
  auto r = selfheal::run_process({"bash", script.string(), selfheal_exe().string(), out.string()}, o);
  REQUIRE(r);
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
  const auto json = slurp(out / "heal.json");
  INFO(json);
  CHECK(json.find("\"handler\":\"applyDiscount\"") != std::string::npos);
  CHECK(json.find("\"status\":\"deployed\"") != std::string::npos);
  CHECK(json_number(json, "selfheal_s") > 0);
  // the demo's story is printed, and production runs main's merge of the revert
  CHECK(r->err.find("-- the story --") != std::string::npos);
  CHECK(r->err.find("Proof: tests ") != std::string::npos);
  selfheal::process_options g;
  g.cwd = out / "repo";
  auto head = selfheal::run_process({"git", "rev-parse", "main"}, g);
  REQUIRE(head);
  CHECK(fs::read_symlink(out / "production" / "current").string() == "releases/" + trim(head->out));
}
