#pragma once
/// \file
/// The telemetry tables of the SQLite store, how telemetry.parse writes them (one transaction per
/// run, one `records` row of kind "telemetry", id like "telemetry-3") and a small read API for the
/// domains that build on them (anomaly detection, diagnosis).
///
/// Schema (component "telemetry", migration 1; all times are UTC nanoseconds since the epoch,
/// durations integer nanoseconds unless the column says `_ms`):
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `telemetry_runs` | run (= record) | `record_id` → records(id), `started_at_ns`, `window_ns`, `files`, `bytes`, `events`, `executions`, `sequence_executions`, `bad_lines`, `unmatched_starts`, `out_of_order`, `first_event_ns`, `last_event_ns` (NULL when no event had a time) |
/// | `telemetry_sources` | source read by a run | `record_id`, `path`, `identity` ("dev:inode"), `format`, `size`, `mtime_ns`, `start_offset`, `end_offset` (the next run resumes here), `bytes`, `lines`, `events`, `bad_lines`, `head_hash` (FNV-1a of the first ≤64 bytes: rotation check), `note` |
/// | `telemetry_window_metrics` | (scope, name, window) | `record_id`, `scope` ('handler'\|'sequence'), `name`, `window_start_ns` (NULL: no timestamp), `window_ns`, `count` (executions), `errors`, `timed` (executions with a duration), `min_ns`, `max_ns`, `sum_ns` (NULL when timed = 0), `p50_ms`, `p95_ms`, `p99_ms` (from the sketch, for SQL readers), `sketch` (BLOB, `quantile_sketch::serialize`, mergeable across windows and runs) |
/// | `telemetry_releases` | (window, release) | `record_id`, `window_start_ns`, `release`, `first_seen_ns`, `last_seen_ns`, `count`: deploy markers |
/// | `telemetry_error_samples` | (handler, message) | `record_id`, `handler` ('' when none), `message` (≤512 bytes), `first_seen_ns`, `last_seen_ns`, `count` |
/// | `telemetry_paths` (migration 2) | (sequence, path) | `id`, `record_id`, `sequence`, `rest` (1: the executions of the paths beyond the per-sequence limit, no steps), `executions`, `failed`, `incomplete`, `first_ns`, `last_ns` (execution starts) |
/// | `telemetry_path_steps` (migration 2) | beat of a path | `path_id` → telemetry_paths(id), `position` (0-based), `beat`, `topic`, `handler` (as logged, '' when not) |
/// | `telemetry_traces` (migration 2) | run | `record_id`, `executions`, `incomplete`, `evicted`, `untraced_beats`, `carried`, `paths_replaced` (migration 4; see `traces.hpp`) |
/// | `telemetry_carried_starts` (migration 2) | start open at the end of a source | `record_id`, `identity` (of the source), `key` (joining-key hash, as a signed 64-bit integer), `ts_ns`: picked up by the run that resumes the source |
/// | `telemetry_carried_executions`, `telemetry_carried_steps` (migration 2) | execution open at the end of a source, its beats so far | `id`, `record_id`, `identity`, `key` (correlation hash), `sequence`, `first_ns`; `execution_id`, `position`, `beat`, `topic`, `handler`, `ts_ns` |
///
/// Read API: `latest_telemetry_record`, `load_run`, `load_window_metrics`, `load_error_samples`,
/// `load_releases`, `load_sources`, `last_source_state` (resume point of a path), `load_traces`. All return
/// `result<…>`; a record id that is not a telemetry record is `errc::not_found`.
///
/// \code
/// auto db = store::database::open("selfheal.db");
/// auto id = telemetry::latest_telemetry_record(*db);                 // "telemetry-3"
/// auto rows = telemetry::load_window_metrics(*db, *id);              // every (scope,name,window)
/// for (auto& m : *rows) if (m.scope == telemetry::metric_scope::handler)
///   use(m.name, m.window_start_ns, m.stats.count, m.stats.errors, m.stats.quantile_ms(0.95));
/// \endcode

#include <algorithm>
#include <array>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/metrics.hpp"
#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/source.hpp"

namespace selfheal::telemetry {

/// The record kind of telemetry.parse results.
inline constexpr std::string_view record_kind = "telemetry";

/// The telemetry migrations, in order. Append, never edit.
inline constexpr std::array<std::string_view, 5> telemetry_migrations = {R"sql(
CREATE TABLE telemetry_runs(
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  started_at_ns INTEGER NOT NULL,
  window_ns INTEGER NOT NULL,
  files INTEGER NOT NULL, bytes INTEGER NOT NULL, events INTEGER NOT NULL,
  executions INTEGER NOT NULL, sequence_executions INTEGER NOT NULL, bad_lines INTEGER NOT NULL,
  unmatched_starts INTEGER NOT NULL, out_of_order INTEGER NOT NULL,
  first_event_ns INTEGER, last_event_ns INTEGER);
CREATE TABLE telemetry_sources(
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  path TEXT NOT NULL, identity TEXT NOT NULL, format TEXT NOT NULL,
  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
  bytes INTEGER NOT NULL, lines INTEGER NOT NULL, events INTEGER NOT NULL, bad_lines INTEGER NOT NULL,
  head_hash TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '');
CREATE INDEX telemetry_sources_by_path ON telemetry_sources(path);
CREATE INDEX telemetry_sources_by_record ON telemetry_sources(record_id);
CREATE TABLE telemetry_window_metrics(
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  scope TEXT NOT NULL CHECK(scope IN ('handler', 'sequence')),
  name TEXT NOT NULL,
  window_start_ns INTEGER,
  window_ns INTEGER NOT NULL,
  count INTEGER NOT NULL, errors INTEGER NOT NULL, timed INTEGER NOT NULL,
  min_ns INTEGER, max_ns INTEGER, sum_ns INTEGER,
  p50_ms REAL, p95_ms REAL, p99_ms REAL,
  sketch BLOB NOT NULL);
CREATE INDEX telemetry_window_metrics_by_record ON telemetry_window_metrics(record_id, scope, name, window_start_ns);
CREATE TABLE telemetry_releases(
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  window_start_ns INTEGER, release TEXT NOT NULL,
  first_seen_ns INTEGER, last_seen_ns INTEGER, count INTEGER NOT NULL);
CREATE INDEX telemetry_releases_by_record ON telemetry_releases(record_id);
CREATE TABLE telemetry_error_samples(
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  handler TEXT NOT NULL, message TEXT NOT NULL,
  first_seen_ns INTEGER, last_seen_ns INTEGER, count INTEGER NOT NULL);
CREATE INDEX telemetry_error_samples_by_record ON telemetry_error_samples(record_id);
)sql", R"sql(
CREATE TABLE telemetry_traces(
  record_id TEXT PRIMARY KEY REFERENCES telemetry_runs(record_id),
  executions INTEGER NOT NULL, incomplete INTEGER NOT NULL, evicted INTEGER NOT NULL,
  untraced_beats INTEGER NOT NULL, carried INTEGER NOT NULL);
CREATE TABLE telemetry_paths(
  id INTEGER PRIMARY KEY,
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  sequence TEXT NOT NULL, rest INTEGER NOT NULL CHECK(rest IN (0, 1)),
  executions INTEGER NOT NULL, failed INTEGER NOT NULL, incomplete INTEGER NOT NULL,
  first_ns INTEGER, last_ns INTEGER);
CREATE INDEX telemetry_paths_by_record ON telemetry_paths(record_id, sequence);
CREATE TABLE telemetry_path_steps(
  path_id INTEGER NOT NULL REFERENCES telemetry_paths(id),
  position INTEGER NOT NULL, beat TEXT NOT NULL, topic TEXT NOT NULL, handler TEXT NOT NULL,
  PRIMARY KEY(path_id, position));
CREATE TABLE telemetry_carried_starts(
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  identity TEXT NOT NULL, key INTEGER NOT NULL, ts_ns INTEGER NOT NULL);
CREATE INDEX telemetry_carried_starts_by_source ON telemetry_carried_starts(record_id, identity);
CREATE TABLE telemetry_carried_executions(
  id INTEGER PRIMARY KEY,
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id),
  identity TEXT NOT NULL, key INTEGER NOT NULL, sequence TEXT NOT NULL, first_ns INTEGER);
CREATE INDEX telemetry_carried_executions_by_source ON telemetry_carried_executions(record_id, identity);
CREATE TABLE telemetry_carried_steps(
  execution_id INTEGER NOT NULL REFERENCES telemetry_carried_executions(id),
  position INTEGER NOT NULL, beat TEXT NOT NULL, topic TEXT NOT NULL, handler TEXT NOT NULL, ts_ns INTEGER,
  PRIMARY KEY(execution_id, position));
)sql", R"sql(
CREATE TABLE telemetry_source_states(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL, fingerprint_len INTEGER NOT NULL,
  identity TEXT NOT NULL, path TEXT NOT NULL, gzip INTEGER NOT NULL,
  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  end_offset INTEGER NOT NULL, lines INTEGER NOT NULL,
  record_id TEXT NOT NULL REFERENCES telemetry_runs(record_id));
CREATE INDEX telemetry_source_states_by_fingerprint ON telemetry_source_states(fingerprint_len, fingerprint);
)sql", R"sql(
ALTER TABLE telemetry_traces ADD COLUMN paths_replaced INTEGER NOT NULL DEFAULT 0;
)sql", R"sql(
-- Open starts were stored under std::hash of their joining key; the key is now selfheal's own
-- hash (normalize.hpp, make_key), so a start stored before could never be joined: dropped.
DELETE FROM telemetry_carried_starts;
)sql"};

/// Creates or upgrades the telemetry tables (idempotent).
[[nodiscard]] inline result<void> migrate_telemetry(store::database& db) {
  return store::migrate(db, "telemetry", std::span<const std::string_view>(telemetry_migrations));
}

/// One row of `telemetry_runs`.
struct telemetry_run {
  std::string record_id;
  std::int64_t started_at_ns = 0;
  std::int64_t window_ns = 0;
  std::uint64_t files = 0, bytes = 0, events = 0, executions = 0, sequence_executions = 0, bad_lines = 0;
  std::uint64_t unmatched_starts = 0, out_of_order = 0;
  std::int64_t first_event_ns = no_time;
  std::int64_t last_event_ns = no_time;
};

/// One row of `telemetry_sources`: where a source stood after a run.
struct stored_source {
  std::string record_id, path, identity, format;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t start_offset = 0, end_offset = 0, bytes = 0, lines = 0, events = 0, bad_lines = 0;
  std::string head_hash, note;
};

namespace detail {
template <class T>
tl::unexpected<error> pass(const result<T>& r) { return tl::unexpected(r.error()); }

inline void bind_time(store::statement& st, int i, std::int64_t t) {
  if (t == no_time) st.bind_null(i); else st.bind(i, t);
}
inline std::int64_t column_time(const store::statement& st, int col) {
  return st.is_null(col) ? no_time : st.column_int(col);
}
inline std::uint64_t column_u64(const store::statement& st, int col) {
  return static_cast<std::uint64_t>(st.column_int(col));
}
inline result<void> require_record(store::database& db, std::string_view record_id) {
  auto ok = store::record_exists(db, record_id, record_kind);
  if (!ok) return tl::unexpected(ok.error());
  if (!*ok) return fail(errc::not_found, "no telemetry record '" + std::string(record_id) + "' in the store");
  return {};
}
}  // namespace detail

namespace detail {
inline result<void> insert_paths(store::database& db, const std::string& id, std::span<const execution_path> paths);

inline result<void> store_traces(store::database& db, const std::string& id, const trace_summary& t) {
  auto run = db.prepare(
      "INSERT INTO telemetry_traces(record_id, executions, incomplete, evicted, untraced_beats, carried, paths_replaced) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7)");
  if (!run) return pass(run);
  run->bind(1, id).bind(2, t.executions).bind(3, t.incomplete).bind(4, t.evicted).bind(5, t.untraced_beats)
      .bind(6, t.carried).bind(7, t.paths_replaced);
  if (auto r = run->exec(); !r) return r;
  return insert_paths(db, id, t.paths);
}

/// Appends execution paths (and their steps) to record `id`.
inline result<void> insert_paths(store::database& db, const std::string& id, std::span<const execution_path> paths) {
  auto path = db.prepare(
      "INSERT INTO telemetry_paths(record_id, sequence, rest, executions, failed, incomplete, first_ns, last_ns) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  if (!path) return pass(path);
  auto step = db.prepare("INSERT INTO telemetry_path_steps(path_id, position, beat, topic, handler) VALUES (?1,?2,?3,?4,?5)");
  if (!step) return pass(step);
  for (const auto& p : paths) {
    path->bind(1, id).bind(2, p.sequence).bind(3, std::int64_t{p.rest}).bind(4, p.executions).bind(5, p.failed)
        .bind(6, p.incomplete);
    bind_time(*path, 7, p.first_ns);
    bind_time(*path, 8, p.last_ns);
    if (auto r = path->exec(); !r) return r;
    const std::int64_t path_id = db.last_insert_rowid();
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
      step->bind(1, path_id).bind(2, static_cast<std::int64_t>(i)).bind(3, p.steps[i].beat).bind(4, p.steps[i].topic)
          .bind(5, p.steps[i].handler);
      if (auto r = step->exec(); !r) return r;
    }
  }
  return {};
}

inline result<void> store_carried(store::database& db, const std::string& id, std::span<const source_result> sources) {
  auto start = db.prepare("INSERT INTO telemetry_carried_starts(record_id, identity, key, ts_ns) VALUES (?1,?2,?3,?4)");
  if (!start) return pass(start);
  auto exec = db.prepare(
      "INSERT INTO telemetry_carried_executions(record_id, identity, key, sequence, first_ns) VALUES (?1,?2,?3,?4,?5)");
  if (!exec) return pass(exec);
  auto step = db.prepare(
      "INSERT INTO telemetry_carried_steps(execution_id, position, beat, topic, handler, ts_ns) VALUES (?1,?2,?3,?4,?5,?6)");
  if (!step) return pass(step);
  for (const auto& s : sources) {
    for (const auto& [key, ts] : s.carried.open_starts) {
      start->bind(1, id).bind(2, s.plan.identity).bind(3, static_cast<std::int64_t>(key)).bind(4, ts);
      if (auto r = start->exec(); !r) return r;
    }
    for (const auto& x : s.carried.executions) {
      exec->bind(1, id).bind(2, s.plan.identity).bind(3, static_cast<std::int64_t>(x.key)).bind(4, x.sequence);
      bind_time(*exec, 5, x.first_ns);
      if (auto r = exec->exec(); !r) return r;
      const std::int64_t exec_id = db.last_insert_rowid();
      for (std::size_t i = 0; i < x.steps.size(); ++i) {
        const auto& [st, ts] = x.steps[i];
        step->bind(1, exec_id).bind(2, static_cast<std::int64_t>(i)).bind(3, st.beat).bind(4, st.topic).bind(5, st.handler);
        bind_time(*step, 6, ts);
        if (auto r = step->exec(); !r) return r;
      }
    }
  }
  return {};
}
}  // namespace detail

namespace detail {
/// Upserts the resume state of every source read (by content fingerprint; see `match_source_state`).
inline result<void> store_source_states(store::database& db, const std::string& id, std::span<const source_result> sources) {
  auto upd = db.prepare(
      "UPDATE telemetry_source_states SET fingerprint=?2, fingerprint_len=?3, identity=?4, path=?5, gzip=?6, size=?7, "
      "mtime_ns=?8, end_offset=?9, lines=?10, record_id=?11 WHERE id=?1");
  if (!upd) return pass(upd);
  auto ins = db.prepare(
      "INSERT INTO telemetry_source_states(fingerprint, fingerprint_len, identity, path, gzip, size, mtime_ns, "
      "end_offset, lines, record_id) VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  if (!ins) return pass(ins);
  for (const auto& s : sources) {
    const auto& p = s.plan;
    if (p.path == "-" || p.fingerprint_len == 0 || s.format == log_format::binary) continue;
    auto& st = p.state_id != 0 ? *upd : *ins;
    if (p.state_id != 0) st.bind(1, p.state_id);
    st.bind(2, p.fingerprint).bind(3, p.fingerprint_len).bind(4, p.identity).bind(5, p.path)
        .bind(6, std::int64_t{p.gzip}).bind(7, p.size).bind(8, p.mtime_ns).bind(9, s.end_offset).bind(10, s.lines)
        .bind(11, id);
    if (auto r = st.exec(); !r) return r;
  }
  return {};
}
}  // namespace detail

/// Writes one run inside the caller's write transaction (see `store_telemetry`); the telemetry
/// migrations must have run. Returns the record id.
[[nodiscard]] inline result<std::string> write_telemetry(store::database& db, const telemetry_aggregate& agg,
                                                         time_point started_at,
                                                         std::span<const std::string> head_hashes = {});

namespace detail {
/// The rows of an aggregate's windows (with their sketches), releases and error samples under
/// `record_id`: what `store_telemetry` writes for a run and the fleet's ingest appends per batch.
[[nodiscard]] inline result<void> insert_aggregate_rows(store::database& db, const std::string& record_id,
                                                        const telemetry_aggregate& agg) {
  auto win = db.prepare(
      "INSERT INTO telemetry_window_metrics(record_id, scope, name, window_start_ns, window_ns, count, errors, "
      "timed, min_ns, max_ns, sum_ns, p50_ms, p95_ms, p99_ms, sketch) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
  if (!win) return tl::unexpected(win.error());
  for (const auto& w : agg.windows) {
    const auto& st = w.stats;
    win->bind(1, record_id).bind(2, to_string(w.scope)).bind(3, w.name);
    bind_time(*win, 4, w.window_start_ns);
    win->bind(5, agg.window_ns).bind(6, st.count).bind(7, st.errors).bind(8, st.timed);
    if (st.timed) {
      win->bind(9, st.min_ns).bind(10, st.max_ns).bind(11, st.sum_ns)
          .bind(12, st.quantile_ms(0.5)).bind(13, st.quantile_ms(0.95)).bind(14, st.quantile_ms(0.99));
    } else {
      for (int c = 9; c <= 14; ++c) win->bind_null(c);
    }
    const std::string blob = st.sketch.serialize();
    win->bind_blob(15, std::as_bytes(std::span<const char>(blob.data(), blob.size())));
    if (auto r = win->exec(); !r) return r;
  }

  auto rel = db.prepare(
      "INSERT INTO telemetry_releases(record_id, window_start_ns, release, first_seen_ns, last_seen_ns, count) "
      "VALUES (?1,?2,?3,?4,?5,?6)");
  if (!rel) return tl::unexpected(rel.error());
  for (const auto& r : agg.releases) {
    rel->bind(1, record_id);
    bind_time(*rel, 2, r.window_start_ns);
    rel->bind(3, r.release);
    bind_time(*rel, 4, r.first_seen_ns);
    bind_time(*rel, 5, r.last_seen_ns);
    rel->bind(6, r.count);
    if (auto e = rel->exec(); !e) return e;
  }

  auto err = db.prepare(
      "INSERT INTO telemetry_error_samples(record_id, handler, message, first_seen_ns, last_seen_ns, count) "
      "VALUES (?1,?2,?3,?4,?5,?6)");
  if (!err) return tl::unexpected(err.error());
  for (const auto& e : agg.errors) {
    err->bind(1, record_id).bind(2, e.handler).bind(3, e.message);
    bind_time(*err, 4, e.first_seen_ns);
    bind_time(*err, 5, e.last_seen_ns);
    err->bind(6, e.count);
    if (auto r = err->exec(); !r) return r;
  }
  return {};
}
}  // namespace detail

/// Writes one run in one transaction: a `records` row, the run, its sources, windowed metrics,
/// releases and error samples. Returns the record id ("telemetry-N"). On error nothing is written.
[[nodiscard]] inline result<std::string> store_telemetry(store::database& db, const telemetry_aggregate& agg,
                                                         time_point started_at,
                                                         std::span<const std::string> head_hashes = {}) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  auto id = write_telemetry(db, agg, started_at, head_hashes);
  if (!id) return id;
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return id;
}

[[nodiscard]] inline result<std::string> write_telemetry(store::database& db, const telemetry_aggregate& agg,
                                                         time_point started_at,
                                                         std::span<const std::string> head_hashes) {
  const std::string summary = std::to_string(agg.events) + " events, " + std::to_string(agg.executions) +
                              " executions, " + std::to_string(agg.bad_lines) + " bad lines from " +
                              std::to_string(agg.sources.size()) + " sources";
  auto id = store::create_record(db, record_kind, started_at, std::nullopt, summary);
  if (!id) return id;
  const auto started_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(started_at.time_since_epoch()).count();

  auto run = db.prepare(
      "INSERT INTO telemetry_runs(record_id, started_at_ns, window_ns, files, bytes, events, executions, "
      "sequence_executions, bad_lines, unmatched_starts, out_of_order, first_event_ns, last_event_ns) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  if (!run) return detail::pass(run);
  run->bind(1, *id).bind(2, static_cast<std::int64_t>(started_ns)).bind(3, agg.window_ns)
      .bind(4, static_cast<std::uint64_t>(agg.sources.size())).bind(5, agg.bytes).bind(6, agg.events)
      .bind(7, agg.executions).bind(8, agg.sequence_executions).bind(9, agg.bad_lines)
      .bind(10, agg.unmatched_starts).bind(11, agg.out_of_order);
  detail::bind_time(*run, 12, agg.first_event_ns);
  detail::bind_time(*run, 13, agg.last_event_ns);
  if (auto r = run->exec(); !r) return tl::unexpected(r.error());

  auto src = db.prepare(
      "INSERT INTO telemetry_sources(record_id, path, identity, format, size, mtime_ns, start_offset, end_offset, "
      "bytes, lines, events, bad_lines, head_hash, note) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
  if (!src) return detail::pass(src);
  for (std::size_t i = 0; i < agg.sources.size(); ++i) {
    const auto& s = agg.sources[i];
    src->bind(1, *id).bind(2, s.plan.path).bind(3, s.plan.identity).bind(4, to_string(s.format))
        .bind(5, s.plan.size).bind(6, s.plan.mtime_ns).bind(7, s.plan.start_offset).bind(8, s.end_offset)
        .bind(9, s.bytes).bind(10, s.lines).bind(11, s.events).bind(12, s.bad_lines)
        .bind(13, i < head_hashes.size() ? head_hashes[i] : std::string())
        .bind(14, s.plan.note);
    if (auto r = src->exec(); !r) return tl::unexpected(r.error());
  }

  if (auto r = detail::insert_aggregate_rows(db, *id, agg); !r) return tl::unexpected(r.error());
  if (auto r = detail::store_traces(db, *id, agg.traces); !r) return tl::unexpected(r.error());
  if (auto r = detail::store_carried(db, *id, agg.sources); !r) return tl::unexpected(r.error());
  if (auto r = detail::store_source_states(db, *id, agg.sources); !r) return tl::unexpected(r.error());
  return id;
}

/// The newest telemetry record id, or `errc::not_found` ("the store has no telemetry record yet").
[[nodiscard]] inline result<std::string> latest_telemetry_record(store::database& db) {
  return store::latest_record(db, record_kind);
}

/// The run row of `record_id`.
[[nodiscard]] inline result<telemetry_run> load_run(store::database& db, std::string_view record_id) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto r = detail::require_record(db, record_id); !r) return tl::unexpected(r.error());
  auto st = db.prepare(
      "SELECT started_at_ns, window_ns, files, bytes, events, executions, sequence_executions, bad_lines, "
      "unmatched_starts, out_of_order, first_event_ns, last_event_ns FROM telemetry_runs WHERE record_id = ?1");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  auto row = st->step();
  if (!row) return detail::pass(row);
  if (!*row) return fail(errc::not_found, "telemetry record '" + std::string(record_id) + "' has no run row");
  telemetry_run r;
  r.record_id = std::string(record_id);
  r.started_at_ns = st->column_int(0);
  r.window_ns = st->column_int(1);
  r.files = detail::column_u64(*st, 2);
  r.bytes = detail::column_u64(*st, 3);
  r.events = detail::column_u64(*st, 4);
  r.executions = detail::column_u64(*st, 5);
  r.sequence_executions = detail::column_u64(*st, 6);
  r.bad_lines = detail::column_u64(*st, 7);
  r.unmatched_starts = detail::column_u64(*st, 8);
  r.out_of_order = detail::column_u64(*st, 9);
  r.first_event_ns = detail::column_time(*st, 10);
  r.last_event_ns = detail::column_time(*st, 11);
  return r;
}

/// Every windowed metric row of `record_id`, sorted by (scope, name, window); sketches restored, so
/// `m.stats.quantile_ms(q)` and `merge` work as before storing.
[[nodiscard]] inline result<std::vector<window_metric>> load_window_metrics(store::database& db,
                                                                            std::string_view record_id) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto r = detail::require_record(db, record_id); !r) return tl::unexpected(r.error());
  auto st = db.prepare(
      "SELECT scope, name, window_start_ns, count, errors, timed, min_ns, max_ns, sum_ns, sketch "
      "FROM telemetry_window_metrics WHERE record_id = ?1 "
      "ORDER BY scope, name, window_start_ns IS NOT NULL, window_start_ns");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  std::vector<window_metric> out;
  for (;;) {
    auto row = st->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    window_metric m;
    m.scope = st->column_text(0) == "sequence" ? metric_scope::sequence : metric_scope::handler;
    m.name = st->column_text(1);
    m.window_start_ns = detail::column_time(*st, 2);
    m.stats.count = detail::column_u64(*st, 3);
    m.stats.errors = detail::column_u64(*st, 4);
    m.stats.timed = detail::column_u64(*st, 5);
    if (m.stats.timed) {
      m.stats.min_ns = st->column_int(6);
      m.stats.max_ns = st->column_int(7);
      m.stats.sum_ns = st->column_int(8);
    }
    const auto blob = st->column_blob(9);
    auto sketch = quantile_sketch::deserialize(
        std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
    if (!sketch)
      return fail(errc::store_error, "telemetry record '" + std::string(record_id) + "': corrupt sketch for " + m.name);
    m.stats.sketch = std::move(*sketch);
    // Rows of the same (scope, name, window) are parts of one cell written by different batches
    // (`selfheal ingest` appends per batch): merged exactly, sketches included.
    if (!out.empty() && out.back().scope == m.scope && out.back().window_start_ns == m.window_start_ns &&
        out.back().name == m.name) {
      out.back().stats.merge(m.stats);
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

/// Error samples of `record_id`, sorted by count desc, then handler and message.
[[nodiscard]] inline result<std::vector<error_sample>> load_error_samples(store::database& db,
                                                                         std::string_view record_id) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto r = detail::require_record(db, record_id); !r) return tl::unexpected(r.error());
  auto st = db.prepare(
      "SELECT handler, message, MIN(first_seen_ns), MAX(last_seen_ns), SUM(count) AS n FROM telemetry_error_samples "
      "WHERE record_id = ?1 GROUP BY handler, message ORDER BY n DESC, handler, message");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  std::vector<error_sample> out;
  for (;;) {
    auto row = st->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    out.push_back({st->column_text(0), st->column_text(1), detail::column_time(*st, 2), detail::column_time(*st, 3),
                   detail::column_u64(*st, 4)});
  }
  return out;
}

namespace detail {
/// Folds rows of the same path (sequence, rest, steps) into one: a record that `selfheal ingest`
/// appends to holds one row per path per batch. Without duplicates the order is left as stored;
/// with them, the result is ordered by sequence, then executions (desc), then steps, `rest` last.
inline void merge_duplicate_paths(std::vector<execution_path>& paths) {
  auto key_less = [](const execution_path& a, const execution_path& b) {
    auto steps = [](const execution_path& p) {
      std::vector<std::tuple<std::string_view, std::string_view, std::string_view>> v;
      for (const auto& s : p.steps) v.emplace_back(s.beat, s.topic, s.handler);
      return v;
    };
    return std::tie(a.sequence, a.rest) < std::tie(b.sequence, b.rest) ||
           (std::tie(a.sequence, a.rest) == std::tie(b.sequence, b.rest) && steps(a) < steps(b));
  };
  auto same = [](const execution_path& a, const execution_path& b) {
    return a.sequence == b.sequence && a.rest == b.rest && a.steps == b.steps;
  };
  std::vector<execution_path> sorted = paths;
  std::stable_sort(sorted.begin(), sorted.end(), key_less);
  bool dup = false;
  for (std::size_t i = 1; i < sorted.size() && !dup; ++i) dup = same(sorted[i - 1], sorted[i]);
  if (!dup) return;
  std::vector<execution_path> out;
  for (auto& p : sorted) {
    if (!out.empty() && same(out.back(), p)) merge_counts(out.back(), p);
    else out.push_back(std::move(p));
  }
  std::stable_sort(out.begin(), out.end(), [](const execution_path& a, const execution_path& b) {
    if (a.sequence != b.sequence) return a.sequence < b.sequence;
    if (a.rest != b.rest) return !a.rest;
    return a.executions > b.executions;
  });
  paths = std::move(out);
}
}  // namespace detail

/// Execution paths of `record_id` in stored order (by sequence, then executions descending, the
/// `rest` row last), with the run's trace counters. A record written before paths were stored has
/// none (all counters 0).
[[nodiscard]] inline result<trace_summary> load_traces(store::database& db, std::string_view record_id) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto r = detail::require_record(db, record_id); !r) return tl::unexpected(r.error());
  trace_summary out;
  auto run = db.prepare(
      "SELECT executions, incomplete, evicted, untraced_beats, carried, paths_replaced FROM telemetry_traces WHERE record_id = ?1");
  if (!run) return detail::pass(run);
  run->bind(1, record_id);
  auto row = run->step();
  if (!row) return detail::pass(row);
  if (*row) {
    out.executions = detail::column_u64(*run, 0);
    out.incomplete = detail::column_u64(*run, 1);
    out.evicted = detail::column_u64(*run, 2);
    out.untraced_beats = detail::column_u64(*run, 3);
    out.carried = detail::column_u64(*run, 4);
    out.paths_replaced = detail::column_u64(*run, 5);
  }
  auto st = db.prepare(
      "SELECT p.id, p.sequence, p.rest, p.executions, p.failed, p.incomplete, p.first_ns, p.last_ns, "
      "s.beat, s.topic, s.handler FROM telemetry_paths p LEFT JOIN telemetry_path_steps s ON s.path_id = p.id "
      "WHERE p.record_id = ?1 ORDER BY p.id, s.position");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  std::int64_t current = -1;
  for (;;) {
    auto r = st->step();
    if (!r) return detail::pass(r);
    if (!*r) break;
    if (st->column_int(0) != current) {
      current = st->column_int(0);
      execution_path p;
      p.sequence = st->column_text(1);
      p.rest = st->column_int(2) != 0;
      p.executions = detail::column_u64(*st, 3);
      p.failed = detail::column_u64(*st, 4);
      p.incomplete = detail::column_u64(*st, 5);
      p.first_ns = detail::column_time(*st, 6);
      p.last_ns = detail::column_time(*st, 7);
      out.paths.push_back(std::move(p));
    }
    if (!st->is_null(8)) out.paths.back().steps.push_back({st->column_text(8), st->column_text(9), st->column_text(10)});
  }
  detail::merge_duplicate_paths(out.paths);
  return out;
}

/// What run `record_id` left open at the end of the source `identity` (for the run resuming it).
[[nodiscard]] inline result<carried_state> load_carried(store::database& db, std::string_view record_id,
                                                        std::string_view identity) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  carried_state out;
  auto st = db.prepare("SELECT key, ts_ns FROM telemetry_carried_starts WHERE record_id = ?1 AND identity = ?2 ORDER BY rowid");
  if (!st) return detail::pass(st);
  st->bind(1, record_id).bind(2, identity);
  for (;;) {
    auto r = st->step();
    if (!r) return detail::pass(r);
    if (!*r) break;
    out.open_starts.emplace_back(static_cast<std::uint64_t>(st->column_int(0)), st->column_int(1));
  }
  auto ex = db.prepare(
      "SELECT e.id, e.key, e.sequence, e.first_ns, s.beat, s.topic, s.handler, s.ts_ns FROM telemetry_carried_executions e "
      "LEFT JOIN telemetry_carried_steps s ON s.execution_id = e.id WHERE e.record_id = ?1 AND e.identity = ?2 "
      "ORDER BY e.id, s.position");
  if (!ex) return detail::pass(ex);
  ex->bind(1, record_id).bind(2, identity);
  std::int64_t current = -1;
  for (;;) {
    auto r = ex->step();
    if (!r) return detail::pass(r);
    if (!*r) break;
    if (ex->column_int(0) != current) {
      current = ex->column_int(0);
      out.executions.push_back({static_cast<std::uint64_t>(ex->column_int(1)), ex->column_text(2), detail::column_time(*ex, 3), {}});
    }
    if (!ex->is_null(4))
      out.executions.back().steps.push_back({{ex->column_text(4), ex->column_text(5), ex->column_text(6)}, detail::column_time(*ex, 7)});
  }
  return out;
}

/// Release (deploy) markers of `record_id`, sorted by window then release.
[[nodiscard]] inline result<std::vector<release_marker>> load_releases(store::database& db,
                                                                      std::string_view record_id) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto r = detail::require_record(db, record_id); !r) return tl::unexpected(r.error());
  auto st = db.prepare(
      "SELECT window_start_ns, release, MIN(first_seen_ns), MAX(last_seen_ns), SUM(count) FROM telemetry_releases "
      "WHERE record_id = ?1 GROUP BY window_start_ns, release ORDER BY window_start_ns IS NOT NULL, window_start_ns, release");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  std::vector<release_marker> out;
  for (;;) {
    auto row = st->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    out.push_back({detail::column_time(*st, 0), st->column_text(1), detail::column_time(*st, 2),
                   detail::column_time(*st, 3), detail::column_u64(*st, 4)});
  }
  return out;
}

namespace detail {
inline constexpr std::string_view source_columns =
    "record_id, path, identity, format, size, mtime_ns, start_offset, end_offset, bytes, lines, events, "
    "bad_lines, head_hash, note";
inline stored_source read_source(const store::statement& st) {
  stored_source s;
  s.record_id = st.column_text(0);
  s.path = st.column_text(1);
  s.identity = st.column_text(2);
  s.format = st.column_text(3);
  s.size = column_u64(st, 4);
  s.mtime_ns = st.column_int(5);
  s.start_offset = column_u64(st, 6);
  s.end_offset = column_u64(st, 7);
  s.bytes = column_u64(st, 8);
  s.lines = column_u64(st, 9);
  s.events = column_u64(st, 10);
  s.bad_lines = column_u64(st, 11);
  s.head_hash = st.column_text(12);
  s.note = st.column_text(13);
  return s;
}
}  // namespace detail

/// The sources read by `record_id`, in input order.
[[nodiscard]] inline result<std::vector<stored_source>> load_sources(store::database& db, std::string_view record_id) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  if (auto r = detail::require_record(db, record_id); !r) return tl::unexpected(r.error());
  auto st = db.prepare("SELECT " + std::string(detail::source_columns) +
                       " FROM telemetry_sources WHERE record_id = ?1 ORDER BY rowid");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  std::vector<stored_source> out;
  for (;;) {
    auto row = st->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    out.push_back(detail::read_source(*st));
  }
  return out;
}

/// Where the most recent run left `path` (its resume point), or nullopt if never read.
[[nodiscard]] inline result<std::optional<stored_source>> last_source_state(store::database& db, std::string_view path) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare("SELECT " + std::string(detail::source_columns) +
                       " FROM telemetry_sources WHERE path = ?1 ORDER BY rowid DESC LIMIT 1");
  if (!st) return detail::pass(st);
  st->bind(1, path);
  auto row = st->step();
  if (!row) return detail::pass(row);
  if (!*row) return std::optional<stored_source>{};
  return std::optional<stored_source>{detail::read_source(*st)};
}

/// The store's write lock held by one telemetry.parse run from the moment it reads the resume
/// points (beat 2) to the moment it writes the new ones (beat 6): one `BEGIN IMMEDIATE`
/// transaction, so concurrent runs on one store take turns and each line is counted once. Rolled
/// back when dropped uncommitted (a failed run writes nothing). Waits up to `wait` for another
/// writer, then fails with a clear error.
class write_lock {
 public:
  write_lock(const write_lock&) = delete;
  write_lock& operator=(const write_lock&) = delete;
  ~write_lock() {
    if (active_) static_cast<void>(db_->exec("ROLLBACK"));
  }

  [[nodiscard]] static result<std::shared_ptr<write_lock>> acquire(store::database& db, std::chrono::milliseconds wait) {
    db.set_busy_timeout(wait);
    auto r = db.exec("BEGIN IMMEDIATE");
    db.set_busy_timeout(store::default_busy_timeout);
    if (!r)
      return fail(errc::store_error, "the store stayed locked by another writer for " + std::to_string(wait.count() / 1000) +
                                         " s: " + r.error().detail);
    return std::shared_ptr<write_lock>(new write_lock(db));
  }
  [[nodiscard]] result<void> commit() {
    if (!active_) return fail(errc::store_error, "the write lock is no longer held");
    auto r = db_->exec("COMMIT");
    if (r) active_ = false;
    return r;
  }
  [[nodiscard]] store::database& db() const noexcept { return *db_; }

 private:
  explicit write_lock(store::database& db) : db_(&db) {}
  store::database* db_;
  bool active_ = true;
};

/// A source's resume state found by content (`telemetry_source_states`).
struct source_state {
  std::int64_t id = 0;
  std::string fingerprint;
  std::uint64_t fingerprint_len = 0;
  std::string identity, path, record_id;
  bool gzip = false;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t end_offset = 0, lines = 0;
};

/// The stored state of the source whose content starts with `prefix` (see `content_prefix`): a
/// state matches when the first `fingerprint_len` bytes of `prefix` hash to its fingerprint. The
/// longest matching fingerprint wins, then the same `identity` (device:inode), then the newest.
/// A match on fewer than 64 bytes counts only for the same identity (a short start is weak
/// evidence that two files are one). nullopt: a source never read.
[[nodiscard]] inline result<std::optional<source_state>> match_source_state(store::database& db, std::string_view prefix,
                                                                          std::string_view identity) {
  if (prefix.empty()) return std::optional<source_state>{};
  auto lens = db.prepare(
      "SELECT DISTINCT fingerprint_len FROM telemetry_source_states WHERE fingerprint_len <= ?1 "
      "ORDER BY fingerprint_len DESC");
  if (!lens) return detail::pass(lens);
  lens->bind(1, static_cast<std::uint64_t>(prefix.size()));
  std::vector<std::uint64_t> sizes;
  for (;;) {
    auto row = lens->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    sizes.push_back(detail::column_u64(*lens, 0));
  }
  auto st = db.prepare(
      "SELECT id, fingerprint, fingerprint_len, identity, path, record_id, gzip, size, mtime_ns, end_offset, lines "
      "FROM telemetry_source_states WHERE fingerprint_len = ?1 AND fingerprint = ?2 "
      "ORDER BY (identity = ?3) DESC, id DESC LIMIT 1");
  if (!st) return detail::pass(st);
  for (const auto n : sizes) {
    if (n == 0) continue;
    st->reset();
    st->bind(1, n).bind(2, fingerprint_of(prefix.substr(0, static_cast<std::size_t>(n)))).bind(3, identity);
    auto row = st->step();
    if (!row) return detail::pass(row);
    if (!*row) continue;
    source_state out;
    out.id = st->column_int(0);
    out.fingerprint = st->column_text(1);
    out.fingerprint_len = detail::column_u64(*st, 2);
    out.identity = st->column_text(3);
    out.path = st->column_text(4);
    out.record_id = st->column_text(5);
    out.gzip = st->column_int(6) != 0;
    out.size = detail::column_u64(*st, 7);
    out.mtime_ns = st->column_int(8);
    out.end_offset = detail::column_u64(*st, 9);
    out.lines = detail::column_u64(*st, 10);
    if (out.fingerprint_len < 64 && out.identity != identity) continue;
    return std::optional<source_state>{std::move(out)};
  }
  return std::optional<source_state>{};
}

/// Whether the store holds any content-keyed source state (stores written before it resume by path).
[[nodiscard]] inline result<bool> has_source_states(store::database& db) {
  auto st = db.prepare("SELECT EXISTS(SELECT 1 FROM telemetry_source_states)");
  if (!st) return detail::pass(st);
  auto row = st->step();
  if (!row) return detail::pass(row);
  return st->column_int(0) != 0;
}

/// The newest telemetry record with events, skipping ones without (a run that found only bad
/// lines, or a store written before runs with nothing new stopped making records); or
/// `errc::not_found`. For commands that pick "the latest data" by default.
[[nodiscard]] inline result<std::string> latest_nonempty_telemetry_record(store::database& db) {
  if (auto m = migrate_telemetry(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare(
      "SELECT r.id FROM records r JOIN telemetry_runs t ON t.record_id = r.id "
      "WHERE r.kind = 'telemetry' AND t.events > 0 ORDER BY r.seq DESC LIMIT 1");
  if (!st) return detail::pass(st);
  auto row = st->step();
  if (!row) return detail::pass(row);
  if (!*row) return fail(errc::not_found, "the store has no telemetry record with events yet");
  return st->column_text(0);
}

}  // namespace selfheal::telemetry
