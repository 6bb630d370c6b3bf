// source/patch.hpp (unified diffs as data, confinement) and source/settings.hpp (selfheal.toml).

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "selfheal/source/patch.hpp"
#include "selfheal/source/settings.hpp"
#include "temp_dir.hpp"

namespace src = selfheal::source;

TEST_CASE("parse_patch reads files, counts and the new side's changed lines", "[source][patch]") {
  const std::string diff =
      "diff --git a/src/cart.py b/src/cart.py\nindex 1..2 100644\n--- a/src/cart.py\n+++ b/src/cart.py\n"
      "@@ -3,4 +3,5 @@ def total(items):\n ctx\n-old\n+new1\n+new2\n ctx\n ctx\n"
      "@@ -20,2 +21,1 @@\n-gone\n kept\n"
      "diff --git a/docs/runbook/total.md b/docs/runbook/total.md\nnew file mode 100644\n--- /dev/null\n"
      "+++ b/docs/runbook/total.md\n@@ -0,0 +1,2 @@\n+# total\n+text\n\\ No newline at end of file\n";
  auto p = src::parse_patch(diff);
  REQUIRE(p);
  REQUIRE(p->files.size() == 2);
  CHECK(p->files[0].path == "src/cart.py");
  CHECK(p->files[0].additions == 2);
  CHECK(p->files[0].deletions == 2);
  CHECK(p->files[0].changed_lines == std::vector<std::uint32_t>{4, 5});
  CHECK(p->files[1].old_path.empty());
  CHECK(p->files[1].path == "docs/runbook/total.md");
  CHECK(p->files[1].changed_lines == std::vector<std::uint32_t>{1, 2});
  CHECK(p->changed_lines() == 6);
}

TEST_CASE("parse_patch refuses hunks that disagree with their header, naming the line", "[source][patch]") {
  auto p = src::parse_patch("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n");
  REQUIRE_FALSE(p);
  CHECK(p.error().message().find("ends inside a hunk") != std::string::npos);
  auto q = src::parse_patch("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n");
  REQUIRE_FALSE(q);
  CHECK(q.error().message().find("patch line 6") != std::string::npos);
  CHECK_FALSE(src::parse_patch("--- a/x\n+++ b/x\n@@ -x +1 @@\n"));
}

TEST_CASE("confine_paths keeps a patch inside the repository", "[source][patch]") {
  selfheal::test::temp_dir repo, outside;
  std::filesystem::create_directories(repo.path() / "src");
  std::filesystem::create_directory_symlink(outside.path(), repo.path() / "link");
  auto one = [&](const std::string& path) {
    auto p = src::parse_patch("--- a/" + path + "\n+++ b/" + path + "\n@@ -0,0 +1 @@\n+x\n");
    REQUIRE(p);
    return src::confine_paths(*p, repo.path());
  };
  CHECK(one("src/ok.py"));
  CHECK(one("new/dir/file.md"));
  for (const char* bad : {"../escape.py", "src/../../x", ".git/hooks/pre-commit", "src/.GIT/config", "link/evil.py"}) {
    INFO(bad);
    auto r = one(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == selfheal::errc::policy_denied);
    CHECK(r.error().message().find(bad) != std::string::npos);
  }
  auto abs = src::parse_patch("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n");
  REQUIRE(abs);
  CHECK_FALSE(src::confine_paths(*abs, repo.path()));
}

namespace {
selfheal::result<src::settings> parse(const std::string& text) {
  return src::parse_settings(text, "selfheal.toml", "/repo");
}
}  // namespace

TEST_CASE("settings: HEALING.md's example file reads with every table", "[source][settings]") {
  auto s = parse(R"(
[service]
name = "shop"
main = "main"
telemetry = ["prod/logs/*.ndjson"]
[build]
command = ["make", "-j2"]
timeout = "300s"
[test]
command = ["python3", "-m", "unittest", "discover", "-s", "tests"]
junit = "build/junit.xml"
timeout = "5m"
retries = 1
[coverage]
lcov = "build/coverage.info"
changed_lines = 0.5
[performance]
command = ["python3", "bench/workload.py"]
runs = 5
min_regression_ms = 0.05
[deploy]
command = ["ops/deploy.sh", "{commit}", "{stage}"]
stages = ["canary", "full"]
settle = "2s"
[canary]
pass = 95
marginal = 75
[policy]
mode = "auto"
max_deploys_per_handler = "2/12h"
[git]
forge = ["gh", "pr", "create", "--head", "{branch}", "--body-file", "{body_file}"]
)");
  REQUIRE(s);
  CHECK(s->service.name == "shop");
  CHECK(s->service.telemetry == std::vector<std::string>{"prod/logs/*.ndjson"});
  CHECK(s->build.command == src::argv_t{"make", "-j2"});
  CHECK(s->test.timeout.count() == Approx(300));
  CHECK(s->test.retries == 1);
  CHECK(s->coverage.enabled);
  CHECK(s->coverage.changed_lines == Approx(0.5));
  CHECK(s->performance.min_regression_ms == Approx(0.05));
  CHECK(s->deploy.stages == std::vector<std::string>{"canary", "full"});
  CHECK(s->deploy.settle.count() == Approx(2));
  CHECK(s->deploy_telemetry() == s->service.telemetry);
  CHECK(s->policy.mode == "auto");
  CHECK(s->policy.max_deploys == 2);
  CHECK(s->policy.deploy_window.count() == Approx(12 * 3600));
  CHECK(s->policy.kill_switch == ".selfheal-stop");
  CHECK(s->git.author == "selfheal <selfheal@localhost>");
  auto argv = src::expand(s->deploy.command, {{"commit", "abc"}, {"stage", "canary"}});
  CHECK(argv == src::argv_t{"ops/deploy.sh", "abc", "canary"});
}

TEST_CASE("settings: every mistake names its key and line", "[source][settings]") {
  auto msg = [](const std::string& text) {
    auto s = parse(text);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == selfheal::errc::invalid_request);
    return s.error().message();
  };
  CHECK(msg("[service]\nname = \"x\"\n[tset]\ncommand = [\"a\"]\n") == "selfheal.toml:3: tset: unknown table");
  CHECK(msg("[service]\nname = \"x\"\nmian = \"m\"\n") == "selfheal.toml:3: [service] mian: unknown key");
  CHECK(msg("[service]\nname = \"x\"\n[performance]\ncommand = [\"w\"]\nmin_regression_ms = -0.5\n") ==
        "selfheal.toml:5: [performance] min_regression_ms: must be >= 0 (milliseconds)");
  CHECK(msg("[build]\ncommand = [\"make\"]\n").find("[service] name: required") != std::string::npos);
  CHECK(msg("[service]\nname = \"x\"\n[test]\ncommand = \"make test\"\n") ==
        "selfheal.toml:4: [test] command: expected an argv array of strings (never a shell string)");
  CHECK(msg("[service]\nname = \"x\"\n[deploy]\ncommand = [\"d\", \"{comit}\"]\n") ==
        "selfheal.toml:4: [deploy] command: unknown placeholder {comit}");
  CHECK(msg("[service]\nname = \"x\"\n[test]\ncommand = [\"t\"]\ntimeout = \"soon\"\n") ==
        "selfheal.toml:5: [test] timeout: 'soon' is not a duration like \"90s\", \"5m\", \"2h\"");
  CHECK(msg("[service]\nname = \"x\"\n[policy]\nmode = \"yolo\"\n") ==
        "selfheal.toml:4: [policy] mode: 'yolo' is not one of dry-run, approve, auto");
  CHECK(msg("[service]\nname = \"x\"\n[policy]\nmax_deploys_per_handler = \"often\"\n").find("\"1/24h\"") !=
        std::string::npos);
  CHECK(msg("[service\nname = 1").find("selfheal.toml:1:") == 0);
}

TEST_CASE("load_settings reads the repository's file and says where it looked", "[source][settings]") {
  selfheal::test::temp_dir repo;
  auto missing = src::load_settings(repo.path());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == selfheal::errc::not_found);
  CHECK(missing.error().message().find("selfheal.toml") != std::string::npos);
  std::ofstream(repo.path() / "selfheal.toml") << "[service]\nname = \"svc\"\n";
  auto s = src::load_settings(repo.path());
  REQUIRE(s);
  CHECK(s->service.name == "svc");
  CHECK(s->service.main == "main");
  CHECK(s->policy.mode == "dry-run");
  CHECK(s->repo == repo.path());
}
