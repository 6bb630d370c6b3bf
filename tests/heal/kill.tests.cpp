// selfheal heal under kill -9, SIGTERM and SIGINT, through the real program on the Python service
// (service.hpp). A kill at every step boundary (the SELFHEAL_TEST_KILL_AFTER hook, heal/timing.hpp),
// inside the deploy step between its beats, and at seeded random times; then `heal` again: no second
// branch, commit, merge or deploy of the same fix, `PRAGMA integrity_check` ok, and the anomaly ends
// healed.

#include "service.hpp"

#include <csignal>

using namespace selfheal::test::heal_service;

namespace {

/// The service after its baseline round, with the slow `pay` commit deployed and serving.
void regressed(service& s) {
  s.traffic();
  auto first = s.heal();
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  s.regress("payment: audit every charge synchronously", slow_pay(handlers_v1), "Linus Torvalds");
  s.traffic();
}

/// One fix, shipped once: one branch, one merge on main, the merge deployed to canary and full and
/// nothing else deployed, one record of each step, and a sound store. A kill in the middle of a
/// stage (`stage_redeployed`) leaves that stage's outcome unrecorded, so the resume deploys the same
/// merge to that stage again (deployment's documented resume); it never deploys another commit.
void check_single_heal(const service& s, bool stage_redeployed = false) {
  CHECK(s.branches().size() == 1);
  CHECK(s.merges() == 1);
  const auto merge = trim(s.repo.git({"rev-parse", "main"}));
  const auto log = s.deploys();
  INFO(log);
  std::istringstream lines(log);
  int by_hand = 0, canary = 0, full = 0, other = 0;
  for (std::string l; std::getline(lines, l);) {
    if (l == "canary " + merge) ++canary;
    else if (l == "full " + merge) ++full;
    else if (by_hand < 2 && l.starts_with("full ")) ++by_hand;  // v1 and the slow commit, by hand
    else ++other;
  }
  CHECK(by_hand == 2);
  CHECK(other == 0);
  if (stage_redeployed) {  // at most the one interrupted stage twice
    CHECK(canary >= 1);
    CHECK(full >= 1);
    CHECK(canary + full <= 3);
  } else {
    CHECK(canary == 1);
    CHECK(full == 1);
  }
  CHECK(log.ends_with("full " + merge + "\n"));
  CHECK(all_fast(s.live_handlers()));
  for (const char* kind : {"diagnosis", "fix", "validation", "deployment"}) {
    INFO(kind);
    CHECK(s.records(kind) == 1);
  }
  CHECK(s.count("SELECT count(*) FROM heal_anomalies WHERE handler = 'pay'") == 1);
  CHECK(s.count("SELECT count(*) FROM audit_log WHERE action = 'git.merge'") == 1);
  CHECK(s.sql("PRAGMA integrity_check") == "ok");
}

/// Production speaks after the deploy, and the next round learns: the anomaly is healed.
void learn_and_check_healed(service& s, const std::string& kill_point = "", bool stage_redeployed = false) {
  s.traffic();
  if (!kill_point.empty()) {
    auto killed = s.heal({}, {{"SELFHEAL_TEST_KILL_AFTER", kill_point}});
    CHECK(killed.term_signal == SIGKILL);
  }
  auto r = s.heal();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'") == "healed");
  CHECK(s.records("learning") == 1);
  check_single_heal(s, stage_redeployed);
}

}  // namespace

TEST_CASE("kill -9 after each heal step, then heal again: one fix, shipped once, healed", "[heal][kill][slow]") {
  const std::vector<std::string> points = {
      "anomaly",     "diagnosis",
      "fix",         "validation",
      "self-healing-deployment-deploy-symphony:5",  // branch and commit made, before the PR, CI and merge
      "self-healing-deployment-deploy-symphony:8",  // merged, before any stage
      "self-healing-deployment-deploy-symphony:9",  // canary and full deployed, before the verification
      "deployment",  "learning"};
  for (const auto& point : points) {
    DYNAMIC_SECTION("killed after " << point) {
      service s;
      regressed(s);
      if (point == "learning") {  // learning runs in a later round, once production has spoken
        auto r = s.heal();
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'") == "deployed");
        learn_and_check_healed(s, "learning");
        continue;
      }
      auto killed = s.heal({}, {{"SELFHEAL_TEST_KILL_AFTER", point}});
      INFO(killed.err);
      REQUIRE(killed.term_signal == SIGKILL);
      CHECK(s.sql("PRAGMA integrity_check") == "ok");
      auto resumed = s.heal();
      INFO(resumed.err);
      INFO(resumed.out);
      REQUIRE(resumed.exit_code == 0);
      CHECK(resumed.err.find("resuming heal-") != std::string::npos);
      // the resumed run parses the stages' traffic in its round, so it may learn at once
      const auto status = s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'");
      CHECK((status == "deployed" || status == "healed"));
      check_single_heal(s);
      learn_and_check_healed(s);
    }
  }
}

TEST_CASE("kill -9 at seeded random times during the healing round, then heal again", "[heal][kill][slow]") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    DYNAMIC_SECTION("seed " << seed) {
      service s;
      regressed(s);
      selfheal::test::seeded_rng rng(seed);
      const auto delay = std::chrono::milliseconds(rng.between(200, 2500));
      INFO("killed after " << delay.count() << " ms");
      auto c = s.spawn(s.heal_args(), "killed");
      std::this_thread::sleep_for(delay);
      ::kill(c.pid, SIGKILL);
      c.wait();
      s.wait_for_orphans();  // what the killed heal started finishes (or is killed) before the resume
      CHECK(s.sql("PRAGMA integrity_check") == "ok");
      std::string status;
      for (int attempt = 0; attempt < 2 && status != "deployed" && status != "healed"; ++attempt) {
        auto r = s.heal();
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        status = s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'");
      }
      CHECK((status == "deployed" || status == "healed"));
      check_single_heal(s, true);
      learn_and_check_healed(s, "", true);
    }
  }
}

TEST_CASE("SIGTERM during heal --watch finishes the current step, exits 0, and the next heal resumes", "[heal][signal][slow]") {
  service s;
  regressed(s);
  auto args = s.heal_args();
  args[2] = "--watch";
  args.insert(args.begin() + 3, "0.2");
  auto c = s.spawn(args, "watch");
  // wait until the diagnosis is recorded: the fix step is under way
  bool diagnosed = false;
  for (int i = 0; i < 1200 && !diagnosed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    diagnosed = slurp(c.err).find("  diagnose ") != std::string::npos;
  }
  REQUIRE(diagnosed);
  const auto sent = std::chrono::steady_clock::now();
  ::kill(c.pid, SIGTERM);
  const int status = c.wait();
  INFO(slurp(c.err));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds{60});
  s.wait_for_orphans();
  CHECK(s.sql("PRAGMA integrity_check") == "ok");
  // the run stays resumable; the steps it recorded are a prefix, and no step ran without its record
  CHECK(s.sql("SELECT status FROM heal_runs ORDER BY started_ns DESC LIMIT 1") == "running");
  const auto diagnosis = s.sql("SELECT diagnosis FROM heal_anomalies WHERE handler = 'pay'");
  const auto fix = s.sql("SELECT fix FROM heal_anomalies WHERE handler = 'pay'");
  CHECK_FALSE(diagnosis.empty());
  CHECK(s.records("diagnosis") == 1);
  CHECK(s.records("fix") == (fix.empty() ? 0 : 1));
  CHECK(s.records("deployment") == 0);  // the step after the interrupted one did not start
  // a later heal does not redo finished steps
  auto r = s.heal();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(s.sql("SELECT diagnosis FROM heal_anomalies WHERE handler = 'pay'") == diagnosis);
  if (!fix.empty()) CHECK(s.sql("SELECT fix FROM heal_anomalies WHERE handler = 'pay'") == fix);
  const auto after = s.sql("SELECT status FROM heal_anomalies WHERE handler = 'pay'");
  CHECK((after == "deployed" || after == "healed"));
  check_single_heal(s);
}

TEST_CASE("SIGINT while heal --watch waits between rounds: exit 0 at once, the next heal runs normally", "[heal][signal]") {
  service s;
  s.traffic();
  auto args = s.heal_args();
  args[2] = "--watch";
  args.insert(args.begin() + 3, "30");
  auto c = s.spawn(args, "idle");
  bool waiting = false;
  for (int i = 0; i < 1200 && !waiting; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    waiting = slurp(c.err).find("baseline ") != std::string::npos;
  }
  REQUIRE(waiting);
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  const auto sent = std::chrono::steady_clock::now();
  ::kill(c.pid, SIGINT);
  const int status = c.wait();
  INFO(slurp(c.err));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds{5});
  CHECK(s.sql("PRAGMA integrity_check") == "ok");
  CHECK(s.records("baseline") == 1);
  s.traffic();
  auto r = s.heal();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(json_string(r.out, "status") == "nothing_to_do");
  CHECK(s.records("baseline") == 1);  // the interrupted run's baseline is kept, not made again
}
