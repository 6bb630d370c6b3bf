#include <catch2/catch.hpp>

#include <string>

#include "scenario.hpp"
#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "temp_dir.hpp"

namespace dx = selfheal::diagnosis;

namespace {

struct pipeline {
  selfheal::test::temp_dir dir;
  selfheal::store::database db;
  selfheal::context ctx;
  pipeline() : db(std::move(*selfheal::store::database::open((dir.path() / "store.db").string()))) { ctx.store = &db; }

  std::string parse(const std::filesystem::path& file) {
    selfheal::telemetry::parse_request req;
    req.paths = {file.string()};
    req.threads = 1;
    auto s = selfheal::run(selfheal::telemetry::parse_telemetry, ctx, std::move(req));
    REQUIRE(s);
    return s->record_id;
  }
  std::string baseline(const std::string& record) {
    selfheal::anomaly::baseline_request req;
    req.records = {record};
    auto s = selfheal::run(selfheal::anomaly::establish_baseline, ctx, std::move(req));
    REQUIRE(s);
    return s->id;
  }
  selfheal::anomaly::detect_summary detect(const std::string& record, const std::string& sequences) {
    selfheal::anomaly::detect_request req;
    req.record_id = record;
    req.sequences_dir = sequences;
    auto s = selfheal::run(selfheal::anomaly::detect_anomalies, ctx, std::move(req));
    REQUIRE(s);
    return std::move(*s);
  }
};

}  // namespace

TEST_CASE("parse → baseline → detect → diagnose on a generated scenario", "[diagnosis][pipeline]") {
  for (const bool markers : {true, false}) {
    pipeline p;
    selfheal::test::scenario_options o;
    o.seed = markers ? 41 : 42;
    o.deploy_markers = markers;
    o.events_per_phase = 3000;
    auto sc = selfheal::test::make_scenario(o);
    p.baseline(p.parse(sc.telemetry_dir / "before.ndjson"));
    const auto after = p.parse(sc.telemetry_dir / "after.ndjson");
    const auto found = p.detect(after, (sc.repo.root() / "sequences").string());
    INFO("markers " << markers << ", handler " << sc.guilty_handler << ", " << found.anomalies.size() << " anomalies");
    REQUIRE_FALSE(found.anomalies.empty());

    dx::analyze_request req;
    req.repo = sc.repo.root();  // anomaly record: the latest
    auto s = selfheal::run(dx::analyze_diagnosis, p.ctx, std::move(req));
    REQUIRE(s);
    CHECK(s->anomaly_record == found.record_id);
    const dx::diagnosis_item* mine = nullptr;
    for (const auto& d : s->diagnoses)
      if (d.handler == sc.guilty_handler && d.type == "performance") mine = &d;
    REQUIRE(mine != nullptr);
    INFO(mine->root_cause);
    REQUIRE(mine->where);
    CHECK(mine->where->file == sc.guilty_file);
    CHECK(mine->where->symbol == sc.guilty_function);
    REQUIRE_FALSE(mine->suspects.empty());
    CHECK(mine->suspects[0].commit == sc.guilty_commit);
    CHECK(mine->suspects[0].in_release_range == markers);
    CHECK(mine->effect.traffic_share > 0);
    REQUIRE_FALSE(mine->recommendations.empty());
    CHECK(mine->recommendations[0].commit == sc.guilty_commit);
  }
}

TEST_CASE("parse → baseline → detect → diagnose resolves a logged stack frame", "[diagnosis][pipeline]") {
  for (const std::uint64_t seed : {51u, 52u}) {
    pipeline p;
    selfheal::test::scenario_options o;
    o.seed = seed;
    o.error = true;
    o.events_per_phase = 3000;
    auto sc = selfheal::test::make_scenario(o);
    p.baseline(p.parse(sc.telemetry_dir / "before.ndjson"));
    const auto after = p.parse(sc.telemetry_dir / "after.ndjson");
    const auto found = p.detect(after, "");
    REQUIRE_FALSE(found.anomalies.empty());
    dx::analyze_request req;
    req.repo = sc.repo.root();
    auto s = selfheal::run(dx::analyze_diagnosis, p.ctx, std::move(req));
    REQUIRE(s);
    const dx::diagnosis_item* mine = nullptr;
    for (const auto& d : s->diagnoses)
      if (d.handler == sc.guilty_handler && d.type == "error" && d.where) mine = &d;
    INFO("seed " << seed << " handler " << sc.guilty_handler);
    REQUIRE(mine != nullptr);
    INFO(mine->root_cause);
    CHECK(mine->where->file == sc.guilty_file);
    CHECK(mine->where->line == sc.error_line);
    CHECK(mine->where->symbol == sc.guilty_function);
    REQUIRE_FALSE(mine->suspects.empty());
    CHECK(mine->suspects[0].commit == sc.guilty_commit);
  }
}
