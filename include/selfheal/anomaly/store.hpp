#pragma once
/// \file
/// The anomaly tables of the SQLite store (component "anomaly"), how baselines and detection runs
/// are written (one transaction each, one `records` row of kind "baseline" / "anomaly") and read,
/// and the loader that turns telemetry.parse's stored windowed metrics into window series.
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `anomaly_baselines` | baseline (= record) | `record_id`, `created_at_ns`, `from_ns`, `until_ns`, `window_ns`, `period_windows`, `source_records` (space-separated telemetry ids), `handlers`, `low_confidence`, `total_samples` |
/// | `anomaly_baseline_handlers` | (baseline, scope, name) | `scope` ('handler' or 'sequence': whole-sequence executions), counts, overall p50/p95/p99, median+MAD of per-window p50, p95, error rate, calls; `confidence`, `low_confidence`; the per-window values (`window_p50`, `window_p95`, `window_counts`: space-separated numbers); `latency_sketch` (BLOB, `quantile_sketch::serialize` of every duration of the period; NULL before migration 2) |
/// | `anomaly_baseline_errors` | (baseline, handler, message) | the period's error messages and counts (re-mined at detection) |
/// | `anomaly_runs` | detection (= record) | `record_id`, `created_at_ns`, `telemetry_record`, `baseline_record`, `anomalies`, `notes` (warnings: bad definition files, lcov lines skipped) |
/// | `anomaly_results` | anomaly | `record_id`, `rank`, `anomaly_id`, `type`, `kind`, `kinds`, `handler`, `sequence`, `severity`, `confidence`, `score`, `onset_ns`, `description`, `evidence` (JSON) |

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/store.hpp"

namespace selfheal::anomaly {

inline constexpr std::string_view baseline_record_kind = "baseline";
inline constexpr std::string_view anomaly_record_kind = "anomaly";

/// The anomaly migrations, in order. Append, never edit.
inline constexpr std::array<std::string_view, 2> anomaly_migrations = {R"sql(
CREATE TABLE anomaly_baselines(
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  created_at_ns INTEGER NOT NULL, from_ns INTEGER, until_ns INTEGER,
  window_ns INTEGER NOT NULL, period_windows INTEGER NOT NULL,
  source_records TEXT NOT NULL, handlers INTEGER NOT NULL, low_confidence INTEGER NOT NULL,
  total_samples INTEGER NOT NULL);
CREATE TABLE anomaly_baseline_handlers(
  record_id TEXT NOT NULL REFERENCES anomaly_baselines(record_id),
  scope TEXT NOT NULL CHECK(scope IN ('handler', 'sequence')),
  handler TEXT NOT NULL, sequence TEXT NOT NULL,
  samples INTEGER NOT NULL, errors INTEGER NOT NULL, windows INTEGER NOT NULL,
  p50_ms REAL NOT NULL, p95_ms REAL NOT NULL, p99_ms REAL NOT NULL,
  p50_median REAL NOT NULL, p50_mad REAL NOT NULL, p50_n INTEGER NOT NULL,
  p95_median REAL NOT NULL, p95_mad REAL NOT NULL, p95_n INTEGER NOT NULL,
  error_rate_median REAL NOT NULL, error_rate_mad REAL NOT NULL,
  rate_median REAL NOT NULL, rate_mad REAL NOT NULL,
  confidence REAL NOT NULL, low_confidence INTEGER NOT NULL,
  window_p50 TEXT NOT NULL, window_p95 TEXT NOT NULL, window_counts TEXT NOT NULL,
  PRIMARY KEY(record_id, scope, handler));
CREATE TABLE anomaly_baseline_errors(
  record_id TEXT NOT NULL REFERENCES anomaly_baselines(record_id),
  handler TEXT NOT NULL, message TEXT NOT NULL, count INTEGER NOT NULL,
  first_seen_ns INTEGER, last_seen_ns INTEGER);
CREATE INDEX anomaly_baseline_errors_by_record ON anomaly_baseline_errors(record_id);
CREATE TABLE anomaly_runs(
  record_id TEXT PRIMARY KEY REFERENCES records(id),
  created_at_ns INTEGER NOT NULL, telemetry_record TEXT NOT NULL, baseline_record TEXT NOT NULL,
  anomalies INTEGER NOT NULL, notes TEXT NOT NULL DEFAULT '');
CREATE TABLE anomaly_results(
  record_id TEXT NOT NULL REFERENCES anomaly_runs(record_id),
  rank INTEGER NOT NULL, anomaly_id TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
  kinds TEXT NOT NULL, handler TEXT NOT NULL, sequence TEXT NOT NULL, severity TEXT NOT NULL,
  confidence REAL NOT NULL, score REAL NOT NULL, onset_ns INTEGER, description TEXT NOT NULL,
  evidence TEXT NOT NULL,
  PRIMARY KEY(record_id, rank));
)sql",
                                                                        R"sql(
ALTER TABLE anomaly_baseline_handlers ADD COLUMN latency_sketch BLOB;
)sql"};

[[nodiscard]] inline result<void> migrate_anomaly(store::database& db) {
  if (auto t = telemetry::migrate_telemetry(db); !t) return t;
  return store::migrate(db, "anomaly", std::span<const std::string_view>(anomaly_migrations));
}

namespace detail {
inline std::string join_numbers(std::span<const double> xs) {
  std::string out;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i) out.push_back(' ');
    fmt::format_to(std::back_inserter(out), "{:.17g}", xs[i]);
  }
  return out;
}
inline std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}
inline std::vector<double> split_numbers(const std::string& s) {
  std::vector<double> out;
  const char* p = s.c_str();
  char* end = nullptr;
  for (;;) {
    const double v = std::strtod(p, &end);
    if (end == p) break;
    out.push_back(v);
    p = end;
  }
  return out;
}
template <class T>
tl::unexpected<error> pass(const result<T>& r) { return tl::unexpected(r.error()); }
inline void bind_time(store::statement& st, int i, std::int64_t t) {
  if (t == no_time_ns) st.bind_null(i); else st.bind(i, t);
}
inline std::int64_t column_time(const store::statement& st, int col) {
  return st.is_null(col) ? no_time_ns : st.column_int(col);
}
inline std::int64_t to_ns(time_point t) {
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
}  // namespace detail

// ---- reading telemetry ---------------------------------------------------------------------------

/// What to read from telemetry: records (all of them when empty and no period is given: the
/// latest), optionally restricted to windows starting in [since, until).
struct telemetry_selection {
  std::vector<std::string> records;
  std::int64_t since_ns = no_time_ns;
  std::int64_t until_ns = no_time_ns;
};

/// Telemetry records of a selection: the given ones (each must exist), or every telemetry record
/// when a period is given, or the latest one.
[[nodiscard]] inline result<std::vector<std::string>> resolve_records(store::database& db, const telemetry_selection& sel) {
  if (!sel.records.empty()) {
    for (const auto& r : sel.records) {
      auto ok = store::record_exists(db, r, telemetry::record_kind);
      if (!ok) return detail::pass(ok);
      if (!*ok) return fail(errc::not_found, "no telemetry record '" + r + "' in the store (see `selfheal parse`)");
    }
    return sel.records;
  }
  if (sel.since_ns != no_time_ns || sel.until_ns != no_time_ns) {
    auto st = db.prepare("SELECT id FROM records WHERE kind = ?1 ORDER BY seq");
    if (!st) return detail::pass(st);
    st->bind(1, telemetry::record_kind);
    std::vector<std::string> out;
    for (;;) {
      auto row = st->step();
      if (!row) return detail::pass(row);
      if (!*row) break;
      out.push_back(st->column_text(0));
    }
    if (out.empty()) return fail(errc::not_found, "the store has no telemetry record yet: run `selfheal parse LOGS` first");
    return out;
  }
  auto latest = telemetry::latest_telemetry_record(db);
  if (!latest) return fail(errc::not_found, "the store has no telemetry record yet: run `selfheal parse LOGS` first");
  return std::vector<std::string>{*latest};
}

/// The execution paths telemetry.parse stored for `records` (see `telemetry/traces.hpp`), the
/// same path of several records summed into one.
[[nodiscard]] inline result<std::vector<execution_path>> load_paths(store::database& db, std::span<const std::string> records) {
  std::map<std::tuple<std::string, bool, std::vector<path_step>>, execution_path> merged;
  std::vector<execution_path> out;
  for (const auto& r : records) {
    auto t = telemetry::load_traces(db, r);
    if (!t) return detail::pass(t);
    for (auto& p : t->paths) {
      auto [it, fresh] = merged.try_emplace({p.sequence, p.rest, p.steps});
      auto& m = it->second;
      if (fresh) {
        m = std::move(p);
        continue;
      }
      telemetry::merge_counts(m, p);
    }
  }
  out.reserve(merged.size());
  for (auto& [k, p] : merged) out.push_back(std::move(p));
  return out;
}

/// Loads handler window series (sketches of the same handler and window merged exactly across
/// records; overall quantiles from the merged sketch of all its windows), error samples and
/// execution paths (whole records: a --since/--until period cuts windows and errors, not paths).
/// A handler's `sequence` is the one sequence its paths run it in (empty when none or several).
[[nodiscard]] inline result<telemetry_data> load_telemetry(store::database& db, const telemetry_selection& sel) {
  auto records = resolve_records(db, sel);
  if (!records) return detail::pass(records);
  telemetry_data out;
  std::map<std::string, std::map<std::int64_t, telemetry::metric_stats>> by_handler, by_sequence;
  std::map<std::pair<std::string, std::string>, error_sample> errors;
  std::int64_t window_ns = 0;
  for (const auto& id : *records) {
    auto run = telemetry::load_run(db, id);
    if (!run) return detail::pass(run);
    if (window_ns == 0) window_ns = run->window_ns;
    else if (run->window_ns != window_ns)
      return fail(errc::invalid_request, "telemetry records " + records->front() + " and " + id +
                                             " use different windows; parse them with the same --window");
    auto rows = telemetry::load_window_metrics(db, id);
    if (!rows) return detail::pass(rows);
    for (auto& m : *rows) {
      if (m.window_start_ns == telemetry::no_time) continue;
      if (sel.since_ns != no_time_ns && m.window_start_ns < sel.since_ns) continue;
      if (sel.until_ns != no_time_ns && m.window_start_ns >= sel.until_ns) continue;
      auto& dst = m.scope == telemetry::metric_scope::handler ? by_handler : by_sequence;
      dst[m.name][m.window_start_ns].merge(m.stats);
    }
    auto samples = telemetry::load_error_samples(db, id);
    if (!samples) return detail::pass(samples);
    for (const auto& e : *samples) {
      if (sel.since_ns != no_time_ns && e.last_seen_ns != telemetry::no_time && e.last_seen_ns < sel.since_ns) continue;
      if (sel.until_ns != no_time_ns && e.first_seen_ns != telemetry::no_time && e.first_seen_ns >= sel.until_ns) continue;
      auto [it, fresh] = errors.try_emplace({e.handler, e.message});
      auto& dst = it->second;
      if (fresh) {
        dst.handler = e.handler;
        dst.message = e.message;
        dst.count = 0;
        dst.first_seen_ns = e.first_seen_ns;
        dst.last_seen_ns = e.last_seen_ns;
      } else {
        dst.first_seen_ns = telemetry::earliest(dst.first_seen_ns, e.first_seen_ns);
        dst.last_seen_ns = telemetry::latest(dst.last_seen_ns, e.last_seen_ns);
      }
      dst.count += e.count;
    }
  }
  for (std::size_t i = 0; i < records->size(); ++i) out.record_id += (i ? "+" : "") + (*records)[i];
  out.window_ns = window_ns > 0 ? window_ns : 60'000'000'000;
  const auto to_series = [](const std::string& name, std::map<std::int64_t, telemetry::metric_stats>& windows) {
    handler_series s;
    s.handler = name;
    telemetry::metric_stats all;
    for (auto& [start, st] : windows) {
      window_point w;
      w.start_ns = start;
      w.count = st.count;
      w.errors = st.errors;
      if (st.timed) {
        w.p50_ms = st.quantile_ms(0.5);
        w.p95_ms = st.quantile_ms(0.95);
        w.p99_ms = st.quantile_ms(0.99);
      }
      all.merge(st);
      s.windows.push_back(w);
    }
    if (all.timed) s.overall = overall_quantiles{all.quantile_ms(0.5), all.quantile_ms(0.95), all.quantile_ms(0.99)};
    s.latency = std::move(all.sketch);
    return s;
  };
  for (auto& [name, windows] : by_handler) out.handlers.push_back(to_series(name, windows));
  for (auto& [name, windows] : by_sequence) {
    out.sequences.push_back(to_series(name, windows));
    out.sequences.back().sequence = name;
  }
  for (auto& [key, e] : errors) out.errors.push_back(std::move(e));
  auto paths = load_paths(db, *records);
  if (!paths) return detail::pass(paths);
  out.paths = std::move(*paths);
  // A handler's sequence, when the execution paths place it in exactly one.
  std::map<std::string_view, std::string_view> sequence_of;
  for (const auto& p : out.paths)
    for (const auto& st : p.steps) {
      if (st.handler.empty()) continue;
      auto [it, fresh] = sequence_of.emplace(st.handler, p.sequence);
      if (!fresh && it->second != p.sequence) it->second = {};  // in several: name none
    }
  for (auto& h : out.handlers)
    if (h.sequence.empty())
      if (auto it = sequence_of.find(h.handler); it != sequence_of.end()) h.sequence = std::string(it->second);
  return out;
}

// ---- baselines -----------------------------------------------------------------------------------

/// Writes a baseline inside the caller's transaction (the tables must be migrated: `migrate_anomaly`);
/// returns its id ("baseline-N"). learning.track stores a refreshed baseline with its own record this way.
[[nodiscard]] inline result<std::string> write_baseline_record(store::database& db, const baseline& b, time_point now) {
  std::size_t low = 0;
  for (const auto& h : b.handlers) low += h.low_confidence ? 1u : 0u;
  std::string sources;
  for (const auto& r : b.records) sources += (sources.empty() ? "" : " ") + r;
  const std::string summary = std::to_string(b.handlers.size()) + " handlers, " + std::to_string(b.period_windows) +
                              " windows, " + std::to_string(low) + " low-confidence";
  std::optional<std::string_view> parent;
  if (b.records.size() == 1) parent = b.records.front();
  auto id = store::create_record(db, baseline_record_kind, now, parent, summary);
  if (!id) return id;
  auto st = db.prepare(
      "INSERT INTO anomaly_baselines(record_id, created_at_ns, from_ns, until_ns, window_ns, period_windows, "
      "source_records, handlers, low_confidence, total_samples) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  if (!st) return detail::pass(st);
  st->bind(1, *id).bind(2, detail::to_ns(now));
  detail::bind_time(*st, 3, b.from_ns);
  detail::bind_time(*st, 4, b.until_ns);
  st->bind(5, b.window_ns).bind(6, static_cast<std::uint64_t>(b.period_windows)).bind(7, sources)
      .bind(8, static_cast<std::uint64_t>(b.handlers.size())).bind(9, static_cast<std::uint64_t>(low)).bind(10, b.total_samples);
  if (auto r = st->exec(); !r) return tl::unexpected(r.error());
  auto hs = db.prepare(
      "INSERT INTO anomaly_baseline_handlers(record_id, handler, sequence, samples, errors, windows, p50_ms, p95_ms, "
      "p99_ms, p50_median, p50_mad, p50_n, p95_median, p95_mad, p95_n, error_rate_median, error_rate_mad, rate_median, "
      "rate_mad, confidence, low_confidence, window_p50, window_p95, window_counts, scope, latency_sketch) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26)");
  if (!hs) return detail::pass(hs);
  const auto write_row = [&](const handler_baseline& h, std::string_view scope) -> result<void> {
    hs->bind(25, scope);
    if (h.latency.empty()) hs->bind_null(26);
    else {
      const std::string blob = h.latency.serialize();
      hs->bind_blob(26, std::as_bytes(std::span<const char>(blob.data(), blob.size())));
    }
    hs->bind(1, *id).bind(2, h.handler).bind(3, h.sequence).bind(4, h.samples).bind(5, h.errors)
        .bind(6, static_cast<std::uint64_t>(h.windows)).bind(7, h.p50_ms).bind(8, h.p95_ms).bind(9, h.p99_ms)
        .bind(10, h.p50_windows.median).bind(11, h.p50_windows.mad).bind(12, static_cast<std::uint64_t>(h.p50_windows.n))
        .bind(13, h.p95_windows.median).bind(14, h.p95_windows.mad).bind(15, static_cast<std::uint64_t>(h.p95_windows.n))
        .bind(16, h.error_rate_windows.median).bind(17, h.error_rate_windows.mad)
        .bind(18, h.rate_windows.median).bind(19, h.rate_windows.mad).bind(20, h.confidence)
        .bind(21, h.low_confidence ? 1 : 0).bind(22, detail::join_numbers(h.window_p50))
        .bind(23, detail::join_numbers(h.window_p95)).bind(24, detail::join_numbers(h.window_counts));
    return hs->exec();
  };
  for (const auto& h : b.handlers)
    if (auto r = write_row(h, "handler"); !r) return tl::unexpected(r.error());
  for (const auto& h : b.sequences)
    if (auto r = write_row(h, "sequence"); !r) return tl::unexpected(r.error());
  auto es = db.prepare(
      "INSERT INTO anomaly_baseline_errors(record_id, handler, message, count, first_seen_ns, last_seen_ns) "
      "VALUES (?1,?2,?3,?4,?5,?6)");
  if (!es) return detail::pass(es);
  for (const auto& e : b.errors) {
    es->bind(1, *id).bind(2, e.handler).bind(3, e.message).bind(4, e.count);
    detail::bind_time(*es, 5, e.first_seen_ns);
    detail::bind_time(*es, 6, e.last_seen_ns);
    if (auto r = es->exec(); !r) return tl::unexpected(r.error());
  }
  return id;
}

/// Writes a baseline in one transaction; returns its id ("baseline-N").
[[nodiscard]] inline result<std::string> store_baseline_record(store::database& db, const baseline& b, time_point now) {
  if (auto m = migrate_anomaly(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  auto id = write_baseline_record(db, b, now);
  if (!id) return id;
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return id;
}

/// The latest baseline id, or `errc::not_found` saying how to make one.
[[nodiscard]] inline result<std::string> latest_baseline(store::database& db) {
  if (auto m = migrate_anomaly(db); !m) return tl::unexpected(m.error());
  auto id = store::latest_record(db, baseline_record_kind);
  if (!id) return fail(errc::not_found, "no baseline yet: establish one with `selfheal baseline` (after `selfheal parse LOGS`)");
  return id;
}

/// Reads a stored baseline back (handlers sorted by name).
[[nodiscard]] inline result<baseline> load_baseline(store::database& db, std::string_view id) {
  if (auto m = migrate_anomaly(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare(
      "SELECT created_at_ns, from_ns, until_ns, window_ns, period_windows, source_records, total_samples "
      "FROM anomaly_baselines WHERE record_id = ?1");
  if (!st) return detail::pass(st);
  st->bind(1, id);
  auto row = st->step();
  if (!row) return detail::pass(row);
  if (!*row) return fail(errc::not_found, "no baseline '" + std::string(id) + "' in the store (establish one with `selfheal baseline`)");
  baseline b;
  b.id = std::string(id);
  b.created_ns = st->column_int(0);
  b.from_ns = detail::column_time(*st, 1);
  b.until_ns = detail::column_time(*st, 2);
  b.window_ns = st->column_int(3);
  b.period_windows = static_cast<std::size_t>(st->column_int(4));
  for (const auto& r : detail::split_words(st->column_text(5))) b.records.push_back(r);
  b.total_samples = static_cast<std::uint64_t>(st->column_int(6));
  auto hs = db.prepare(
      "SELECT handler, sequence, samples, errors, windows, p50_ms, p95_ms, p99_ms, p50_median, p50_mad, p50_n, "
      "p95_median, p95_mad, p95_n, error_rate_median, error_rate_mad, rate_median, rate_mad, confidence, "
      "low_confidence, window_p50, window_p95, window_counts, scope, latency_sketch FROM anomaly_baseline_handlers "
      "WHERE record_id = ?1 "
      "ORDER BY scope, handler");
  if (!hs) return detail::pass(hs);
  hs->bind(1, id);
  for (;;) {
    auto r = hs->step();
    if (!r) return detail::pass(r);
    if (!*r) break;
    handler_baseline h;
    h.handler = hs->column_text(0);
    h.sequence = hs->column_text(1);
    h.samples = static_cast<std::uint64_t>(hs->column_int(2));
    h.errors = static_cast<std::uint64_t>(hs->column_int(3));
    h.windows = static_cast<std::size_t>(hs->column_int(4));
    h.p50_ms = hs->column_double(5);
    h.p95_ms = hs->column_double(6);
    h.p99_ms = hs->column_double(7);
    h.p50_windows = {hs->column_double(8), hs->column_double(9), static_cast<std::size_t>(hs->column_int(10))};
    h.p95_windows = {hs->column_double(11), hs->column_double(12), static_cast<std::size_t>(hs->column_int(13))};
    h.error_rate_windows = {hs->column_double(14), hs->column_double(15), h.windows};
    h.window_p50 = detail::split_numbers(hs->column_text(20));
    h.window_p95 = detail::split_numbers(hs->column_text(21));
    h.window_counts = detail::split_numbers(hs->column_text(22));
    h.rate_windows = {hs->column_double(16), hs->column_double(17), h.window_counts.size()};
    h.confidence = hs->column_double(18);
    h.low_confidence = hs->column_int(19) != 0;
    if (!hs->is_null(24)) {
      const auto blob = hs->column_blob(24);
      auto sketch = telemetry::quantile_sketch::deserialize(
          std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
      if (!sketch) return fail(errc::store_error, "baseline '" + std::string(id) + "': corrupt latency sketch for " + h.handler);
      h.latency = std::move(*sketch);
    }
    (hs->column_text(23) == "sequence" ? b.sequences : b.handlers).push_back(std::move(h));
  }
  auto es = db.prepare(
      "SELECT handler, message, count, first_seen_ns, last_seen_ns FROM anomaly_baseline_errors WHERE record_id = ?1 "
      "ORDER BY rowid");
  if (!es) return detail::pass(es);
  es->bind(1, id);
  for (;;) {
    auto r = es->step();
    if (!r) return detail::pass(r);
    if (!*r) break;
    b.errors.push_back({es->column_text(0), es->column_text(1), static_cast<std::uint64_t>(es->column_int(2)),
                        detail::column_time(*es, 3), detail::column_time(*es, 4)});
  }
  b.sort_handlers();
  return b;
}

// ---- anomalies -----------------------------------------------------------------------------------

/// The evidence of an anomaly as one JSON object.
inline void write_evidence(json_writer& w, const anomaly& a) {
  w.begin_object();
  if (a.kinds.size() > 1) {  // one root symptom carrying several kinds
    w.key("merged_kinds").begin_array();
    for (auto k : a.kinds) w.value(to_string(k));
    w.end_array();
  }
  for (const auto& e : a.evidence) {
    w.key(e.key);
    if (e.is_text) w.value(e.text);
    else if (std::isfinite(e.number)) w.value(e.number);
    else w.value(nullptr);
  }
  w.end_object();
}

/// One anomaly as the CLI's JSON object: id, type, kind, handler, sequence, severity, confidence,
/// score, onset (ISO-8601 or null), description, evidence (merged kinds under `merged_kinds`).
inline void write_anomaly(json_writer& w, const anomaly& a) {
  w.begin_object();
  w.member("id", a.id).member("type", to_string(a.type())).member("kind", to_string(a.kind));
  w.member("handler", a.handler).member("sequence", a.sequence).member("severity", to_string(a.level));
  w.member("confidence", a.confidence).member("score", a.score);
  w.key("onset");
  if (a.onset_ns == no_time_ns) w.value(nullptr); else w.value(iso8601(a.onset_ns));
  w.member("description", a.description);
  w.key("evidence");
  write_evidence(w, a);
  w.end_object();
}

/// Writes a detection run and its ranked anomalies in one transaction; returns "anomaly-N". Each
/// anomaly's id becomes "<record>.<rank>".
[[nodiscard]] inline result<std::string> store_anomaly_run(store::database& db, std::vector<anomaly>& ranked,
                                                           std::string_view telemetry_record,
                                                           std::string_view baseline_record, std::string_view notes,
                                                           time_point now) {
  if (auto m = migrate_anomaly(db); !m) return tl::unexpected(m.error());
  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a transaction (is the store locked?)");
  const std::string summary = std::to_string(ranked.size()) + " anomalies against " + std::string(baseline_record);
  std::optional<std::string_view> parent;
  if (!telemetry_record.empty() && telemetry_record.find('+') == std::string_view::npos) parent = telemetry_record;
  auto id = store::create_record(db, anomaly_record_kind, now, parent, summary);
  if (!id) return id;
  auto run = db.prepare(
      "INSERT INTO anomaly_runs(record_id, created_at_ns, telemetry_record, baseline_record, anomalies, notes) "
      "VALUES (?1,?2,?3,?4,?5,?6)");
  if (!run) return detail::pass(run);
  run->bind(1, *id).bind(2, detail::to_ns(now)).bind(3, telemetry_record).bind(4, baseline_record)
      .bind(5, static_cast<std::uint64_t>(ranked.size())).bind(6, notes);
  if (auto r = run->exec(); !r) return tl::unexpected(r.error());
  auto ins = db.prepare(
      "INSERT INTO anomaly_results(record_id, rank, anomaly_id, type, kind, kinds, handler, sequence, severity, "
      "confidence, score, onset_ns, description, evidence) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
  if (!ins) return detail::pass(ins);
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    auto& a = ranked[i];
    a.id = *id + "." + std::to_string(i + 1);
    std::string kinds, evidence;
    for (auto k : a.kinds) kinds += (kinds.empty() ? "" : " ") + std::string(to_string(k));
    json_writer w(evidence);
    write_evidence(w, a);
    ins->bind(1, *id).bind(2, static_cast<std::uint64_t>(i + 1)).bind(3, a.id).bind(4, to_string(a.type()))
        .bind(5, to_string(a.kind)).bind(6, kinds).bind(7, a.handler).bind(8, a.sequence).bind(9, to_string(a.level))
        .bind(10, a.confidence).bind(11, a.score);
    detail::bind_time(*ins, 12, a.onset_ns);
    ins->bind(13, a.description).bind(14, evidence);
    if (auto r = ins->exec(); !r) return tl::unexpected(r.error());
  }
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return id;
}

/// A stored anomaly row (what diagnosis reads).
struct stored_anomaly {
  std::string id, type, kind, kinds, handler, sequence, severity, description, evidence_json;
  double confidence = 0, score = 0;
  std::int64_t onset_ns = no_time_ns;
  std::size_t rank = 0;
};

/// The anomalies of a detection record, by rank.
[[nodiscard]] inline result<std::vector<stored_anomaly>> load_anomalies(store::database& db, std::string_view record_id) {
  if (auto m = migrate_anomaly(db); !m) return tl::unexpected(m.error());
  auto ok = store::record_exists(db, record_id, anomaly_record_kind);
  if (!ok) return detail::pass(ok);
  if (!*ok) return fail(errc::not_found, "no anomaly record '" + std::string(record_id) + "' in the store (run `selfheal detect`)");
  auto st = db.prepare(
      "SELECT rank, anomaly_id, type, kind, kinds, handler, sequence, severity, confidence, score, onset_ns, "
      "description, evidence FROM anomaly_results WHERE record_id = ?1 ORDER BY rank");
  if (!st) return detail::pass(st);
  st->bind(1, record_id);
  std::vector<stored_anomaly> out;
  for (;;) {
    auto r = st->step();
    if (!r) return detail::pass(r);
    if (!*r) break;
    stored_anomaly a;
    a.rank = static_cast<std::size_t>(st->column_int(0));
    a.id = st->column_text(1);
    a.type = st->column_text(2);
    a.kind = st->column_text(3);
    a.kinds = st->column_text(4);
    a.handler = st->column_text(5);
    a.sequence = st->column_text(6);
    a.severity = st->column_text(7);
    a.confidence = st->column_double(8);
    a.score = st->column_double(9);
    a.onset_ns = detail::column_time(*st, 10);
    a.description = st->column_text(11);
    a.evidence_json = st->column_text(12);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace selfheal::anomaly
