#pragma once
/// \file
/// The summary of one telemetry.parse run (beat 7's output) and its JSON form, exactly the object
/// `selfheal parse --json` prints (issue 3):
///
///   {"record_id":"…","files":[{"path":"…","format":"ndjson","bytes":N,"events":N,"bad_lines":N}],
///    "events":N,"executions":N,"bad_lines":N,"bad_line_samples":[{"path":"…","line":N,"reason":"…"}],
///    "handlers":[{"handler":"…","count":N,"errors":N,"error_rate":x,
///                 "mean_ms":x,"p50_ms":x,"p95_ms":x,"p99_ms":x,"max_ms":x}],
///    "sequences":[{"sequence":"…","executions":N,"failures":N,"p50_ms":x,"p95_ms":x,"max_ms":x}]}
///
/// `handlers` and `sequences` are sorted by count (descending) then name. Quantiles are nearest-rank
/// over executions with a duration, within 1%; `max_ms` is exact. Sources that could not be read at
/// all are listed in `files` with 0 bytes and count one bad line (line 0, with the reason).

#include <cstdint>
#include <string>
#include <string_view>

#include "selfheal/core/json_writer.hpp"
#include "selfheal/telemetry/metrics.hpp"

namespace selfheal::telemetry {

struct parse_summary {
  std::string record_id;
  telemetry_aggregate aggregate;
  double bytes_per_second = 0;  ///< ingest throughput (beat 3)
  bool nothing_new = false;     ///< every source was unchanged: no record was made (`record_id` "")
};

/// Writes `s` as the one JSON object of `selfheal parse --json`.
inline void write_json(json_writer& w, const parse_summary& s) {
  const auto& a = s.aggregate;
  w.begin_object();
  w.member("record_id", s.record_id);
  w.member("nothing_new", s.nothing_new);
  w.key("files").begin_array();
  for (const auto& f : a.sources) {
    w.begin_object()
        .member("path", f.plan.path)
        .member("format", to_string(f.format))
        .member("bytes", f.bytes)
        .member("events", f.events)
        .member("bad_lines", f.bad_lines)
        .member("held_back_bytes", f.held_back_bytes)
        .member("note", f.plan.note)
        .member("hint", f.hint)
        .end_object();
  }
  for (const auto& k : a.skipped) {
    w.begin_object()
        .member("path", k.path)
        .member("format", std::string_view("none"))
        .member("bytes", std::uint64_t{0})
        .member("events", std::uint64_t{0})
        .member("bad_lines", std::uint64_t{1})
        .end_object();
  }
  w.end_array();
  w.member("events", a.events);
  w.member("executions", a.executions);
  w.member("handler_calls", a.executions);  // the same count, named apart from sequence executions
  w.member("sequence_executions", a.sequence_executions);
  w.member("traced_executions", a.traces.executions);
  w.member("bad_lines", a.bad_lines);
  w.key("bad_line_samples").begin_array();
  for (const auto& b : a.bad_line_samples)
    w.begin_object().member("path", b.path).member("line", b.line).member("reason", b.reason).end_object();
  w.end_array();
  w.key("handlers").begin_array();
  for (const auto& h : a.handlers) {
    const auto& st = h.stats;
    w.begin_object()
        .member("handler", h.name)
        .member("count", st.count)
        .member("errors", st.errors)
        .member("error_rate", st.error_rate())
        .member("mean_ms", st.mean_ms())
        .member("p50_ms", st.quantile_ms(0.5))
        .member("p95_ms", st.quantile_ms(0.95))
        .member("p99_ms", st.quantile_ms(0.99))
        .member("max_ms", st.max_ms())
        .end_object();
  }
  w.end_array();
  w.key("sequences").begin_array();
  for (const auto& q : a.sequences) {
    const auto& st = q.stats;
    w.begin_object()
        .member("sequence", q.name)
        .member("executions", st.count)
        .member("failures", st.errors)
        .member("p50_ms", st.quantile_ms(0.5))
        .member("p95_ms", st.quantile_ms(0.95))
        .member("max_ms", st.max_ms())
        .end_object();
  }
  w.end_array();
  w.end_object();
}

[[nodiscard]] inline std::string to_json(const parse_summary& s) {
  std::string out;
  json_writer w(out);
  write_json(w, s);
  return out;
}

}  // namespace selfheal::telemetry
