// The anomaly store on PostgreSQL: the same logs parsed, baselined and checked in an SQLite file
// and in a PostgreSQL database give the same baseline, the same stored anomalies and the same
// tuned thresholds.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "postgres.hpp"
#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/anomaly/store.hpp"
#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
namespace an = selfheal::anomaly;

namespace {
constexpr std::int64_t t0_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

void write_log(const std::filesystem::path& file, int from, int to, double slow) {
  std::ofstream out(file, std::ios::app);
  for (int w = from; w < to; ++w)
    for (int i = 0; i < 40; ++i) {
      const std::int64_t ts = t0_ms + w * 60'000 + i * 1000;
      out << R"({"ts":)" << ts << R"(,"handler":"checkout","durationMs":)" << (10.0 + i % 7) * slow << "}\n";
      out << R"({"ts":)" << ts + 500 << R"(,"handler":"pay","durationMs":)" << 20.0 + i % 5
          << (i % 9 == 0 && w >= 20 ? R"(,"level":"error","error":"card declined")" : "") << "}\n";
    }
}

struct outcome {
  an::baseline baseline;
  std::vector<an::stored_anomaly> anomalies;
  an::handler_thresholds thresholds;
  std::vector<an::anomaly> after_feedback;
};

outcome run_all(const std::string& url, const std::filesystem::path& log) {
  auto db = sh::store::database::open(url);
  REQUIRE(db);
  sh::manual_clock clock(sh::time_point(std::chrono::milliseconds(t0_ms + 86'400'000)), std::chrono::milliseconds(1));
  sh::context ctx;
  ctx.store = &*db;
  ctx.clock = &clock;
  const auto parse = [&] {
    sh::telemetry::parse_request req;
    req.paths = {log.string()};
    req.threads = 1;
    auto r = sh::run(sh::telemetry::parse_telemetry, ctx, std::move(req));
    REQUIRE(r);
    return r->record_id;
  };
  std::filesystem::remove(log);
  write_log(log, 0, 20, 1.0);
  const auto first = parse();
  an::baseline_request breq;
  breq.records = {first};
  auto b = sh::run(an::establish_baseline, ctx, std::move(breq));
  REQUIRE(b);
  write_log(log, 20, 30, 3.0);
  parse();
  an::detect_request dreq;
  auto d = sh::run(an::detect_anomalies, ctx, dreq);
  REQUIRE(d);
  REQUIRE(d->record_id == "anomaly-1");
  outcome o;
  auto id = an::latest_baseline(*db);
  REQUIRE(id);
  auto lb = an::load_baseline(*db, *id);
  REQUIRE(lb);
  o.baseline = std::move(*lb);
  auto la = an::load_anomalies(*db, d->record_id);
  REQUIRE(la);
  o.anomalies = std::move(*la);
  REQUIRE_FALSE(o.anomalies.empty());
  auto fb = an::record_feedback(*db, o.anomalies.front().id, an::verdict::false_positive, clock.now(), "tester");
  INFO((fb ? std::string() : fb.error().detail));
  REQUIRE(fb);
  CHECK(fb->id == 1);
  auto th = an::load_thresholds(*db);
  REQUIRE(th);
  o.thresholds = *th;
  auto again = sh::run(an::detect_anomalies, ctx, dreq);
  REQUIRE(again);
  o.after_feedback = again->anomalies;
  return o;
}
}  // namespace

TEST_CASE("baseline, detection and feedback store the same on SQLite and PostgreSQL", "[anomaly][store][postgres]") {
  sh::test::temp_dir dir;
  const auto lite = run_all((dir.path() / "s.db").string(), dir.path() / "a.ndjson");
  const auto pg = run_all(sh::test::fresh_postgres_url(), dir.path() / "b.ndjson");

  CHECK(pg.baseline.records == lite.baseline.records);
  CHECK(pg.baseline.period_windows == lite.baseline.period_windows);
  CHECK(pg.baseline.total_samples == lite.baseline.total_samples);
  REQUIRE(pg.baseline.handlers.size() == lite.baseline.handlers.size());
  for (std::size_t i = 0; i < pg.baseline.handlers.size(); ++i) {
    const auto& p = pg.baseline.handlers[i];
    const auto& l = lite.baseline.handlers[i];
    CHECK(p.handler == l.handler);
    CHECK(p.window_p50 == l.window_p50);  // doubles as text and back: exact
    CHECK(p.window_p95 == l.window_p95);
    CHECK(p.p50_ms == l.p50_ms);
    CHECK(p.p99_ms == l.p99_ms);
    CHECK(p.samples == l.samples);
    CHECK(p.latency.count() == l.latency.count());  // the sketch, a BYTEA on PostgreSQL
  }
  REQUIRE(pg.anomalies.size() == lite.anomalies.size());
  for (std::size_t i = 0; i < pg.anomalies.size(); ++i) {
    const auto& p = pg.anomalies[i];
    const auto& l = lite.anomalies[i];
    CHECK(p.id == l.id);
    CHECK(p.handler == l.handler);
    CHECK(p.kind == l.kind);
    CHECK(p.kinds == l.kinds);
    CHECK(p.score == l.score);
    CHECK(p.confidence == l.confidence);
    CHECK(p.onset_ns == l.onset_ns);
    CHECK(p.evidence_json == l.evidence_json);
    CHECK(p.rank == l.rank);
  }
  CHECK(pg.thresholds.factors == lite.thresholds.factors);
  CHECK_FALSE(pg.thresholds.factors.empty());
  REQUIRE(pg.after_feedback.size() == lite.after_feedback.size());
  for (std::size_t i = 0; i < pg.after_feedback.size(); ++i) CHECK(pg.after_feedback[i].handler == lite.after_feedback[i].handler);
}
