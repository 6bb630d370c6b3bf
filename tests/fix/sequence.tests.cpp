#include <catch2/catch.hpp>

#include <string>

#include "fix_support.hpp"
#include "selfheal/fix/store.hpp"

using fixtest::repo_clone;
using fixtest::run;
using selfheal::test::git_repo;
namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

namespace {

const char* pricing_v1 =
    "\"\"\"Tax and catalog pricing.\"\"\"\n"
    "import copy\n"
    "import json\n"
    "\n"
    "RATES = {\"eu\": 0.2, \"us\": 0.07}\n"
    "\n"
    "\n"
    "def compute_tax(amount, region):\n"
    "    rate = RATES.get(region, 0.0)\n"
    "    tax = amount * rate\n"
    "    return round(tax, 2)\n"
    "\n"
    "\n"
    "def load_catalog(path):\n"
    "    with open(path) as f:\n"
    "        items = json.load(f)\n"
    "    return {i[\"sku\"]: i for i in items}\n";

const char* slow_lines =
    "    snapshot = copy.deepcopy(RATES)\n"
    "    for _ in range(20000):\n"
    "        json.dumps(snapshot)\n";

const char* pricing_test =
    "import unittest\n"
    "\n"
    "from services.pricing import compute_tax\n"
    "\n"
    "\n"
    "class PricingTest(unittest.TestCase):\n"
    "    def test_eu(self):\n"
    "        self.assertEqual(compute_tax(100, \"eu\"), 20)\n";

std::string insert_after(std::string text, const std::string& line, const std::string& add) {
  const auto p = text.find(line);
  REQUIRE(p != std::string::npos);
  text.insert(p + line.size(), add);
  return text;
}

/// A Python service whose compute_tax was slowed by one commit (which also touched load_catalog),
/// followed by a decoy commit that moves every line down and edits another file.
struct python_service {
  git_repo repo;
  std::string guilty, decoy, head_text;
  explicit python_service(bool with_tests = true) {
    repo.write("services/pricing.py", pricing_v1);
    if (with_tests) repo.write("tests/test_pricing.py", pricing_test);
    repo.write("README.md", "# Shop\n");
    repo.write("config/app.yaml", "# Shop configuration\ndatabase:\n  pool_size: 10  # sized for 200 rps\n");
    repo.commit("Initial pricing service", 1740787200);
    std::string slow = insert_after(pricing_v1, "    rate = RATES.get(region, 0.0)\n", slow_lines);
    slow = insert_after(slow, "def load_catalog(path):\n", "    # entries are keyed by sku\n");
    repo.write("services/pricing.py", slow);
    guilty = repo.commit("Audit trail for computeTax", 1740790800, "Grace Hopper", "grace@example.com");
    std::string moved = insert_after(slow, "RATES = {\"eu\": 0.2, \"us\": 0.07}\n", "# Prices are in cents.\nCURRENCY = \"EUR\"\n");
    repo.write("services/pricing.py", moved);
    repo.write("README.md", "# Shop\n\nPrices are in cents.\n");
    decoy = repo.commit("Pricing: currency constant", 1740794400, "Alan Turing", "alan@example.com");
    head_text = moved;
  }

  dx::diagnosis_item diagnosis() const {
    dx::diagnosis_item d;
    d.anomaly_id = "anomaly-1.1";
    d.type = "performance";
    d.handler = "computeTax";
    d.root_cause = "compute_tax got slower after " + guilty.substr(0, 7);
    d.confidence = 0.9;
    const auto first = fixtest::line_of(head_text, "def compute_tax");
    const auto last = fixtest::line_of(head_text, "return round(tax, 2)");
    d.where = dx::location{"services/pricing.py", first, last, "compute_tax"};
    d.evidence = {"p50 2.000 ms -> 60.000 ms after " + guilty.substr(0, 7)};
    dx::suspect_commit s;
    s.commit = guilty;
    s.summary = "Audit trail for computeTax";
    s.file = "services/pricing.py";
    s.overlaps = true;
    s.score = 0.9;
    // The guilty commit's own numbering of compute_tax: lines 8..14.
    s.target_hunks = fixtest::hunks_inside(repo.root(), guilty, "services/pricing.py", 8, 14);
    d.suspects.push_back(s);
    dx::recommendation pr;
    pr.strategy = "partial_revert";
    pr.priority = 1;
    pr.commit = guilty;
    pr.file = "services/pricing.py";
    pr.hunks = s.target_hunks;
    dx::recommendation rv;
    rv.strategy = "revert";
    rv.priority = 2;
    rv.commit = guilty;
    rv.file = "services/pricing.py";
    dx::recommendation rt;
    rt.strategy = "regression_test";
    rt.priority = 3;
    d.recommendations = {pr, rv, rt};
    return d;
  }
};

fx::evidence production() {
  fx::evidence e;
  e.anomaly_id = "anomaly-1.1";
  e.type = "performance";
  e.baseline_p50_ms = 2;
  e.baseline_p95_ms = 3;
  e.current_p50_ms = 60;
  e.current_p95_ms = 80;
  return e;
}

fx::generate_request request(const python_service& s, const std::string& record) {
  fx::generate_request req;
  req.repo = s.repo.root().string();
  req.diagnosis_record = record;
  req.test_command = {"python3", "-m", "unittest", "discover", "-s", "tests"};
  req.production = {production()};
  return req;
}

std::string status_of(const git_repo& r) { return r.git({"status", "--porcelain"}); }

}  // namespace

TEST_CASE("partial_revert removes only the suspect's hunks inside the handler, found again after lines moved",
          "[fix][generateCodeFix][partial_revert][slow]") {
  python_service s;
  fixtest::store_fixture st;
  const auto record = st.store(s.repo.root(), {s.diagnosis()});
  const auto head_before = s.repo.git({"rev-parse", "HEAD"});

  auto out = selfheal::run(fx::generate_fix, st.ctx, request(s, record));
  REQUIRE(out);
  REQUIRE(out->patches.size() == 1);
  const auto& p = out->patches[0];
  CHECK(p.strategy == "partial_revert");
  CHECK(p.id == out->record_id + ".1");
  CHECK(p.base_commit == s.decoy);
  CHECK(p.suspect_commit == s.guilty);
  CHECK(p.handler == "computeTax");
  CHECK(p.test_framework == "unittest");
  REQUIRE(p.tests_added == std::vector<std::string>{"tests/test_selfheal_compute_tax.py"});
  REQUIRE(p.docs_added == std::vector<std::string>{"docs/runbook/computeTax.md"});
  bool moved_note = false;
  for (const auto& n : p.notes) moved_note = moved_note || n.find("lower than in the suspect commit") != std::string::npos;
  CHECK(moved_note);
  for (const auto& c : p.syntax) {
    INFO(c.path << " " << c.tool << " " << c.message);
    CHECK(c.ok);
  }
  CHECK(p.syntax.size() == 3);

  // The user's repository is untouched: same HEAD, clean work tree and index.
  CHECK(s.repo.git({"rev-parse", "HEAD"}) == head_before);
  CHECK(status_of(s.repo).empty());

  repo_clone c(s.repo.root(), p.base_commit);
  REQUIRE(c.apply(p.diff) == 0);
  const std::string fixed = c.read("services/pricing.py");
  // The slow lines are gone; the decoy's lines and the guilty commit's other change stay.
  CHECK(fixed.find("json.dumps(snapshot)") == std::string::npos);
  CHECK(fixed.find("CURRENCY = \"EUR\"") != std::string::npos);
  CHECK(fixed.find("# entries are keyed by sku") != std::string::npos);
  std::string expected = s.head_text;
  expected.erase(expected.find(slow_lines), std::string(slow_lines).size());
  CHECK(fixed == expected);
  CHECK(c.read("README.md") == "# Shop\n\nPrices are in cents.\n");
  const std::string runbook = c.read("docs/runbook/computeTax.md");
  for (const char* part : {"### Symptom", "### Evidence", "### Cause", "### Fix", "### How to verify", "partial_revert"})
    CHECK(runbook.find(part) != std::string::npos);

  // The regression test passes on the fix ...
  auto [pass_code, pass_out] = run({"python3", "-m", "unittest", "discover", "-s", "tests"}, c.root);
  INFO(pass_out);
  CHECK(pass_code == 0);
  // ... and fails on the slow code (the base's file with the new test).
  c.write("services/pricing.py", s.head_text);
  auto [fail_code, fail_out] = run({"python3", "-m", "unittest", "discover", "-s", "tests"}, c.root);
  INFO(fail_out);
  CHECK(fail_code != 0);
  CHECK(fail_out.find("budget") != std::string::npos);

  // Stored in one record, read back by id.
  auto loaded = fx::load_patch(st.db, out->record_id);
  REQUIRE(loaded);
  CHECK(loaded->id == p.id);
  CHECK(loaded->diff == p.diff);
  CHECK(loaded->files.size() == p.files.size());
  CHECK(loaded->syntax.size() == p.syntax.size());
  auto by_id = fx::load_patch(st.db, p.id);
  REQUIRE(by_id);
  CHECK(by_id->strategy == "partial_revert");
  auto all = fx::load_patches(st.db, out->record_id);
  REQUIRE(all);
  CHECK(all->size() == 1);
  CHECK_FALSE(fx::load_patch(st.db, "fix-99"));
}

TEST_CASE("revert undoes the whole suspect commit three-way onto the base", "[fix][generateCodeFix][revert]") {
  python_service s;
  fixtest::store_fixture st;
  const auto record = st.store(s.repo.root(), {s.diagnosis()});
  auto req = request(s, record);
  req.strategy = "revert";
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  REQUIRE(out->patches.size() == 1);
  const auto& p = out->patches[0];
  CHECK(p.strategy == "revert");
  repo_clone c(s.repo.root(), p.base_commit);
  REQUIRE(c.apply(p.diff) == 0);
  const std::string fixed = c.read("services/pricing.py");
  CHECK(fixed.find("json.dumps(snapshot)") == std::string::npos);
  CHECK(fixed.find("# entries are keyed by sku") == std::string::npos);  // the whole commit
  CHECK(fixed.find("CURRENCY = \"EUR\"") != std::string::npos);          // the later commit stays
  CHECK(status_of(s.repo).empty());
}

TEST_CASE("a suspect whose lines were changed since is refused, never guessed", "[fix][generateCodeFix][refusal]") {
  python_service s;
  // A later commit rewrites one of the lines the suspect added.
  std::string text = s.head_text;
  text.replace(text.find("range(20000)"), 12, "range(10000)");
  s.repo.write("services/pricing.py", text);
  s.repo.commit("Halve the audit loop", 1740798000);
  s.head_text = text;
  fixtest::store_fixture st;
  auto d = s.diagnosis();
  const auto record = st.store(s.repo.root(), {d});

  SECTION("partial_revert: the hunk no longer matches") {
    auto req = request(s, record);
    req.strategy = "partial_revert";
    auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
    REQUIRE_FALSE(out);
    CHECK(out.error().beat == 3);
    CHECK(out.error().detail.find("no longer matches") != std::string::npos);
  }
  SECTION("revert: the three-way revert conflicts, named with its file") {
    auto req = request(s, record);
    req.strategy = "revert";
    auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
    REQUIRE_FALSE(out);
    CHECK(out.error().detail.find("conflicts in services/pricing.py") != std::string::npos);
  }
  SECTION("both refusals are kept when nothing applies") {
    auto out = selfheal::run(fx::generate_fix, st.ctx, request(s, record));
    REQUIRE_FALSE(out);
    CHECK(out.error().detail.find("partial_revert: services/pricing.py") != std::string::npos);
    CHECK(out.error().detail.find("revert: reverting") != std::string::npos);
    CHECK(out.error().detail.find("conflicts in services/pricing.py") != std::string::npos);
  }
  CHECK(status_of(s.repo).empty());
}

TEST_CASE("without a test framework the patch says so and adds no test", "[fix][generateTestFix]") {
  python_service s(false);
  fixtest::store_fixture st;
  const auto record = st.store(s.repo.root(), {s.diagnosis()});
  auto req = request(s, record);
  req.test_command.clear();
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  const auto& p = out->patches.at(0);
  CHECK(p.tests_added.empty());
  CHECK(p.test_framework.empty());
  bool said = false;
  for (const auto& n : p.notes) said = said || n.find("no Python test framework found") != std::string::npos;
  CHECK(said);
  CHECK(p.docs_added.size() == 1);
}

TEST_CASE("config_change restores the value a suspect changed, comments and format kept", "[fix][generateCodeFix][config_change]") {
  git_repo repo;
  repo.write("config/app.yaml", "# Shop configuration\ndatabase:\n  pool_size: 10  # sized for 200 rps\n  host: db\n");
  repo.write("app.py", "def handle(order):\n    return order\n");
  repo.commit("Initial", 1740787200);
  repo.write("config/app.yaml", "# Shop configuration\ndatabase:\n  pool_size: 1  # sized for 200 rps\n  host: db\n");
  const auto guilty = repo.commit("Config: smaller pool", 1740790800);
  repo.write("config/app.yaml", repo.read("config/app.yaml") + "# reviewed\n");
  repo.commit("Config: note", 1740794400);

  dx::diagnosis_item d;
  d.anomaly_id = "anomaly-2.1";
  d.type = "performance";
  d.handler = "handleOrder";
  d.where = dx::location{"app.py", 1, 2, "handle"};
  dx::suspect_commit sc;
  sc.commit = guilty;
  sc.file = "config/app.yaml";
  d.suspects.push_back(sc);
  dx::recommendation r;
  r.strategy = "config_change";
  r.priority = 1;
  r.file = "config/app.yaml";
  r.key = "database.pool_size";
  d.recommendations.push_back(r);
  fixtest::store_fixture st;
  const auto record = st.store(repo.root(), {d});
  fx::generate_request req;
  req.repo = repo.root().string();
  req.diagnosis_record = record;
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  const auto& p = out->patches.at(0);
  CHECK(p.strategy == "config_change");
  CHECK(p.suspect_commit == guilty);
  repo_clone c(repo.root(), p.base_commit);
  REQUIRE(c.apply(p.diff) == 0);
  CHECK(c.read("config/app.yaml") == "# Shop configuration\ndatabase:\n  pool_size: 10  # sized for 200 rps\n  host: db\n# reviewed\n");
  bool yaml_checked = false;
  for (const auto& ch : p.syntax) yaml_checked = yaml_checked || (ch.path == "config/app.yaml" && ch.tool == "yaml-cpp" && ch.ok);
  CHECK(yaml_checked);
}

TEST_CASE("fix.generate refuses malformed requests before any read", "[fix][generateFixRequested]") {
  fx::generate_request req;
  req.diagnosis_record = "diagnosis-1; rm -rf /";
  auto r = fx::generate_fix_requested{}(req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == selfheal::errc::invalid_request);
  req.diagnosis_record = "diagnosis-1";
  req.strategy = "Revert!";
  CHECK_FALSE(fx::generate_fix_requested{}(req));
  req.strategy = "revert";
  CHECK(fx::generate_fix_requested{}(req));
}

namespace {

/// The diff a careful person would write for the python service: the slow lines removed.
std::string hand_written_fix(const python_service& s) {
  repo_clone c(s.repo.root(), s.decoy);
  std::string fixed = s.head_text;
  fixed.erase(fixed.find(slow_lines), std::string(slow_lines).size());
  c.write("services/pricing.py", fixed);
  auto [code, diff] = run({"git", "diff", "--no-color"}, c.root);
  REQUIRE(code == 0);
  return diff;
}

struct fixer {
  selfheal::test::temp_dir dir;
  std::vector<std::string> command;
  /// A fixer that checks it got the diagnosis and prints `output`.
  explicit fixer(const std::string& output) {
    std::ofstream(dir.path() / "out.txt", std::ios::binary) << output;
    std::ofstream(dir.path() / "fixer.py") << "import json, sys\n"
                                              "e = json.load(open(sys.argv[1]))\n"
                                              "assert e['diagnosis']['handler'] == 'computeTax', e\n"
                                              "assert e['production']['baseline_p50_ms'] == 2\n"
                                              "sys.stdout.write(open(sys.argv[2]).read())\n";
    command = {"python3", (dir.path() / "fixer.py").string(), "{evidence_file}", (dir.path() / "out.txt").string()};
  }
};

}  // namespace

TEST_CASE("external: the [fix] command's diff is checked and stored like selfheal's own", "[fix][generateCodeFix][external][slow]") {
  python_service s;
  fixtest::store_fixture st;
  const auto record = st.store(s.repo.root(), {s.diagnosis()});
  fixer f(hand_written_fix(s));
  auto req = request(s, record);
  req.strategy = "external";
  req.fix_command = f.command;
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  const auto& p = out->patches.at(0);
  CHECK(p.strategy == "external");
  CHECK(p.tests_added.size() == 1);
  repo_clone c(s.repo.root(), p.base_commit);
  REQUIRE(c.apply(p.diff) == 0);
  CHECK(c.read("services/pricing.py").find("json.dumps(snapshot)") == std::string::npos);
  CHECK(status_of(s.repo).empty());
}

TEST_CASE("external: garbage, a hang, a failure or a path outside is refused cleanly", "[fix][generateCodeFix][external][refusal]") {
  python_service s;
  fixtest::store_fixture st;
  const auto record = st.store(s.repo.root(), {s.diagnosis()});
  auto attempt = [&](std::vector<std::string> command, long timeout_ms = 20000) {
    auto req = request(s, record);
    req.strategy = "external";
    req.fix_command = std::move(command);
    req.fix_timeout_ms = timeout_ms;
    return selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  };
  SECTION("garbage") {
    fixer f("I think you should make it faster.\n");
    auto out = attempt(f.command);
    REQUIRE_FALSE(out);
    CHECK(out.error().detail.find("not a unified diff") != std::string::npos);
  }
  SECTION("a hang is killed at the time limit") {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = attempt({"python3", "-c", "import time; time.sleep(60)"}, 1000);
    REQUIRE_FALSE(out);
    CHECK(out.error().detail.find("did not finish within 1000 ms") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{30});
  }
  SECTION("a failing fixer") {
    auto out = attempt({"python3", "-c", "import sys; sys.stderr.write('no idea'); sys.exit(3)"});
    REQUIRE_FALSE(out);
    CHECK(out.error().detail.find("exited with 3: no idea") != std::string::npos);
  }
  SECTION("a diff that writes outside the repository") {
    fixer f("diff --git a/../outside.txt b/../outside.txt\nnew file mode 100644\n--- /dev/null\n+++ b/../outside.txt\n@@ -0,0 +1 @@\n+owned\n");
    auto out = attempt(f.command);
    REQUIRE_FALSE(out);
    CHECK(out.error().code == selfheal::errc::failed);
    CHECK_FALSE(std::filesystem::exists(s.repo.root().parent_path() / "outside.txt"));
  }
  SECTION("a diff into .git/") {
    fixer f("diff --git a/.git/hooks/pre-commit b/.git/hooks/pre-commit\nnew file mode 100755\n--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+owned\n");
    auto out = attempt(f.command);
    REQUIRE_FALSE(out);
    CHECK_FALSE(std::filesystem::exists(s.repo.root() / ".git/hooks/pre-commit"));
  }
  SECTION("an unknown placeholder is a configuration error") {
    auto out = attempt({"fixer", "{secret}"});
    REQUIRE_FALSE(out);
    CHECK(out.error().code == selfheal::errc::invalid_request);
  }
  CHECK(status_of(s.repo).empty());
}

TEST_CASE("paths are confined to the repository", "[fix][createPatch][safety]") {
  git_repo repo;
  repo.write("src/a.py", "x = 1\n");
  std::filesystem::create_directories(repo.root() / "docs");
  std::filesystem::create_symlink("/tmp", repo.root() / "link");
  repo.commit("Initial", 1740787200);
  fx::repo_view v;
  v.root = repo.root();
  auto files = fx::list_files_at(repo.root(), "HEAD");
  REQUIRE(files);
  v.files = *files;
  CHECK(fx::path_refusal("src/a.py", v).empty());
  CHECK(fx::path_refusal("docs/runbook/x.md", v).empty());
  CHECK_FALSE(fx::path_refusal("../x", v).empty());
  CHECK_FALSE(fx::path_refusal("src/../../x", v).empty());
  CHECK_FALSE(fx::path_refusal("/etc/passwd", v).empty());
  CHECK_FALSE(fx::path_refusal(".git/config", v).empty());
  CHECK_FALSE(fx::path_refusal("src/.GIT/x", v).empty());
  CHECK(fx::path_refusal("link/x", v).find("symlink") != std::string::npos);
  CHECK_FALSE(fx::path_refusal("a\\b", v).empty());
}
