// The whole chain on a generated service: parse → baseline → detect → diagnose → fix, then the
// patch applied to a clone and the repository's own tests run on it.
#include <catch2/catch.hpp>

#include <string>

#include "fix_support.hpp"
#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/diagnosis/sequence.hpp"
#include "selfheal/telemetry/sequence.hpp"

using fixtest::repo_clone;
using fixtest::run;
namespace fx = selfheal::fix;
namespace dx = selfheal::diagnosis;

TEST_CASE("parse → baseline → detect → diagnose → fix on a generated Python service", "[fix][pipeline][slow]") {
  // The first seed whose guilty handler is compute_tax (its tests call it: a representative input).
  std::optional<selfheal::test::scenario> found;
  for (std::uint64_t seed = 1; seed < 60 && !found; ++seed) {
    selfheal::test::scenario_options o;
    o.seed = seed;
    o.events_per_phase = 3000;
    auto sc = selfheal::test::make_scenario(o);
    if (sc.guilty_function == "compute_tax") found.emplace(std::move(sc));
  }
  REQUIRE(found);
  auto& sc = *found;
  fixtest::store_fixture st;
  auto parse = [&](const std::filesystem::path& file) {
    selfheal::telemetry::parse_request req;
    req.paths = {file.string()};
    req.threads = 1;
    auto s = selfheal::run(selfheal::telemetry::parse_telemetry, st.ctx, std::move(req));
    REQUIRE(s);
    return s->record_id;
  };
  selfheal::anomaly::baseline_request breq;
  breq.records = {parse(sc.telemetry_dir / "before.ndjson")};
  REQUIRE(selfheal::run(selfheal::anomaly::establish_baseline, st.ctx, std::move(breq)));
  selfheal::anomaly::detect_request dreq;
  dreq.record_id = parse(sc.telemetry_dir / "after.ndjson");
  dreq.sequences_dir = (sc.repo.root() / "sequences").string();
  REQUIRE(selfheal::run(selfheal::anomaly::detect_anomalies, st.ctx, std::move(dreq)));
  dx::analyze_request areq;
  areq.repo = sc.repo.root();
  auto diag = selfheal::run(dx::analyze_diagnosis, st.ctx, std::move(areq));
  REQUIRE(diag);
  std::string anomaly, seen;
  for (const auto& d : diag->diagnoses) {
    seen += d.anomaly_id + " " + d.type + " " + d.handler + "; ";
    if (d.handler == sc.guilty_handler && (d.type == "performance" || d.type == "slo")) anomaly = d.anomaly_id;
  }
  INFO("guilty " << sc.guilty_handler << ", diagnoses: " << seen);
  REQUIRE_FALSE(anomaly.empty());

  fx::generate_request req;
  req.repo = sc.repo.root().string();
  req.anomaly_ids = {anomaly};
  req.test_command = {"python3", "-m", "unittest", "discover", "-s", "tests"};
  auto out = selfheal::run(fx::generate_fix, st.ctx, std::move(req));
  REQUIRE(out);
  CHECK(out->diagnosis_record == diag->record_id);
  REQUIRE(out->patches.size() == 1);
  const auto& p = out->patches[0];
  INFO(p.diff);
  CHECK((p.strategy == "partial_revert" || p.strategy == "revert"));
  CHECK(p.suspect_commit == sc.guilty_commit);
  REQUIRE(p.tests_added.size() == 1);

  repo_clone c(sc.repo.root(), p.base_commit);
  const std::string slow_text = c.read(sc.guilty_file);
  REQUIRE(c.apply(p.diff) == 0);
  const std::string fixed = c.read(sc.guilty_file);
  CHECK(fixed.find("json.dumps(snapshot)") == std::string::npos);
  if (p.strategy == "partial_revert")  // the decoys of the same file survive
    CHECK(fixed.find("CURRENCY = \"EUR\"") != std::string::npos);
  auto [pass, pass_out] = run({"python3", "-m", "unittest", "discover", "-s", "tests", "-p", "test_selfheal_*.py"}, c.root);
  INFO(pass_out);
  CHECK(pass == 0);
  c.write(sc.guilty_file, slow_text);
  auto [failed, fail_out] = run({"python3", "-m", "unittest", "discover", "-s", "tests", "-p", "test_selfheal_*.py"}, c.root);
  INFO(fail_out);
  CHECK(failed != 0);
  CHECK(sc.repo.git({"status", "--porcelain"}).empty());
}
