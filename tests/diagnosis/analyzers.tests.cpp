#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "selfheal/diagnosis/analyzers.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/diagnosis/report.hpp"

namespace dx = selfheal::diagnosis;

namespace {

dx::commit_info commit(std::string id, std::int64_t t, std::vector<dx::file_change> files, std::string summary = "c") {
  dx::commit_info c;
  c.id = std::move(id);
  c.time = c.commit_time = t;
  c.summary = std::move(summary);
  c.author = "A";
  c.files = std::move(files);
  return c;
}

dx::file_change change(std::string path, std::vector<dx::hunk> hunks, char status = 'M') {
  dx::file_change f;
  f.path = path;
  f.old_path = path;
  f.status = status;
  for (const auto& h : hunks) { f.additions += h.new_lines; f.deletions += h.old_lines; }
  f.hunks = std::move(hunks);
  return f;
}

}  // namespace

TEST_CASE("line positions map back through a commit's hunks", "[diagnosis][analyzers]") {
  // @@ -3,0 +4,2 @@ (two lines inserted after line 3) and @@ -10,2 +12,1 @@ (two lines replaced by one)
  const std::vector<dx::hunk> h{{3, 0, 4, 2}, {10, 2, 12, 1}};
  CHECK(dx::detail::map_to_parent(h, 2, false) == 2);   // above everything
  CHECK(dx::detail::map_to_parent(h, 4, false) == 4);   // first inserted line: starts after old line 3
  CHECK(dx::detail::map_to_parent(h, 5, true) == 3);    // last inserted line, as an end: old line 3
  CHECK(dx::detail::map_to_parent(h, 8, false) == 6);   // shifted by the insertion
  CHECK(dx::detail::map_to_parent(h, 12, false) == 10); // the replacement maps to the replaced region
  CHECK(dx::detail::map_to_parent(h, 12, true) == 11);
  CHECK(dx::detail::map_to_parent(h, 13, false) == 12); // below: +2 -1
}

TEST_CASE("suspects are ranked by overlap with the function as it was in each commit", "[diagnosis][analyzers]") {
  dx::history h;
  // Newest first. At HEAD the function is lines 12-20 of f.js.
  // c3 (newest) inserts two lines at the top of f.js: the function was lines 10-18 before it.
  // c2 changes lines 11-12 (inside the function as it was then), c1 changes line 3 (outside).
  // c0 created the file.
  // Times: onset at T; c3 1 h before, c1 3 h before, c2 5 h before, c0 ten days before.
  const std::int64_t T = 1'750'000'000;
  h.commits = {commit("c3", T - 3600, {change("f.js", {{0, 0, 1, 2}})}, "header"),
               commit("c1", T - 3 * 3600, {change("f.js", {{3, 1, 3, 1}})}, "nearby"),
               commit("c2", T - 5 * 3600, {change("f.js", {{11, 2, 11, 2}})}, "slow"),
               commit("c0", T - 240 * 3600, {change("f.js", {{0, 0, 1, 18}}, 'A')}, "create")};
  dx::blame_window w;
  w.onset = T;
  const auto s = dx::rank_suspects(h, {{"f.js", 12, 20, "fn"}}, w);
  REQUIRE(s.size() == 4);
  CHECK(s[0].commit == "c2");
  CHECK(s[0].overlaps);
  CHECK(s[0].lines_in_target == 2);
  REQUIRE(s[0].target_hunks.size() == 1);
  CHECK(s[0].target_hunks[0].new_start == 11);
  // c3 and c1 only touched the file (file-only 0.15 + proximity 0.25×e^(-h/48)); c0 created
  // the function ten days earlier: there was no earlier version to regress from, so it counts as
  // touching the file only: 0.15 + 0.25×e^-5 = 0.1517, below c1's 0.15 + 0.25×e^(-3/48) = 0.385.
  CHECK(s[1].commit == "c3");
  CHECK_FALSE(s[1].overlaps);
  CHECK(s[2].commit == "c1");
  CHECK_FALSE(s[2].overlaps);
  CHECK(s[3].commit == "c0");
  CHECK_FALSE(s[3].overlaps);
  CHECK(s[3].score == Approx(0.15 + 0.25 * std::exp(-5.0)).margin(0.001));
  // c2: 0.45 + 0.10×2/9 + 0.05×2/20 + 0.25×e^(-5/48)
  CHECK(s[0].score == Approx(0.45 + 0.1 * 2.0 / 9.0 + 0.05 * 0.1 + 0.25 * std::exp(-5.0 / 48.0)).margin(0.001));
  SECTION("commits after the onset are not suspects") {
    w.onset = T - 2 * 3600;
    const auto t = dx::rank_suspects(h, {{"f.js", 12, 20, "fn"}}, w);
    for (const auto& x : t) CHECK(x.commit != "c3");
  }
  SECTION("the release range comes first") {
    w.release_range = {"c1"};
    const auto t = dx::rank_suspects(h, {{"f.js", 12, 20, "fn"}}, w);
    CHECK(t[0].commit == "c1");
    CHECK(t[0].in_release_range);
  }
}

TEST_CASE("a commit a later commit reverted, and the revert, are not suspects", "[diagnosis][analyzers]") {
  // bad (the cause) slows fn; selfheal's fix branch commit fx and its merge m touch fn; the canary failed
  // and selfheal's rollback r took m back; a user's own revert u took back d. Onset after all of them.
  const std::int64_t T = 1'750'000'000;
  const std::string bad(40, 'b'), fx(40, 'f'), m(40, 'e'), r(40, 'a'), d(40, 'd'), u(40, 'c'), base(40, '1');
  auto rollback = commit(r, T - 600, {change("f.js", {{12, 3, 12, 3}})}, "Revert \"selfheal: revert fix for fn\"");
  rollback.message = rollback.summary + "\n\nselfheal rolled back " + m + " (deployment deployment-1): canary failed\n";
  auto merge = commit(m, T - 1200, {change("f.js", {{12, 3, 12, 3}})}, "Merge selfheal/fn-deployment-1");
  merge.parents = {bad, fx};
  auto user_revert = commit(u, T - 1500, {change("f.js", {{14, 1, 14, 1}})}, "Revert \"tweak\"");
  user_revert.message = user_revert.summary + "\n\nThis reverts commit " + d + ".\n";
  dx::history h;
  h.commits = {rollback, merge, user_revert,
               commit(fx, T - 1800, {change("f.js", {{12, 3, 12, 3}})}, "selfheal: revert fix for fn"),
               commit(d, T - 2400, {change("f.js", {{14, 1, 14, 1}})}, "tweak"),
               commit(bad, T - 3 * 3600, {change("f.js", {{13, 1, 13, 1}})}, "slow"),
               commit(base, T - 240 * 3600, {change("f.js", {{0, 0, 1, 30}}, 'A')}, "create")};
  dx::blame_window w;
  w.onset = T;
  const auto s = dx::rank_suspects(h, {{"f.js", 10, 20, "fn"}}, w);
  REQUIRE(!s.empty());
  CHECK(s[0].commit == bad);
  for (const auto& x : s) {
    CHECK(x.commit != r);
    CHECK(x.commit != m);
    CHECK(x.commit != fx);
    CHECK(x.commit != u);
    CHECK(x.commit != d);
  }
  SECTION("a revert of a revert: the original change stands again and can be blamed") {
    auto again = commit(std::string(40, '9'), T - 300, {change("f.js", {{14, 1, 14, 1}})}, "Reapply \"tweak\"");
    again.message = again.summary + "\n\nThis reverts commit " + u + ".\n";
    h.commits.insert(h.commits.begin(), again);
    const auto t = dx::rank_suspects(h, {{"f.js", 10, 20, "fn"}}, w);
    CHECK(std::any_of(t.begin(), t.end(), [&](const auto& x) { return x.commit == d; }));
  }
}

TEST_CASE("stack frames of four languages", "[diagnosis][analyzers]") {
  const auto js = dx::parse_stack_frames(
      "TypeError: x is undefined\n    at applyDiscount (/srv/shop/src/cart.js:14:22)\n    at /srv/shop/src/checkout.js:8:5");
  REQUIRE(js.size() == 2);
  CHECK(js[0].file == "/srv/shop/src/cart.js");
  CHECK(js[0].line == 14);
  CHECK(js[0].function == "applyDiscount");
  CHECK(js[1].line == 8);
  const auto py = dx::parse_stack_frames("Traceback (most recent call last):\n  File \"/app/services/pricing.py\", line 12, in compute_tax\nKeyError: 'x'");
  REQUIRE(py.size() == 1);
  CHECK(py[0].file == "/app/services/pricing.py");
  CHECK(py[0].line == 12);
  CHECK(py[0].function == "compute_tax");
  const auto java = dx::parse_stack_frames("\tat shop.Billing.computeInvoice(Billing.java:42)");
  REQUIRE(java.size() == 1);
  CHECK(java[0].file == "Billing.java");
  CHECK(java[0].line == 42);
  const auto plain = dx::parse_stack_frames("panic at handlers/cart.go:77 while pricing");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].file == "handlers/cart.go");
  CHECK(plain[0].line == 77);
}

TEST_CASE("acceptance: the guilty commit ranks first in generated scenarios", "[diagnosis][analyzers][acceptance]") {
  int first = 0, located = 0;
  const int runs = 10;
  for (int i = 0; i < runs; ++i) {
    selfheal::test::scenario_options o;
    o.seed = static_cast<std::uint64_t>(100 + i);
    o.deploy_markers = i % 2 == 0;
    o.decoys = true;
    auto sc = selfheal::test::make_scenario(o);
    auto cb = dx::load_codebase(sc.repo.root());
    REQUIRE(cb);
    const auto d = dx::analyze_performance(sc.anomaly, *cb);
    const bool ok = !d.suspects.empty() && d.suspects[0].commit == sc.guilty_commit;
    const bool where = d.where && d.where->file == sc.guilty_file &&
                       (d.where->symbol == sc.guilty_function || d.where->symbol.ends_with("::" + sc.guilty_function));
    first += ok ? 1 : 0;
    located += where ? 1 : 0;
    UNSCOPED_INFO("seed " << o.seed << (o.deploy_markers ? " markers" : " no markers") << " handler " << sc.guilty_handler
                          << ": guilty first=" << ok << " located=" << where << " — " << d.root_cause);
    CHECK(d.shape == "shift");
    // No decoy may outrank the guilty commit.
    for (const auto& dec : sc.decoy_commits)
      if (!d.suspects.empty()) CHECK(d.suspects[0].commit != dec);
  }
  WARN("guilty commit first in " << first << "/" << runs << ", right function in " << located << "/" << runs);
  CHECK(first >= 9);
  CHECK(located == runs);
}

TEST_CASE("acceptance: an error's stack frame resolves to the file and line", "[diagnosis][analyzers][acceptance]") {
  for (std::uint64_t seed : {7u, 8u, 11u, 12u}) {
    selfheal::test::scenario_options o;
    o.seed = seed;
    o.error = true;
    o.deploy_markers = seed % 2 == 0;
    auto sc = selfheal::test::make_scenario(o);
    auto cb = dx::load_codebase(sc.repo.root());
    REQUIRE(cb);
    const auto d = dx::analyze_errors(sc.anomaly, *cb);
    INFO("seed " << seed << " " << sc.guilty_handler << ": " << d.root_cause);
    REQUIRE(d.where);
    CHECK(d.where->file == sc.guilty_file);
    CHECK(d.where->line == sc.error_line);
    CHECK(d.where->symbol == sc.guilty_function);
    REQUIRE_FALSE(d.suspects.empty());
    CHECK(d.suspects[0].commit == sc.guilty_commit);
  }
}

TEST_CASE("acceptance with the built-in scanner instead of ctags", "[diagnosis][analyzers][acceptance]") {
  int first = 0;
  const int runs = 4;
  for (int i = 0; i < runs; ++i) {
    selfheal::test::scenario_options o;
    o.seed = static_cast<std::uint64_t>(200 + i);
    o.deploy_markers = i % 2 == 1;
    auto sc = selfheal::test::make_scenario(o);
    dx::codebase_options co;
    co.use_ctags = false;
    auto cb = dx::load_codebase(sc.repo.root(), nullptr, co);
    REQUIRE(cb);
    CHECK(cb->symbols.source == "fallback");
    const auto d = dx::analyze_performance(sc.anomaly, *cb);
    INFO("seed " << o.seed << ": " << d.root_cause);
    REQUIRE(d.where);
    CHECK(d.where->file == sc.guilty_file);
    CHECK(d.where->symbol == sc.guilty_function);
    if (!d.suspects.empty() && d.suspects[0].commit == sc.guilty_commit) ++first;
  }
  CHECK(first == runs);
}

TEST_CASE("an ambiguous handler name is reported, not guessed", "[diagnosis][analyzers]") {
  selfheal::test::git_repo repo;
  repo.write("src/a.js", "export function checkout(x) {\n  return x;\n}\n");
  repo.write("src/b.js", "export function checkout(y) {\n  return y;\n}\n");
  repo.commit("two checkouts", 1'750'000'000);
  auto cb = dx::load_codebase(repo.root());
  REQUIRE(cb);
  dx::anomaly_input a;
  a.id = "X";
  a.type = "performance";
  a.handler = "checkout";
  a.onset = 1'750'003'600;
  a.baseline_p50 = 1;
  a.current_p50 = 3;
  const auto d = dx::analyze_performance(a, *cb);
  CHECK_FALSE(d.where);
  CHECK(d.candidates.size() == 2);
  CHECK(d.confidence == 0);
  CHECK(d.root_cause.find("ambiguous") != std::string::npos);
}

TEST_CASE("a whole-sequence slowdown is named as the sequence, not located in code", "[diagnosis][analyzers][sequence]") {
  selfheal::test::git_repo repo;
  repo.write("src/a.js", "export function checkout(x) {\n  return x;\n}\n");
  repo.commit("one checkout", 1'750'000'000);
  auto cb = dx::load_codebase(repo.root());
  REQUIRE(cb);
  dx::anomaly_input a;
  a.id = "S";
  a.type = "performance";
  a.sequence = "checkout-flow";  // no handler: the sequence's own latency
  a.onset = 1'750'003'600;
  a.baseline_p95 = 90;
  a.current_p95 = 123;
  const auto d = dx::analyze_performance(a, *cb);
  CHECK_FALSE(d.where);
  CHECK(d.confidence == 0);
  CHECK(d.root_cause.rfind("sequence checkout-flow got slower (tail latency p95 ×1.37) but its code was not located", 0) == 0);
  CHECK(std::find(d.evidence.begin(), d.evidence.end(),
                  "a whole-sequence anomaly of checkout-flow: no single handler's code to locate") != d.evidence.end());
  CHECK(dx::diagnosis_text(d).rfind("● performance anomaly in sequence checkout-flow  [", 0) == 0);
}
