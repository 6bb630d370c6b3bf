#pragma once
/// \file
/// Where `selfheal ingest` workers put what they parsed: one telemetry record per stream, to which
/// every committed batch appends (window rows, error samples, releases, execution paths) and adds
/// (run totals), together with the stream sequences the batch covers: one transaction, so a
/// message is counted exactly once however often it is delivered.
///
/// Schema (component "fleet", its own migrations):
///
/// | table | one row per | columns |
/// |---|---|---|
/// | `fleet_streams` | stream | `stream` (PRIMARY KEY), `record_id` → the telemetry record its batches append to |
/// | `fleet_messages` | message committed | `stream`, `seq` (stream sequence; PRIMARY KEY with `stream`), `record_id`, `identity` and `path` of the source it came from, `start_offset`, `end_offset`, `bytes`, `events`, `bad_lines`, `worker`, `committed_at_ns` |
///
/// baseline/detect/diagnose/heal read the record unchanged: `load_window_metrics` merges rows of
/// the same (scope, name, window), `load_error_samples`, `load_releases` and `load_traces` merge
/// their duplicates (all merges are exact: counts add, sketches merge).

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/core/clock.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/metrics.hpp"
#include "selfheal/telemetry/store.hpp"

namespace selfheal::telemetry::fleet {

/// The fleet migrations, in order. Append, never edit.
inline constexpr std::array<std::string_view, 1> fleet_migrations = {R"sql(
CREATE TABLE fleet_streams(
  stream TEXT PRIMARY KEY,
  record_id TEXT NOT NULL REFERENCES records(id));
CREATE TABLE fleet_messages(
  stream TEXT NOT NULL, seq INTEGER NOT NULL,
  record_id TEXT NOT NULL REFERENCES records(id),
  identity TEXT NOT NULL, path TEXT NOT NULL,
  start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
  bytes INTEGER NOT NULL, events INTEGER NOT NULL, bad_lines INTEGER NOT NULL,
  worker TEXT NOT NULL, committed_at_ns INTEGER NOT NULL,
  PRIMARY KEY(stream, seq));
CREATE INDEX fleet_messages_by_record ON fleet_messages(record_id);
)sql"};

/// Creates or upgrades the fleet tables (and the telemetry ones they extend).
[[nodiscard]] inline result<void> migrate_fleet(store::database& db) {
  if (auto m = migrate_telemetry(db); !m) return m;
  return store::migrate(db, "fleet", std::span<const std::string_view>(fleet_migrations));
}

/// One message of a batch, as committed.
struct committed_message {
  std::uint64_t seq = 0;
  std::string identity, path;
  std::uint64_t start_offset = 0, end_offset = 0, bytes = 0, events = 0, bad_lines = 0;
};

/// The stream sequences of `seqs` already committed for `stream`.
[[nodiscard]] inline result<std::set<std::uint64_t>> committed_sequences(store::database& db, const std::string& stream,
                                                                       std::span<const std::uint64_t> seqs) {
  std::set<std::uint64_t> out;
  auto st = db.prepare("SELECT 1 FROM fleet_messages WHERE stream = ?1 AND seq = ?2");
  if (!st) return tl::unexpected(st.error());
  for (const auto s : seqs) {
    st->reset();
    st->bind(1, stream).bind(2, s);
    auto row = st->step();
    if (!row) return tl::unexpected(row.error());
    if (*row) out.insert(s);
  }
  return out;
}

/// The telemetry record of `stream`, created the first time (inside the caller's transaction;
/// `INSERT … ON CONFLICT DO NOTHING` then a read, so two workers racing agree on one record).
[[nodiscard]] inline result<std::string> stream_record(store::database& db, const std::string& stream, std::int64_t window_ns,
                                                       time_point now) {
  auto find = db.prepare("SELECT record_id FROM fleet_streams WHERE stream = ?1");
  if (!find) return tl::unexpected(find.error());
  find->bind(1, stream);
  auto row = find->step();
  if (!row) return tl::unexpected(row.error());
  if (*row) return find->column_text(0);
  find->reset();
  auto id = store::create_record(db, record_kind, now, std::nullopt, "fleet stream " + stream + " (selfheal ingest)");
  if (!id) return id;
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  auto run = db.prepare(
      "INSERT INTO telemetry_runs(record_id, started_at_ns, window_ns, files, bytes, events, executions, "
      "sequence_executions, bad_lines, unmatched_starts, out_of_order, first_event_ns, last_event_ns) "
      "VALUES (?1,?2,?3,0,0,0,0,0,0,0,0,NULL,NULL)");
  if (!run) return tl::unexpected(run.error());
  run->bind(1, *id).bind(2, static_cast<std::int64_t>(now_ns)).bind(3, window_ns);
  if (auto r = run->exec(); !r) return tl::unexpected(r.error());
  auto traces = db.prepare(
      "INSERT INTO telemetry_traces(record_id, executions, incomplete, evicted, untraced_beats, carried, paths_replaced) "
      "VALUES (?1,0,0,0,0,0,0)");
  if (!traces) return tl::unexpected(traces.error());
  traces->bind(1, *id);
  if (auto r = traces->exec(); !r) return tl::unexpected(r.error());
  auto claim = db.prepare("INSERT INTO fleet_streams(stream, record_id) VALUES (?1, ?2) ON CONFLICT(stream) DO NOTHING");
  if (!claim) return tl::unexpected(claim.error());
  claim->bind(1, stream).bind(2, *id);
  if (auto r = claim->exec(); !r) return tl::unexpected(r.error());
  find->bind(1, stream);
  row = find->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::store_error, "fleet stream " + stream + ": its record vanished");
  return find->column_text(0);
}

/// Appends one batch's aggregate to the stream's record and records its messages, inside the
/// caller's write transaction. The caller has checked that none of `messages` is committed yet
/// (a duplicate is a primary-key violation here: the transaction then fails as a whole).
[[nodiscard]] inline result<void> append_batch(store::database& db, const std::string& record_id, const std::string& stream,
                                               const telemetry_aggregate& agg, std::span<const committed_message> messages,
                                               const std::string& worker, time_point now) {
  if (auto r = telemetry::detail::insert_aggregate_rows(db, record_id, agg); !r) return r;
  const auto& t = agg.traces;
  if (auto r = telemetry::detail::insert_paths(db, record_id, t.paths); !r) return r;
  auto traces = db.prepare(
      "UPDATE telemetry_traces SET executions = executions + ?2, incomplete = incomplete + ?3, evicted = evicted + ?4, "
      "untraced_beats = untraced_beats + ?5, carried = carried + ?6, paths_replaced = paths_replaced + ?7 WHERE record_id = ?1");
  if (!traces) return tl::unexpected(traces.error());
  traces->bind(1, record_id).bind(2, t.executions).bind(3, t.incomplete).bind(4, t.evicted).bind(5, t.untraced_beats)
      .bind(6, t.carried).bind(7, t.paths_replaced);
  if (auto r = traces->exec(); !r) return r;

  const auto now_ns = static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  auto msg = db.prepare(
      "INSERT INTO fleet_messages(stream, seq, record_id, identity, path, start_offset, end_offset, bytes, events, "
      "bad_lines, worker, committed_at_ns) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  if (!msg) return tl::unexpected(msg.error());
  for (const auto& m : messages) {
    msg->bind(1, stream).bind(2, m.seq).bind(3, record_id).bind(4, m.identity).bind(5, m.path).bind(6, m.start_offset)
        .bind(7, m.end_offset).bind(8, m.bytes).bind(9, m.events).bind(10, m.bad_lines).bind(11, worker).bind(12, now_ns);
    if (auto r = msg->exec(); !r) return r;
  }
  auto run = db.prepare(
      "UPDATE telemetry_runs SET bytes = bytes + ?2, events = events + ?3, executions = executions + ?4, "
      "sequence_executions = sequence_executions + ?5, bad_lines = bad_lines + ?6, unmatched_starts = unmatched_starts + ?7, "
      "out_of_order = out_of_order + ?8, "
      "first_event_ns = CASE WHEN ?9 IS NULL THEN first_event_ns WHEN first_event_ns IS NULL OR ?9 < first_event_ns THEN ?9 ELSE first_event_ns END, "
      "last_event_ns = CASE WHEN ?10 IS NULL THEN last_event_ns WHEN last_event_ns IS NULL OR ?10 > last_event_ns THEN ?10 ELSE last_event_ns END, "
      "files = (SELECT COUNT(DISTINCT identity) FROM fleet_messages WHERE record_id = ?1) WHERE record_id = ?1");
  if (!run) return tl::unexpected(run.error());
  run->bind(1, record_id).bind(2, agg.bytes).bind(3, agg.events).bind(4, agg.executions).bind(5, agg.sequence_executions)
      .bind(6, agg.bad_lines).bind(7, agg.unmatched_starts).bind(8, agg.out_of_order);
  telemetry::detail::bind_time(*run, 9, agg.first_event_ns);
  telemetry::detail::bind_time(*run, 10, agg.last_event_ns);
  return run->exec();
}

/// Totals of what has been committed for `stream` (for reports and tests).
struct stream_totals {
  std::string record_id;
  std::uint64_t messages = 0, bytes = 0, events = 0, bad_lines = 0;
};

[[nodiscard]] inline result<std::optional<stream_totals>> load_stream_totals(store::database& db, const std::string& stream) {
  if (auto m = migrate_fleet(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare(
      "SELECT s.record_id, COUNT(m.seq), COALESCE(SUM(m.bytes), 0), COALESCE(SUM(m.events), 0), COALESCE(SUM(m.bad_lines), 0) "
      "FROM fleet_streams s LEFT JOIN fleet_messages m ON m.stream = s.stream WHERE s.stream = ?1 GROUP BY s.record_id");
  if (!st) return tl::unexpected(st.error());
  st->bind(1, stream);
  auto row = st->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<stream_totals>{};
  stream_totals t;
  t.record_id = st->column_text(0);
  t.messages = static_cast<std::uint64_t>(st->column_int(1));
  t.bytes = static_cast<std::uint64_t>(st->column_int(2));
  t.events = static_cast<std::uint64_t>(st->column_int(3));
  t.bad_lines = static_cast<std::uint64_t>(st->column_int(4));
  return std::optional<stream_totals>{t};
}

}  // namespace selfheal::telemetry::fleet
