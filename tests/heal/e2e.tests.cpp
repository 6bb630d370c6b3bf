// selfheal heal end to end through the real program on a Python service that really runs
// (service.hpp): the healing round, the learning round, and selfheal's own share of the time read
// back from its --events NDJSON.

#include "service.hpp"

#include "postgres.hpp"
#include "selfheal/heal/timing.hpp"

using namespace selfheal::test::heal_service;

TEST_CASE("heal e2e on a Python service: detect, blame, revert, test, canary, full, learn", "[heal][e2e][slow]") {
  service s;
  s.traffic();
  auto first = s.heal();
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(json_string(first.out, "status") == "nothing_to_do");

  const auto bad = s.regress("payment: audit every charge synchronously", slow_pay(handlers_v1), "Linus Torvalds");
  s.traffic();
  const auto events = s.root / "heal-events.ndjson";
  auto healing = s.heal({"--events", events.string()});
  INFO(healing.err);
  INFO(healing.out);
  REQUIRE(healing.exit_code == 0);
  CHECK(healing.out.find("\"handler\":\"pay\"") != std::string::npos);
  const auto strategy = json_string(healing.out, "strategy");
  CHECK((strategy == "revert" || strategy == "partial_revert"));
  CHECK(healing.out.find("\"status\":\"deployed\"") != std::string::npos);
  // the story names the commit it blamed
  CHECK(healing.out.find("commit " + bad.substr(0, 12)) != std::string::npos);
  // production runs the revert: main's merge, through canary and full
  CHECK(all_fast(s.live_handlers()));
  REQUIRE(s.branches().size() == 1);
  CHECK(s.merges() == 1);
  const auto merge = trim(s.repo.git({"rev-parse", "main"}));
  CHECK(s.deploys().ends_with("canary " + merge + "\nfull " + merge + "\n"));
  CHECK(all_fast(s.repo.read("shop/handlers.py")));  // the checked-out main followed

  // selfheal's own share: in the JSON, and the same figure from parsing its --events NDJSON
  const double own = json_number(healing.out, "selfheal_s");
  const double external = json_number(healing.out, "external_s");
  const double total = json_number(healing.out, "sequences_s");
  CHECK(own > 0);
  CHECK(external > 0);
  CHECK(total >= own + external - 0.01);
  const auto share = selfheal::heal::share_of(slurp(events));
  CHECK(share.selfheal_s == Approx(own).margin(0.002));
  CHECK(share.external_s == Approx(external).margin(0.002));
  CHECK(share.sequences >= 6);  // parse, detect, diagnose, fix, validate, deploy (+ learn)

  // production speaks after the deploy: the next round learns, and the anomaly is healed
  s.traffic();
  auto learning = s.heal();
  INFO(learning.err);
  REQUIRE(learning.exit_code == 0);
  CHECK(s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'") == "healed");
  CHECK(s.records("learning") == 1);
  CHECK(s.sql("PRAGMA integrity_check") == "ok");
  // and the round after that has nothing to do
  s.traffic();
  auto quiet = s.heal();
  CHECK(json_string(quiet.out, "status") == "nothing_to_do");
  CHECK(s.records("deployment") == 1);
}

TEST_CASE("heal e2e with the store in PostgreSQL: baseline, heal, learn, then nothing to do", "[heal][e2e][postgres][slow]") {
  service s;
  s.db = selfheal::test::fresh_postgres_url();
  s.traffic();
  auto first = s.heal();
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(json_string(first.out, "status") == "nothing_to_do");

  s.regress("payment: audit every charge synchronously", slow_pay(handlers_v1), "Linus Torvalds");
  s.traffic();
  auto healing = s.heal();
  INFO(healing.err);
  INFO(healing.out);
  REQUIRE(healing.exit_code == 0);
  CHECK(healing.out.find("\"handler\":\"pay\"") != std::string::npos);
  CHECK(healing.out.find("\"status\":\"deployed\"") != std::string::npos);
  CHECK(all_fast(s.live_handlers()));
  CHECK(s.merges() == 1);

  s.traffic();
  auto learning = s.heal();
  INFO(learning.err);
  REQUIRE(learning.exit_code == 0);
  CHECK(s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'") == "healed");
  for (const char* kind : {"diagnosis", "fix", "validation", "deployment", "learning"}) {
    INFO(kind);
    CHECK(s.records(kind) == 1);
  }
  CHECK(s.count("SELECT count(*) FROM audit_log WHERE action = 'git.merge'") == 1);
  s.traffic();
  auto quiet = s.heal();
  CHECK(json_string(quiet.out, "status") == "nothing_to_do");
  CHECK(s.records("deployment") == 1);
}
