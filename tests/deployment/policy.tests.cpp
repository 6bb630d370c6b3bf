// The policy gate: each rule refuses alone and names itself; the modes; the rate-limit parser;
// the changed-line count of a diff.
#include <selfheal/deployment/policy.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

namespace dep = selfheal::deployment;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t hour_ns = 3'600'000'000'000;

dep::policy_facts passing(std::int64_t now = 100 * hour_ns) {
  dep::policy_facts f;
  f.verdict = "pass";
  f.strategy = "revert";
  f.handler = "checkout";
  f.changed_lines = 12;
  f.now_ns = now;
  return f;
}

bool names(const dep::policy_decision& d, std::string_view rule) {
  return std::any_of(d.refusals.begin(), d.refusals.end(), [&](const dep::policy_refusal& r) { return r.rule == rule; });
}

}  // namespace

TEST_CASE("parse_rate_limit reads N/<duration>", "[deployment][policy]") {
  auto r = dep::parse_rate_limit("1/24h");
  REQUIRE(r);
  CHECK(r->count == 1);
  CHECK(r->window == std::chrono::nanoseconds(24h));
  r = dep::parse_rate_limit("3/90s");
  REQUIRE(r);
  CHECK(r->count == 3);
  CHECK(r->window == std::chrono::nanoseconds(90s));
  CHECK(dep::parse_rate_limit("2/7d")->window == std::chrono::nanoseconds(168h));
  for (auto bad : {"", "1", "/24h", "1/", "1/24x", "a/1h", "1/0h"}) {
    INFO(bad);
    CHECK_FALSE(dep::parse_rate_limit(bad));
  }
  CHECK(dep::parse_rate_limit("1/24x").error().detail.find("max_deploys_per_handler") != std::string::npos);
}

TEST_CASE("check_policy: auto mode proceeds when every rule holds", "[deployment][policy]") {
  dep::policy_options p;
  p.mode = "auto";
  const auto d = dep::check_policy(p, passing());
  CHECK(d.action == "proceed");
  CHECK(d.refusals.empty());
}

TEST_CASE("check_policy: each rule refuses alone and names itself", "[deployment][policy]") {
  dep::policy_options p;
  p.mode = "auto";
  auto f = passing();
  SECTION("kill switch") {
    f.kill_switch_present = true;
    const auto d = dep::check_policy(p, f);
    CHECK(d.action == "refuse");
    CHECK(d.refusals.size() == 1);
    CHECK(names(d, "policy.kill_switch"));
    CHECK(d.reasons().front().find(".selfheal-stop") != std::string::npos);
  }
  SECTION("validation verdict") {
    f.verdict = "fail";
    CHECK(names(dep::check_policy(p, f), "validation.verdict"));
  }
  SECTION("strategy") {
    f.strategy = "external";
    const auto d = dep::check_policy(p, f);
    CHECK(names(d, "policy.strategies"));
    CHECK(d.refusals.front().reason.find("revert, partial_revert, config_change") != std::string::npos);
  }
  SECTION("size: 201 > 200 refuses, 200 passes") {
    f.changed_lines = 201;
    CHECK(names(dep::check_policy(p, f), "policy.max_changed_lines"));
    f.changed_lines = 200;
    CHECK(dep::check_policy(p, f).proceeds());
  }
  SECTION("rate: one deploy 23 h ago refuses with 1/24h, one 25 h ago does not") {
    f.recent_deploys_ns = {f.now_ns - 23 * hour_ns};
    const auto d = dep::check_policy(p, f);
    CHECK(names(d, "policy.max_deploys_per_handler"));
    CHECK(d.refusals.size() == 1);
    f.recent_deploys_ns = {f.now_ns - 25 * hour_ns};
    CHECK(dep::check_policy(p, f).proceeds());
    p.max_deploys_per_handler = *dep::parse_rate_limit("2/24h");
    f.recent_deploys_ns = {f.now_ns - 23 * hour_ns};
    CHECK(dep::check_policy(p, f).proceeds());
  }
  SECTION("rejected") {
    f.rejected_by = "alice";
    f.rejected_reason = "not on a Friday";
    const auto d = dep::check_policy(p, f);
    CHECK(names(d, "approval.rejected"));
    CHECK(d.reasons().front() == "approval.rejected: rejected by alice: not on a Friday");
  }
  SECTION("several rules fail: all are listed") {
    f.kill_switch_present = true;
    f.changed_lines = 1000;
    f.strategy = "external";
    CHECK(dep::check_policy(p, f).refusals.size() == 3);
  }
}

TEST_CASE("check_policy: modes", "[deployment][policy]") {
  dep::policy_options p;
  SECTION("dry-run is the default and never proceeds, listing refusals too") {
    auto f = passing();
    CHECK(dep::check_policy(p, f).action == "dry_run");
    f.kill_switch_present = true;
    const auto d = dep::check_policy(p, f);
    CHECK(d.action == "dry_run");
    CHECK(names(d, "policy.kill_switch"));
  }
  SECTION("--dry-run wins over auto") {
    p.mode = "auto";
    auto f = passing();
    f.dry_run_flag = true;
    CHECK(dep::check_policy(p, f).action == "dry_run");
  }
  SECTION("approve waits, then proceeds with the approver") {
    p.mode = "approve";
    auto f = passing();
    CHECK(dep::check_policy(p, f).action == "await_approval");
    f.approved_by = "bob";
    const auto d = dep::check_policy(p, f);
    CHECK(d.proceeds());
    CHECK(d.approver == "bob");
    f.approved_by.reset();
    f.approve_flag = true;
    CHECK(dep::check_policy(p, f).proceeds());
  }
  SECTION("approval does not override a rule") {
    p.mode = "approve";
    auto f = passing();
    f.approved_by = "bob";
    f.kill_switch_present = true;
    CHECK(dep::check_policy(p, f).action == "refuse");
  }
  SECTION("an unknown mode refuses") {
    p.mode = "yolo";
    CHECK(names(dep::check_policy(p, passing()), "policy.mode"));
  }
}

TEST_CASE("changed_lines counts + and - lines inside hunks only", "[deployment][policy]") {
  const std::string diff =
      "diff --git a/q.sql b/q.sql\n"
      "--- a/q.sql\n"
      "+++ b/q.sql\n"
      "@@ -1,3 +1,3 @@\n"
      " SELECT 1;\n"
      "--- a comment line deleted\n"
      "+-- a comment line added\n"
      " SELECT 2;\n"
      "diff --git a/x.py b/x.py\n"
      "--- a/x.py\n"
      "+++ b/x.py\n"
      "@@ -10 +10,2 @@\n"
      "-a = 1\n"
      "+a = 2\n"
      "+b = 3\n"
      "\\ No newline at end of file\n";
  CHECK(dep::changed_lines(diff) == 5);
  CHECK(dep::changed_lines("") == 0);
}
