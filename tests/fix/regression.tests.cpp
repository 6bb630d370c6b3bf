#include <catch2/catch.hpp>

#include <string>

#include "selfheal/fix/cmake.hpp"
#include "selfheal/fix/regression.hpp"

namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;
namespace cm = selfheal::fix::cmake;

namespace {

fx::repo_view view(std::vector<std::pair<std::string, std::string>> files) {
  fx::repo_view v;
  for (auto& [path, text] : files) {
    v.files.push_back({path, false});
    v.texts[path] = text;
  }
  std::sort(v.files.begin(), v.files.end(), [](const fx::tree_file& a, const fx::tree_file& b) { return a.path < b.path; });
  return v;
}

dx::diagnosis_item item(std::string type, std::string file, std::string symbol) {
  dx::diagnosis_item d;
  d.anomaly_id = "anomaly-1.1";
  d.type = std::move(type);
  d.handler = "handler";
  d.root_cause = "it got slow";
  d.where = dx::location{std::move(file), 1, 3, std::move(symbol)};
  return d;
}

fx::evidence slow_evidence() {
  fx::evidence e;
  e.baseline_p50_ms = 1;
  e.baseline_p95_ms = 2;
  e.current_p50_ms = 40;
  return e;
}

const char* root_cmake =
    "cmake_minimum_required(VERSION 3.16)\nproject(shop CXX)\nadd_library(shop src/pricing.cpp)\n"
    "target_include_directories(shop PUBLIC include)\nenable_testing()\nadd_subdirectory(tests)\n";
const char* catch_tests_cmake =
    "find_package(Catch2 REQUIRED)\nset(SHOP_TESTS main.cpp pricing_tests.cpp)\nadd_executable(shop_tests ${SHOP_TESTS})\n"
    "target_link_libraries(shop_tests PRIVATE shop Catch2::Catch2)\ninclude(Catch)\ncatch_discover_tests(shop_tests)\n";
const char* catch_test =
    "#include <catch2/catch.hpp>\n#include \"shop/pricing.hpp\"\n\nusing namespace std::string_literals;\n\n"
    "TEST_CASE(\"apply_discount(100) takes ten percent\") {\n  const double price = 100.0;\n"
    "  CHECK(shop::apply_discount(price, 10) == Approx(90.0));  // a local: not representative\n"
    "  CHECK(shop::apply_discount(100.0, std::min(10, 20)) == Approx(90.0));\n}\n";

}  // namespace

TEST_CASE("the test framework is found from the [test] command, the config files and the tests", "[fix][generateTestFix]") {
  using tf = fx::test_framework;
  CHECK(fx::detect_framework(view({{"pytest.ini", "[pytest]\n"}}), fx::source_language::python).framework == tf::pytest);
  CHECK(fx::detect_framework(view({{"pyproject.toml", "[tool.pytest.ini_options]\n"}}), fx::source_language::python).framework == tf::pytest);
  CHECK(fx::detect_framework(view({{"tests/test_a.py", "import unittest\n"}}), fx::source_language::python).framework == tf::unittest);
  auto none = fx::detect_framework(view({{"tests/test_a.py", "def test_a():\n    assert 1\n"}}), fx::source_language::python);
  CHECK(none.framework == tf::none);
  CHECK(none.reason.find("no Python test framework found") != std::string::npos);
  auto cmd = view({});
  cmd.test_command = {"python3", "-m", "pytest", "-q"};
  CHECK(fx::detect_framework(cmd, fx::source_language::python).framework == tf::pytest);
  CHECK(fx::detect_framework(view({{"package.json", "{\"devDependencies\": {\"vitest\": \"^1\"}}"}}), fx::source_language::javascript)
            .framework == tf::vitest);
  CHECK(fx::detect_framework(view({{"package.json", "{\"devDependencies\": {\"jest\": \"^29\"}}"}}), fx::source_language::javascript)
            .framework == tf::jest);
  CHECK(fx::detect_framework(view({{"tests/a.test.js", "import { test } from 'node:test';\n"}}), fx::source_language::javascript)
            .framework == tf::node_test);
  // C++: the framework alone is not enough, CTest must run the tests.
  auto cpp = fx::detect_framework(view({{"CMakeLists.txt", "find_package(Catch2)\ncatch_discover_tests(t)\n"}}), fx::source_language::cpp);
  CHECK(cpp.framework == tf::none);
  CHECK(cpp.reason.find("Catch2 found, but the CMake files do not run tests through CTest") != std::string::npos);
}

TEST_CASE("the latency budget comes from production's baseline", "[fix][generateTestFix]") {
  fx::evidence e;
  e.baseline_p50_ms = 2;
  e.baseline_p95_ms = 3;
  e.current_p50_ms = 60;
  auto b = fx::budget_from(e);
  REQUIRE(b);
  CHECK(b->ms == Approx(6));
  e.current_p50_ms = 7;  // the anomaly is close to the budget: tighten to the geometric mean
  b = fx::budget_from(e);
  REQUIRE(b);
  CHECK(b->ms == Approx(std::sqrt(3.0 * 7.0)));
  CHECK_FALSE(fx::budget_from(fx::evidence{}));
}

TEST_CASE("a representative call is taken from the repository's own tests", "[fix][generateTestFix]") {
  auto v = view({{"tests/test_p.py", "from p import tax\n\ndef test_tax():\n    assert tax(100, \"eu (x)\") == 20\n"},
                 {"p.py", "def tax(a, r):\n    return a\n"}});
  auto call = fx::find_representative_call(v, "tax", fx::source_language::python);
  REQUIRE(call);
  CHECK(*call == "tax(100, \"eu (x)\")");
  CHECK_FALSE(fx::find_representative_call(v, "missing", fx::source_language::python));
}

TEST_CASE("an error anomaly gets a test that the call no longer raises", "[fix][generateTestFix]") {
  auto v = view({{"tests/test_p.py", "import unittest\nfrom svc.p import tax\n\nclass T(unittest.TestCase):\n"
                                     "    def test_a(self):\n        tax(1, 'eu')\n"},
                 {"svc/p.py", "def tax(a, r):\n    return a\n"}});
  fx::evidence e;
  e.error_template = "KeyError: 'standard'";
  auto t = fx::make_regression_test(item("error", "svc/p.py", "tax"), e, v);
  CHECK(t.framework == fx::test_framework::unittest);
  CHECK(t.path == "tests/test_selfheal_tax.py");
  CHECK(t.text.find("from svc.p import tax") != std::string::npos);
  CHECK(t.text.find("def test_tax_does_not_raise(self):") != std::string::npos);
  CHECK(t.text.find("tax(1, 'eu')") != std::string::npos);
  CHECK(t.text.find("KeyError: 'standard'") != std::string::npos);
}

TEST_CASE("the runbook goes where the repository keeps runbooks, appended to an existing entry", "[fix][generateDocumentationFix]") {
  auto v = view({{"ops/runbooks/index.md", "# Runbooks\n"}, {"runbooks/handler.md", "# handler\n\nOld entry.\n"}});
  fx::code_change c;
  c.strategy = "revert";
  c.description = "revert 1234567";
  auto r = fx::make_runbook(item("performance", "a.py", "a"), fx::evidence{}, v, c, fx::regression_test{});
  CHECK(r.path == "runbooks/handler.md");
  REQUIRE(r.before);
  CHECK(r.after.rfind("# handler\n\nOld entry.\n", 0) == 0);
  for (const char* s : {"### Symptom", "### Evidence", "### Cause", "### Fix", "### How to verify", "No regression test"})
    CHECK(r.after.find(s) != std::string::npos);
  auto fresh = fx::make_runbook(item("performance", "a.py", "a"), fx::evidence{}, view({}), c, fx::regression_test{});
  CHECK(fresh.path == "docs/runbook/handler.md");
  CHECK_FALSE(fresh.before);
}

// C++: Catch2 / GoogleTest through CTest, and the CMake reading they need (real builds: cpp_build.tests.cpp).

TEST_CASE("CMake commands are read with quotes, comments, brackets and nesting", "[fix][cmake]") {
  auto cmds = cm::parse("# comment (not a command)\nset(A \"x y\" b) # trailing\nIF(WIN32)\n  add_executable(t [[a b]] c.cpp)\n"
                        "endif()\nmessage(\"(\" ${A})\n");
  REQUIRE(cmds.size() == 5);
  CHECK(cmds[0].name == "set");
  CHECK(cmds[0].args == std::vector<std::string>{"A", "x y", "b"});
  CHECK(cmds[1].name == "if");
  CHECK(cmds[2].args == std::vector<std::string>{"t", "a b", "c.cpp"});
  CHECK(cmds[4].args == std::vector<std::string>{"(", "${A}"});
  CHECK(cm::join("tests", "../src/./a.cpp") == "src/a.cpp");
  CHECK(cm::glob_matches("tests/*.tests.cpp", "tests/a.tests.cpp", false));
  CHECK_FALSE(cm::glob_matches("tests/*.tests.cpp", "tests/sub/a.tests.cpp", false));
  CHECK(cm::glob_matches("tests/*.tests.cpp", "tests/sub/a.tests.cpp", true));
  CHECK_FALSE(cm::glob_matches("tests/*.tests.cpp", "tests/a_test.cpp", true));
}

TEST_CASE("the target that builds a test file is found through sources, variables and globs", "[fix][cmake]") {
  std::map<std::string, std::string> texts{{"CMakeLists.txt", root_cmake}, {"tests/CMakeLists.txt", catch_tests_cmake}};
  auto site = cm::find_target_of(texts, "tests/pricing_tests.cpp");
  REQUIRE(site);
  CHECK(site->cmake_file == "tests/CMakeLists.txt");
  CHECK(site->target == "shop_tests");
  CHECK(site->glob.empty());
  CHECK_FALSE(cm::find_target_of(texts, "tests/other.cpp"));
  texts["tests/CMakeLists.txt"] = "file(GLOB T CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)\nadd_executable(u ${T})\n";
  site = cm::find_target_of(texts, "tests/pricing_test.cpp");
  REQUIRE(site);
  CHECK(site->target == "u");
  CHECK(site->glob == "tests/*_test.cpp");
  // A glob consumed by a loop still reaches a target, only not a literal one.
  texts["tests/CMakeLists.txt"] = "file(GLOB T *_test.cpp)\nforeach(t ${T})\n  add_executable(${t}_bin ${t})\nendforeach()\n";
  site = cm::find_target_of(texts, "tests/pricing_test.cpp");
  REQUIRE(site);
  CHECK(site->target.empty());
  CHECK(site->glob == "tests/*_test.cpp");
}

TEST_CASE("C++ frameworks are detected through CTest: Catch2 v2, v3 and GoogleTest", "[fix][generateTestFix]") {
  using tf = fx::test_framework;
  auto v2 = fx::detect_framework(view({{"CMakeLists.txt", root_cmake}, {"tests/CMakeLists.txt", catch_tests_cmake},
                                       {"tests/pricing_tests.cpp", catch_test}}),
                                 fx::source_language::cpp);
  CHECK(v2.framework == tf::catch2);
  CHECK(v2.reason.find("Catch2 v2") != std::string::npos);
  auto v3 = fx::detect_framework(
      view({{"CMakeLists.txt", "include(FetchContent)\nFetchContent_Declare(Catch2 GIT_TAG v3.4.0)\nenable_testing()\n"
                               "add_executable(t t.cpp)\ntarget_link_libraries(t Catch2::Catch2WithMain)\ncatch_discover_tests(t)\n"}}),
      fx::source_language::cpp);
  CHECK(v3.framework == tf::catch2);
  CHECK(v3.reason.find("Catch2 v3") != std::string::npos);
  auto gt = fx::detect_framework(view({{"CMakeLists.txt", "find_package(GTest REQUIRED)\ninclude(CTest)\ngtest_discover_tests(t)\n"}}),
                                 fx::source_language::cpp);
  CHECK(gt.framework == tf::gtest);
  auto none = fx::detect_framework(view({{"CMakeLists.txt", "project(x)\nadd_executable(x x.cpp)\n"}}), fx::source_language::cpp);
  CHECK(none.framework == tf::none);
  CHECK(none.reason.find("no C++ test framework found") != std::string::npos);
}

TEST_CASE("a C++ call is taken only when its arguments need nothing from the test", "[fix][generateTestFix]") {
  CHECK(fx::detail::self_contained_args("100.0, \"eu\", std::string(\"x\"), shop::kRate, 10u, true"));
  CHECK_FALSE(fx::detail::self_contained_args("price, 10"));
  auto v = view({{"tests/pricing_tests.cpp", catch_test}});
  auto call = fx::detail::find_cpp_call(v, "apply_discount");
  REQUIRE(call);
  CHECK(call->call == "shop::apply_discount(100.0, std::min(10, 20))");
  CHECK(call->file == "tests/pricing_tests.cpp");
  CHECK_FALSE(fx::detail::find_cpp_call(view({{"tests/a.cpp", "double apply_discount(double p, int r);\n"}}), "apply_discount"));
  CHECK(fx::detail::cpp_test_path("tests/pricing_tests.cpp", "f") == "tests/selfheal_regression_f_tests.cpp");
  CHECK(fx::detail::cpp_test_path("tests/pricing.tests.cpp", "f") == "tests/selfheal_regression_f.tests.cpp");
  CHECK(fx::detail::cpp_test_path("test/test_pricing.cc", "f") == "test/test_selfheal_regression_f.cc");
}

TEST_CASE("a Catch2 latency test is written next to the test it copies and registered with its target", "[fix][generateTestFix]") {
  auto v = view({{"CMakeLists.txt", root_cmake}, {"tests/CMakeLists.txt", catch_tests_cmake}, {"tests/pricing_tests.cpp", catch_test},
                 {"tests/main.cpp", "#define CATCH_CONFIG_MAIN\n#include <catch2/catch.hpp>\n"}});
  auto t = fx::make_regression_test(item("performance", "src/pricing.cpp", "shop::apply_discount"), slow_evidence(), v);
  INFO(t.notes.size());
  REQUIRE(t.framework == fx::test_framework::catch2);
  CHECK(t.path == "tests/selfheal_regression_apply_discount_tests.cpp");
  CHECK(t.text.find("#include <catch2/catch.hpp>\n#include \"shop/pricing.hpp\"\n") != std::string::npos);
  CHECK(t.text.find("using namespace std::string_literals;") != std::string::npos);
  CHECK(t.text.find("const double budget_ms = 4.000;") != std::string::npos);
  CHECK(t.text.find("selfheal_call([&] { return shop::apply_discount(100.0, std::min(10, 20)); }, 0);") != std::string::npos);
  CHECK(t.text.find("REQUIRE(median <= budget_ms);") != std::string::npos);
  CHECK(t.text.find("CATCH_CONFIG_MAIN") == std::string::npos);
  REQUIRE(t.registration.size() == 1);
  CHECK(t.registration[0].path == "tests/CMakeLists.txt");
  CHECK(t.registration[0].before == std::string(catch_tests_cmake));
  CHECK(t.registration[0].after->ends_with("target_sources(shop_tests PRIVATE selfheal_regression_apply_discount_tests.cpp)\n"));
  // A glob that takes the new file: nothing to register.
  v.texts["tests/CMakeLists.txt"] = "find_package(Catch2 REQUIRED)\nfile(GLOB T *_tests.cpp main.cpp)\nadd_executable(shop_tests ${T})\n"
                                    "target_link_libraries(shop_tests PRIVATE shop Catch2::Catch2)\ninclude(Catch)\ncatch_discover_tests(shop_tests)\n";
  t = fx::make_regression_test(item("performance", "src/pricing.cpp", "shop::apply_discount"), slow_evidence(), v);
  CHECK(t.framework == fx::test_framework::catch2);
  CHECK(t.registration.empty());
  // No target builds the test holding the call: no test, and the note says why.
  v.texts["tests/CMakeLists.txt"] = "find_package(Catch2 REQUIRED)\ninclude(Catch)\ncatch_discover_tests(other)\n";
  t = fx::make_regression_test(item("performance", "src/pricing.cpp", "shop::apply_discount"), slow_evidence(), v);
  CHECK(t.path.empty());
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0].find("no CMake target builds tests/pricing_tests.cpp") != std::string::npos);
}

TEST_CASE("a GoogleTest error test checks that the call no longer throws", "[fix][generateTestFix]") {
  auto v = view({{"CMakeLists.txt", "find_package(GTest REQUIRED)\nenable_testing()\nadd_executable(t test/tax_test.cc)\n"
                                    "target_link_libraries(t GTest::gtest_main)\ngtest_discover_tests(t)\n"},
                 {"test/tax_test.cc", "#include <gtest/gtest.h>\n#include \"tax.h\"\n\nTEST(Tax, Eu) { EXPECT_EQ(tax(100, \"eu\"), 20); }\n"}});
  fx::evidence e;
  e.error_template = "std::out_of_range: map::at";
  auto t = fx::make_regression_test(item("error", "src/tax.cc", "tax"), e, v);
  REQUIRE(t.framework == fx::test_framework::gtest);
  CHECK(t.path == "test/selfheal_regression_tax_test.cc");
  CHECK(t.text.find("TEST(SelfhealRegression, TaxDoesNotThrow) {") != std::string::npos);
  CHECK(t.text.find("EXPECT_NO_THROW(selfheal_call([&] { return tax(100, \"eu\"); }, 0));") != std::string::npos);
  CHECK(t.text.find("std::out_of_range: map::at") != std::string::npos);
  REQUIRE(t.registration.size() == 1);
  CHECK(t.registration[0].after->ends_with("target_sources(t PRIVATE test/selfheal_regression_tax_test.cc)\n"));
}
