#include <catch2/catch.hpp>

#include <string>

#include "scenario.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/diagnosis/analyzers.hpp"
#include "selfheal/diagnosis/codebase.hpp"
#include "selfheal/diagnosis/input.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "temp_dir.hpp"

namespace dx = selfheal::diagnosis;

TEST_CASE("deploy markers and traffic come from telemetry.parse's real records", "[diagnosis][loadAnomalies][telemetry]") {
  selfheal::test::temp_dir dir;
  auto db = selfheal::store::database::open((dir.path() / "store.db").string());
  REQUIRE(db);
  selfheal::context ctx;
  ctx.store = &*db;
  selfheal::test::scenario_options o;
  o.seed = 31;
  auto sc = selfheal::test::make_scenario(o);
  auto parse = [&](const std::string& file) {
    selfheal::telemetry::parse_request req;
    req.paths = {(sc.telemetry_dir / file).string()};
    req.threads = 1;
    auto s = selfheal::run(selfheal::telemetry::parse_telemetry, ctx, std::move(req));
    REQUIRE(s);
    return s->record_id;
  };
  parse("before.ndjson");
  const std::string after = parse("after.ndjson");

  // The anomaly as the detector gives it: no releases, no traffic.
  dx::anomaly_input in = sc.anomaly;
  in.releases.clear();
  in.handler_count = in.total_count = 0;
  std::vector<dx::anomaly_input> inputs{in};
  REQUIRE(dx::add_telemetry(*db, after, inputs));
  const auto& got = inputs[0];
  REQUIRE(got.releases.size() == 2);
  CHECK(got.releases[0].version == sc.release_tags[0]);
  CHECK(got.releases[1].version == sc.release_tags[1]);
  CHECK(got.releases[1].first_seen == sc.onset);  // the first v-after event is at the deploy
  CHECK(got.handler_count == sc.anomaly.handler_count);
  CHECK(got.total_count == sc.anomaly.total_count);

  // And with them the release range puts the guilty commit first.
  auto cb = dx::load_codebase(sc.repo.root());
  REQUIRE(cb);
  const auto d = dx::analyze_performance(got, *cb);
  REQUIRE_FALSE(d.suspects.empty());
  CHECK(d.suspects[0].commit == sc.guilty_commit);
  CHECK(d.suspects[0].in_release_range);
}
