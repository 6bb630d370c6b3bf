#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "selfheal/diagnosis/analyzers.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/diagnosis/recommend.hpp"

// Config-only regressions (issue #10, item 6): a commit that changes only a configuration value the
// slow handler reads ranks first, and restoring the old value leads the recommendations. Real git
// repositories with real commits; the handler reads the key in its body or in a function it calls.

namespace dx = selfheal::diagnosis;
using selfheal::test::git_repo;

namespace {

constexpr std::int64_t T = 1'750'000'000;  // the onset

struct format_case {
  const char* name;
  const char* file;
  std::string before, after;
  const char* key;
  const char* code_read;  // how the code names the key
  const char* old_value;
  const char* new_value;
};

std::vector<format_case> cases() {
  return {
      {"YAML", "config/app.yaml", "cache:\n  ttl_ms: 60000\n  size: 100\n", "cache:\n  ttl_ms: 5\n  size: 100\n",
       "cache.ttl_ms", "config.cache.ttl_ms", "60000", "5"},
      {"TOML", "config/app.toml", "[cache]\nttl_ms = 60000\nsize = 100\n", "[cache]\nttl_ms = 5\nsize = 100\n",
       "cache.ttl_ms", "config.cache.ttl_ms", "60000", "5"},
      {"JSON", "config/app.json", "{\"cache\": {\"ttl_ms\": 60000, \"size\": 100}}\n",
       "{\"cache\": {\"ttl_ms\": 5, \"size\": 100}}\n", "cache.ttl_ms", "config.cache.ttl_ms", "60000", "5"},
      {".env", ".env", "CACHE_TTL_MS=60000\nCACHE_SIZE=100\n", "CACHE_TTL_MS=5\nCACHE_SIZE=100\n", "CACHE_TTL_MS",
       "process.env.CACHE_TTL_MS", "60000", "5"},
  };
}

/// c0 creates everything (ten days before), c2 changes only the config value (30 h before),
/// c1 edits a line inside the handler (2 h before: closer, and overlapping the handler's code).
struct fixture {
  git_repo repo;
  std::string c0, c1, c2;
  fixture(const format_case& fc, bool through_helper) {
    const std::string read = fc.code_read;
    const std::string body = through_helper
        ? "function cacheTtl(config) {\n  return " + read + ";\n}\n\n"
          "function loadCatalog(config, id) {\n  const ttl = cacheTtl(config);\n  return fetchCatalog(id, ttl);\n}\n"
        : "function loadCatalog(config, id) {\n  const ttl = " + read + ";\n  return fetchCatalog(id, ttl);\n}\n";
    repo.write("src/catalog.js", body + "\nfunction fetchCatalog(id, ttl) {\n  return [id, ttl];\n}\n");
    repo.write(fc.file, fc.before);
    repo.write("README.md", "catalog\n");
    c0 = repo.commit("create the catalog", T - 240 * 3600);
    repo.write(fc.file, fc.after);
    c2 = repo.commit("lower the cache ttl", T - 30 * 3600);
    std::string edited = repo.read("src/catalog.js");
    const auto pos = edited.find("return fetchCatalog(id, ttl);");
    REQUIRE(pos != std::string::npos);
    edited.replace(pos, 29, "return fetchCatalog(String(id), ttl);");
    repo.write("src/catalog.js", edited);
    c1 = repo.commit("tidy loadCatalog", T - 2 * 3600);
  }
};

dx::anomaly_input slow_catalog() {
  dx::anomaly_input a;
  a.id = "a-1";
  a.type = "performance";
  a.handler = "loadCatalog";
  a.onset = T;
  a.baseline_p50 = 2;
  a.baseline_p95 = 4;
  a.current_p50 = 40;
  a.current_p95 = 80;
  a.handler_count = 500;
  a.total_count = 1000;
  return a;
}

}  // namespace

TEST_CASE("a config-only commit changing a value the slow handler reads ranks first", "[diagnosis][config][analyzers]") {
  for (const auto& fc : cases()) {
    for (const bool helper : {false, true}) {
      INFO(fc.name << (helper ? ", read in a function the handler calls" : ", read in the handler's body"));
      fixture f(fc, helper);
      auto cb = dx::load_codebase(f.repo.root());
      REQUIRE(cb);
      const auto d = dx::analyze_performance(slow_catalog(), *cb);
      REQUIRE(d.where);
      REQUIRE(d.suspects.size() >= 2);
      CHECK(d.suspects[0].commit == f.c2);
      REQUIRE(d.suspects[0].config_changes.size() == 1);
      const auto& change = d.suspects[0].config_changes[0];
      CHECK(change.file == fc.file);
      CHECK(change.key == fc.key);
      CHECK(change.old_value == fc.old_value);
      CHECK(change.new_value == fc.new_value);
      CHECK(d.suspects[1].commit == f.c1);
      CHECK(d.root_cause.find(fc.key) != std::string::npos);

      const auto recs = dx::rank_fixes_with_defaults(d, *cb, dx::strategy_priors::defaults());
      REQUIRE_FALSE(recs.empty());
      CHECK(recs[0].strategy == "config_change");
      CHECK(recs[0].priority == 1);
      CHECK(recs[0].file == fc.file);
      CHECK(recs[0].key == fc.key);
      CHECK(recs[0].old_value == fc.old_value);
      CHECK(recs[0].new_value == fc.new_value);
      CHECK(recs[0].commit == f.c2);
    }
  }
}

TEST_CASE("a config change the handler does not read is not blamed for it", "[diagnosis][config][analyzers]") {
  const auto fc = cases()[0];
  fixture f(fc, false);
  // A later commit changes another key nobody reads.
  f.repo.write(fc.file, "cache:\n  ttl_ms: 5\n  size: 7\n");
  const auto c3 = f.repo.commit("resize", T - 3600);
  auto cb = dx::load_codebase(f.repo.root());
  REQUIRE(cb);
  const auto d = dx::analyze_performance(slow_catalog(), *cb);
  CHECK(std::none_of(d.suspects.begin(), d.suspects.end(), [&](const dx::suspect_commit& s) { return s.commit == c3; }));
  CHECK(d.suspects.at(0).commit == f.c2);
}

TEST_CASE("suspects are listed in score order, the release bonus included", "[diagnosis][config][analyzers]") {
  const auto fc = cases()[0];
  fixture f(fc, false);
  auto cb = dx::load_codebase(f.repo.root());
  REQUIRE(cb);
  dx::blame_window w;
  w.onset = T;
  w.release_range = {f.c0};  // its own evidence is weaker than c1's: the release bonus puts it first
  const std::vector<dx::code_target> targets{{"src/catalog.js", 1, 4, "loadCatalog"}};
  const auto s = dx::rank_suspects(cb->git, targets, w);
  REQUIRE(s.size() >= 2);
  CHECK(std::is_sorted(s.begin(), s.end(), [](const dx::suspect_commit& a, const dx::suspect_commit& b) { return a.score > b.score; }));
  CHECK(s[0].commit == f.c0);
  CHECK(s[0].in_release_range);
}
