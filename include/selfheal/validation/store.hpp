#pragma once
/// \file
/// The validation tables of the store (component "validation") and their one-transaction writer and
/// reader. deployment.deploy reads a report back with `load_validation`.
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `validation_runs` | report (= record "validation-N") | `record_id`, `fix_record`, `patch_id`, `base_commit`, `handler`, `anomaly_id`, `anomaly_type`, `strategy`, `diff`, `verdict`, `reasons` (\n-joined), the test counts, `tests_format`, `tests_attempts`, the headline performance numbers, `created_at_ns` |
/// | `validation_checks` | check | `record_id`, `idx`, `name`, `status`, `seconds`, `detail`, `output` (head and tail of what its commands printed) |
/// | `validation_tests` | failed or flaky test | `record_id`, `idx`, `kind` (failure/flaky), `name`, `message` |
/// | `validation_performance` | handler compared | `record_id`, `idx`, `handler`, `main_p50_ms`, `candidate_p50_ms`, `ratio`, `p_value`, `regression` |

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/validation/model.hpp"

namespace selfheal::validation {

inline constexpr std::string_view record_kind = "validation";

inline constexpr std::array<std::string_view, 1> validation_migrations = {R"sql(
  CREATE TABLE validation_runs(
    record_id TEXT PRIMARY KEY REFERENCES records(id), fix_record TEXT, patch_id TEXT, base_commit TEXT,
    handler TEXT, anomaly_id TEXT, anomaly_type TEXT, strategy TEXT, diff TEXT NOT NULL, verdict TEXT NOT NULL,
    reasons TEXT, tests_passed INTEGER, tests_failed INTEGER, tests_skipped INTEGER, tests_flaky INTEGER,
    tests_format TEXT, tests_attempts INTEGER, perf_handler TEXT, perf_main_p50_ms REAL,
    perf_candidate_p50_ms REAL, perf_ratio REAL, perf_p_value REAL, created_at_ns INTEGER NOT NULL);
  CREATE TABLE validation_checks(
    record_id TEXT NOT NULL REFERENCES validation_runs(record_id), idx INTEGER NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, seconds REAL, detail TEXT, output TEXT, PRIMARY KEY(record_id, idx));
  CREATE TABLE validation_tests(
    record_id TEXT NOT NULL REFERENCES validation_runs(record_id), idx INTEGER NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, message TEXT, PRIMARY KEY(record_id, idx));
  CREATE TABLE validation_performance(
    record_id TEXT NOT NULL REFERENCES validation_runs(record_id), idx INTEGER NOT NULL, handler TEXT NOT NULL,
    main_p50_ms REAL, candidate_p50_ms REAL, ratio REAL, p_value REAL, regression INTEGER NOT NULL,
    PRIMARY KEY(record_id, idx));
)sql"};

[[nodiscard]] inline result<void> migrate_validation(store::database& db) {
  return store::migrate(db, "validation", validation_migrations);
}

/// One transaction: a `records` row ("validation-N", parent = the fix record when the store has it),
/// the run, its checks, failed and flaky tests, and the handlers compared. Returns the record id;
/// on error nothing is written.
[[nodiscard]] inline result<std::string> store_validation(store::database& db, const report& r, time_point now) {
  if (auto m = migrate_validation(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  std::optional<std::string_view> parent;
  if (!r.fix_record.empty()) {
    auto exists = store::record_exists(db, r.fix_record);
    if (!exists) return tl::unexpected(exists.error());
    if (*exists) parent = r.fix_record;
  }
  const std::string summary = r.verdict + " " + (r.patch_id.empty() ? std::string("patch") : r.patch_id);
  auto id = store::create_record(db, record_kind, now, parent, summary);
  if (!id) return tl::unexpected(id.error());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  auto run = db.prepare(
      "INSERT INTO validation_runs(record_id, fix_record, patch_id, base_commit, handler, anomaly_id, anomaly_type, "
      "strategy, diff, verdict, reasons, tests_passed, tests_failed, tests_skipped, tests_flaky, tests_format, "
      "tests_attempts, perf_handler, perf_main_p50_ms, perf_candidate_p50_ms, perf_ratio, perf_p_value, created_at_ns) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23)");
  if (!run) return tl::unexpected(run.error());
  const auto& t = r.tests;
  const auto& p = r.performance;
  run->bind(1, *id).bind(2, r.fix_record).bind(3, r.patch_id).bind(4, r.base_commit).bind(5, r.handler)
      .bind(6, r.anomaly_id).bind(7, r.anomaly_type).bind(8, r.strategy).bind(9, r.diff).bind(10, r.verdict)
      .bind(11, store::join_nl(r.reasons)).bind(12, static_cast<std::int64_t>(t.passed))
      .bind(13, static_cast<std::int64_t>(t.failed)).bind(14, static_cast<std::int64_t>(t.skipped))
      .bind(15, static_cast<std::int64_t>(t.flaky)).bind(16, t.format).bind(17, static_cast<std::int64_t>(t.attempts))
      .bind(18, p.handler).bind(19, p.main_p50_ms).bind(20, p.candidate_p50_ms).bind(21, p.ratio).bind(22, p.p_value)
      .bind(23, static_cast<std::int64_t>(ns));
  if (auto e = run->exec(); !e) return tl::unexpected(e.error());
  auto ck = db.prepare("INSERT INTO validation_checks(record_id, idx, name, status, seconds, detail, output) "
                       "VALUES (?1,?2,?3,?4,?5,?6,?7)");
  if (!ck) return tl::unexpected(ck.error());
  for (std::size_t i = 0; i < r.checks.size(); ++i) {
    const auto& c = r.checks[i];
    ck->bind(1, *id).bind(2, static_cast<std::int64_t>(i)).bind(3, c.name).bind(4, c.status).bind(5, c.seconds)
        .bind(6, c.detail).bind(7, c.output);
    if (auto e = ck->exec(); !e) return tl::unexpected(e.error());
  }
  auto ts = db.prepare("INSERT INTO validation_tests(record_id, idx, kind, name, message) VALUES (?1,?2,?3,?4,?5)");
  if (!ts) return tl::unexpected(ts.error());
  std::int64_t idx = 0;
  for (const auto& f : t.failures) {
    ts->bind(1, *id).bind(2, idx++).bind(3, "failure").bind(4, f.name).bind(5, f.message);
    if (auto e = ts->exec(); !e) return tl::unexpected(e.error());
  }
  for (const auto& f : t.flaky_tests) {
    ts->bind(1, *id).bind(2, idx++).bind(3, "flaky").bind(4, f).bind(5, "");
    if (auto e = ts->exec(); !e) return tl::unexpected(e.error());
  }
  auto pf = db.prepare("INSERT INTO validation_performance(record_id, idx, handler, main_p50_ms, candidate_p50_ms, "
                       "ratio, p_value, regression) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  if (!pf) return tl::unexpected(pf.error());
  for (std::size_t i = 0; i < p.handlers.size(); ++i) {
    const auto& h = p.handlers[i];
    const bool regression = std::find(p.regressions.begin(), p.regressions.end(), h.handler) != p.regressions.end();
    pf->bind(1, *id).bind(2, static_cast<std::int64_t>(i)).bind(3, h.handler).bind(4, h.main_p50_ms)
        .bind(5, h.candidate_p50_ms).bind(6, h.ratio).bind(7, h.p_value).bind(8, regression ? 1 : 0);
    if (auto e = pf->exec(); !e) return tl::unexpected(e.error());
  }
  if (auto c = tx.commit(); !c) return tl::unexpected(c.error());
  return *id;
}

/// The stored report `id` ("validation-4"); an empty id reads the latest. `errc::not_found` when the
/// store has no such validation.
[[nodiscard]] inline result<report> load_validation(store::database& db, std::string_view id) {
  if (auto m = migrate_validation(db); !m) return tl::unexpected(m.error());
  std::string rid(id);
  if (rid.empty()) {
    auto latest = store::latest_record(db, record_kind);
    if (!latest) return tl::unexpected(latest.error());
    rid = *latest;
  }
  const auto by_record = [&](store::statement& q) { q.bind(1, rid); };
  auto run = db.query_one(
      "SELECT fix_record, patch_id, base_commit, handler, anomaly_id, anomaly_type, strategy, diff, verdict, reasons, "
      "tests_passed, tests_failed, tests_skipped, tests_flaky, tests_format, tests_attempts, perf_handler, "
      "perf_main_p50_ms, perf_candidate_p50_ms, perf_ratio, perf_p_value FROM validation_runs WHERE record_id = ?1",
      by_record, [&](const store::statement& row) {
        report r;
        r.record_id = rid;
        r.fix_record = row.column_text(0);
        r.patch_id = row.column_text(1);
        r.base_commit = row.column_text(2);
        r.handler = row.column_text(3);
        r.anomaly_id = row.column_text(4);
        r.anomaly_type = row.column_text(5);
        r.strategy = row.column_text(6);
        r.diff = row.column_text(7);
        r.verdict = row.column_text(8);
        r.reasons = store::split_nl(row.column_text(9));
        r.tests.passed = static_cast<std::size_t>(row.column_int(10));
        r.tests.failed = static_cast<std::size_t>(row.column_int(11));
        r.tests.skipped = static_cast<std::size_t>(row.column_int(12));
        r.tests.flaky = static_cast<std::size_t>(row.column_int(13));
        r.tests.format = row.column_text(14);
        r.tests.attempts = static_cast<std::size_t>(row.column_int(15));
        r.performance.handler = row.column_text(16);
        r.performance.main_p50_ms = row.column_double(17);
        r.performance.candidate_p50_ms = row.column_double(18);
        r.performance.ratio = row.column_double(19);
        r.performance.p_value = row.column_double(20);
        return r;
      });
  if (!run) return tl::unexpected(run.error());
  if (!*run) return fail(errc::not_found, "the store has no validation record '" + rid + "' (run `selfheal validate`)");
  report& r = **run;
  auto checks = db.each("SELECT name, status, seconds, detail, output FROM validation_checks WHERE record_id = ?1 ORDER BY idx", by_record,
                        [&](const store::statement& ck) {
                          r.checks.push_back({ck.column_text(0), ck.column_text(1), ck.column_double(2), ck.column_text(3), ck.column_text(4)});
                        });
  if (!checks) return tl::unexpected(checks.error());
  auto tests = db.each("SELECT kind, name, message FROM validation_tests WHERE record_id = ?1 ORDER BY idx", by_record,
                       [&](const store::statement& ts) {
                         if (ts.column_text(0) == "flaky") r.tests.flaky_tests.push_back(ts.column_text(1));
                         else r.tests.failures.push_back({ts.column_text(1), ts.column_text(2)});
                       });
  if (!tests) return tl::unexpected(tests.error());
  auto perf = db.each("SELECT handler, main_p50_ms, candidate_p50_ms, ratio, p_value, regression "
                      "FROM validation_performance WHERE record_id = ?1 ORDER BY idx",
                      by_record, [&](const store::statement& pf) {
                        handler_comparison h{pf.column_text(0), pf.column_double(1), pf.column_double(2), pf.column_double(3),
                                             pf.column_double(4)};
                        if (pf.column_int(5) != 0) r.performance.regressions.push_back(h.handler);
                        r.performance.handlers.push_back(std::move(h));
                      });
  if (!perf) return tl::unexpected(perf.error());
  return std::move(r);
}

}  // namespace selfheal::validation
