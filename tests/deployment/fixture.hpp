#pragma once
// A small production for deploy tests: a real git repository (main checked out) whose app reads
// `app/handler.conf`, a local bare remote, a deploy script that installs releases into a folder
// (prod/releases/<commit>, prod/current → the live one, prod/deploys.log), a traffic script that
// drives the live release and appends NDJSON telemetry (latency and errors from the live
// handler.conf), and a forge script that records its argv. The baseline is 60 s of telemetry of
// the healthy release, parsed into the store by selfheal's own telemetry sequence.

#include <selfheal/core/run.hpp>
#include <selfheal/deployment/sequence.hpp>
#include <selfheal/store/database.hpp>
#include <selfheal/telemetry/sequence.hpp>

#include <catch2/catch.hpp>

#include "scenario.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace selfheal::test::deploy {

namespace dep = selfheal::deployment;

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline constexpr std::int64_t t0 = 1'767'225'600;  // 2026-01-01T00:00:00Z

inline const char* deploy_sh = R"(#!/bin/sh
set -eu
commit="$1"; stage="$2"; prod="$3"
mkdir -p "$prod/releases"
rm -rf "$prod/releases/$commit"
cp -R . "$prod/releases/$commit"
ln -sfn "$prod/releases/$commit" "$prod/current"
echo "$stage $commit" >> "$prod/deploys.log"
if [ -f "$prod/hang" ]; then sleep 60; fi
if [ -f "$prod/kill-once" ]; then rm -f "$prod/kill-once"; kill -9 "$PPID"; fi
)";

// 60 one-second windows, two executions of each handler per window.
inline const char* traffic_sh = R"(#!/bin/sh
set -eu
prod="$1"
conf="$prod/current/app/handler.conf"
lat=$(sed -n 's/^latency_ms=//p' "$conf")
err=$(sed -n 's/^error=//p' "$conf")
ship=$(sed -n 's/^ship_ms=//p' "$conf")
t=$(cat "$prod/clock")
mkdir -p "$prod/logs"
awk -v t="$t" -v lat="$lat" -v err="$err" -v ship="$ship" 'BEGIN {
  for (i = 0; i < 60; i++) for (k = 0; k < 2; k++) {
    d = lat + ((i * 7 + k * 3) % 10) / 10
    lvl = (err == 1) ? "error" : "info"
    msg = (err == 1) ? ",\"message\":\"boom\"" : ""
    printf "{\"ts\":%.0f,\"level\":\"%s\",\"handler\":\"checkout\",\"durationMs\":%.2f,\"correlationId\":\"c%d-%d\"%s}\n", (t + i) * 1000 + k * 100, lvl, d, t + i, k, msg
    s = ship + ((i * 3 + k) % 10) / 10
    printf "{\"ts\":%.0f,\"level\":\"info\",\"handler\":\"ship\",\"durationMs\":%.2f,\"correlationId\":\"s%d-%d\"}\n", (t + i) * 1000 + k * 100 + 50, s, t + i, k
  }
}' >> "$prod/logs/app.ndjson"
echo $((t + 100)) > "$prod/clock"
)";

inline const char* forge_sh = R"(#!/bin/sh
out="$(dirname "$0")/forge-calls"
for a in "$@"; do printf '%s\n' "$a" >> "$out"; done
echo "--" >> "$out"
cp "$3" "$(dirname "$0")/forge-body.md"
echo "https://forge.example/pr/1"
)";

inline const char* check_sh = R"(#!/bin/sh
grep -q '^latency_ms=' app/handler.conf
)";

inline std::string conf(int latency, int error, int ship = 10) {
  return "latency_ms=" + std::to_string(latency) + "\nerror=" + std::to_string(error) + "\nship_ms=" + std::to_string(ship) + "\n";
}

/// A unified diff of app/handler.conf from one content to another (both three lines).
inline std::string conf_diff(int from_lat, int from_err, int to_lat, int to_err, int from_ship = 10, int to_ship = 10) {
  std::string d = "diff --git a/app/handler.conf b/app/handler.conf\n--- a/app/handler.conf\n+++ b/app/handler.conf\n@@ -1,3 +1,3 @@\n";
  d += "-latency_ms=" + std::to_string(from_lat) + "\n-error=" + std::to_string(from_err) + "\n-ship_ms=" + std::to_string(from_ship) + "\n";
  d += "+latency_ms=" + std::to_string(to_lat) + "\n+error=" + std::to_string(to_err) + "\n+ship_ms=" + std::to_string(to_ship) + "\n";
  return d;
}

struct production {
  temp_dir tmp;
  std::filesystem::path root = tmp.path();
  std::filesystem::path prod = root / "prod";
  std::filesystem::path remote = root / "remote.git";
  git_repo repo{root / "repo"};
  std::optional<store::database> db;
  manual_clock clock{time_point{} + std::chrono::seconds{t0 + 86'400}, std::chrono::milliseconds{1}};
  context ctx;
  std::string good, slow;  ///< the healthy commit and the regression on top of it (main's head)

  production() {
    std::filesystem::create_directories(prod);
    repo.write("app/handler.conf", conf(10, 0));
    repo.write("ops/deploy.sh", deploy_sh);
    repo.write("ops/traffic.sh", traffic_sh);
    repo.write("tests/check.sh", check_sh);
    good = repo.commit("shop: the service", t0 - 7200);
    repo.write("app/handler.conf", conf(40, 0));
    slow = repo.commit("checkout: audit trail (slow)", t0 - 3600);
    repo.git({"init", "-q", "--bare", remote.string()});
    repo.git({"remote", "add", "origin", remote.string()});
    { std::ofstream(root / "forge.sh") << forge_sh; }
    // production runs the slow release; the baseline is the healthy one before it
    std::filesystem::create_directories(prod / "releases" / slow / "app");
    { std::ofstream(prod / "releases" / slow / "app" / "handler.conf") << conf(40, 0); }
    std::filesystem::create_directory_symlink(prod / "releases" / slow, prod / "current");
    { std::ofstream(prod / "clock") << (t0 + 1000) << "\n"; }
    std::filesystem::create_directories(root / "baseline");
    {
      std::ofstream b(root / "baseline" / "before.ndjson");
      for (int i = 0; i < 60; ++i)
        for (int k = 0; k < 2; ++k) {
          b << "{\"ts\":" << (t0 + i) * 1000 + k * 100 << ",\"level\":\"info\",\"handler\":\"checkout\",\"durationMs\":"
            << 10 + ((i * 7 + k * 3) % 10) / 10.0 << ",\"correlationId\":\"b" << i << "-" << k << "\"}\n";
          b << "{\"ts\":" << (t0 + i) * 1000 + k * 100 + 50 << ",\"level\":\"info\",\"handler\":\"ship\",\"durationMs\":"
            << 10 + ((i * 3 + k) % 10) / 10.0 << ",\"correlationId\":\"t" << i << "-" << k << "\"}\n";
        }
    }
    auto opened = store::database::open((root / "selfheal.db").string());
    REQUIRE(opened);
    db.emplace(std::move(*opened));
    ctx.store = &*db;
    ctx.clock = &clock;
    telemetry::parse_request pr;
    pr.paths = {(root / "baseline" / "before.ndjson").string()};
    pr.window = std::chrono::seconds{1};
    pr.threads = 1;
    auto parsed = selfheal::run(telemetry::parse_telemetry, ctx, std::move(pr));
    REQUIRE(parsed);
  }

  [[nodiscard]] dep::deploy_config config() const {
    dep::deploy_config c;
    c.service_name = "shop";
    c.main_branch = "main";
    c.test = dep::command_spec{{"sh", "tests/check.sh"}, std::chrono::seconds{30}};
    c.deploy_command = {"sh", "ops/deploy.sh", "{commit}", "{stage}", prod.string()};
    c.stages = {"canary", "full"};
    c.traffic = {"sh", "ops/traffic.sh", prod.string()};
    c.deploy_telemetry = {(prod / "logs" / "*.ndjson").string()};
    c.deploy_timeout = std::chrono::seconds{20};
    c.policy.mode = "auto";
    c.git_remote = "origin";
    c.forge = {"sh", (root / "forge.sh").string(), "{branch}", "{title}", "{body_file}"};
    return c;
  }

  /// A passing validation of `diff` on main's head, as validation.run stores it.
  [[nodiscard]] validation::report validation_of(std::string diff, std::string handler = "checkout") const {
    validation::report v;
    v.record_id = "validation-1";
    v.fix_record = "fix-1";
    v.patch_id = "fix-1.1";
    v.base_commit = slow;
    v.handler = std::move(handler);
    v.anomaly_id = "anomaly-1.1";
    v.anomaly_type = "latency_regression";
    v.strategy = "revert";
    v.diff = std::move(diff);
    v.verdict = "pass";
    v.tests.passed = 3;
    validation::check apply, tests;
    apply.name = "apply";
    apply.status = "pass";
    apply.seconds = 0.01;
    tests.name = "tests";
    tests.status = "pass";
    tests.seconds = 0.2;
    tests.detail = "3 passed";
    v.checks = {apply, tests};
    v.performance.handler = "checkout";
    v.performance.main_p50_ms = 40;
    v.performance.candidate_p50_ms = 10;
    v.performance.ratio = 0.25;
    v.performance.p_value = 0.0001;
    return v;
  }

  [[nodiscard]] result<dep::record> deploy(const validation::report& v, dep::deploy_config c) {
    dep::deploy_request req;
    req.repo = repo.root().string();
    req.validation_record = v.record_id;
    req.validation_report = v;
    req.config = std::move(c);
    req.actor = "tester";
    return selfheal::run(dep::deploy_fix, ctx, std::move(req));
  }
  [[nodiscard]] result<dep::record> deploy(const validation::report& v) { return deploy(v, config()); }

  [[nodiscard]] std::string main_head() const { return trim(repo.git({"rev-parse", "refs/heads/main"})); }
  [[nodiscard]] std::string live_conf() const { return read_file(prod / "current" / "app" / "handler.conf"); }
  [[nodiscard]] std::string deploys() const { return read_file(prod / "deploys.log"); }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  [[nodiscard]] std::vector<std::string> audit_actions() {
    std::vector<std::string> out;
    auto st = db->prepare("SELECT action FROM audit_log ORDER BY id");
    while (*st->step()) out.push_back(st->column_text(0));
    return out;
  }
};

}  // namespace selfheal::test::deploy
