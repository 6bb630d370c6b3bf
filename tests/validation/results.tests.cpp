#include <catch2/catch.hpp>

#include <string>

#include "selfheal/validation/results.hpp"

namespace val = selfheal::validation;

namespace {
// What `python3 -m unittest discover -s tests` prints (Python 3.11) for one failure, one error, one skip.
const std::string unittest_output = R"(FE.s
======================================================================
ERROR: test_err (test_a.TestA.test_err)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/vt/tests/test_a.py", line 5, in test_err
    def test_err(self): raise ValueError("boom")
ValueError: boom

======================================================================
FAIL: test_bad (test_a.TestA.test_bad)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/vt/tests/test_a.py", line 4, in test_bad
    def test_bad(self): self.assertEqual(2, 3)
AssertionError: 2 != 3

----------------------------------------------------------------------
Ran 4 tests in 0.001s

FAILED (failures=1, errors=1, skipped=1)
)";

// `node --test` (Node 20, TAP when piped): a nested suite whose inner test fails.
const std::string node_tap = R"(TAP version 13
# Subtest: adds
ok 1 - adds
  ---
  duration_ms: 1.883025
  ...
# Subtest: suite
    # Subtest: inner ok
    ok 1 - inner ok
      ---
      duration_ms: 0.248838
      ...
    # Subtest: inner bad
    not ok 2 - inner bad
      ---
      duration_ms: 2.087161
      failureType: 'testCodeFailure'
      error: |-
        Expected values to be strictly equal:
      code: 'ERR_ASSERTION'
      ...
    1..2
not ok 2 - suite
  ---
  error: '1 subtest failed'
  ...
# Subtest: skipped
ok 3 - skipped # SKIP
1..3
# tests 5
# pass 2
# fail 2
)";
}  // namespace

TEST_CASE("unittest: failures and errors by qualified name, with the traceback's last line", "[validation][results]") {
  auto r = val::parse_unittest(unittest_output);
  REQUIRE(r);
  CHECK(r->format == "unittest");
  CHECK(r->failed == 2);
  CHECK(r->skipped == 1);
  CHECK(r->passed == 1);
  REQUIRE(r->cases.size() == 2);
  CHECK(r->cases[0].name == "test_a.TestA.test_err");
  CHECK(r->cases[0].message == "ValueError: boom");
  CHECK(r->cases[1].name == "test_a.TestA.test_bad");
  CHECK(r->cases[1].message == "AssertionError: 2 != 3");
  SECTION("before Python 3.11 the method is not repeated in the parentheses") {
    auto old = val::parse_unittest("FAIL: test_bad (test_a.TestA)\n---\nAssertionError: x\n\nRan 1 test in 0.0s\n\nFAILED (failures=1)\n");
    REQUIRE(old);
    REQUIRE(old->cases.size() == 1);
    CHECK(old->cases[0].name == "test_a.TestA.test_bad");
  }
  SECTION("a clean run") {
    auto ok = val::parse_unittest("...\n----\nRan 3 tests in 0.002s\n\nOK\n");
    REQUIRE(ok);
    CHECK(ok->passed == 3);
    CHECK(ok->failed == 0);
  }
  CHECK_FALSE(val::parse_unittest("hello\n"));
}

TEST_CASE("TAP: leaf test points only, so node's failed suite is not a second failure", "[validation][results]") {
  auto r = val::parse_tap(node_tap);
  REQUIRE(r);
  CHECK(r->passed == 2);
  CHECK(r->failed == 1);
  CHECK(r->skipped == 1);
  auto names = val::failed_names(*r);
  REQUIRE(names.size() == 1);
  CHECK(names[0] == "inner bad");
  CHECK(r->cases[2].message == "Expected values to be strictly equal:");
  SECTION("plain TAP with TODO and a YAML message") {
    auto t = val::parse_tap("1..3\nok 1 - a\nnot ok 2 - b\n  ---\n  message: 'wrong sum'\n  ...\nnot ok 3 - c # TODO later\n");
    REQUIRE(t);
    CHECK(t->passed == 1);
    CHECK(t->failed == 1);
    CHECK(t->skipped == 1);
    CHECK(t->cases[1].message == "wrong sum");
  }
}

TEST_CASE("pytest: the short summary names failures, the last line counts", "[validation][results]") {
  const std::string out = R"(============================= test session starts ==============================
collected 5 items

tests/test_cart.py ..F.s                                                  [100%]

=================================== FAILURES ===================================
___________________________________ test_total ___________________________________
E       assert 3 == 4
=========================== short test summary info ============================
FAILED tests/test_cart.py::test_total - assert 3 == 4
==================== 1 failed, 3 passed, 1 skipped in 0.12s ====================
)";
  auto r = val::parse_pytest(out);
  REQUIRE(r);
  CHECK(r->failed == 1);
  CHECK(r->passed == 3);
  CHECK(r->skipped == 1);
  REQUIRE(r->cases.size() == 1);
  CHECK(r->cases[0].name == "tests/test_cart.py::test_total");
  CHECK(r->cases[0].message == "assert 3 == 4");
  auto q = val::parse_pytest("....\n4 passed in 0.01s\n");
  REQUIRE(q);
  CHECK(q->passed == 4);
  CHECK_FALSE(val::parse_pytest("Ran 4 tests in 0.001s\n"));
}

TEST_CASE("ctest: per-test lines and the summary", "[validation][results]") {
  const std::string out = R"(Test project /tmp/x/build
    Start 1: adds
1/3 Test #1: adds .............................   Passed    0.00 sec
    Start 2: slow_path
2/3 Test #2: slow_path ........................***Failed    0.01 sec
    Start 3: hangs
3/3 Test #3: hangs ............................***Timeout   2.00 sec

33% tests passed, 2 tests failed out of 3

The following tests FAILED:
	  2 - slow_path (Failed)
	  3 - hangs (Timeout)
)";
  auto r = val::parse_ctest(out);
  REQUIRE(r);
  CHECK(r->passed == 1);
  CHECK(r->failed == 2);
  auto names = val::failed_names(*r);
  REQUIRE(names.size() == 2);
  CHECK(names[0] == "slow_path");
  CHECK(names[1] == "hangs");
  CHECK(r->cases[2].message == "Timeout");
}

TEST_CASE("node --test spec reporter", "[validation][results]") {
  const std::string out = "\xE2\x9C\x94 adds (0.5ms)\n\xE2\x9C\x96 total is right (1.2ms)\n"
                          "\xE2\x84\xB9 tests 2\n\xE2\x84\xB9 pass 1\n\xE2\x84\xB9 fail 1\n\xE2\x84\xB9 skipped 0\n"
                          "\xE2\x9C\x96 failing tests:\n\xE2\x9C\x96 total is right (1.2ms)\n";
  auto r = val::parse_node_spec(out);
  REQUIRE(r);
  CHECK(r->passed == 1);
  CHECK(r->failed == 1);
  REQUIRE(r->cases.size() == 1);
  CHECK(r->cases[0].name == "total is right");
}

TEST_CASE("JUnit XML with expat: failures, errors and skips, and malformed XML names its line", "[validation][results]") {
  const std::string xml = R"(<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
  <testcase classname="tests.test_cart" name="test_add" time="0.01"/>
  <testcase classname="tests.test_cart" name="test_total"><failure message="assert 3 == 4">trace</failure></testcase>
  <testcase classname="tests.test_cart" name="test_io"><error>OSError: disk
more</error></testcase>
  <testcase classname="tests.test_cart" name="test_later"><skipped message="not yet"/></testcase>
</testsuite></testsuites>)";
  auto r = val::parse_junit(xml);
  REQUIRE(r);
  CHECK(r->passed == 1);
  CHECK(r->failed == 2);
  CHECK(r->skipped == 1);
  CHECK(r->cases[1].name == "tests.test_cart.test_total");
  CHECK(r->cases[1].message == "assert 3 == 4");
  CHECK(r->cases[2].message == "OSError: disk");
  auto bad = val::parse_junit("<testsuite>\n<testcase name='x'>\n</testsuite>", "build/junit.xml");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == selfheal::errc::parse_error);
  CHECK(bad.error().detail.find("build/junit.xml:3") != std::string::npos);
}

TEST_CASE("nothing recognised: the exit code is the result", "[validation][results]") {
  CHECK_FALSE(val::parse_test_output("all good\n"));
  auto r = val::exit_code_result(3, "make check", "compiling\nsegfault in foo\n\n");
  CHECK(r.failed == 1);
  CHECK(r.cases[0].name == "make check");
  CHECK(r.cases[0].message == "segfault in foo");
  CHECK_FALSE(r.names_failures());
  CHECK(val::exit_code_result(0, "make check", "").passed == 1);
}
