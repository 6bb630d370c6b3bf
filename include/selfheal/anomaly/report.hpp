#pragma once
/// \file
/// The JSON documents of `selfheal detect --json` and `selfheal baseline --json` (the CLI prints
/// these and nothing else on standard output).
///
/// detect: `{"record_id","telemetry_record","baseline","anomalies":[{"id","type","kind","handler",
/// "sequence","severity","confidence","score","onset","description","evidence":{…}}],
/// "counts":{"by_type":{…},"by_severity":{…}}}`.
///
/// baseline: `{"baseline","records":[…],"from","until","window_s","windows","samples",
/// "handlers":[{"handler","samples","errors","error_rate","windows","p50_ms","p95_ms","p99_ms",
/// "p50_window_median_ms","p50_window_mad_ms","p95_window_median_ms","p95_window_mad_ms",
/// "error_rate_window_median","calls_per_window_median","calls_per_window_mad","confidence",
/// "low_confidence"}],"sequences":[{"sequence",… the same fields}],"low_confidence":[…]}`.

#include <string>

#include "selfheal/anomaly/model.hpp"
#include "selfheal/anomaly/store.hpp"
#include "selfheal/core/json_writer.hpp"

namespace selfheal::anomaly {

[[nodiscard]] inline std::string to_json(const detect_summary& s) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.member("record_id", s.record_id).member("telemetry_record", s.telemetry_record).member("baseline", s.baseline_id);
  w.key("anomalies").begin_array();
  for (const auto& a : s.anomalies) write_anomaly(w, a);
  w.end_array();
  w.key("counts").begin_object();
  w.key("by_type").begin_object();
  for (const auto& [k, v] : s.counts.by_type) w.member(k, v);
  w.end_object();
  w.key("by_severity").begin_object();
  for (const auto& [k, v] : s.counts.by_severity) w.member(k, v);
  w.end_object();
  w.end_object();
  w.end_object();
  return out;
}

[[nodiscard]] inline std::string to_json(const baseline_summary& s) {
  std::string out;
  json_writer w(out);
  const auto time = [&](std::int64_t ns) {
    if (ns == no_time_ns) w.value(nullptr); else w.value(iso8601(ns));
  };
  w.begin_object();
  w.member("baseline", s.id);
  w.key("records").begin_array();
  for (const auto& r : s.records) w.value(r);
  w.end_array();
  w.key("from");
  time(s.from_ns);
  w.key("until");
  time(s.until_ns);
  w.member("window_s", static_cast<double>(s.window_ns) / 1e9).member("windows", s.windows).member("samples", s.samples);
  const auto row = [&](const handler_baseline& h, std::string_view key) {
    w.begin_object();
    w.member(key, h.handler).member("samples", h.samples).member("errors", h.errors);
    w.member("error_rate", h.error_rate()).member("windows", h.windows);
    w.member("p50_ms", h.p50_ms).member("p95_ms", h.p95_ms).member("p99_ms", h.p99_ms);
    w.member("p50_window_median_ms", h.p50_windows.median).member("p50_window_mad_ms", h.p50_windows.mad);
    w.member("p95_window_median_ms", h.p95_windows.median).member("p95_window_mad_ms", h.p95_windows.mad);
    w.member("error_rate_window_median", h.error_rate_windows.median);
    w.member("calls_per_window_median", h.rate_windows.median).member("calls_per_window_mad", h.rate_windows.mad);
    w.member("confidence", h.confidence).member("low_confidence", h.low_confidence);
    w.end_object();
  };
  w.key("handlers").begin_array();
  for (const auto& h : s.handlers) row(h, "handler");
  w.end_array();
  w.key("sequences").begin_array();
  for (const auto& h : s.sequences) row(h, "sequence");
  w.end_array();
  w.key("low_confidence").begin_array();
  for (const auto& h : s.low_confidence) w.value(h);
  w.end_array();
  w.end_object();
  return out;
}

}  // namespace selfheal::anomaly
