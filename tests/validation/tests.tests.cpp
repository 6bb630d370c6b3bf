#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "selfheal/validation/tests.hpp"
#include "temp_dir.hpp"

namespace val = selfheal::validation;
namespace fs = std::filesystem;

namespace {
void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

val::test_plan python_plan(std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
  val::test_plan plan;
  plan.test = val::command_spec{{"python3", "-m", "unittest", "discover", "-s", "tests"}, timeout};
  return plan;
}

/// A process that is gone or a zombie waiting for its reaper: it runs no more.
bool process_gone(long pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string all;
  std::getline(stat, all);
  const auto close = all.rfind(')');
  return close != std::string::npos && close + 2 < all.size() && all[close + 2] == 'Z';
}
}  // namespace

TEST_CASE("run_build_and_tests: a passing Python project", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  write(dir.path() / "tests/test_cart.py",
        "import unittest\nclass TestCart(unittest.TestCase):\n"
        "    def test_add(self): self.assertEqual(1 + 1, 2)\n"
        "    def test_sub(self): self.assertEqual(2 - 1, 1)\n");
  auto plan = python_plan();
  plan.build = val::command_spec{{"python3", "-c", "open('built.txt','w').write('ok')"}, std::chrono::seconds{30}};
  auto r = val::run_build_and_tests(plan, dir.path());
  CHECK(r.passed());
  REQUIRE(r.checks.size() == 2);
  CHECK(r.checks[0].name == "build");
  CHECK(r.checks[0].status == "pass");
  CHECK(fs::exists(dir.path() / "built.txt"));
  CHECK(r.checks[1].status == "pass");
  CHECK(r.tests.format == "unittest");
  CHECK(r.tests.passed == 2);
  CHECK(r.tests.failed == 0);
  CHECK(r.tests.attempts == 1);
}

TEST_CASE("run_build_and_tests: a broken test is named, with its assertion", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  write(dir.path() / "tests/test_cart.py",
        "import unittest\nclass TestCart(unittest.TestCase):\n"
        "    def test_add(self): self.assertEqual(1 + 1, 2)\n"
        "    def test_total(self): self.assertEqual(3, 4)\n");
  auto plan = python_plan();
  plan.retries = 1;
  auto r = val::run_build_and_tests(plan, dir.path());
  CHECK_FALSE(r.passed());
  CHECK(r.checks[0].status == "skipped");
  CHECK(r.checks[1].status == "fail");
  CHECK(r.tests.attempts == 2);  // failed twice: a real failure, not flaky
  CHECK(r.tests.flaky == 0);
  REQUIRE(r.tests.failures.size() == 1);
  CHECK(r.tests.failures[0].name == "test_cart.TestCart.test_total");
  CHECK(r.tests.failures[0].message == "AssertionError: 3 != 4");
  REQUIRE(r.reasons.size() == 1);
  CHECK(r.reasons[0].find("test_cart.TestCart.test_total") != std::string::npos);
}

TEST_CASE("run_build_and_tests: fail then pass is flaky and reported", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  // fails on the first run only: a marker file in the checkout remembers the first run
  write(dir.path() / "tests/test_net.py",
        "import os, unittest\nclass TestNet(unittest.TestCase):\n"
        "    def test_ok(self): pass\n"
        "    def test_fetch(self):\n"
        "        first = not os.path.exists('ran-once')\n"
        "        open('ran-once', 'w').close()\n"
        "        self.assertFalse(first, 'connection reset')\n");
  auto plan = python_plan();
  SECTION("with a retry it passes and names the flaky test") {
    plan.retries = 1;
    auto r = val::run_build_and_tests(plan, dir.path());
    CHECK(r.passed());
    CHECK(r.tests.attempts == 2);
    CHECK(r.tests.flaky == 1);
    REQUIRE(r.tests.flaky_tests.size() == 1);
    CHECK(r.tests.flaky_tests[0] == "test_net.TestNet.test_fetch");
    CHECK(r.checks[1].detail.find("flaky: test_net.TestNet.test_fetch") != std::string::npos);
  }
  SECTION("without retries it fails") {
    auto r = val::run_build_and_tests(plan, dir.path());
    CHECK_FALSE(r.passed());
    CHECK(r.tests.flaky == 0);
  }
}

TEST_CASE("run_build_and_tests: a hanging test is killed at its time limit with its process group",
          "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  write(dir.path() / "tests/test_hang.py",
        "import subprocess, time, unittest\nclass TestHang(unittest.TestCase):\n"
        "    def test_hangs(self):\n"
        "        p = subprocess.Popen(['sleep', '300'])\n"
        "        open('child.pid', 'w').write(str(p.pid))\n"
        "        time.sleep(300)\n");
  auto plan = python_plan(std::chrono::milliseconds{1500});
  plan.retries = 2;  // a time-out is not retried
  const auto t0 = std::chrono::steady_clock::now();
  auto r = val::run_build_and_tests(plan, dir.path());
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < std::chrono::seconds{10});
  CHECK_FALSE(r.passed());
  CHECK(r.tests.attempts == 1);
  CHECK(r.checks[1].status == "fail");
  CHECK(r.checks[1].detail.find("time limit of 1.5 s") != std::string::npos);
  REQUIRE(fs::exists(dir.path() / "child.pid"));
  std::ifstream pidf(dir.path() / "child.pid");
  long pid = 0;
  pidf >> pid;
  REQUIRE(pid > 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = process_gone(pid);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  CHECK(gone);  // the grandchild `sleep 300` died with the group
  if (!gone) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

TEST_CASE("run_build_and_tests: a failed build skips the tests and says why", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  auto plan = python_plan();
  plan.build = val::command_spec{{"python3", "-c", "import sys; print('error: missing header'); sys.exit(2)"},
                                 std::chrono::seconds{30}};
  auto r = val::run_build_and_tests(plan, dir.path());
  CHECK_FALSE(r.passed());
  CHECK(r.checks[0].status == "fail");
  CHECK(r.checks[0].detail.find("status 2: error: missing header") != std::string::npos);
  CHECK(r.checks[1].status == "skipped");
  SECTION("a command that does not exist is a failed check, not a crash") {
    plan.build.reset();
    plan.test = val::command_spec{{"no-such-runner-xyz"}, std::chrono::seconds{5}};
    auto q = val::run_build_and_tests(plan, dir.path());
    CHECK_FALSE(q.passed());
    CHECK(q.checks[1].detail.find("not found") != std::string::npos);
  }
  SECTION("no [test] command fails: nothing is validated untested") {
    plan.build.reset();
    plan.test.reset();
    auto q = val::run_build_and_tests(plan, dir.path());
    CHECK_FALSE(q.passed());
    CHECK(q.checks[1].status == "fail");
  }
}

TEST_CASE("run_build_and_tests: JUnit XML when configured and a stale file is never read", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  write(dir.path() / "build/junit.xml", "<testsuite><testcase name='stale'><failure message='old'/></testcase></testsuite>");
  auto plan = python_plan();
  plan.junit = "build/junit.xml";
  plan.test = val::command_spec{
      {"python3", "-c",
       "open('build/junit.xml','w').write(\"<testsuite><testcase classname='t' name='a'/>"
       "<testcase classname='t' name='b'><failure message='b broke'/></testcase></testsuite>\")\n"
       "import sys; sys.exit(1)"},
      std::chrono::seconds{30}};
  auto r = val::run_build_and_tests(plan, dir.path());
  CHECK(r.tests.format == "junit");
  CHECK(r.tests.passed == 1);
  REQUIRE(r.tests.failures.size() == 1);
  CHECK(r.tests.failures[0].name == "t.b");
  CHECK(r.tests.failures[0].message == "b broke");
  SECTION("not written: the runner's output is used and the detail says so") {
    plan.test = val::command_spec{{"python3", "-c", "print('Ran 2 tests in 0.1s'); print('OK')"}, std::chrono::seconds{30}};
    auto q = val::run_build_and_tests(plan, dir.path());
    CHECK(q.passed());
    CHECK(q.tests.format == "unittest");
    CHECK(q.checks[1].detail.find("build/junit.xml was not written") != std::string::npos);
  }
}

TEST_CASE("run_build_and_tests: node --test output", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  write(dir.path() / "cart.test.js",
        "const test = require('node:test'); const assert = require('node:assert');\n"
        "test('adds', () => assert.strictEqual(1 + 1, 2));\n"
        "test('total', () => assert.strictEqual(3, 4));\n");
  val::test_plan plan;
  plan.test = val::command_spec{{"node", "--test"}, std::chrono::seconds{60}};
  auto r = val::run_build_and_tests(plan, dir.path());
  CHECK_FALSE(r.passed());
  CHECK(r.tests.passed == 1);
  REQUIRE(r.tests.failures.size() == 1);
  CHECK(r.tests.failures[0].name == "total");
}

TEST_CASE("stored output keeps the head and the tail", "[validation][runTests]") {
  std::string big(100000, 'x');
  big.replace(0, 5, "START");
  big.replace(big.size() - 3, 3, "END");
  auto cut = val::detail::head_and_tail(big, 1000);
  CHECK(cut.size() < 1100);
  CHECK(cut.starts_with("START"));
  CHECK(cut.ends_with("END"));
  CHECK(cut.find("bytes cut") != std::string::npos);
}

TEST_CASE("run_build_and_tests straight from selfheal.toml, placeholders filled in", "[validation][runTests]") {
  selfheal::test::temp_dir dir;
  auto s = selfheal::source::parse_settings(
      "[service]\nname = \"x\"\n[build]\ncommand = [\"python3\", \"-c\", \"open('at.txt','w').write('{commit}')\"]\n"
      "[test]\ncommand = [\"python3\", \"-c\", \"print('Ran 1 test in 0.0s'); print('OK')\"]\nretries = 2\ntimeout = \"30s\"\n",
      "selfheal.toml", dir.path());
  REQUIRE(s);
  auto plan = val::plan_from_settings(*s, {{"commit", "abc123"}});
  CHECK(plan.retries == 2);
  CHECK(plan.test->timeout == std::chrono::seconds{30});
  auto r = val::run_build_and_tests(*s, dir.path(), {{"commit", "abc123"}});
  CHECK(r.passed());
  std::ifstream at(dir.path() / "at.txt");
  std::string text;
  at >> text;
  CHECK(text == "abc123");
}
