#pragma once
/// \file
/// From anomaly.detect's anomalies and telemetry.parse's stored telemetry to `anomaly_input`, the
/// analyzers' view of one anomaly.
///
/// - `to_input(const anomaly::anomaly&)` reads the anomaly's evidence (keys written by the
///   detectors: `baseline_p50_ms`, `p50_ms`, `baseline_p95_ms`, `p95_ms`, `template`, `example`,
///   `beat`, `file`, `calls`, `errors`, `bad_calls`, `objective`, …);
/// - `add_telemetry(db, telemetry_record, inputs)` adds what the anomaly record does not carry:
///   deploy markers (releases with first/last seen), the handler's and all handlers' executions
///   from the onset on, and the handler's error messages (for stack frames).

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "selfheal/anomaly/coverage.hpp"
#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/store.hpp"
#include <simdjson.h>

#include "selfheal/core/result.hpp"
#include "selfheal/diagnosis/model.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/store.hpp"

namespace selfheal::diagnosis {

namespace detail {
inline std::int64_t ns_to_s(std::int64_t ns) { return ns == anomaly::no_time_ns ? 0 : ns / 1'000'000'000; }
}  // namespace detail

/// The analyzers' view of one detected anomaly.
[[nodiscard]] inline anomaly_input to_input(const anomaly::anomaly& a) {
  anomaly_input in;
  in.id = a.id;
  in.type = std::string(to_string(a.type()));
  in.handler = a.handler;
  in.sequence = a.sequence;
  in.severity = std::string(to_string(a.level));
  in.confidence = a.confidence;
  in.onset = detail::ns_to_s(a.onset_ns);
  in.description = a.description;
  auto num = [&](std::string_view k, double fallback = 0) {
    const auto* e = a.find(k);
    return e && !e->is_text ? e->number : fallback;
  };
  auto txt = [&](std::string_view k) {
    const auto* e = a.find(k);
    return e && e->is_text ? e->text : std::string{};
  };
  in.baseline_p50 = num("baseline_p50_ms");
  in.baseline_p95 = num("baseline_p95_ms");
  in.baseline_p99 = num("baseline_p99_ms");
  in.current_p50 = num("p50_ms");
  in.current_p95 = num("p95_ms");
  in.current_p99 = num("p99_ms");
  const double calls = num("calls", num("samples"));
  in.handler_count = static_cast<std::uint64_t>(std::max(0.0, calls));
  in.error_count = static_cast<std::uint64_t>(std::max(0.0, num("errors")));
  if (const auto* o = a.find("objective"); o && !o->is_text) {
    in.slo_target = o->number;
    const double bad = num("bad_calls");
    if (calls > 0) in.bad_fraction = bad / calls;
  }
  switch (a.kind) {
    case anomaly::anomaly_kind::missing_beat: in.missing_beats.push_back(txt("beat")); break;
    case anomaly::anomaly_kind::out_of_order: in.reordered_beats.push_back(txt("beat")); break;
    case anomaly::anomaly_kind::unexpected_beat: in.unexpected_beats.push_back(txt("beat")); break;
    case anomaly::anomaly_kind::new_handler: in.unexpected_beats.push_back(a.handler); break;
    default: break;
  }
  std::erase_if(in.missing_beats, [](const std::string& s) { return s.empty(); });
  std::erase_if(in.reordered_beats, [](const std::string& s) { return s.empty(); });
  std::erase_if(in.unexpected_beats, [](const std::string& s) { return s.empty(); });
  in.error_template = txt("template");
  if (auto ex = txt("example"); !ex.empty()) in.error_samples.push_back(ex);
  if (in.type == "error") in.first_seen = in.onset;
  return in;
}

/// Every deploy marker the store's telemetry records hold, merged by version (first seen = the
/// earliest sighting), oldest first: the release before an onset is usually in an earlier record.
[[nodiscard]] inline result<std::vector<release_marker>> stored_releases(store::database& db) {
  if (auto r = telemetry::migrate_telemetry(db); !r) return tl::unexpected(r.error());
  auto ids = db.prepare("SELECT id FROM records WHERE kind = ?1 ORDER BY seq");
  if (!ids) return tl::unexpected(ids.error());
  ids->bind(1, telemetry::record_kind);
  std::vector<std::string> records;
  for (auto row = ids->step(); ; row = ids->step()) {
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    records.push_back(ids->column_text(0));
  }
  std::map<std::string, release_marker> by_version;
  for (const auto& rec : records) {
    auto rel = telemetry::load_releases(db, rec);
    if (!rel) return tl::unexpected(rel.error());
    for (const auto& r : *rel) {
      if (r.release.empty() || r.first_seen_ns == telemetry::no_time) continue;
      auto [it, fresh] = by_version.try_emplace(r.release, release_marker{r.release, r.first_seen_ns / 1'000'000'000,
                                                                           r.last_seen_ns / 1'000'000'000});
      if (!fresh) {
        it->second.first_seen = std::min(it->second.first_seen, r.first_seen_ns / 1'000'000'000);
        it->second.last_seen = std::max(it->second.last_seen, r.last_seen_ns / 1'000'000'000);
      }
    }
  }
  std::vector<release_marker> releases;
  for (auto& [_, m] : by_version) releases.push_back(m);
  std::sort(releases.begin(), releases.end(), [](const release_marker& a, const release_marker& b) { return a.first_seen < b.first_seen; });
  return releases;
}

/// Deploy markers (from every stored telemetry record), traffic from the onset on and error
/// messages (from `telemetry_records`: one id, or several joined by '+' as anomaly.detect writes them).
[[nodiscard]] inline result<void> add_telemetry(store::database& db, std::string_view telemetry_records,
                                                std::vector<anomaly_input>& inputs) {
  auto stored = stored_releases(db);
  if (!stored) return tl::unexpected(stored.error());
  const std::vector<release_marker>& releases = *stored;
  std::vector<telemetry::window_metric> all_metrics;
  std::vector<telemetry::error_sample> all_errors;
  std::size_t start = 0;
  while (start <= telemetry_records.size()) {
    auto plus = telemetry_records.find('+', start);
    if (plus == std::string_view::npos) plus = telemetry_records.size();
    const std::string_view one = telemetry_records.substr(start, plus - start);
    start = plus + 1;
    if (one.empty()) continue;
    auto m = telemetry::load_window_metrics(db, one);
    if (!m) return tl::unexpected(m.error());
    all_metrics.insert(all_metrics.end(), std::make_move_iterator(m->begin()), std::make_move_iterator(m->end()));
    auto e = telemetry::load_error_samples(db, one);
    if (!e) return tl::unexpected(e.error());
    all_errors.insert(all_errors.end(), std::make_move_iterator(e->begin()), std::make_move_iterator(e->end()));
  }
  const auto* metrics = &all_metrics;
  const auto* errors = &all_errors;
  for (auto& in : inputs) {
    if (in.releases.empty()) in.releases = releases;
    std::uint64_t mine = 0, all = 0, errs = 0;
    const std::int64_t from_ns = in.onset * 1'000'000'000;
    for (const auto& m : *metrics) {
      if (m.scope != telemetry::metric_scope::handler) continue;
      if (in.onset && m.window_start_ns != telemetry::no_time && m.window_start_ns + 1 < from_ns) continue;
      all += m.stats.count;
      if (m.name == in.handler) { mine += m.stats.count; errs += m.stats.errors; }
    }
    if (all) { in.total_count = all; in.handler_count = mine; }
    if (!in.error_count) in.error_count = errs;
    if (in.type == "error") {
      std::int64_t first = 0;
      for (const auto& e : *errors) {
        if (e.handler != in.handler) continue;
        if (in.error_samples.size() < 5) in.error_samples.push_back(e.message);
        if (e.first_seen_ns != telemetry::no_time && (!first || e.first_seen_ns / 1'000'000'000 < first))
          first = e.first_seen_ns / 1'000'000'000;
      }
      if (first) in.first_seen = first;
    }
  }
  return {};
}

/// Line hits of an lcov tracefile (parsed by anomaly.detect's reader) for the coverage analyzer.
[[nodiscard]] inline std::vector<file_coverage> coverage_from_lcov(const anomaly::lcov_report& rep) {
  std::vector<file_coverage> out;
  for (const auto& f : rep.files) {
    file_coverage fc;
    fc.file = f.path;
    for (const auto& [line, hits] : f.lines) fc.lines.emplace_back(static_cast<std::uint32_t>(line), hits);
    out.push_back(std::move(fc));
  }
  return out;
}

/// One stored anomaly row (anomaly.detect's `anomaly_results`) back as the detector's model: kind
/// and severity from their names, evidence from its JSON object (numbers and strings).
[[nodiscard]] inline result<anomaly::anomaly> from_stored(const anomaly::stored_anomaly& row) {
  anomaly::anomaly a;
  a.id = row.id;
  a.handler = row.handler;
  a.sequence = row.sequence;
  a.confidence = row.confidence;
  a.score = row.score;
  a.onset_ns = row.onset_ns;
  a.description = row.description;
  bool known = false;
  for (auto k : anomaly::all_kinds)
    if (anomaly::to_string(k) == row.kind) { a.kind = k; known = true; }
  if (!known) return fail(errc::parse_error, "anomaly " + row.id + ": unknown kind '" + row.kind + "'");
  for (auto lvl : {anomaly::severity::low, anomaly::severity::medium, anomaly::severity::high, anomaly::severity::critical})
    if (anomaly::to_string(lvl) == row.severity) a.level = lvl;
  if (!row.evidence_json.empty()) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(row.evidence_json);
    simdjson::dom::object obj;
    if (parser.parse(padded).get(obj) != simdjson::SUCCESS)
      return fail(errc::parse_error, "anomaly " + row.id + ": evidence is not a JSON object");
    for (auto [k, v] : obj) {
      double d = 0;
      std::string_view sv;
      if (v.get(d) == simdjson::SUCCESS) a.number(std::string(k), d);
      else if (v.get(sv) == simdjson::SUCCESS) a.text(std::string(k), std::string(sv));
    }
  }
  return a;
}

/// The anomalies of a detection record (default: the latest) in the analyzers' form, and the
/// telemetry record(s) they were detected in.
struct stored_anomalies {
  std::string record_id;
  std::string telemetry_records;  ///< as anomaly.detect stored it ("telemetry-2" or "telemetry-1+telemetry-2")
  std::vector<anomaly_input> anomalies;
};

[[nodiscard]] inline result<stored_anomalies> load_stored_anomalies(store::database& db, std::string record_id) {
  stored_anomalies out;
  if (record_id.empty()) {
    auto latest = store::latest_record(db, anomaly::anomaly_record_kind);
    if (!latest) {
      auto e = latest.error();
      e.detail += " (run `selfheal detect` first)";
      return tl::unexpected(std::move(e));
    }
    record_id = *latest;
  }
  auto rows = anomaly::load_anomalies(db, record_id);
  if (!rows) return tl::unexpected(rows.error());
  out.record_id = record_id;
  auto run = db.prepare("SELECT telemetry_record FROM anomaly_runs WHERE record_id = ?1");
  if (!run) return tl::unexpected(run.error());
  run->bind(1, record_id);
  auto row = run->step();
  if (!row) return tl::unexpected(row.error());
  if (*row) out.telemetry_records = run->column_text(0);
  for (const auto& r : *rows) {
    auto a = from_stored(r);
    if (!a) return tl::unexpected(a.error());
    out.anomalies.push_back(to_input(*a));
  }
  return out;
}

}  // namespace selfheal::diagnosis
