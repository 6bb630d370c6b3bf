// C++ end to end: a real CMake repository (Catch2 v2 or GoogleTest through CTest) with a slow commit
// and a later decoy; fix.generate writes a partial revert plus a regression test registered with the
// test target; the test is built with cmake + ninja and run with ctest: it passes on the fix and fails
// on the slow code.
#include <catch2/catch.hpp>

#include <string>

#include "fix_support.hpp"

using fixtest::repo_clone;
using fixtest::run;
using selfheal::test::git_repo;
namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

namespace {

const char* root_cmake =
    "cmake_minimum_required(VERSION 3.16)\n"
    "project(shop CXX)\n"
    "set(CMAKE_CXX_STANDARD 17)\n"
    "add_library(shop src/pricing.cpp)\n"
    "target_include_directories(shop PUBLIC include)\n"
    "enable_testing()\n"
    "add_subdirectory(tests)\n";

const char* header =
    "#pragma once\n\nnamespace shop {\n\ndouble total(double price, int quantity);\ndouble apply_discount(double price, int percent);\n\n}  // namespace shop\n";

const char* pricing_v1 =
    "#include \"shop/pricing.hpp\"\n"
    "\n"
    "namespace shop {\n"
    "\n"
    "double total(double price, int quantity) {\n"
    "  return price * quantity;\n"
    "}\n"
    "\n"
    "double apply_discount(double price, int percent) {\n"
    "  return price * (100 - percent) / 100.0;\n"
    "}\n"
    "\n"
    "}  // namespace shop\n";

const char* slow_lines =
    "  volatile unsigned long audit = 0;\n"
    "  for (unsigned long i = 0; i < 40000000UL; ++i) audit = audit + i;\n";

struct scenario {
  git_repo repo;
  std::string guilty;
  std::string head;  ///< src/pricing.cpp at the head (slow, with the decoy)
};

/// The shop at three commits: tests, the slow audit loop, a decoy in another function.
void build_history(scenario& s, const std::string& tests_cmake, const std::vector<std::pair<std::string, std::string>>& tests) {
  s.repo.write("CMakeLists.txt", root_cmake);
  s.repo.write("include/shop/pricing.hpp", header);
  s.repo.write("src/pricing.cpp", pricing_v1);
  s.repo.write("tests/CMakeLists.txt", tests_cmake);
  for (const auto& [path, text] : tests) s.repo.write(path, text);
  s.repo.commit("Shop pricing", 1740787200);
  std::string guilty_text = pricing_v1;
  guilty_text.insert(guilty_text.find("  return price * (100"), slow_lines);
  s.repo.write("src/pricing.cpp", guilty_text);
  s.guilty = s.repo.commit("Audit discounts", 1740790800);
  s.head = guilty_text;
  s.head.replace(s.head.find("  return price * quantity;\n"), 27, "  return price * static_cast<double>(quantity);\n");
  s.repo.write("src/pricing.cpp", s.head);
  s.repo.commit("Explicit conversion in total", 1740794400);
}

fx::generate_summary generate(scenario& s, fixtest::store_fixture& st) {
  dx::diagnosis_item d;
  d.anomaly_id = "anomaly-4.1";
  d.type = "performance";
  d.handler = "apply_discount";
  const auto first = fixtest::line_of(s.head, "double apply_discount");
  const auto last = fixtest::line_of(s.head, "return price * (100") + 1;
  d.where = dx::location{"src/pricing.cpp", first, last, "shop::apply_discount"};
  dx::suspect_commit sc;
  sc.commit = s.guilty;
  sc.file = "src/pricing.cpp";
  sc.overlaps = true;
  sc.target_hunks = fixtest::hunks_inside(s.repo.root(), s.guilty, "src/pricing.cpp", first, last);
  d.suspects.push_back(sc);
  dx::recommendation r;
  r.strategy = "partial_revert";
  r.priority = 1;
  r.commit = s.guilty;
  r.file = "src/pricing.cpp";
  r.hunks = sc.target_hunks;
  d.recommendations.push_back(r);
  const auto record = st.store(s.repo.root(), {d});
  fx::generate_request req;
  req.repo = s.repo.root().string();
  req.diagnosis_record = record;
  fx::evidence ev;
  ev.anomaly_id = "anomaly-4.1";
  ev.baseline_p50_ms = 1;
  ev.baseline_p95_ms = 2;
  ev.current_p50_ms = 40;
  req.production = {ev};
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  return std::move(*out);
}

/// Configures (first time), builds and runs ctest in the clone; returns ctest's exit code and output.
std::pair<int, std::string> build_and_test(const repo_clone& c) {
  if (!std::filesystem::exists(c.root / "build" / "build.ninja")) {
    auto [code, out] = run({"cmake", "-S", ".", "-B", "build", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Debug"}, c.root, 300);
    INFO(out);
    REQUIRE(code == 0);
  }
  auto [code, out] = run({"cmake", "--build", "build"}, c.root, 600);
  INFO(out);
  REQUIRE(code == 0);
  return run({"ctest", "--test-dir", "build", "--output-on-failure"}, c.root, 300);
}

void check_fix_and_regression(scenario& s, const fx::generate_summary& out, const std::string& framework, const std::string& test_path) {
  const auto& p = out.patches.at(0);
  CHECK(p.strategy == "partial_revert");
  CHECK(p.test_framework == framework);
  REQUIRE(p.tests_added == std::vector<std::string>{test_path});
  bool cmake_changed = false, cpp_checked = false;
  for (const auto& f : p.files) cmake_changed = cmake_changed || f.path == "tests/CMakeLists.txt";
  CHECK(cmake_changed);
  std::string checks;
  for (const auto& c : p.syntax) checks += c.path + " (" + c.tool + "): " + c.message + "\n";
  INFO(checks);
  for (const auto& c : p.syntax) {
    INFO(c.path << " (" << c.tool << "): " << c.message);
    CHECK(c.ok);
    cpp_checked = cpp_checked || (c.path == test_path && c.tool.find("-fsyntax-only") != std::string::npos &&
                                  c.message.find("not checked") == std::string::npos);
  }
  CHECK(cpp_checked);
  repo_clone c(s.repo.root(), p.base_commit);
  REQUIRE(c.apply(p.diff) == 0);
  const auto fixed = c.read("src/pricing.cpp");
  CHECK(fixed.find("audit") == std::string::npos);
  CHECK(fixed.find("static_cast<double>(quantity)") != std::string::npos);  // the decoy survives
  auto [pass, pass_out] = build_and_test(c);
  INFO(pass_out);
  CHECK(pass == 0);
  CHECK(pass_out.find("selfheal") != std::string::npos);  // the regression test ran
  c.write("src/pricing.cpp", s.head);
  auto [failed, fail_out] = build_and_test(c);
  INFO(fail_out);
  CHECK(failed != 0);
  CHECK(fail_out.find("budget") != std::string::npos);
  CHECK(s.repo.git({"status", "--porcelain"}).empty());
}

}  // namespace

TEST_CASE("C++ Catch2 v2: partial revert and a regression test CTest runs, failing before and passing after",
          "[fix][generateTestFix][cpp][slow]") {
  scenario s;
  build_history(s,
                "find_package(Catch2 REQUIRED)\n"
                "add_executable(shop_tests main.cpp pricing_tests.cpp)\n"
                "target_link_libraries(shop_tests PRIVATE shop Catch2::Catch2)\n"
                "include(Catch)\n"
                "catch_discover_tests(shop_tests)\n",
                {{"tests/pricing_tests.cpp", "#include <catch2/catch.hpp>\n#include \"shop/pricing.hpp\"\n\n"
                                             "TEST_CASE(\"ten percent off\") {\n  CHECK(shop::apply_discount(100.0, 10) == Approx(90.0));\n}\n"},
                 {"tests/main.cpp", "#define CATCH_CONFIG_MAIN\n#include <catch2/catch.hpp>\n"}});
  fixtest::store_fixture st;
  const auto out = generate(s, st);
  check_fix_and_regression(s, out, "Catch2", "tests/selfheal_regression_apply_discount_tests.cpp");
}

TEST_CASE("C++ GoogleTest: partial revert and a regression test CTest runs, failing before and passing after",
          "[fix][generateTestFix][cpp][slow]") {
  scenario s;
  build_history(s,
                "find_package(GTest REQUIRED)\n"
                "add_executable(shop_tests pricing_test.cc)\n"
                "target_link_libraries(shop_tests PRIVATE shop GTest::gtest_main)\n"
                "include(GoogleTest)\n"
                "gtest_discover_tests(shop_tests)\n",
                {{"tests/pricing_test.cc", "#include <gtest/gtest.h>\n\n#include \"shop/pricing.hpp\"\n\n"
                                           "TEST(Pricing, TenPercentOff) { EXPECT_DOUBLE_EQ(shop::apply_discount(100.0, 10), 90.0); }\n"}});
  fixtest::store_fixture st;
  const auto out = generate(s, st);
  check_fix_and_regression(s, out, "GoogleTest", "tests/selfheal_regression_apply_discount_test.cc");
}
