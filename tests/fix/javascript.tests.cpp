#include <catch2/catch.hpp>

#include <string>

#include "fix_support.hpp"

using fixtest::repo_clone;
using fixtest::run;
using selfheal::test::git_repo;
namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

namespace {

const char* cart_v1 =
    "// Cart pricing for the shop front.\n"
    "export const DISCOUNTS = { SPRING: 0.1, VIP: 0.2 };\n"
    "\n"
    "export function computeTotal(items) {\n"
    "  let total = 0;\n"
    "  for (const item of items) {\n"
    "    total += item.price * item.quantity;\n"
    "  }\n"
    "  return total;\n"
    "}\n"
    "\n"
    "export function applyDiscount(cart, code) {\n"
    "  const rate = DISCOUNTS[code] || 0;\n"
    "  return { ...cart, total: cart.total * (1 - rate) };\n"
    "}\n";

const char* slow =
    "  const audit = [];\n"
    "  for (let i = 0; i < 300000; i++) {\n"
    "    audit.push(JSON.stringify({ i, code }));\n"
    "  }\n";

const char* cart_test =
    "import { test } from 'node:test';\n"
    "import assert from 'node:assert/strict';\n"
    "import { applyDiscount } from '../src/cart.js';\n"
    "\n"
    "test('applies a spring discount', () => {\n"
    "  assert.equal(applyDiscount({ total: 100 }, 'SPRING').total, 90);\n"
    "});\n";

}  // namespace

TEST_CASE("JavaScript: partial revert and a node --test regression test that fails before and passes after",
          "[fix][generateTestFix][javascript][slow]") {
  git_repo repo;
  repo.write("package.json", "{\n  \"name\": \"shop\",\n  \"type\": \"module\",\n  \"scripts\": {\"test\": \"node --test\"}\n}\n");
  repo.write("src/cart.js", cart_v1);
  repo.write("tests/cart.test.js", cart_test);
  repo.commit("Shop front", 1740787200);
  std::string guilty_text = cart_v1;
  guilty_text.insert(guilty_text.find("  const rate = DISCOUNTS"), slow);
  repo.write("src/cart.js", guilty_text);
  const auto guilty = repo.commit("Audit discounts", 1740790800);
  std::string head = guilty_text;
  head.replace(head.find("  return total;\n"), 16, "  return Math.round(total * 100) / 100;\n");  // decoy in another function
  repo.write("src/cart.js", head);
  repo.commit("Round totals", 1740794400);

  dx::diagnosis_item d;
  d.anomaly_id = "anomaly-3.1";
  d.type = "performance";
  d.handler = "applyDiscount";
  d.where = dx::location{"src/cart.js", fixtest::line_of(head, "export function applyDiscount"),
                         fixtest::line_of(head, "return { ...cart") + 1, "applyDiscount"};
  dx::suspect_commit s;
  s.commit = guilty;
  s.file = "src/cart.js";
  s.overlaps = true;
  s.target_hunks = fixtest::hunks_inside(repo.root(), guilty, "src/cart.js", 12, 19);
  d.suspects.push_back(s);
  dx::recommendation r;
  r.strategy = "partial_revert";
  r.priority = 1;
  r.commit = guilty;
  r.file = "src/cart.js";
  r.hunks = s.target_hunks;
  d.recommendations.push_back(r);
  fixtest::store_fixture st;
  const auto record = st.store(repo.root(), {d});
  fx::generate_request req;
  req.repo = repo.root().string();
  req.diagnosis_record = record;
  fx::evidence ev;
  ev.anomaly_id = "anomaly-3.1";
  ev.baseline_p50_ms = 1;
  ev.baseline_p95_ms = 2;
  ev.current_p50_ms = 40;
  req.production = {ev};
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  const auto& p = out->patches.at(0);
  CHECK(p.strategy == "partial_revert");
  CHECK(p.test_framework == "node --test");
  REQUIRE(p.tests_added == std::vector<std::string>{"tests/applyDiscount.selfheal.test.js"});
  for (const auto& c : p.syntax) {
    INFO(c.path << ": " << c.message);
    CHECK(c.ok);
  }
  repo_clone c(repo.root(), p.base_commit);
  REQUIRE(c.apply(p.diff) == 0);
  const auto fixed = c.read("src/cart.js");
  CHECK(fixed.find("audit.push") == std::string::npos);
  CHECK(fixed.find("Math.round(total * 100)") != std::string::npos);  // the decoy survives
  auto [pass, pass_out] = run({"node", "--test"}, c.root);
  INFO(pass_out);
  CHECK(pass == 0);
  c.write("src/cart.js", head);
  auto [failed, fail_out] = run({"node", "--test"}, c.root);
  INFO(fail_out);
  CHECK(failed != 0);
  CHECK(fail_out.find("budget") != std::string::npos);
  CHECK(repo.git({"status", "--porcelain"}).empty());
}
