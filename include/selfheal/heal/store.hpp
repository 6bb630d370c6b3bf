#pragma once
/// \file
/// The heal runs in the store (component "heal"). A run is a record of kind "heal"; each anomaly it
/// handles is one row whose step columns fill in order (diagnosis, fix, validation, deployment,
/// learning), each written right after that step's own record committed. A run whose status is
/// still `running` is resumed by the next `heal`.
///
/// | table | row | columns |
/// |---|---|---|
/// | `heal_runs` | run | `record_id`, `status` (running, healed, nothing_to_do, blocked, failed, dry_run), `rounds`, `baseline_record`, `started_ns`, `updated_ns` |
/// | `heal_anomalies` | anomaly of a run | `record_id`, `anomaly_id`, `handler`, `type`, `kind`, `description`, `onset_ns`, `detected_ns`, `healed_ns`, the five step record ids, `strategy`, `status`, `reason`, `story` |
/// | `heal_telemetry` | telemetry record a round parsed | `record_id`, `round`, `telemetry_record` |

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/heal/model.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"

namespace selfheal::heal {

inline constexpr std::array<std::string_view, 1> heal_migrations = {R"sql(
CREATE TABLE heal_runs(
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  status TEXT NOT NULL, rounds INTEGER NOT NULL DEFAULT 0, baseline_record TEXT NOT NULL DEFAULT '',
  started_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL);
CREATE TABLE heal_anomalies(
  record_id TEXT NOT NULL REFERENCES heal_runs(record_id), anomaly_id TEXT NOT NULL,
  handler TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL, description TEXT NOT NULL,
  onset_ns INTEGER NOT NULL, detected_ns INTEGER NOT NULL, healed_ns INTEGER NOT NULL DEFAULT 0,
  diagnosis TEXT NOT NULL DEFAULT '', fix TEXT NOT NULL DEFAULT '', validation TEXT NOT NULL DEFAULT '',
  deployment TEXT NOT NULL DEFAULT '', learning TEXT NOT NULL DEFAULT '', strategy TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', story TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(record_id, anomaly_id));
CREATE TABLE heal_telemetry(
  record_id TEXT NOT NULL REFERENCES heal_runs(record_id), round INTEGER NOT NULL, telemetry_record TEXT NOT NULL);
)sql"};

[[nodiscard]] inline result<void> migrate(store::database& db) {
  return store::migrate(db, "heal", std::span<const std::string_view>(heal_migrations));
}

namespace detail {
inline std::int64_t ns_of(time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
inline constexpr std::string_view anomaly_columns =
    "anomaly_id, handler, type, kind, description, onset_ns, detected_ns, healed_ns, diagnosis, fix, validation, "
    "deployment, learning, strategy, status, reason, story";

inline anomaly_progress read_anomaly(const store::statement& st, int c = 0) {
  anomaly_progress a;
  a.id = st.column_text(c + 0);
  a.handler = st.column_text(c + 1);
  a.type = st.column_text(c + 2);
  a.kind = st.column_text(c + 3);
  a.description = st.column_text(c + 4);
  a.onset_ns = st.column_int(c + 5);
  a.detected_ns = st.column_int(c + 6);
  a.healed_ns = st.column_int(c + 7);
  a.diagnosis = st.column_text(c + 8);
  a.fix = st.column_text(c + 9);
  a.validation = st.column_text(c + 10);
  a.deployment = st.column_text(c + 11);
  a.learning = st.column_text(c + 12);
  a.strategy = st.column_text(c + 13);
  a.status = st.column_text(c + 14);
  a.reason = st.column_text(c + 15);
  a.story = st.column_text(c + 16);
  return a;
}
}  // namespace detail

/// A new heal record and run row, in one transaction.
[[nodiscard]] inline result<std::string> create_run(store::database& db, time_point now) {
  if (auto m = migrate(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  auto id = store::create_record(db, "heal", now, std::nullopt, "heal run");
  if (!id) return id;
  auto st = db.prepare("INSERT INTO heal_runs(record_id, status, started_ns, updated_ns) VALUES (?1, 'running', ?2, ?2)");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, *id).bind(2, detail::ns_of(now));
  if (auto r = st->exec(); !r) return tl::unexpected(r.error());
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return id;
}

/// The latest run still `running` (killed before it finished), or nothing.
[[nodiscard]] inline result<std::optional<std::string>> open_run(store::database& db) {
  if (auto m = migrate(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare("SELECT record_id FROM heal_runs WHERE status IN ('running', 'blocked') ORDER BY started_ns DESC LIMIT 1");
  if (!st) return tl::unexpected(st.error());
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<std::string>{};
  return std::optional<std::string>{st->column_text(0)};
}

/// Loads a run: its status, rounds, baseline, telemetry records and anomalies.
[[nodiscard]] inline result<heal_report> load_run(store::database& db, std::string_view record_id) {
  if (auto m = migrate(db); !m) return tl::unexpected(m.error());
  heal_report r;
  auto st = db.prepare("SELECT status, rounds, baseline_record FROM heal_runs WHERE record_id = ?1");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, record_id);
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::not_found, "no heal run " + std::string(record_id));
  r.record_id = std::string(record_id);
  r.status = st->column_text(0);
  r.rounds = static_cast<unsigned>(st->column_int(1));
  r.baseline_record = st->column_text(2);
  auto t = db.prepare("SELECT telemetry_record FROM heal_telemetry WHERE record_id = ?1 ORDER BY rowid");
  if (!t) return tl::unexpected(t.error());
  t->bind(1, record_id);
  for (;;) {
    auto s = t->step();
    if (!s) return tl::unexpected(s.error());
    if (!*s) break;
    r.telemetry_records.push_back(t->column_text(0));
  }
  auto a = db.prepare("SELECT " + std::string(detail::anomaly_columns) +
                      " FROM heal_anomalies WHERE record_id = ?1 ORDER BY detected_ns, anomaly_id");
  if (!a) return tl::unexpected(a.error());
  a->bind(1, record_id);
  for (;;) {
    auto s = a->step();
    if (!s) return tl::unexpected(s.error());
    if (!*s) break;
    r.anomalies.push_back(detail::read_anomaly(*a));
  }
  return r;
}

/// Writes the run's status, rounds and baseline.
[[nodiscard]] inline result<void> save_run(store::database& db, const heal_report& r, time_point now) {
  auto st = db.prepare("UPDATE heal_runs SET status = ?2, rounds = ?3, baseline_record = ?4, updated_ns = ?5 WHERE record_id = ?1");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, r.record_id).bind(2, r.status).bind(3, static_cast<std::int64_t>(r.rounds)).bind(4, r.baseline_record)
      .bind(5, detail::ns_of(now));
  return st->exec();
}

[[nodiscard]] inline result<void> add_telemetry(store::database& db, std::string_view run, unsigned round,
                                                std::string_view telemetry_record) {
  auto st = db.prepare("INSERT INTO heal_telemetry(record_id, round, telemetry_record) VALUES (?1, ?2, ?3)");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, run).bind(2, static_cast<std::int64_t>(round)).bind(3, telemetry_record);
  return st->exec();
}

/// Inserts or replaces one anomaly's row (its steps so far).
[[nodiscard]] inline result<void> save_anomaly(store::database& db, std::string_view run, const anomaly_progress& a) {
  // INSERT … ON CONFLICT DO UPDATE: the one upsert SQLite and PostgreSQL both accept
  auto st = db.prepare("INSERT INTO heal_anomalies(record_id, " + std::string(detail::anomaly_columns) +
                       ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18) "
                       "ON CONFLICT(record_id, anomaly_id) DO UPDATE SET handler = excluded.handler, type = excluded.type, "
                       "kind = excluded.kind, description = excluded.description, onset_ns = excluded.onset_ns, "
                       "detected_ns = excluded.detected_ns, healed_ns = excluded.healed_ns, diagnosis = excluded.diagnosis, "
                       "fix = excluded.fix, validation = excluded.validation, deployment = excluded.deployment, "
                       "learning = excluded.learning, strategy = excluded.strategy, status = excluded.status, "
                       "reason = excluded.reason, story = excluded.story");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, run).bind(2, a.id).bind(3, a.handler).bind(4, a.type).bind(5, a.kind).bind(6, a.description)
      .bind(7, a.onset_ns).bind(8, a.detected_ns).bind(9, a.healed_ns).bind(10, a.diagnosis).bind(11, a.fix)
      .bind(12, a.validation).bind(13, a.deployment).bind(14, a.learning).bind(15, a.strategy).bind(16, a.status)
      .bind(17, a.reason).bind(18, a.story);
  return st->exec();
}

/// Every anomaly row of every run for `handler`, newest first: what was tried before, and whether
/// a heal of that handler is still under way.
[[nodiscard]] inline result<std::vector<anomaly_progress>> history_of(store::database& db, std::string_view handler) {
  if (auto m = migrate(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare("SELECT " + std::string(detail::anomaly_columns) +
                       " FROM heal_anomalies WHERE handler = ?1 ORDER BY detected_ns DESC");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, handler);
  std::vector<anomaly_progress> out;
  for (;;) {
    auto s = st->step();
    if (!s) return tl::unexpected(s.error());
    if (!*s) break;
    out.push_back(detail::read_anomaly(*st));
  }
  return out;
}

}  // namespace selfheal::heal
