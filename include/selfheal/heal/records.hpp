#pragma once
/// \file
/// What the store holds, for people who do not open SQLite: `list_records` (newest first, one line
/// each), `show_record` (one record in full, through each layer's own loaders and printers) and
/// `prune_telemetry` (old telemetry aggregates out, in one transaction; never an audit row, never a
/// record another record still refers to). `selfheal records`, `show` and `prune` print these.
///
/// heal is the top layer, so this file may read every layer's tables.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/report.hpp"
#include "selfheal/anomaly/store.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/json_writer.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/deployment/report.hpp"
#include "selfheal/deployment/store.hpp"
#include "selfheal/diagnosis/input.hpp"
#include "selfheal/diagnosis/report.hpp"
#include "selfheal/diagnosis/store.hpp"
#include "selfheal/fix/report.hpp"
#include "selfheal/fix/store.hpp"
#include "selfheal/heal/store.hpp"
#include "selfheal/learning/report.hpp"
#include "selfheal/learning/store.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/telemetry/store.hpp"
#include "selfheal/validation/report.hpp"
#include "selfheal/validation/store.hpp"

namespace selfheal::heal {

/// Every kind `list_records` knows: the record kinds of the sequences, plus "audit" (the rows of
/// the append-only audit log, shown as `audit-<n>`).
inline constexpr std::array<std::string_view, 10> record_kinds = {
    "telemetry", "baseline", "anomaly", "diagnosis", "fix", "validation", "deployment", "learning", "audit", "heal"};

[[nodiscard]] inline bool is_record_kind(std::string_view kind) {
  return std::find(record_kinds.begin(), record_kinds.end(), kind) != record_kinds.end();
}

/// One line of `selfheal records`.
struct record_line {
  std::string id;
  std::string kind;
  std::int64_t created_ns = 0;
  std::string parent;   ///< the record it was made from ("" for none)
  std::string summary;  ///< one line
};

namespace detail {

template <class T>
tl::unexpected<error> pass(const result<T>& r) { return tl::unexpected(r.error()); }

/// "audit-12" → 12.
[[nodiscard]] inline std::optional<std::int64_t> audit_row(std::string_view id) {
  constexpr std::string_view prefix = "audit-";
  if (id.substr(0, prefix.size()) != prefix || id.size() == prefix.size() || id.size() > prefix.size() + 18) return std::nullopt;
  std::int64_t n = 0;
  for (char c : id.substr(prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

/// Whether table `name` exists.
[[nodiscard]] inline result<bool> has_table(store::database& db, std::string_view name) {
  auto st = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  if (!st) return pass(st);
  st->bind(1, name);
  auto row = st->step();
  if (!row) return pass(row);
  return *row;
}

/// Replaces a record's generic summary with what its layer knows when that says more (a heal run's status).
[[nodiscard]] inline result<void> enrich(store::database& db, record_line& r) {
  if (r.kind != "heal") return {};
  auto has = has_table(db, "heal_runs");
  if (!has) return pass(has);
  if (!*has) return {};
  auto st = db.prepare("SELECT status, rounds FROM heal_runs WHERE record_id = ?1");
  if (!st) return pass(st);
  st->bind(1, r.id);
  auto row = st->step();
  if (!row) return pass(row);
  if (*row) r.summary = "heal run: " + st->column_text(0) + " after " + std::to_string(st->column_int(1)) + " round(s)";
  return {};
}

[[nodiscard]] inline std::string time_text(std::int64_t ns) { return format_iso8601(ns); }

}  // namespace detail

/// Records newest first: every kind (`kind` empty; the audit log only when asked for by "audit"),
/// or one kind; at most `limit` lines (0: all).
[[nodiscard]] inline result<std::vector<record_line>> list_records(store::database& db, std::string_view kind = {},
                                                                   std::size_t limit = 0) {
  if (!kind.empty() && !is_record_kind(kind)) return fail(errc::invalid_request, "unknown record kind '" + std::string(kind) + "'");
  const auto lim = static_cast<std::int64_t>(limit == 0 ? std::size_t{1} << 62 : limit);
  std::vector<record_line> out;
  if (kind == "audit") {
    auto st = db.prepare(
        "SELECT id, at_ns, actor, action, COALESCE(target, ''), COALESCE(record, ''), COALESCE(detail, '') "
        "FROM audit_log ORDER BY at_ns DESC, id DESC LIMIT ?1");
    if (!st) return detail::pass(st);
    st->bind(1, lim);
    for (;;) {
      auto row = st->step();
      if (!row) return detail::pass(row);
      if (!*row) break;
      record_line r;
      r.id = "audit-" + std::to_string(st->column_int(0));
      r.kind = "audit";
      r.created_ns = st->column_int(1);
      r.parent = st->column_text(5);
      r.summary = st->column_text(2) + " " + st->column_text(3);
      if (const auto target = st->column_text(4); !target.empty()) r.summary += " " + target;
      if (const auto detail_text = st->column_text(6); !detail_text.empty()) r.summary += ": " + detail_text;
      out.push_back(std::move(r));
    }
    return out;
  }
  auto st = db.prepare(kind.empty()
                           ? "SELECT id, kind, created_at_ns, COALESCE(parent, ''), COALESCE(summary, '') FROM records "
                             "ORDER BY created_at_ns DESC, rowid DESC LIMIT ?1"
                           : "SELECT id, kind, created_at_ns, COALESCE(parent, ''), COALESCE(summary, '') FROM records "
                             "WHERE kind = ?2 ORDER BY created_at_ns DESC, seq DESC LIMIT ?1");
  if (!st) return detail::pass(st);
  st->bind(1, lim);
  if (!kind.empty()) st->bind(2, kind);
  for (;;) {
    auto row = st->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    record_line r{st->column_text(0), st->column_text(1), st->column_int(2), st->column_text(3), st->column_text(4)};
    out.push_back(std::move(r));
  }
  for (auto& r : out)
    if (auto e = detail::enrich(db, r); !e) return tl::unexpected(e.error());
  return out;
}

/// `{"records":[{"id","kind","created","parent","summary"}]}`.
[[nodiscard]] inline std::string records_json(const std::vector<record_line>& lines) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("records").begin_array();
  for (const auto& r : lines) {
    w.begin_object().member("id", r.id).member("kind", r.kind).member("created", detail::time_text(r.created_ns));
    w.key("parent");
    if (r.parent.empty()) w.value(nullptr); else w.value(r.parent);
    w.member("summary", r.summary).end_object();
  }
  w.end_array().end_object();
  return out;
}

/// One record in full: its line, and its layer's own JSON document and human text.
struct shown_record {
  record_line line;
  std::string json;  ///< the layer's document (what the command that made it printed with --json, where it has one)
  std::string text;  ///< for people
};

/// The `selfheal heal --json` document of a run.
[[nodiscard]] inline std::string heal_json(const heal_report& r) {
  std::string out;
  json_writer w(out);
  w.begin_object().member("record_id", r.record_id).member("status", r.status).member("rounds", r.rounds);
  w.key("anomalies").begin_array();
  for (const auto& a : r.anomalies) {
    w.begin_object().member("id", a.id).member("handler", a.handler).member("type", a.type).member("kind", a.kind);
    w.member("diagnosis", a.diagnosis).member("fix", a.fix).member("validation", a.validation)
        .member("deployment", a.deployment).member("learning", a.learning).member("strategy", a.strategy)
        .member("status", a.status).member("reason", a.reason);
    if (a.healed_ns > 0) {
      w.member("time_to_heal_s", static_cast<double>(a.healed_ns - a.detected_ns) / 1e9);
      if (a.onset_ns > 0) w.member("mttr_s", static_cast<double>(a.healed_ns - a.onset_ns) / 1e9);
    }
    w.member("story", a.story).end_object();
  }
  w.end_array();
  w.member("time_to_heal_s", r.time_to_heal_s).member("mttr_s", r.mttr_s);
  w.member("selfheal_s", r.selfheal_s).member("external_s", r.external_s).member("sequences_s", r.sequences_s);
  w.key("telemetry_records").begin_array();
  for (const auto& t : r.telemetry_records) w.value(t);
  w.end_array().member("baseline_record", r.baseline_record).end_object();
  return out;
}

namespace detail {

[[nodiscard]] inline std::string heal_text(const heal_report& r) {
  std::string out = r.record_id + ": " + r.status + " after " + std::to_string(r.rounds) + " round(s)\n";
  for (const auto& a : r.anomalies) {
    out += "\n" + a.id + " (" + a.handler + ", " + a.kind + "): " + a.status + "\n" + a.story;
    if (!a.reason.empty()) out += "Stopped: " + a.reason + "\n";
  }
  return out;
}

/// A telemetry record: its run, its sources, and per-handler and per-sequence totals over its windows.
[[nodiscard]] inline result<shown_record> show_telemetry(store::database& db, record_line line) {
  auto run = telemetry::load_run(db, line.id);
  if (!run) return pass(run);
  auto sources = telemetry::load_sources(db, line.id);
  if (!sources) return pass(sources);
  auto windows = telemetry::load_window_metrics(db, line.id);
  if (!windows) return pass(windows);
  std::vector<telemetry::named_metric> handlers, sequences;
  for (const auto& m : *windows) {
    auto& into = m.scope == telemetry::metric_scope::handler ? handlers : sequences;
    if (into.empty() || into.back().name != m.name) into.push_back({m.name, {}});
    into.back().stats.merge(m.stats);
  }
  shown_record out;
  json_writer w(out.json);
  w.begin_object().member("record_id", line.id).member("window_s", static_cast<double>(run->window_ns) / 1e9);
  w.member("files", run->files).member("bytes", run->bytes).member("events", run->events);
  w.member("handler_calls", run->executions).member("sequence_executions", run->sequence_executions).member("bad_lines", run->bad_lines);
  w.key("first_event");
  if (run->first_event_ns == telemetry::no_time) w.value(nullptr); else w.value(time_text(run->first_event_ns));
  w.key("last_event");
  if (run->last_event_ns == telemetry::no_time) w.value(nullptr); else w.value(time_text(run->last_event_ns));
  w.key("sources").begin_array();
  for (const auto& s : *sources)
    w.begin_object().member("path", s.path).member("format", s.format).member("bytes", s.bytes).member("lines", s.lines)
        .member("events", s.events).member("bad_lines", s.bad_lines).member("note", s.note).end_object();
  w.end_array();
  out.text = line.id + ": " + std::to_string(run->events) + " events, " + std::to_string(run->executions) + " handler calls, " +
             std::to_string(run->bad_lines) + " bad lines from " + std::to_string(sources->size()) + " source(s)\n";
  for (const auto& s : *sources) out.text += "  source " + s.path + " (" + s.format + "): " + std::to_string(s.events) + " events\n";
  const auto rows = [&](std::string_view key, const std::vector<telemetry::named_metric>& v) {
    w.key(key).begin_array();
    for (const auto& h : v) {
      const auto& st = h.stats;
      w.begin_object().member("name", h.name).member("count", st.count).member("errors", st.errors)
          .member("error_rate", st.error_rate()).member("p50_ms", st.quantile_ms(0.5)).member("p95_ms", st.quantile_ms(0.95))
          .member("p99_ms", st.quantile_ms(0.99)).member("max_ms", st.max_ms()).end_object();
      fmt::format_to(std::back_inserter(out.text), "  {:<9} {:<40} {:>8}  err {:5.1f}%  p50 {:9.3f} ms  p95 {:9.3f} ms  max {:9.3f} ms\n",
                     key == "handlers" ? "handler" : "sequence", h.name, st.count, 100.0 * st.error_rate(),
                     st.quantile_ms(0.5), st.quantile_ms(0.95), st.max_ms());
    }
    w.end_array();
  };
  rows("handlers", handlers);
  rows("sequences", sequences);
  w.end_object();
  out.line = std::move(line);
  return out;
}

[[nodiscard]] inline result<shown_record> show_baseline(store::database& db, record_line line) {
  auto b = anomaly::load_baseline(db, line.id);
  if (!b) return pass(b);
  anomaly::baseline_summary s;
  s.id = b->id;
  s.records = b->records;
  s.from_ns = b->from_ns;
  s.until_ns = b->until_ns;
  s.window_ns = b->window_ns;
  s.windows = b->period_windows;
  s.samples = b->total_samples;
  s.handlers = b->handlers;
  s.sequences = b->sequences;
  for (const auto& h : b->handlers)
    if (h.low_confidence) s.low_confidence.push_back(h.handler);
  shown_record out;
  out.json = anomaly::to_json(s);
  out.text = line.id + ": " + std::to_string(s.handlers.size()) + " handlers and " + std::to_string(s.sequences.size()) +
             " sequences over " + std::to_string(s.windows) + " windows from";
  for (const auto& r : s.records) out.text += " " + r;
  out.text += "\n";
  for (const auto& h : s.handlers) {
    fmt::format_to(std::back_inserter(out.text), "  {:<40} {:>8} calls  err {:5.2f}%  p50 {:9.3f} ms  p95 {:9.3f} ms  conf {:.2f}{}\n",
                   h.handler, h.samples, 100.0 * h.error_rate(), h.p50_ms, h.p95_ms, h.confidence,
                   h.low_confidence ? "  (low)" : "");
  }
  out.line = std::move(line);
  return out;
}

[[nodiscard]] inline result<shown_record> show_anomaly(store::database& db, record_line line) {
  auto rows = anomaly::load_anomalies(db, line.id);
  if (!rows) return pass(rows);
  anomaly::detect_summary s;
  s.record_id = line.id;
  auto run = db.prepare("SELECT telemetry_record, baseline_record FROM anomaly_runs WHERE record_id = ?1");
  if (!run) return pass(run);
  run->bind(1, line.id);
  auto row = run->step();
  if (!row) return pass(row);
  if (*row) {
    s.telemetry_record = run->column_text(0);
    s.baseline_id = run->column_text(1);
  }
  for (const auto& r : *rows) {
    auto a = diagnosis::from_stored(r);
    if (!a) return pass(a);
    ++s.counts.by_type[r.type];
    ++s.counts.by_severity[r.severity];
    ++s.counts.by_kind[r.kind];
    s.anomalies.push_back(std::move(*a));
  }
  shown_record out;
  out.json = anomaly::to_json(s);
  out.text = line.id + ": " + std::to_string(s.anomalies.size()) + " anomalies in " + s.telemetry_record + " against " +
             s.baseline_id + "\n";
  for (const auto& a : s.anomalies) {
    fmt::format_to(std::back_inserter(out.text), "  {:<14} {:<8} {:<22} {:<28} score {:.2f}  {}\n", a.id,
                   anomaly::to_string(a.level), anomaly::to_string(a.kind), a.handler, a.score, a.description);
  }
  out.line = std::move(line);
  return out;
}

[[nodiscard]] inline result<shown_record> show_learning(store::database& db, record_line line) {
  if (auto m = learning::migrate_learning(db); !m) return tl::unexpected(m.error());
  auto st = db.prepare(
      "SELECT deployment_record, anomaly_id, anomaly_type, strategy, handler, outcome, reasons, baseline_record, "
      "COALESCE(time_to_heal_s, -1) FROM learning_runs WHERE record_id = ?1");
  if (!st) return pass(st);
  st->bind(1, line.id);
  auto row = st->step();
  if (!row) return pass(row);
  if (!*row) return fail(errc::not_found, "no learning record '" + line.id + "' in the store");
  learning::track_summary s;
  s.record_id = line.id;
  s.deployment_record = st->column_text(0);
  s.anomaly_id = st->column_text(1);
  s.anomaly_type = st->column_text(2);
  s.strategy = st->column_text(3);
  s.handler = st->column_text(4);
  const auto outcome = st->column_text(5);
  for (auto o : {learning::outcome::success, learning::outcome::partial, learning::outcome::failure})
    if (learning::to_string(o) == outcome) s.result = o;
  for (std::string_view rest = st->column_text(6); !rest.empty();) {
    const auto nl = rest.find('\n');
    s.reasons.emplace_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  if (const auto b = st->column_text(7); !b.empty()) s.baseline_record = b;
  s.time_to_heal_s = st->column_double(8);
  auto m = db.prepare(
      "SELECT name, before, during, after, change, ci_low, ci_high, before_n, after_n FROM learning_metrics "
      "WHERE record_id = ?1 ORDER BY name");
  if (!m) return pass(m);
  m->bind(1, line.id);
  for (;;) {
    auto r = m->step();
    if (!r) return pass(r);
    if (!*r) break;
    learning::metric_change c;
    c.name = m->column_text(0);
    c.before = m->column_double(1);
    if (!m->is_null(2)) c.during = m->column_double(2);
    c.after = m->column_double(3);
    c.change = m->column_double(4);
    c.ci_low = m->column_double(5);
    c.ci_high = m->column_double(6);
    c.before_n = static_cast<std::size_t>(m->column_int(7));
    c.after_n = static_cast<std::size_t>(m->column_int(8));
    c.has_data = true;
    s.metrics.push_back(std::move(c));
  }
  auto ins = db.prepare("SELECT topic, text FROM learning_insights WHERE record_id = ?1 ORDER BY n");
  if (!ins) return pass(ins);
  ins->bind(1, line.id);
  for (;;) {
    auto r = ins->step();
    if (!r) return pass(r);
    if (!*r) break;
    s.insights.push_back({ins->column_text(0), ins->column_text(1)});
  }
  auto p = learning::load_posterior(db, s.anomaly_type, s.strategy);  // the posterior as it stands now
  if (!p) return pass(p);
  s.posteriors = {p->first};
  shown_record out;
  out.json = learning::to_json(s);
  out.text = line.id + ": " + std::string(learning::to_string(s.result)) + " for " + s.deployment_record + " (" + s.anomaly_id +
             ", " + s.strategy + " on " + s.handler + ")\n";
  for (const auto& r : s.reasons) out.text += "  because " + r + "\n";
  for (const auto& c : s.metrics)
    fmt::format_to(std::back_inserter(out.text), "  {:<36} before {:10.4g}  after {:10.4g}  change {:+10.4g}  CI [{:+.4g}, {:+.4g}]\n",
                   c.name, c.before, c.after, c.change, c.ci_low, c.ci_high);
  for (const auto& i : s.insights) out.text += "  - " + i.text + "\n";
  out.line = std::move(line);
  return out;
}

[[nodiscard]] inline result<shown_record> show_audit(store::database& db, std::int64_t n, std::string_view id) {
  auto st = db.prepare(
      "SELECT at_ns, actor, action, COALESCE(target, ''), COALESCE(record, ''), COALESCE(detail, '') FROM audit_log WHERE id = ?1");
  if (!st) return pass(st);
  st->bind(1, n);
  auto row = st->step();
  if (!row) return pass(row);
  if (!*row) return fail(errc::not_found, "no audit row '" + std::string(id) + "' in the store");
  shown_record out;
  out.line = {std::string(id), "audit", st->column_int(0), st->column_text(4), st->column_text(1) + " " + st->column_text(2)};
  json_writer w(out.json);
  w.begin_object().member("id", id).member("at", time_text(out.line.created_ns)).member("actor", st->column_text(1));
  w.member("action", st->column_text(2)).member("target", st->column_text(3)).member("record", st->column_text(4));
  w.member("detail", st->column_text(5)).end_object();
  out.text = std::string(id) + " at " + time_text(out.line.created_ns) + ": " + st->column_text(1) + " " + st->column_text(2) + " " +
             st->column_text(3) + (st->column_text(4).empty() ? "" : " (" + st->column_text(4) + ")") + "\n" +
             (st->column_text(5).empty() ? "" : "  " + st->column_text(5) + "\n");
  return out;
}

}  // namespace detail

/// One record in full, through its layer's loader and printers; `errc::not_found` for an id the
/// store does not hold.
[[nodiscard]] inline result<shown_record> show_record(store::database& db, std::string_view id) {
  if (auto n = detail::audit_row(id)) return detail::show_audit(db, *n, id);
  auto st = db.prepare("SELECT id, kind, created_at_ns, COALESCE(parent, ''), COALESCE(summary, '') FROM records WHERE id = ?1");
  if (!st) return detail::pass(st);
  st->bind(1, id);
  auto row = st->step();
  if (!row) return detail::pass(row);
  if (!*row) return fail(errc::not_found, "no record '" + std::string(id) + "' in the store");
  record_line line{st->column_text(0), st->column_text(1), st->column_int(2), st->column_text(3), st->column_text(4)};
  if (auto e = detail::enrich(db, line); !e) return tl::unexpected(e.error());
  const std::string kind = line.kind;
  if (kind == "telemetry") return detail::show_telemetry(db, std::move(line));
  if (kind == "baseline") return detail::show_baseline(db, std::move(line));
  if (kind == "anomaly") return detail::show_anomaly(db, std::move(line));
  if (kind == "learning") return detail::show_learning(db, std::move(line));
  shown_record out;
  if (kind == "diagnosis") {
    auto items = diagnosis::load_diagnoses(db, line.id);
    if (!items) return detail::pass(items);
    out.json = diagnosis::diagnoses_json(line.id, line.parent, *items);
    out.text = "diagnosis " + line.id + " of " + line.parent + ": " + std::to_string(items->size()) + " finding(s)\n\n";
    for (const auto& d : *items) out.text += diagnosis::diagnosis_text(d) + "\n";
  } else if (kind == "fix") {
    auto patches = fix::load_patches(db, line.id);
    if (!patches) return detail::pass(patches);
    out.json = fix::fix_json(line.id, line.parent, *patches, {});
    out.text = "fix " + line.id + " of " + line.parent + ": " + std::to_string(patches->size()) + " patch(es)\n\n";
    for (const auto& p : *patches) out.text += fix::patch_text(p) + "\n" + p.diff;
  } else if (kind == "validation") {
    auto r = validation::load_validation(db, line.id);
    if (!r) return detail::pass(r);
    out.json = validation::validation_json(*r);
    out.text = validation::validation_text(*r);
  } else if (kind == "deployment") {
    auto r = deployment::load_deployment(db, line.id);
    if (!r) return detail::pass(r);
    out.json = deployment::deployment_json(*r);
    out.text = deployment::deployment_text(*r);
  } else if (kind == "heal") {
    auto r = load_run(db, line.id);
    if (!r) return detail::pass(r);
    out.json = heal_json(*r);
    out.text = detail::heal_text(*r);
  } else {
    return fail(errc::not_implemented, "records of kind '" + kind + "' cannot be shown yet");
  }
  out.line = std::move(line);
  return out;
}

/// `{"id","kind","created","parent","summary","record":<the layer's document>}`.
[[nodiscard]] inline std::string shown_json(const shown_record& r) {
  std::string out;
  json_writer w(out);
  w.begin_object().member("id", r.line.id).member("kind", r.line.kind).member("created", detail::time_text(r.line.created_ns));
  w.key("parent");
  if (r.line.parent.empty()) w.value(nullptr); else w.value(r.line.parent);
  w.member("summary", r.line.summary).end_object();
  out.pop_back();  // the layer's document goes in as it is
  out += ",\"record\":" + r.json + "}";
  return out;
}

// ---- prune ---------------------------------------------------------------------------------------

/// A telemetry record `prune_telemetry` kept although it is old enough, and why.
struct kept_record {
  std::string id;
  std::string reason;  ///< "referenced by anomaly_runs.telemetry_record", "the resume point of a log source", ...
};

struct prune_report {
  std::int64_t cutoff_ns = 0;          ///< records created before this were candidates
  std::vector<std::string> deleted;    ///< telemetry record ids, oldest first
  std::uint64_t rows = 0;              ///< aggregate rows deleted (all telemetry tables together)
  std::vector<kept_record> kept;
  std::string audit;                   ///< the audit row written ("" when nothing was deleted)
};

namespace detail {

struct reference_column {
  std::string table, column;
};

/// The columns outside telemetry's own tables that hold record ids: named like `*record*` or
/// `parent` (records.parent, anomaly_runs.telemetry_record, anomaly_baselines.source_records,
/// heal_telemetry.telemetry_record, ...). The audit log is history, not a reference.
[[nodiscard]] inline result<std::vector<reference_column>> reference_columns(store::database& db) {
  auto tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  if (!tables) return pass(tables);
  std::vector<std::string> names;
  for (;;) {
    auto row = tables->step();
    if (!row) return pass(row);
    if (!*row) break;
    names.push_back(tables->column_text(0));
  }
  std::vector<reference_column> out;
  for (const auto& t : names) {
    if (t.rfind("telemetry_", 0) == 0 || t == "audit_log" || t == "schema_migrations" || t.rfind("sqlite_", 0) == 0) continue;
    auto cols = db.prepare("SELECT name FROM pragma_table_info(?1)");
    if (!cols) return pass(cols);
    cols->bind(1, t);
    for (;;) {
      auto row = cols->step();
      if (!row) return pass(row);
      if (!*row) break;
      const auto c = cols->column_text(0);
      if (t == "records" ? c == "parent" : (c.find("record") != std::string::npos || c == "parent"))
        out.push_back({t, c});
    }
  }
  return out;
}

/// Where `id` is referred to: a column holding it alone or in a list ("telemetry-1+telemetry-2",
/// "telemetry-1 telemetry-2", JSON arrays). Empty when nowhere.
[[nodiscard]] inline result<std::string> referenced_by(store::database& db, const std::vector<reference_column>& cols,
                                                      std::string_view id) {
  for (const auto& c : cols) {
    const std::string q = "\"" + c.column + "\"";
    const std::string sql = "SELECT 1 FROM \"" + c.table + "\" WHERE " + q + " = ?1 OR (' ' || replace(replace(replace(replace(" + q +
                            ", '+', ' '), ',', ' '), '\"', ' '), '\n', ' ') || ' ') LIKE '% ' || ?1 || ' %' LIMIT 1";
    auto st = db.prepare(sql);
    if (!st) return pass(st);
    st->bind(1, id);
    auto row = st->step();
    if (!row) return pass(row);
    if (*row) return c.table + "." + c.column;
  }
  return std::string{};
}

/// Runs `sql` with `id` bound to ?1; adds the rows it changed.
[[nodiscard]] inline result<void> delete_rows(store::database& db, const std::string& sql, std::string_view id, std::uint64_t& rows) {
  auto st = db.prepare(sql);
  if (!st) return pass(st);
  st->bind(1, id);
  if (auto r = st->exec(); !r) return r;
  rows += static_cast<std::uint64_t>(db.changes());
  return {};
}

}  // namespace detail

/// Deletes the telemetry records created more than `keep_days` days before `now`, with every
/// aggregate row they own, in one transaction, and writes one audit row saying what went. Kept
/// although old: the newest telemetry record, a record a log source resumes from, and a record any
/// other record refers to (a baseline's, an anomaly record's, a heal run's...). Audit rows are never
/// deleted.
[[nodiscard]] inline result<prune_report> prune_telemetry(store::database& db, double keep_days, time_point now,
                                                          std::string_view actor = "selfheal") {
  if (!(keep_days >= 0)) return fail(errc::invalid_request, "the number of days to keep must be zero or more");
  if (auto m = telemetry::migrate_telemetry(db); !m) return tl::unexpected(m.error());
  prune_report rep;
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  rep.cutoff_ns = now_ns - static_cast<std::int64_t>(keep_days * 86400.0 * 1e9);

  store::transaction tx(db);
  if (!tx.active()) return fail(errc::store_error, "cannot begin a write transaction (is the store locked?)");
  auto newest = telemetry::latest_telemetry_record(db);
  auto old = db.prepare("SELECT id FROM records WHERE kind = 'telemetry' AND created_at_ns < ?1 ORDER BY seq");
  if (!old) return detail::pass(old);
  old->bind(1, static_cast<std::int64_t>(rep.cutoff_ns));
  std::vector<std::string> candidates;
  for (;;) {
    auto row = old->step();
    if (!row) return detail::pass(row);
    if (!*row) break;
    candidates.push_back(old->column_text(0));
  }
  auto cols = detail::reference_columns(db);
  if (!cols) return detail::pass(cols);
  auto resume = db.prepare("SELECT 1 FROM telemetry_source_states WHERE record_id = ?1 LIMIT 1");
  if (!resume) return detail::pass(resume);
  std::uint64_t rows = 0;
  for (const auto& id : candidates) {
    if (newest && *newest == id) {
      rep.kept.push_back({id, "the newest telemetry record"});
      continue;
    }
    resume->reset();
    resume->bind(1, id);
    auto r = resume->step();
    if (!r) return detail::pass(r);
    if (*r) {
      rep.kept.push_back({id, "the resume point of a log source"});
      continue;
    }
    auto by = detail::referenced_by(db, *cols, id);
    if (!by) return detail::pass(by);
    if (!by->empty()) {
      rep.kept.push_back({id, "referenced by " + *by});
      continue;
    }
    // children first, then every telemetry table that holds the record's rows, then the record
    for (const std::string sql : {
             "DELETE FROM telemetry_path_steps WHERE path_id IN (SELECT id FROM telemetry_paths WHERE record_id = ?1)",
             "DELETE FROM telemetry_carried_steps WHERE execution_id IN "
             "(SELECT id FROM telemetry_carried_executions WHERE record_id = ?1)"})
      if (auto d = detail::delete_rows(db, sql, id, rows); !d) return tl::unexpected(d.error());
    auto tables = db.prepare(
        "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name LIKE 'telemetry\\_%' ESCAPE '\\' "
        "AND m.name <> 'telemetry_runs' AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'record_id') ORDER BY m.name");
    if (!tables) return detail::pass(tables);
    std::vector<std::string> owned;
    for (;;) {
      auto row = tables->step();
      if (!row) return detail::pass(row);
      if (!*row) break;
      owned.push_back(tables->column_text(0));
    }
    for (const auto& t : owned)
      if (auto d = detail::delete_rows(db, "DELETE FROM \"" + t + "\" WHERE record_id = ?1", id, rows); !d) return tl::unexpected(d.error());
    if (auto d = detail::delete_rows(db, "DELETE FROM telemetry_runs WHERE record_id = ?1", id, rows); !d) return tl::unexpected(d.error());
    std::uint64_t record_rows = 0;
    if (auto d = detail::delete_rows(db, "DELETE FROM records WHERE id = ?1 AND kind = 'telemetry'", id, record_rows); !d)
      return tl::unexpected(d.error());
    rep.deleted.push_back(id);
  }
  rep.rows = rows;
  if (!rep.deleted.empty()) {
    std::string detail_text = std::to_string(rep.deleted.size()) + " telemetry record(s), " + std::to_string(rows) + " rows:";
    for (const auto& id : rep.deleted) detail_text += " " + id;
    if (auto a = store::audit(db, now, actor, "prune", "telemetry", "", detail_text); !a) return tl::unexpected(a.error());
    rep.audit = "audit-" + std::to_string(db.last_insert_rowid());
  }
  if (auto c = tx.commit(); !c) return tl::unexpected(c.error());
  return rep;
}

}  // namespace selfheal::heal
