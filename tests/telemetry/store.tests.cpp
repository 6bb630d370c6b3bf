#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <unistd.h>

#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/store.hpp"

namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
fs::path temp_db(const char* name) {
  auto dir = fs::temp_directory_path() / ("selfheal-tel-store-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto p = dir / name;
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(p.string() + ext);
  return p;
}

tel::telemetry_aggregate sample_aggregate() {
  tel::telemetry_aggregate a;
  a.window_ns = 60'000'000'000;
  tel::window_metric w1{tel::metric_scope::handler, "parseOrder", 1'735'689'600'000'000'000, {}};
  w1.stats.add(false, 12'000'000);
  w1.stats.add(true, 30'500'000);
  w1.stats.add(false, -1);
  tel::window_metric w2{tel::metric_scope::handler, "parseOrder", tel::no_time, {}};
  w2.stats.add(false, 1'000'000);
  tel::window_metric w3{tel::metric_scope::sequence, "Order Flow", 1'735'689'600'000'000'000, {}};
  w3.stats.add(true, -1);
  a.windows = {w1, w2, w3};
  a.releases = {{1'735'689'600'000'000'000, "v1.2.3", 1'735'689'601'000'000'000, 1'735'689'602'000'000'000, 4}};
  a.errors = {{"parseOrder", "timeout after 30s", 10, 20, 2}, {"", "disk full", tel::no_time, tel::no_time, 1}};
  a.events = 9;
  a.executions = 4;
  a.sequence_executions = 1;
  a.bad_lines = 2;
  a.first_event_ns = 5;
  a.last_event_ns = 99;
  tel::source_result s;
  s.plan.path = "/var/log/app.log";
  s.plan.identity = "2049:77";
  s.plan.size = 4096;
  s.plan.mtime_ns = 123;
  s.plan.start_offset = 100;
  s.format = tel::log_format::ndjson;
  s.end_offset = 4000;
  s.bytes = 3900;
  s.lines = 12;
  s.events = 9;
  s.bad_lines = 2;
  a.sources = {s};
  a.bytes = 3900;
  return a;
}
}  // namespace

TEST_CASE("telemetry runs round-trip through a real store", "[telemetry][storeTelemetryDatabase]") {
  const auto backend = GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql);
  CAPTURE(selfheal::test::to_string(backend));
  const auto path = backend == selfheal::test::store_backend::sqlite ? temp_db("roundtrip.db").string() : selfheal::test::fresh_postgres_url();
  auto db = selfheal::store::database::open(path);
  REQUIRE(db);
  const auto agg = sample_aggregate();
  const auto t0 = selfheal::time_point(std::chrono::seconds(1'735'689'700));
  const std::vector<std::string> heads = {"abcd"};
  auto id = tel::store_telemetry(*db, agg, t0, heads);
  REQUIRE(id);
  CHECK(*id == "telemetry-1");
  auto id2 = tel::store_telemetry(*db, agg, t0);
  INFO((id2 ? std::string() : id2.error().message()));
  REQUIRE(id2);
  CHECK(*id2 == "telemetry-2");
  CHECK(tel::latest_telemetry_record(*db).value() == "telemetry-2");

  SECTION("run row") {
    auto run = tel::load_run(*db, *id);
    REQUIRE(run);
    CHECK(run->events == 9);
    CHECK(run->executions == 4);
    CHECK(run->bad_lines == 2);
    CHECK(run->files == 1);
    CHECK(run->first_event_ns == 5);
    CHECK(run->started_at_ns == 1'735'689'700'000'000'000);
  }
  SECTION("windowed metrics with sketches") {
    auto rows = tel::load_window_metrics(*db, *id);
    REQUIRE(rows);
    REQUIRE(rows->size() == 3);
    // sorted by scope, name, window (NULL window first)
    CHECK((*rows)[0].name == "parseOrder");
    CHECK((*rows)[0].window_start_ns == tel::no_time);
    CHECK((*rows)[1] == agg.windows[0]);
    CHECK((*rows)[1].stats.count == 3);
    CHECK((*rows)[1].stats.errors == 1);
    CHECK((*rows)[1].stats.timed == 2);
    CHECK((*rows)[1].stats.max_ns == 30'500'000);
    CHECK((*rows)[2] == agg.windows[2]);
  }
  SECTION("error samples, releases and sources") {
    auto errs = tel::load_error_samples(*db, *id);
    REQUIRE(errs);
    REQUIRE(errs->size() == 2);
    CHECK((*errs)[0] == agg.errors[0]);
    CHECK((*errs)[1] == agg.errors[1]);
    auto rel = tel::load_releases(*db, *id);
    REQUIRE(rel);
    CHECK(*rel == agg.releases);
    auto srcs = tel::load_sources(*db, *id);
    REQUIRE(srcs);
    REQUIRE(srcs->size() == 1);
    CHECK((*srcs)[0].end_offset == 4000);
    CHECK((*srcs)[0].head_hash == "abcd");
    auto last = tel::last_source_state(*db, "/var/log/app.log");
    REQUIRE(last);
    REQUIRE(last->has_value());
    CHECK((*last)->record_id == "telemetry-2");
    auto none = tel::last_source_state(*db, "/nope");
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
  }
  SECTION("unknown record ids are not_found") {
    auto r = tel::load_window_metrics(*db, "telemetry-99");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == selfheal::errc::not_found);
  }
}

TEST_CASE("an empty store has no latest telemetry record", "[telemetry][storeTelemetryDatabase]") {
  const auto backend = GENERATE(selfheal::test::store_backend::sqlite, selfheal::test::store_backend::postgresql);
  auto db = selfheal::store::database::open(backend == selfheal::test::store_backend::sqlite ? temp_db("empty.db").string()
                                                                                            : selfheal::test::fresh_postgres_url());
  REQUIRE(db);
  auto r = tel::latest_telemetry_record(*db);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == selfheal::errc::not_found);
}

TEST_CASE("open starts stored under the old joining key are dropped by the migration that changed it",
          "[telemetry][storeTelemetryDatabase][migration]") {
  auto db = selfheal::store::database::open(temp_db("old-key.db").string());
  REQUIRE(db);
  // as a selfheal that knew four telemetry migrations left it: a source with one open start and
  // one open execution
  const auto four = std::span<const std::string_view>(tel::telemetry_migrations).first(4);
  REQUIRE(selfheal::store::migrate(*db, "telemetry", four));
  auto id = selfheal::store::create_record(*db, "telemetry", selfheal::time_point(std::chrono::seconds(1'735'689'700)),
                                           std::nullopt, "1 event");
  REQUIRE(id);
  REQUIRE(db->exec("INSERT INTO telemetry_runs VALUES ('" + *id + "', 1, 60000000000, 1, 100, 1, 0, 0, 0, 1, 0, NULL, NULL)"));
  REQUIRE(db->exec("INSERT INTO telemetry_carried_starts VALUES ('" + *id + "', '2049:77', 123456789, 5)"));
  REQUIRE(db->exec("INSERT INTO telemetry_carried_executions(record_id, identity, key, sequence, first_ns) VALUES ('" + *id +
                   "', '2049:77', 987, 'checkout', 5)"));
  auto carried = tel::load_carried(*db, *id, "2049:77");  // migrates to the current schema first
  REQUIRE(carried);
  CHECK(carried->open_starts.empty());
  REQUIRE(carried->executions.size() == 1);  // executions are keyed by selfheal's own hash already: kept
  CHECK(carried->executions[0].sequence == "checkout");
}
