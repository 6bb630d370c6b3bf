// validation.run end to end: real git repositories (Python; C++ with CMake + CTest, [slow]), real
// child processes, a real SQLite store. Each case also proves the user's checkout untouched.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "scenario.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/validation/report.hpp"
#include "selfheal/validation/sequence.hpp"
#include "selfheal/validation/store.hpp"
#include "temp_dir.hpp"

namespace val = selfheal::validation;
namespace fs = std::filesystem;

namespace {

/// Everything about the user's checkout that validation must not touch: every file's bytes and
/// modification time (work tree, index, HEAD, refs, packed refs, config), by path.
std::map<std::string, std::pair<std::string, std::int64_t>> snapshot(const fs::path& root) {
  std::map<std::string, std::pair<std::string, std::int64_t>> s;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const auto rel = it->path().lexically_relative(root).generic_string();
    if (rel.starts_with(".git/objects")) continue;  // content-addressed: reading adds nothing
    struct stat st{};
    ::lstat(it->path().c_str(), &st);
    const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    std::string bytes;
    if (it->is_regular_file()) {
      std::ifstream f(it->path(), std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      bytes = ss.str();
    }
    s[rel] = {bytes, mtime};
  }
  return s;
}

/// The paths whose bytes or times differ between two snapshots (empty: untouched).
std::vector<std::string> changed_paths(const std::map<std::string, std::pair<std::string, std::int64_t>>& a,
                                       const std::map<std::string, std::pair<std::string, std::int64_t>>& b) {
  std::vector<std::string> out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) out.push_back(k);
  }
  for (const auto& [k, v] : b)
    if (!a.contains(k)) out.push_back(k);
  return out;
}

/// Private checkouts left in `parent` (validation must remove every one).
std::size_t checkouts_in(const fs::path& parent) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(parent))
    if (e.path().filename().string().starts_with("selfheal-checkout-")) ++n;
  return n;
}

const char* cart_py = R"(import time


def price(items):
    total = 0
    for it in items:
        total += it["price"] * it["qty"]
    time.sleep(0.004)  # the regression: a lookup per call
    return round(total, 2)


def pay(total):
    return {"paid": total}
)";

const char* test_py = R"(import unittest
from app.cart import price, pay


class TestCart(unittest.TestCase):
    def test_total(self):
        self.assertEqual(price([{"price": 1.5, "qty": 2}, {"price": 2.0, "qty": 1}]), 5.0)

    def test_pay(self):
        self.assertEqual(pay(3)["paid"], 3)
)";

const char* workload_py = R"(import json, sys, time
sys.path.insert(0, ".")
from app.cart import price, pay

for i in range(25):
    for name, fn, arg in (("price", price, [{"price": 1.0, "qty": 1}]), ("pay", pay, 1)):
        t = time.perf_counter()
        fn(arg)
        ms = (time.perf_counter() - t) * 1000
        print(json.dumps({"ts": "2025-01-01T00:00:00.000Z", "event": "beat-completed", "handler": name, "durationMs": ms}))
)";

const char* settings_toml = R"([service]
name = "shop"

[test]
command = ["python3", "-m", "unittest", "discover", "-s", "tests", "-t", "."]
timeout = "60s"
retries = 1

[coverage]
command = ["python3", "tools/fake_lcov.py"]
lcov = "build/coverage.info"
changed_lines = 0.5

[performance]
command = ["python3", "bench/workload.py"]
runs = 3
max_regression = 1.5
min_improvement = 1.5
)";

// a coverage tool stand-in that reports every line of app/cart.py as run except those marking "# not run"
const char* fake_lcov_py = R"(import os
os.makedirs("build", exist_ok=True)
lines = open("app/cart.py").read().split("\n")
with open("build/coverage.info", "w") as f:
    f.write("SF:" + os.path.abspath("app/cart.py") + "\n")
    for i, l in enumerate(lines, 1):
        if l.strip() and not l.strip().startswith("#") and not l.startswith("def") and not l.startswith("import"):
            f.write("DA:%d,%d\n" % (i, 0 if "# not run" in l else 1))
    f.write("end_of_record\n")
)";

struct shop {
  selfheal::test::git_repo repo;
  std::string base;
  selfheal::test::temp_dir store_dir;
  selfheal::test::temp_dir checkouts;  ///< where this test's private checkouts go
  shop() {
    repo.write("app/__init__.py", "");
    repo.write("app/cart.py", cart_py);
    repo.write("tests/__init__.py", "");
    repo.write("tests/test_cart.py", test_py);
    repo.write("bench/workload.py", workload_py);
    repo.write("tools/fake_lcov.py", fake_lcov_py);
    repo.write("docs/runbook/price.md", "# price\n\nSee [the code](../../app/cart.py).\n");
    repo.write("selfheal.toml", settings_toml);
    base = repo.commit("shop", 1'740'992'400);
  }
  /// The diff of a change to the work tree, which is then put back.
  std::string diff_of(const std::map<std::string, std::string>& files) {
    for (const auto& [path, text] : files) repo.write(path, text);
    repo.git({"add", "-A"});
    auto d = repo.git({"diff", "--cached"});
    repo.git({"reset", "-q", "--hard", "HEAD"});
    return d;
  }
  selfheal::result<val::report> validate(std::string diff, std::string handler = {}, std::string type = {}) {
    auto db = selfheal::store::database::open((store_dir.path() / "s.db").string());
    if (!db) return tl::unexpected(db.error());
    selfheal::context ctx;
    ctx.store = &*db;
    val::run_request req;
    req.repo = repo.root().string();
    req.patch.diff = std::move(diff);
    req.patch.id = "test.1";
    req.handler = std::move(handler);
    req.anomaly_type = std::move(type);
    req.checkout_parent = checkouts.path().string();
    return selfheal::run(val::run_validation, ctx, std::move(req));
  }
};

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

const val::check* find_check(const val::report& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("a good fix passes every check, and the user's checkout is untouched", "[validation][validateRequested][applyPatch]") {
  shop s;
  const auto diff = s.diff_of({{"app/cart.py", replace(cart_py, "    time.sleep(0.004)  # the regression: a lookup per call\n", "")},
                               {"docs/runbook/price.md", "# price\n\nFixed: see [the code](../../app/cart.py) and [tests](../../tests/test_cart.py).\n"}});
  const auto before = snapshot(s.repo.root());
  auto r = s.validate(diff, "price", "performance");
  REQUIRE(r);
  INFO(val::validation_json(*r));
  CHECK(r->verdict == "pass");
  CHECK(r->reasons.empty());
  CHECK(r->record_id == "validation-1");
  CHECK(r->base_commit == s.base);
  for (const char* name : {"apply", "build", "tests", "coverage", "performance", "docs"}) REQUIRE(find_check(*r, name));
  CHECK(find_check(*r, "apply")->status == "pass");
  CHECK(find_check(*r, "build")->status == "skipped");
  CHECK(find_check(*r, "tests")->status == "pass");
  CHECK(find_check(*r, "coverage")->status == "pass");
  CHECK(find_check(*r, "performance")->status == "pass");
  CHECK(find_check(*r, "docs")->status == "pass");
  CHECK(r->tests.passed == 2);
  CHECK(r->performance.handler == "price");
  CHECK(r->performance.ratio < 0.5);
  CHECK(r->performance.p_value < 0.01);
  // the user's work tree, index, HEAD, refs and file times: all five unchanged
  CHECK(changed_paths(before, snapshot(s.repo.root())).empty());
  CHECK(s.repo.git({"status", "--porcelain"}).empty());
  CHECK(checkouts_in(s.checkouts.path()) == 0);
  // stored as printed
  auto db = selfheal::store::database::open((s.store_dir.path() / "s.db").string());
  auto back = val::load_validation(*db, r->record_id);
  REQUIRE(back);
  CHECK(back->verdict == "pass");
  CHECK(back->diff == diff);
}

TEST_CASE("a patch that breaks a test fails naming it", "[validation][runTests][slow]") {
  shop s;
  const auto diff = s.diff_of({{"app/cart.py", replace(cart_py, "return round(total, 2)", "return round(total, 0) + 1")}});
  const auto before = snapshot(s.repo.root());
  auto r = s.validate(diff);
  REQUIRE(r);
  CHECK(r->verdict == "fail");
  REQUIRE(r->tests.failures.size() == 1);
  CHECK(r->tests.failures[0].name == "tests.test_cart.TestCart.test_total");
  CHECK(r->tests.failures[0].message.find("AssertionError") != std::string::npos);
  REQUIRE_FALSE(r->reasons.empty());
  CHECK(r->reasons[0].find("tests.test_cart.TestCart.test_total") != std::string::npos);
  CHECK(changed_paths(before, snapshot(s.repo.root())).empty());
}

TEST_CASE("a patch that slows another handler fails naming it", "[validation][verifyPerformance][slow]") {
  shop s;
  const auto diff = s.diff_of({{"app/cart.py", replace(cart_py, "    return {\"paid\": total}", "    time.sleep(0.006)\n    return {\"paid\": total}")}});
  const auto before = snapshot(s.repo.root());
  auto r = s.validate(diff);
  REQUIRE(r);
  INFO(val::validation_json(*r));
  CHECK(r->verdict == "fail");
  CHECK(r->performance.regressions == std::vector<std::string>{"pay"});
  bool named = false;
  for (const auto& why : r->reasons) named = named || why.find("pay is slower") != std::string::npos;
  CHECK(named);
  CHECK(find_check(*r, "tests")->status == "pass");
  CHECK(changed_paths(before, snapshot(s.repo.root())).empty());
  SECTION("a fix that does not speed its handler up fails too") {
    auto same = s.validate(s.diff_of({{"app/cart.py", replace(cart_py, "total = 0", "total = 0.0")}}), "price", "performance");
    REQUIRE(same);
    CHECK(same->verdict == "fail");
    CHECK(find_check(*same, "performance")->detail.find("price") != std::string::npos);
  }
}

TEST_CASE("a flaky test is reported as flaky", "[validation][runTests][slow]") {
  shop s;
  const auto diff = s.diff_of({{"tests/test_net.py",
                                "import os, unittest\n\n\nclass TestNet(unittest.TestCase):\n    def test_fetch(self):\n"
                                "        first = not os.path.exists('ran-once')\n        open('ran-once', 'w').close()\n"
                                "        self.assertFalse(first, 'connection reset')\n"}});
  auto r = s.validate(diff);
  REQUIRE(r);
  INFO(val::validation_json(*r));
  CHECK(r->verdict == "pass");
  CHECK(r->tests.flaky == 1);
  CHECK(r->tests.flaky_tests == std::vector<std::string>{"tests.test_net.TestNet.test_fetch"});
  CHECK(r->tests.attempts == 2);
}

TEST_CASE("a hanging test is killed at its time limit with its process group and the checkout goes", "[validation][runTests][slow]") {
  shop s;
  s.repo.write("selfheal.toml", replace(settings_toml, "timeout = \"60s\"", "timeout = \"2s\""));
  s.base = s.repo.commit("short test timeout", 1'740'992'500);
  const auto diff = s.diff_of({{"tests/test_hang.py",
                                "import os, subprocess, time, unittest\n\n\nclass TestHang(unittest.TestCase):\n"
                                "    def test_hangs(self):\n        p = subprocess.Popen(['sleep', '300'])\n"
                                "        open('/tmp/selfheal-validation-hang.pid', 'w').write(str(p.pid) + '\\n' + os.getcwd())\n"
                                "        time.sleep(300)\n"}});
  fs::remove("/tmp/selfheal-validation-hang.pid");
  const auto before = snapshot(s.repo.root());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = s.validate(diff);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{20});
  REQUIRE(r);
  CHECK(r->verdict == "fail");
  CHECK(find_check(*r, "tests")->detail.find("time limit of 2 s") != std::string::npos);
  std::ifstream pidf("/tmp/selfheal-validation-hang.pid");
  long pid = 0;
  std::string cwd;
  pidf >> pid >> cwd;
  REQUIRE(pid > 0);
  CHECK(fs::path(cwd).parent_path() == fs::canonical(s.checkouts.path()));  // the tests ran in the private checkout ...
  CHECK_FALSE(fs::exists(cwd));                                            // ... which is gone
  std::string state = "gone";
  for (int i = 0; i < 100; ++i) {
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string all;
    if (!std::getline(st, all)) { state = "gone"; break; }
    state = all.substr(all.rfind(')') + 2, 1);
    if (state == "Z") break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  CHECK((state == "gone" || state == "Z"));
  fs::remove("/tmp/selfheal-validation-hang.pid");
  CHECK(checkouts_in(s.checkouts.path()) == 0);
  CHECK(changed_paths(before, snapshot(s.repo.root())).empty());
}

TEST_CASE("a patch that does not apply, or leaves the repository, fails cleanly and is stored", "[validation][applyPatch]") {
  shop s;
  const auto good = s.diff_of({{"app/cart.py", replace(cart_py, "total = 0", "total = 0.0")}});
  const auto before = snapshot(s.repo.root());
  SECTION("wrong context") {
    auto r = s.validate(replace(good, "    total = 0\n", "    total = 17\n"));
    REQUIRE(r);
    CHECK(r->verdict == "fail");
    CHECK(find_check(*r, "apply")->status == "fail");
    CHECK(find_check(*r, "tests")->status == "skipped");
    CHECK(find_check(*r, "performance")->status == "skipped");
    REQUIRE_FALSE(r->reasons.empty());
    CHECK(r->reasons[0].starts_with("apply: "));
    CHECK(r->record_id == "validation-1");
  }
  SECTION("a path outside the repository") {
    auto r = s.validate("--- a/../outside.txt\n+++ b/../outside.txt\n@@ -0,0 +1 @@\n+x\n");
    REQUIRE(r);
    CHECK(r->verdict == "fail");
    CHECK(find_check(*r, "apply")->detail.find("outside the repository") != std::string::npos);
    CHECK_FALSE(fs::exists(s.repo.root().parent_path() / "outside.txt"));
  }
  SECTION("not a diff at all") {
    auto r = s.validate("hello\n");
    REQUIRE(r);
    CHECK(r->verdict == "fail");
    CHECK(find_check(*r, "apply")->status == "fail");
  }
  CHECK(checkouts_in(s.checkouts.path()) == 0);
  CHECK(changed_paths(before, snapshot(s.repo.root())).empty());
}

TEST_CASE("changed docs with a broken link and uncovered changed lines fail", "[validation][validateDocumentation][checkCoverage][slow]") {
  shop s;
  const auto diff = s.diff_of({{"docs/runbook/price.md", "# price\n\nRun [the rollback](../../ops/rollback.sh).\n"},
                               {"app/cart.py", replace(cart_py, "def pay(total):\n",
                                                       "def pay(total):\n    if total < 0:  # not run\n        raise ValueError(total)  # not run\n")}});
  auto r = s.validate(diff);
  REQUIRE(r);
  CHECK(r->verdict == "fail");
  CHECK(find_check(*r, "docs")->status == "fail");
  CHECK(find_check(*r, "docs")->detail.find("docs/runbook/price.md:3") != std::string::npos);
  CHECK(find_check(*r, "coverage")->status == "fail");
  CHECK(find_check(*r, "coverage")->detail.find("0 of 2 changed lines") != std::string::npos);
}

TEST_CASE("a malformed request is refused before anything runs", "[validation][validateRequested]") {
  selfheal::context ctx;
  val::run_request req;
  auto r = selfheal::run(val::run_validation, ctx, req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == selfheal::errc::invalid_request);
  req.repo = "/tmp";
  req.patch_record = "fix-1";
  req.patch_file = "x.patch";
  r = selfheal::run(val::run_validation, ctx, req);
  REQUIRE_FALSE(r);
  CHECK(r.error().beat == 1);
  SECTION("no settings file is a configuration error naming where it looked") {
    shop s;
    fs::remove(s.repo.root() / "selfheal.toml");
    auto q = s.validate("--- a/x\n+++ b/x\n");
    REQUIRE_FALSE(q);
    CHECK(q.error().message().find("selfheal.toml") != std::string::npos);
  }
}

TEST_CASE("C++ with CMake and CTest: a good fix passes, a broken test is named", "[validation][runTests][slow]") {
  selfheal::test::git_repo repo;
  repo.write("CMakeLists.txt",
             "cmake_minimum_required(VERSION 3.16)\nproject(calc CXX)\nenable_testing()\n"
             "add_executable(test_add test_add.cpp)\nadd_test(NAME adds COMMAND test_add)\n"
             "add_executable(test_mul test_mul.cpp)\nadd_test(NAME multiplies COMMAND test_mul)\n");
  repo.write("calc.hpp", "inline int add(int a, int b) { return a + b + 1; }\ninline int mul(int a, int b) { return a * b; }\n");
  repo.write("test_add.cpp", "#include \"calc.hpp\"\nint main() { return add(2, 2) == 4 ? 0 : 1; }\n");
  repo.write("test_mul.cpp", "#include \"calc.hpp\"\nint main() { return mul(2, 3) == 6 ? 0 : 1; }\n");
  repo.write("selfheal.toml",
             "[service]\nname = \"calc\"\n\n[build]\ncommand = [\"sh\", \"-c\", \"cmake -S . -B build -G Ninja >/dev/null && cmake --build build\"]\n"
             "timeout = \"300s\"\n\n[test]\ncommand = [\"ctest\", \"--test-dir\", \"build\", \"--output-on-failure\"]\ntimeout = \"120s\"\n");
  repo.commit("calc", 1'740'992'400);
  auto diff_of = [&](const std::string& text) {
    repo.write("calc.hpp", text);
    auto d = repo.git({"diff"});
    repo.git({"checkout", "--", "calc.hpp"});
    return d;
  };
  selfheal::test::temp_dir store_dir;
  auto db = selfheal::store::database::open((store_dir.path() / "s.db").string());
  REQUIRE(db);
  selfheal::context ctx;
  ctx.store = &*db;
  const auto good_diff = diff_of("inline int add(int a, int b) { return a + b; }\ninline int mul(int a, int b) { return a * b; }\n");
  const auto bad_diff = diff_of("inline int add(int a, int b) { return a + b; }\ninline int mul(int a, int b) { return a + b; }\n");
  const auto before = snapshot(repo.root());
  val::run_request req;
  req.repo = repo.root().string();
  req.patch.diff = good_diff;
  auto good = selfheal::run(val::run_validation, ctx, req);
  REQUIRE(good);
  INFO(val::validation_json(*good));
  CHECK(good->verdict == "pass");
  CHECK(good->tests.format == "ctest");
  CHECK(good->tests.passed == 2);
  CHECK(find_check(*good, "build")->status == "pass");
  req.patch.diff = bad_diff;
  auto bad = selfheal::run(val::run_validation, ctx, req);
  REQUIRE(bad);
  CHECK(bad->verdict == "fail");
  REQUIRE(bad->tests.failures.size() == 1);
  CHECK(bad->tests.failures[0].name == "multiplies");
  CHECK(changed_paths(before, snapshot(repo.root())).empty());
}
