// `selfheal records`, `show` and `prune` (issue 17, first bullet) on an empty store, on a store
// holding every kind of record (made by the library's own sequences and store writers), on a store
// of an older schema version, and while another connection holds a write transaction.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <thread>

#include <simdjson.h>

#include "program.hpp"
#include "selfheal/anomaly/sequence.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/deployment/store.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/store.hpp"
#include "selfheal/heal/store.hpp"
#include "selfheal/learning/store.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/telemetry/store.hpp"
#include "selfheal/validation/store.hpp"
#include "postgres.hpp"  // both backends: SQLite and a throwaway PostgreSQL
#include "temp_dir.hpp"

namespace sh = selfheal;
using sh::test::cli::one_object;
using sh::test::cli::run_selfheal;

namespace {

// REQUIRE on a result, saying its error when it has one
#define REQUIRE_OK(...)                                                           \
  do {                                                                            \
    const auto& ok_ = (__VA_ARGS__);                                              \
    INFO((ok_ ? std::string() : ok_.error().detail));                             \
    REQUIRE(static_cast<bool>(ok_));                                              \
  } while (0)

constexpr std::int64_t day_ns = 86'400'000'000'000;
constexpr std::int64_t day0_ns = sh::test::cli::t0_ms * 1'000'000 + day_ns;  // 2026-01-02

sh::time_point at(std::int64_t ns) {
  return sh::time_point(std::chrono::duration_cast<sh::time_point::duration>(std::chrono::nanoseconds(ns)));
}

std::int64_t count(sh::store::database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st);
  auto row = st->step();
  REQUIRE(row);
  REQUIRE(*row);
  return st->column_int(0);
}

/// A store with every kind of record: telemetry-1..4 (one appended log; 1 is the baseline's, 2 the
/// detection's, 3 referenced by nothing, 4 made ten days later), baseline-1, anomaly-1, diagnosis-1,
/// fix-1, validation-1, deployment-1, learning-1, heal-1, and their audit rows.
struct full_store {
  sh::test::temp_dir dir;
  std::string path;  // an SQLite file or a postgresql:// URL
  std::filesystem::path log = dir.path() / "shop.ndjson";
  sh::manual_clock clock{at(day0_ns), std::chrono::milliseconds(1)};

  std::string parse(sh::context& ctx) {
    sh::telemetry::parse_request req;
    req.paths = {log.string()};
    req.threads = 1;
    auto s = sh::run(sh::telemetry::parse_telemetry, ctx, std::move(req));
    REQUIRE_OK(s);
    return s->record_id;
  }

  explicit full_store(sh::test::store_backend backend = sh::test::store_backend::sqlite)
      : path(sh::test::fresh_store_url(backend, dir, "store.db")) {
    auto db = sh::store::database::open(path);
    REQUIRE(db);
    sh::context ctx;
    ctx.store = &*db;
    ctx.clock = &clock;
    sh::test::cli::write_shop_log(log, 0, 20);
    REQUIRE(parse(ctx) == "telemetry-1");
    sh::anomaly::baseline_request breq;
    breq.records = {"telemetry-1"};
    auto b = sh::run(sh::anomaly::establish_baseline, ctx, std::move(breq));
    REQUIRE_OK(b);
    sh::test::cli::write_shop_log(log, 20, 30, 3.0);
    REQUIRE(parse(ctx) == "telemetry-2");
    sh::anomaly::detect_request dreq;
    dreq.record_id = "telemetry-2";
    auto d = sh::run(sh::anomaly::detect_anomalies, ctx, std::move(dreq));
    REQUIRE_OK(d);
    REQUIRE(d->record_id == "anomaly-1");
    REQUIRE_FALSE(d->anomalies.empty());
    sh::test::cli::write_shop_log(log, 30, 32);
    REQUIRE(parse(ctx) == "telemetry-3");

    sh::diagnosis::diagnosis_item item;
    item.anomaly_id = "anomaly-1.1";
    item.type = "performance";
    item.handler = "checkout";
    item.root_cause = "commit abc slowed checkout";
    item.confidence = 0.9;
    sh::diagnosis::run_info run{"anomaly-1", "/srv/shop", "abc", 10, "scanner", 3, 3};
    auto diag = sh::diagnosis::store_diagnoses(*db, run, {item}, clock.now());
    REQUIRE_OK(diag);
    REQUIRE(*diag == "diagnosis-1");

    sh::fix::patch p;
    p.anomaly_id = "anomaly-1.1";
    p.anomaly_type = "performance";
    p.handler = "checkout";
    p.strategy = "revert";
    p.base_commit = "abc";
    p.files = {{"shop.py", 1, 1}};
    p.diff = "--- a/shop.py\n+++ b/shop.py\n@@ -1 +1 @@\n-slow_checkout()\n+fast_checkout()\n";
    std::vector<sh::fix::patch> patches{p};
    auto fx = sh::fix::store_patches(*db, {"diagnosis-1", "/srv/shop", "abc"}, patches, {}, clock.now());
    REQUIRE_OK(fx);
    REQUIRE(*fx == "fix-1");

    sh::validation::report v;
    v.fix_record = "fix-1";
    v.patch_id = "fix-1.1";
    v.base_commit = "abc";
    v.handler = "checkout";
    v.anomaly_id = "anomaly-1.1";
    v.anomaly_type = "performance";
    v.strategy = "revert";
    v.diff = p.diff;
    v.verdict = "pass";
    sh::validation::check apply, tests;
    apply.name = "apply";
    apply.status = "pass";
    tests.name = "tests";
    tests.status = "pass";
    tests.detail = "3 passed";
    v.checks = {apply, tests};
    auto val = sh::validation::store_validation(*db, v, clock.now());
    REQUIRE_OK(val);
    REQUIRE(*val == "validation-1");

    sh::deployment::record dep;
    dep.validation_record = "validation-1";
    dep.mode = "auto";
    dep.status = "deployed";
    dep.handler = "checkout";
    dep.anomaly_id = "anomaly-1.1";
    dep.anomaly_type = "performance";
    dep.strategy = "revert";
    sh::deployment::stage_result canary;
    canary.stage = "canary";
    canary.verdict = "pass";
    canary.score = 100;
    dep.stages = {canary};
    auto dr = sh::deployment::create_deployment(*db, dep, clock.now(), "tester");
    REQUIRE_OK(dr);
    REQUIRE(*dr == "deployment-1");
    dep.record_id = *dr;
    REQUIRE_OK(sh::deployment::save_deployment(*db, dep, clock.now()));  // its stages, as deploy saves them

    sh::learning::learning_write lw;
    lw.deployment_record = "deployment-1";
    lw.anomaly_id = "anomaly-1.1";
    lw.anomaly_type = "performance";
    lw.strategy = "revert";
    lw.handler = "checkout";
    lw.result = sh::learning::outcome::success;
    lw.reasons = {"checkout is back to its baseline"};
    lw.deployed_ns = day0_ns;
    sh::learning::metric_change m;
    m.name = "checkout.p50_ms";
    m.before = 13;
    m.after = 13.2;
    m.change = 0.2;
    m.ci_low = -0.3;
    m.ci_high = 0.6;
    m.has_data = true;
    lw.metrics = {m};
    sh::learning::metric_improvement better;
    better.name = "checkout.p50_ms";
    better.within_normal = true;
    lw.improvements = {better};
    sh::learning::beta_posterior post;
    post.anomaly_type = "performance";
    post.strategy = "revert";
    post.alpha = 6.67;
    post.beta = 1;
    lw.posterior = post;
    auto lr = sh::learning::write_learning(*db, lw, clock.now());
    REQUIRE_OK(lr);
    REQUIRE(lr->record_id == "learning-1");

    auto hr = sh::heal::create_run(*db, clock.now());
    REQUIRE_OK(hr);
    sh::heal::heal_report rep;
    rep.record_id = *hr;
    rep.status = "healed";
    rep.rounds = 2;
    REQUIRE_OK(sh::heal::save_run(*db, rep, clock.now()));

    clock.set(at(day0_ns + 10 * day_ns));  // ten days later
    sh::test::cli::write_shop_log(log, 32, 34);
    REQUIRE(parse(ctx) == "telemetry-4");
  }
};

simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  return doc;
}

std::string text_of(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string("<no ") + key + ">";
}

}  // namespace

TEST_CASE("records, show and prune on an empty store", "[cli][records]") {
  sh::test::temp_dir d;
  const std::string db = sh::test::fresh_store_url(GENERATE(sh::test::store_backend::sqlite, sh::test::store_backend::postgresql), d);
  REQUIRE(sh::store::database::open(db));
  const auto text = run_selfheal({"records", "--db", db});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("no records in"));
  const auto json = run_selfheal({"records", "--db", db, "--json"});
  CHECK(json.exit_code == 0);
  CHECK(json.out == "{\"records\":[]}\n");
  const auto show = run_selfheal({"show", "fix-1", "--db", db, "--json"});
  CHECK(show.exit_code == 1);
  CHECK(show.out == "{\"error\":\"not_found\",\"message\":\"no record 'fix-1' in the store\"}\n");
  const auto prune = run_selfheal({"prune", "--keep-days", "0", "--db", db, "--json"});
  CHECK(prune.exit_code == 0);
  CHECK_THAT(prune.out, Catch::Contains("\"deleted\":[]"));
  CHECK_THAT(prune.out, Catch::Contains("\"audit\":null"));
}

TEST_CASE("records lists every kind newest first, show prints each in full", "[cli][records]") {
  full_store s(GENERATE(sh::test::store_backend::sqlite, sh::test::store_backend::postgresql));
  CAPTURE(s.path);
  simdjson::dom::parser parser;
  const auto all = run_selfheal({"records", "--db", s.path, "--json"});
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  REQUIRE(one_object(all.out));
  simdjson::dom::array lines;
  REQUIRE(parse_json(parser, all.out)["records"].get(lines) == simdjson::SUCCESS);
  std::set<std::string> kinds;
  std::vector<std::string> ids;
  for (auto l : lines) {
    kinds.insert(text_of(l, "kind"));
    ids.push_back(text_of(l, "id"));
  }
  CHECK(kinds == std::set<std::string>{"telemetry", "baseline", "anomaly", "diagnosis", "fix", "validation", "deployment",
                                       "learning", "heal"});
  REQUIRE(ids.size() == 12);
  CHECK(ids.front() == "telemetry-4");  // newest first
  CHECK(ids.back() == "telemetry-1");

  SECTION("one kind, a limit, the audit log, the text form") {
    const auto fixes = run_selfheal({"records", "--kind", "telemetry", "--limit", "2", "--db", s.path, "--json"});
    CHECK(fixes.exit_code == 0);
    CHECK_THAT(fixes.out, Catch::StartsWith("{\"records\":[{\"id\":\"telemetry-4\""));
    CHECK_THAT(fixes.out, Catch::Contains("\"id\":\"telemetry-3\""));
    CHECK_THAT(fixes.out, !Catch::Contains("\"id\":\"telemetry-2\""));
    const auto audit = run_selfheal({"records", "--kind", "audit", "--db", s.path});
    CHECK(audit.exit_code == 0);
    CHECK_THAT(audit.out, Catch::Contains("audit-1 "));
    const auto text = run_selfheal({"records", "--db", s.path});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains("heal-1           heal       2026-01-02T"));
    CHECK_THAT(text.out, Catch::Contains("heal run: healed after 2 round(s)"));
  }

  SECTION("show: each kind through its layer's document") {
    struct expect {
      std::string id, kind, has;
    };
    for (const auto& e : std::vector<expect>{
             {"telemetry-1", "telemetry", "\"name\":\"checkout\",\"count\":800"},
             {"baseline-1", "baseline", "\"records\":[\"telemetry-1\"]"},
             {"anomaly-1", "anomaly", "\"id\":\"anomaly-1.1\""},
             {"diagnosis-1", "diagnosis", "\"anomaly_id\":\"anomaly-1.1\""},
             {"fix-1", "fix", "+fast_checkout()"},
             {"validation-1", "validation", "\"checks\":[{\"name\":\"apply\""},
             {"deployment-1", "deployment", "\"stages\":[{\"stage\":\"canary\""},
             {"learning-1", "learning", "\"outcome\":\"success\""},
             {"heal-1", "heal", "\"status\":\"healed\""},
             {"audit-1", "audit", "\"actor\":"}}) {
      INFO(e.id);
      const auto r = run_selfheal({"show", e.id, "--db", s.path, "--json"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      REQUIRE(one_object(r.out));
      auto doc = parse_json(parser, r.out);
      CHECK(text_of(doc, "id") == e.id);
      CHECK(text_of(doc, "kind") == e.kind);
      CHECK_THAT(r.out, Catch::Contains(e.has));
    }
    const auto fix = run_selfheal({"show", "fix-1", "--db", s.path});
    CHECK(fix.exit_code == 0);
    CHECK_THAT(fix.out, Catch::StartsWith("fix-1 (fix, 2026-01-02T"));
    CHECK_THAT(fix.out, Catch::Contains("+fast_checkout()"));
    const auto val = run_selfheal({"show", "validation-1", "--db", s.path});
    CHECK_THAT(val.out, Catch::Contains("3 passed"));
    CHECK(run_selfheal({"show", "fix-9", "--db", s.path}).exit_code == 1);
  }
}

TEST_CASE("prune deletes old telemetry nobody refers to, in one transaction, never an audit row", "[cli][prune]") {
  full_store s(GENERATE(sh::test::store_backend::sqlite, sh::test::store_backend::postgresql));
  CAPTURE(s.path);
  std::int64_t audit_before = 0, records_before = 0;
  {
    auto db = sh::store::database::open(s.path);
    REQUIRE(db);
    audit_before = count(*db, "SELECT COUNT(*) FROM audit_log");
    records_before = count(*db, "SELECT COUNT(*) FROM records");
    REQUIRE(count(*db, "SELECT COUNT(*) FROM telemetry_window_metrics WHERE record_id = 'telemetry-3'") > 0);
  }
  const std::string now = "2026-01-13T00:00:00Z";  // telemetry-1..3 are 11 days old, telemetry-4 one day
  SECTION("nothing is old enough") {
    const auto r = run_selfheal({"prune", "--keep-days", "30", "--now", now, "--db", s.path, "--json"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("\"deleted\":[],\"rows\":0,\"kept\":[]"));
  }
  SECTION("old and unreferenced goes; referenced stays, with the reason") {
    const auto r = run_selfheal({"prune", "--keep-days", "5", "--now", now, "--db", s.path, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(one_object(r.out));
    CHECK_THAT(r.out, Catch::Contains("\"deleted\":[\"telemetry-3\"]"));
    CHECK_THAT(r.out, Catch::Contains("{\"id\":\"telemetry-1\",\"reason\":\"referenced by anomaly_baselines.source_records\"}"));
    CHECK_THAT(r.out, Catch::Contains("{\"id\":\"telemetry-2\",\"reason\":\"referenced by anomaly_runs.telemetry_record\"}"));
    CHECK_THAT(r.err, Catch::Contains("kept telemetry-1"));
    auto db = sh::store::database::open(s.path);
    REQUIRE(db);
    CHECK(count(*db, "SELECT COUNT(*) FROM records") == records_before - 1);
    CHECK(count(*db, "SELECT COUNT(*) FROM records WHERE id = 'telemetry-3'") == 0);
    for (const char* t : {"telemetry_runs", "telemetry_sources", "telemetry_window_metrics", "telemetry_releases",
                          "telemetry_error_samples", "telemetry_traces", "telemetry_paths"})
      CHECK(count(*db, std::string("SELECT COUNT(*) FROM ") + t + " WHERE record_id = 'telemetry-3'") == 0);
    CHECK(count(*db, "SELECT COUNT(*) FROM telemetry_window_metrics WHERE record_id = 'telemetry-1'") > 0);
    CHECK(count(*db, "SELECT COUNT(*) FROM audit_log") == audit_before + 1);  // one more, none less
    CHECK(count(*db, "SELECT COUNT(*) FROM audit_log WHERE action = 'prune' AND detail LIKE '%telemetry-3%'") == 1);
    // the store still works: the next parse resumes from telemetry-4's offsets, detect reads on
    sh::test::cli::write_shop_log(s.log, 34, 36);
    const auto next = run_selfheal({"parse", s.log.string(), "--db", s.path, "--json"});
    CHECK_THAT(next.out, Catch::Contains("\"record_id\":\"telemetry-5\""));
    CHECK_THAT(next.out, Catch::Contains("\"events\":160,"));
    CHECK(run_selfheal({"detect", "--db", s.path}).exit_code == 0);
    SECTION("pruning again deletes nothing more") {
      const auto again = run_selfheal({"prune", "--keep-days", "5", "--now", now, "--db", s.path, "--json"});
      CHECK_THAT(again.out, Catch::Contains("\"deleted\":[]"));
    }
  }
}

TEST_CASE("records, show and prune migrate a store of an older schema version", "[cli][records]") {
  sh::test::temp_dir d;
  const std::string path = (d.path() / "old.db").string();
  {
    auto db = sh::store::database::open(path);
    REQUIRE(db);
    // as a selfheal that knew only the first telemetry migration left it
    const auto first = std::span<const std::string_view>(sh::telemetry::telemetry_migrations).first(1);
    REQUIRE(sh::store::migrate(*db, "telemetry", first));
    sh::store::transaction tx(*db);
    auto id = sh::store::create_record(*db, "telemetry", at(day0_ns), std::nullopt, "120 events");
    REQUIRE(id);
    REQUIRE(db->exec("INSERT INTO telemetry_runs VALUES ('telemetry-1', 1, 60000000000, 1, 100, 120, 120, 0, 0, 0, 0, NULL, NULL)"));
    REQUIRE(tx.commit());
    REQUIRE(count(*db, "SELECT MAX(version) FROM schema_migrations WHERE component = 'telemetry'") == 1);
  }
  const auto list = run_selfheal({"records", "--db", path, "--json"});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("{\"id\":\"telemetry-1\",\"kind\":\"telemetry\",\"created\":\"2026-01-02T00:00:00.000Z\",\"parent\":null,\"summary\":\"120 events\"}"));
  const auto show = run_selfheal({"show", "telemetry-1", "--db", path, "--json"});
  INFO(show.err);
  CHECK(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::Contains("\"events\":120"));
  const auto prune = run_selfheal({"prune", "--keep-days", "0", "--db", path, "--json"});
  CHECK(prune.exit_code == 0);
  CHECK_THAT(prune.out, Catch::Contains("{\"id\":\"telemetry-1\",\"reason\":\"the newest telemetry record\"}"));
  auto db = sh::store::database::open(path);
  REQUIRE(db);
  CHECK(count(*db, "SELECT MAX(version) FROM schema_migrations WHERE component = 'telemetry'") ==
        static_cast<std::int64_t>(sh::telemetry::telemetry_migrations.size()));
}

TEST_CASE("records reads while another connection writes, and prune waits for it", "[cli][records]") {
  full_store s(GENERATE(sh::test::store_backend::sqlite, sh::test::store_backend::postgresql));
  CAPTURE(s.path);
  auto writer = sh::store::database::open(s.path);
  REQUIRE(writer);
  REQUIRE(writer->exec("BEGIN IMMEDIATE"));
  REQUIRE(sh::store::create_record(*writer, "heal", at(day0_ns + 11 * day_ns), std::nullopt, "uncommitted"));
  // a reader is not blocked, and sees only what was committed
  const auto r = run_selfheal({"records", "--db", s.path, "--json"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\"id\":\"telemetry-4\""));
  CHECK_THAT(r.out, !Catch::Contains("uncommitted"));
  // a writer waits on the lock (busy timeout) and goes on once it is released
  bool committed = false;  // Catch's macros are not for other threads: checked after join
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    committed = static_cast<bool>(writer->exec("COMMIT"));
  });
  const auto started = std::chrono::steady_clock::now();
  const auto p = run_selfheal({"prune", "--keep-days", "5", "--now", "2026-01-13T00:00:00Z", "--db", s.path, "--json"});
  const auto waited = std::chrono::steady_clock::now() - started;
  release.join();
  CHECK(committed);
  INFO(p.err);
  CHECK(p.exit_code == 0);
  CHECK_THAT(p.out, Catch::Contains("\"deleted\":[\"telemetry-3\"]"));
  CHECK(waited >= std::chrono::milliseconds(1000));
  const auto after = run_selfheal({"records", "--kind", "heal", "--db", s.path});
  CHECK_THAT(after.out, Catch::Contains("uncommitted"));
}
