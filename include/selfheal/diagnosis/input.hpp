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
/// messages (from `telemetry_record`).
[[nodiscard]] inline result<void> add_telemetry(store::database& db, std::string_view telemetry_record,
                                                std::vector<anomaly_input>& inputs) {
  auto stored = stored_releases(db);
  if (!stored) return tl::unexpected(stored.error());
  const std::vector<release_marker>& releases = *stored;
  auto metrics = telemetry::load_window_metrics(db, telemetry_record);
  if (!metrics) return tl::unexpected(metrics.error());
  auto errors = telemetry::load_error_samples(db, telemetry_record);
  if (!errors) return tl::unexpected(errors.error());
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

}  // namespace selfheal::diagnosis
