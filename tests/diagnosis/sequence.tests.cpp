#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>

#include <simdjson.h>

#include "scenario.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/report.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/store/database.hpp"
#include "temp_dir.hpp"

namespace dx = selfheal::diagnosis;
using selfheal::errc;

namespace {

struct fixture {
  selfheal::test::temp_dir dir;
  selfheal::store::database db;
  selfheal::manual_clock clock{selfheal::time_point{std::chrono::seconds{1'800'000'000}}};
  selfheal::context ctx;
  fixture() : db(std::move(*selfheal::store::database::open((dir.path() / "store.db").string()))) {
    ctx.store = &db;
    ctx.clock = &clock;
  }
};

dx::codebase_loaded prepared(const selfheal::test::scenario& sc, selfheal::context& ctx) {
  dx::analyze_request req;
  req.repo = sc.repo.root();
  req.anomalies = {sc.anomaly};
  auto a = dx::analyze_requested{}(req);
  REQUIRE(a);
  auto b = dx::load_anomalies{}(std::move(*a), ctx);
  REQUIRE(b);
  auto c = dx::load_codebase_info{}(std::move(*b), ctx);
  REQUIRE(c);
  return std::move(*c);
}

}  // namespace

TEST_CASE("analyzeRequested validates the request", "[diagnosis][analyzeRequested]") {
  dx::analyze_request req;
  SECTION("no repository") {
    auto r = dx::analyze_requested{}(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_request);
    CHECK(r.error().detail == "no repository given");  // the library names the missing thing, not a CLI flag
  }
  SECTION("a record id that could reach SQL or a path is refused") {
    req.repo = "/tmp";
    req.anomaly_record = "anomaly-1'; DROP TABLE records; --";
    auto r = dx::analyze_requested{}(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_request);
  }
  SECTION("a good request") {
    req.repo = "/tmp";
    req.anomaly_record = "anomaly-3";
    auto r = dx::analyze_requested{}(req);
    REQUIRE(r);
    CHECK(r->anomaly_record == "anomaly-3");
  }
}

TEST_CASE("loadAnomalies takes detected anomalies and filters by id", "[diagnosis][loadAnomalies]") {
  fixture f;
  dx::analyze_request req;
  req.repo = "/tmp";
  selfheal::anomaly::anomaly a;
  a.id = "A1";
  a.kind = selfheal::anomaly::anomaly_kind::latency_shift;
  a.handler = "applyDiscount";
  a.onset_ns = 1'750'000'000'000'000'000;
  a.number("p50_ms", 36).number("baseline_p50_ms", 12).number("p95_ms", 50).number("baseline_p95_ms", 16);
  selfheal::anomaly::anomaly b = a;
  b.id = "A2";
  b.kind = selfheal::anomaly::anomaly_kind::error_rate;
  req.detected = {a, b};
  SECTION("all, converted") {
    auto r = dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx);
    REQUIRE(r);
    REQUIRE(r->anomalies.size() == 2);
    CHECK(r->anomalies[0].type == "performance");
    CHECK(r->anomalies[0].onset == 1'750'000'000);
    CHECK(r->anomalies[0].current_p50 == 36);
    CHECK(r->anomalies[0].baseline_p50 == 12);
    CHECK(r->anomalies[1].type == "error");
  }
  SECTION("only the requested id") {
    req.anomaly_ids = {"A2"};
    auto r = dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx);
    REQUIRE(r);
    REQUIRE(r->anomalies.size() == 1);
    CHECK(r->anomalies[0].id == "A2");
  }
  SECTION("an unknown id is not_found") {
    req.anomaly_ids = {"A9"};
    auto r = dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_found);
  }
}

TEST_CASE("loadCodebaseInfo indexes the repository and caches its history", "[diagnosis][loadCodebaseInfo]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 21;
  auto sc = selfheal::test::make_scenario(o);
  auto a = prepared(sc, f.ctx);
  CHECK(a.code.symbols.source == "ctags");
  CHECK(a.code.git.read_from_git == a.code.git.commits.size());
  CHECK(a.priors.source == "defaults");
  auto again = prepared(sc, f.ctx);
  CHECK(again.code.git.read_from_git == 0);
  CHECK(again.code.git.read_from_cache == a.code.git.commits.size());
  SECTION("a missing repository is not_found") {
    dx::analyze_request req;
    req.repo = f.dir.path() / "nope";
    req.anomalies = {sc.anomaly};
    auto r = dx::load_codebase_info{}(*dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx), f.ctx);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_found);
  }
}

TEST_CASE("the analyze beats each handle their own anomaly type", "[diagnosis][analyzePerformanceIssues][analyzeErrorIssues]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 5;
  auto sc = selfheal::test::make_scenario(o);
  auto p = dx::analyze_performance_issues{}(prepared(sc, f.ctx));
  REQUIRE(p.diagnoses.size() == 1);
  CHECK(p.diagnoses[0].suspects.at(0).commit == sc.guilty_commit);
  const auto e = dx::analyze_error_issues{}(dx::analyze_coverage_issues{}(dx::analyze_behavioral_issues{}(std::move(p))));
  CHECK(e.diagnoses.size() == 1);  // nothing else is of their types
}

TEST_CASE("analyzeBehavioralIssues blames the change to the sequence definition", "[diagnosis][analyzeBehavioralIssues]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 9;
  o.decoys = false;
  auto sc = selfheal::test::make_scenario(o);
  // Drop the tax beat from the definition, after the scenario's history.
  std::string seq = sc.repo.read("sequences/checkout.json");
  const auto p = seq.find("      {\"beat\": 3");
  REQUIRE(p != std::string::npos);
  seq.erase(p, seq.find('\n', p) - p + 1);
  seq.replace(seq.find("\"kind\": \"pure\"},\n    ]"), std::string("\"kind\": \"pure\"},\n    ]").size(), "\"kind\": \"pure\"}\n    ]");
  sc.repo.write("sequences/checkout.json", seq);
  const auto guilty = sc.repo.commit("Checkout: tax is computed by the gateway now", 1'800'000'000);
  dx::anomaly_input in;
  in.id = "B1";
  in.type = "behavioral";
  in.sequence = "checkout-symphony";
  in.missing_beats = {"shop:tax:compute"};
  in.onset = 1'800'000'000 + 3600;
  dx::analyze_request req;
  req.repo = sc.repo.root();
  req.anomalies = {in};
  auto a = dx::load_codebase_info{}(*dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx), f.ctx);
  REQUIRE(a);
  auto r = dx::analyze_behavioral_issues{}(dx::advance_to<dx::performance_analyzed>(std::move(*a)));
  REQUIRE(r.diagnoses.size() == 1);
  const auto& d = r.diagnoses[0];
  REQUIRE_FALSE(d.suspects.empty());
  CHECK(d.suspects[0].commit == guilty);
  CHECK(d.root_cause.find("shop:tax:compute") != std::string::npos);
  REQUIRE(d.where);
  CHECK(d.where->file == "sequences/checkout.json");
}

TEST_CASE("analyzeCoverageIssues lists uncovered lines and nearby tests", "[diagnosis][analyzeCoverageIssues]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 4;
  o.decoys = false;
  auto sc = selfheal::test::make_scenario(o);
  auto a = prepared(sc, f.ctx);
  const auto m = dx::match_handler(a.code.symbols, "applyDiscount");
  const auto* s = m.chosen(a.code.symbols);
  REQUIRE(s);
  dx::anomaly_input in;
  in.id = "C1";
  in.type = "coverage";
  in.handler = "applyDiscount";
  dx::file_coverage fc;
  fc.file = "/build/ci/workspace/src/cart.js";  // as an lcov SF: line from another machine
  for (std::uint32_t l = s->line; l <= s->end_line; ++l) fc.lines.push_back({l, l == s->line + 1 ? 0u : 4u});
  in.coverage = {fc};
  a.anomalies = {in};
  const auto c = dx::analyze_coverage_issues{}(dx::advance_to<dx::behavior_analyzed>(std::move(a)));
  REQUIRE(c.diagnoses.size() == 1);
  const auto& d = c.diagnoses[0];
  CHECK(d.uncovered_lines == std::vector<std::uint32_t>{s->line + 1});
  REQUIRE_FALSE(d.nearby_tests.empty());
  CHECK(d.nearby_tests[0].find("tests/cart.test.js") == 0);
}

TEST_CASE("assessImpact and recommendFixes fill every diagnosis", "[diagnosis][assessImpact][recommendFixes]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 6;
  auto sc = selfheal::test::make_scenario(o);
  auto a = dx::assess_impact{}(dx::advance_to<dx::errors_analyzed>(dx::analyze_performance_issues{}(prepared(sc, f.ctx))));
  REQUIRE(a.diagnoses.size() == 1);
  CHECK_FALSE(a.diagnoses[0].effect.severity.empty());
  CHECK(a.diagnoses[0].effect.traffic_share > 0);
  CHECK(a.diagnoses[0].effect.sequences.at(0) == "checkout-symphony");
  const auto fixed = dx::recommend_fixes{}(std::move(a));
  const auto& recs = fixed.diagnoses[0].recommendations;
  REQUIRE_FALSE(recs.empty());
  CHECK(recs[0].strategy == "revert");
  CHECK(recs[0].commit == sc.guilty_commit);
  CHECK(recs[0].priority == 1);
}

TEST_CASE("the whole sequence runs, stores one record and reads back", "[diagnosis][storeDiagnosis][analyzeCompleted]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 13;
  auto sc = selfheal::test::make_scenario(o);
  dx::analyze_request req;
  req.repo = sc.repo.root();
  req.anomalies = {sc.anomaly};
  req.anomaly_record = "anomaly-7";  // not in this store: stored as text, no parent link
  auto s = selfheal::run(dx::analyze_diagnosis, f.ctx, req);
  REQUIRE(s);
  CHECK(s->record_id == "diagnosis-1");
  REQUIRE(s->diagnoses.size() == 1);
  CHECK(s->diagnoses[0].suspects.at(0).commit == sc.guilty_commit);
  auto back = dx::load_diagnoses(f.db, s->record_id);
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  CHECK((*back)[0].root_cause == s->diagnoses[0].root_cause);
  CHECK((*back)[0].suspects.size() == s->diagnoses[0].suspects.size());
  CHECK((*back)[0].suspects[0].target_hunks.size() == s->diagnoses[0].suspects[0].target_hunks.size());
  CHECK((*back)[0].recommendations.size() == s->diagnoses[0].recommendations.size());
  CHECK((*back)[0].where->symbol == s->diagnoses[0].where->symbol);
  SECTION("the JSON has the issue's shape") {
    const std::string json = dx::diagnoses_json(s->record_id, s->anomaly_record, s->diagnoses);
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    REQUIRE(p.parse(json).get(doc) == simdjson::SUCCESS);
    std::string_view sv;
    REQUIRE(doc["record_id"].get(sv) == simdjson::SUCCESS);
    CHECK(sv == "diagnosis-1");
    auto d0 = doc["diagnoses"].at(0);
    REQUIRE(d0["location"]["symbol"].get(sv) == simdjson::SUCCESS);
    CHECK(sv == sc.guilty_function);
    REQUIRE(d0["suspect_commits"].at(0)["commit"].get(sv) == simdjson::SUCCESS);
    CHECK(sv == sc.guilty_commit);
    REQUIRE(d0["suspect_commits"].at(0)["time"].get(sv) == simdjson::SUCCESS);
    CHECK(sv.size() == 20);  // 2025-03-02T10:00:00Z
    CHECK(sv.back() == 'Z');
    double share = 0;
    REQUIRE(d0["impact"]["traffic_share"].get(share) == simdjson::SUCCESS);
    REQUIRE(d0["recommendations"].at(0)["strategy"].get(sv) == simdjson::SUCCESS);
    CHECK(sv == "revert");
    std::int64_t prio = 0;
    REQUIRE(d0["recommendations"].at(0)["priority"].get(prio) == simdjson::SUCCESS);
    CHECK(prio == 1);
  }
  SECTION("a second run reads the history from the cache") {
    auto again = selfheal::run(dx::analyze_diagnosis, f.ctx, req);
    REQUIRE(again);
    CHECK(again->commits_from_git == 0);
    CHECK(again->record_id == "diagnosis-2");
  }
}

TEST_CASE("an lcov tracefile given to loadAnomalies reaches the coverage analyzer", "[diagnosis][loadAnomalies][analyzeCoverageIssues]") {
  fixture f;
  selfheal::test::scenario_options o;
  o.seed = 4;
  o.decoys = false;
  auto sc = selfheal::test::make_scenario(o);
  auto probe = prepared(sc, f.ctx);
  const auto* s = dx::match_handler(probe.code.symbols, "computeTotal").chosen(probe.code.symbols);
  REQUIRE(s);
  // Every line of computeTotal hit except its last two.
  std::string lcov = "TN:\nSF:" + (sc.repo.root() / "src/cart.js").string() + "\nFN:" + std::to_string(s->line) + ",computeTotal\n";
  for (auto l = s->line; l <= s->end_line; ++l) lcov += "DA:" + std::to_string(l) + "," + (l + 2 > s->end_line ? "0" : "7") + "\n";
  lcov += "end_of_record\n";
  const auto path = f.dir.path() / "lcov.info";
  std::ofstream(path) << lcov;
  dx::anomaly_input in;
  in.id = "C2";
  in.type = "coverage";
  in.handler = "computeTotal";
  dx::analyze_request req;
  req.repo = sc.repo.root();
  req.anomalies = {in};
  req.coverage_report = path;
  auto a = dx::load_codebase_info{}(*dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx), f.ctx);
  REQUIRE(a);
  auto r = dx::analyze_coverage_issues{}(dx::advance_to<dx::behavior_analyzed>(std::move(*a)));
  REQUIRE(r.diagnoses.size() == 1);
  CHECK(r.diagnoses[0].uncovered_lines == std::vector<std::uint32_t>{s->end_line - 1, s->end_line});
  SECTION("a missing tracefile is an error naming it") {
    req.coverage_report = f.dir.path() / "missing.info";
    auto bad = dx::load_anomalies{}(*dx::analyze_requested{}(req), f.ctx);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().detail.find("missing.info") != std::string::npos);
  }
}
