#include <catch2/catch.hpp>

#include <string>

#include "selfheal/validation/coverage.hpp"

namespace val = selfheal::validation;

TEST_CASE("changed-line coverage counts only instrumented lines, and names uncovered runs", "[validation][checkCoverage]") {
  const std::string lcov = "SF:/tmp/selfheal-checkout-7/app/cart.py\n"
                           "DA:10,1\nDA:11,1\nDA:12,0\nDA:13,0\nDA:15,0\nDA:20,4\nend_of_record\n"
                           "SF:app/util.py\nDA:1,1\nDA:2,1\nend_of_record\n";
  auto rep = selfheal::anomaly::parse_lcov(lcov);
  val::changed_lines_map changed = {{"app/cart.py", {10, 11, 12, 13, 14, 15}}, {"docs/runbook/cart.md", {1, 2}},
                                    {"app/util.py", {2}}};
  auto c = val::changed_line_coverage(rep, changed, "/tmp/selfheal-checkout-7");
  CHECK(c.changed == 9);
  CHECK(c.instrumented == 6);  // 14 is not code; the runbook is not measured
  CHECK(c.covered == 3);
  CHECK(c.share() == Approx(0.5));
  REQUIRE(c.uncovered.size() == 2);
  CHECK(c.uncovered[0] == "app/cart.py:12-13");
  CHECK(c.uncovered[1] == "app/cart.py:15");
  REQUIRE(c.unmeasured_files.size() == 1);
  CHECK(c.unmeasured_files[0] == "docs/runbook/cart.md");
  CHECK(c.total_lines == 8);
  CHECK(c.overall() == Approx(5.0 / 8.0));
  SECTION("a build machine's absolute path is matched by its repository suffix") {
    auto other = selfheal::anomaly::parse_lcov("SF:/build/agent/src/app/cart.py\nDA:12,3\nend_of_record\n");
    auto d = val::changed_line_coverage(other, changed, "/tmp/elsewhere");
    CHECK(d.instrumented == 1);
    CHECK(d.covered == 1);
  }
  SECTION("nothing instrumented changed: nothing to miss") {
    auto d = val::changed_line_coverage(rep, {{"README.md", {1}}});
    CHECK(d.share() == 1.0);
  }
}
