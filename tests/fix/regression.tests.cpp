#include <catch2/catch.hpp>

#include <string>

#include "selfheal/fix/regression.hpp"

namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

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
