#pragma once
/// \file
/// Plain data of baseline.establish and anomaly.detect: window series (what the detectors read),
/// baselines, anomalies with their evidence, the options of every detector, and the requests and
/// summaries of both sequences (report printers include this, not the sequences). No I/O here.
///
/// Times are UTC nanoseconds since the epoch (`std::int64_t`), like telemetry's; durations in ms.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "selfheal/anomaly/stats.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/telemetry/metrics.hpp"

namespace selfheal::anomaly {

/// "No time" marker (no onset, unknown timestamp).
inline constexpr std::int64_t no_time_ns = std::numeric_limits<std::int64_t>::min();

/// The record an anomaly id belongs to: "anomaly-3" for "anomaly-3.1" (ids are `<record>.<n>`);
/// nothing for an id that names no single anomaly (a record id such as "anomaly-3").
[[nodiscard]] inline std::optional<std::string> record_of_anomaly(std::string_view id) {
  const auto dot = id.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == id.size()) return std::nullopt;
  for (char c : id.substr(dot + 1))
    if (c < '0' || c > '9') return std::nullopt;
  return std::string(id.substr(0, dot));
}

namespace detail {
/// A number for messages: `precision` significant digits, no trailing noise.
inline std::string fmt_num(double v, int precision = 3) {
  return fmt::format("{:.{}g}", v, precision);
}
}  // namespace detail

/// UTC nanoseconds → "YYYY-MM-DDTHH:MM:SS.mmmZ" (core's `format_iso8601`); "" for `no_time_ns`.
[[nodiscard]] inline std::string iso8601(std::int64_t ns) {
  if (ns == no_time_ns) return {};
  return format_iso8601(ns);
}

// ---- input: windowed metrics -------------------------------------------------------------------

/// One handler in one time window: executions, failed executions and latency quantiles (ms).
/// Quantiles are meaningless when `count` is 0.
struct window_point {
  std::int64_t start_ns = 0;
  std::uint64_t count = 0;
  std::uint64_t errors = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

/// Overall latency quantiles of a handler over a whole period (from merged sketches).
struct overall_quantiles {
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

/// A handler's window series (windows in time order; absent windows mean no executions).
struct handler_series {
  std::string handler;
  std::string sequence;                   ///< empty when the handler is seen outside sequences
  std::vector<window_point> windows;
  std::optional<overall_quantiles> overall;  ///< from merged sketches, when the store has them
  /// Every duration of the period in one mergeable sketch (empty when unknown): what the sample
  /// comparison reads when the period has too few windows for a comparison of windows.
  telemetry::quantile_sketch latency;

  [[nodiscard]] std::uint64_t total_count() const noexcept {
    std::uint64_t n = 0;
    for (const auto& w : windows) n += w.count;
    return n;
  }
  [[nodiscard]] std::uint64_t total_errors() const noexcept {
    std::uint64_t n = 0;
    for (const auto& w : windows) n += w.errors;
    return n;
  }
};

/// An error message as stored by telemetry (deduplicated by message and handler).
struct error_sample {
  std::string handler;
  std::string message;
  std::uint64_t count = 1;
  std::int64_t first_seen_ns = no_time_ns;
  std::int64_t last_seen_ns = no_time_ns;
};

/// Executions of one sequence that ran the same beats in the same order, with counts: what
/// telemetry.parse stores per record (`telemetry/traces.hpp`) and the behavioral checks read.
using execution_path = telemetry::execution_path;
using path_step = telemetry::path_step;

/// One observed beat of one execution, for embedders that hold raw events instead of stored
/// paths (`paths_from_observations` folds them into paths).
struct beat_observation {
  std::string correlation_id;
  std::string sequence;  ///< sequence id or name as logged
  std::string event;     ///< beat event (topic) when logged
  std::string handler;   ///< handler name when logged
  std::int64_t ts_ns = no_time_ns;
  std::int64_t beat = -1;  ///< beat number when logged, else -1
};

/// What the detectors read for one period: the telemetry record's windows, errors and beats.
struct telemetry_data {
  std::string record_id;
  std::int64_t window_ns = 60'000'000'000;
  std::vector<handler_series> handlers;
  /// Whole-sequence executions per window (telemetry's 'sequence' scope): `handler` holds the
  /// sequence name, `sequence` the same. Detected like handlers; anomalies name only the sequence.
  std::vector<handler_series> sequences;
  std::vector<error_sample> errors;
  std::vector<execution_path> paths;      ///< stored execution paths of the record(s)
  std::vector<beat_observation> beats;    ///< raw observations, when an embedder has them
};

// ---- baselines ---------------------------------------------------------------------------------

/// The normal behaviour of one handler.
struct handler_baseline {
  std::string handler;
  std::string sequence;
  std::uint64_t samples = 0;    ///< executions
  std::uint64_t errors = 0;     ///< failed executions
  std::size_t windows = 0;      ///< windows with at least one execution
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  ///< overall quantiles (merged sketches, else window medians)
  stats::robust_summary p50_windows;          ///< median/MAD of per-window p50 (windows with enough samples)
  stats::robust_summary p95_windows;
  stats::robust_summary error_rate_windows;   ///< per-window error rate
  stats::robust_summary rate_windows;         ///< executions per window, absent windows as 0
  std::vector<double> window_p50;             ///< the per-window values themselves, for rank tests
  std::vector<double> window_p95;
  std::vector<double> window_counts;
  telemetry::quantile_sketch latency;         ///< every duration of the period (empty when unknown)
  double confidence = 0;                      ///< grows with samples and windows, in [0, 1)
  bool low_confidence = true;

  [[nodiscard]] double error_rate() const noexcept {
    return samples ? static_cast<double>(errors) / static_cast<double>(samples) : 0.0;
  }
};

/// A stored baseline: per-handler statistics, plus the error messages of the period (for templates).
struct baseline {
  std::string id;
  std::int64_t created_ns = no_time_ns;
  std::int64_t from_ns = no_time_ns;
  std::int64_t until_ns = no_time_ns;
  std::int64_t window_ns = 60'000'000'000;
  std::size_t period_windows = 0;               ///< windows in the period (the grid)
  std::vector<std::string> records;             ///< telemetry records it was built from
  std::vector<handler_baseline> handlers;       ///< sorted by handler name
  std::vector<handler_baseline> sequences;      ///< whole-sequence baselines, sorted by name
  std::vector<error_sample> errors;
  std::uint64_t total_samples = 0;

  /// The baseline of `handler` (binary search: `handlers` is kept sorted by name).
  [[nodiscard]] const handler_baseline* find(std::string_view handler) const noexcept { return find_in(handlers, handler); }
  /// The whole-sequence baseline of `sequence`.
  [[nodiscard]] const handler_baseline* find_sequence(std::string_view sequence) const noexcept {
    return find_in(sequences, sequence);
  }
  void sort_handlers() {
    const auto by_name = [](const auto& a, const auto& b) { return a.handler < b.handler; };
    std::sort(handlers.begin(), handlers.end(), by_name);
    std::sort(sequences.begin(), sequences.end(), by_name);
  }
  [[nodiscard]] static const handler_baseline* find_in(const std::vector<handler_baseline>& v, std::string_view name) noexcept {
    auto it = std::lower_bound(v.begin(), v.end(), name,
                               [](const handler_baseline& h, std::string_view n) { return h.handler < n; });
    return it != v.end() && it->handler == name ? &*it : nullptr;
  }
  [[nodiscard]] std::vector<const handler_baseline*> low_confidence() const {
    std::vector<const handler_baseline*> out;
    for (const auto& h : handlers)
      if (h.low_confidence) out.push_back(&h);
    return out;
  }
};

// ---- anomalies ---------------------------------------------------------------------------------

enum class anomaly_type : std::uint8_t { performance, slo, behavioral, coverage, error };

enum class anomaly_kind : std::uint8_t {
  latency_shift,         ///< the whole latency distribution moved up (p50 and usually p95)
  latency_tail,          ///< only the tail (p95/p99) moved up
  slo_burn,              ///< error budget burning faster than the multi-window alert thresholds
  missing_beat,
  out_of_order,
  unexpected_beat,
  new_handler,           ///< a handler never seen in the baseline
  traffic_surge,
  traffic_drop,
  coverage_gap,          ///< a handler hot in production with poorly covered code
  error_rate,            ///< error rate rose significantly (two-proportion test)
  new_error_template,
  error_template_spike,
};

inline constexpr anomaly_kind all_kinds[] = {
    anomaly_kind::latency_shift, anomaly_kind::latency_tail,    anomaly_kind::slo_burn,
    anomaly_kind::missing_beat,  anomaly_kind::out_of_order,    anomaly_kind::unexpected_beat,
    anomaly_kind::new_handler,   anomaly_kind::traffic_surge,   anomaly_kind::traffic_drop,
    anomaly_kind::coverage_gap,  anomaly_kind::error_rate,      anomaly_kind::new_error_template,
    anomaly_kind::error_template_spike};

enum class severity : std::uint8_t { low, medium, high, critical };

[[nodiscard]] constexpr std::string_view to_string(anomaly_type t) noexcept {
  switch (t) {
    case anomaly_type::performance: return "performance";
    case anomaly_type::slo: return "slo";
    case anomaly_type::behavioral: return "behavioral";
    case anomaly_type::coverage: return "coverage";
    case anomaly_type::error: return "error";
  }
  return "performance";
}

[[nodiscard]] constexpr std::string_view to_string(anomaly_kind k) noexcept {
  switch (k) {
    case anomaly_kind::latency_shift: return "latency_shift";
    case anomaly_kind::latency_tail: return "latency_tail";
    case anomaly_kind::slo_burn: return "slo_burn";
    case anomaly_kind::missing_beat: return "missing_beat";
    case anomaly_kind::out_of_order: return "out_of_order";
    case anomaly_kind::unexpected_beat: return "unexpected_beat";
    case anomaly_kind::new_handler: return "new_handler";
    case anomaly_kind::traffic_surge: return "traffic_surge";
    case anomaly_kind::traffic_drop: return "traffic_drop";
    case anomaly_kind::coverage_gap: return "coverage_gap";
    case anomaly_kind::error_rate: return "error_rate";
    case anomaly_kind::new_error_template: return "new_error_template";
    case anomaly_kind::error_template_spike: return "error_template_spike";
  }
  return "latency_shift";
}

[[nodiscard]] constexpr std::string_view to_string(severity s) noexcept {
  switch (s) {
    case severity::low: return "low";
    case severity::medium: return "medium";
    case severity::high: return "high";
    case severity::critical: return "critical";
  }
  return "low";
}

/// The type a kind belongs to.
[[nodiscard]] constexpr anomaly_type type_of(anomaly_kind k) noexcept {
  switch (k) {
    case anomaly_kind::latency_shift:
    case anomaly_kind::latency_tail: return anomaly_type::performance;
    case anomaly_kind::slo_burn: return anomaly_type::slo;
    case anomaly_kind::coverage_gap: return anomaly_type::coverage;
    case anomaly_kind::error_rate:
    case anomaly_kind::new_error_template:
    case anomaly_kind::error_template_spike: return anomaly_type::error;
    default: return anomaly_type::behavioral;
  }
}

/// Severity weight for scoring: low ¼, medium ½, high ¾, critical 1.
[[nodiscard]] constexpr double weight(severity s) noexcept {
  return (static_cast<double>(static_cast<int>(s)) + 1.0) / 4.0;
}

/// One named piece of evidence: a number or a text.
struct evidence_item {
  std::string key;
  double number = 0;
  std::string text;
  bool is_text = false;
};

/// What a detector found. `kinds` lists every kind merged into it (the first is `kind`).
struct anomaly {
  std::string id;
  anomaly_kind kind = anomaly_kind::latency_shift;
  std::string handler;
  std::string sequence;
  severity level = severity::low;
  double confidence = 0;  ///< in [0, 1]
  double score = 0;       ///< weight(level) × confidence, set by aggregation
  std::int64_t onset_ns = no_time_ns;
  std::string description;
  std::vector<evidence_item> evidence;
  std::vector<anomaly_kind> kinds;

  [[nodiscard]] anomaly_type type() const noexcept { return type_of(kind); }
  anomaly& number(std::string key, double v) {
    evidence.push_back({std::move(key), v, {}, false});
    return *this;
  }
  anomaly& text(std::string key, std::string v) {
    evidence.push_back({std::move(key), 0, std::move(v), true});
    return *this;
  }
  [[nodiscard]] const evidence_item* find(std::string_view key) const noexcept {
    for (const auto& e : evidence)
      if (e.key == key) return &e;
    return nullptr;
  }
  [[nodiscard]] bool has_kind(anomaly_kind k) const noexcept {
    if (kind == k) return true;
    for (auto x : kinds)
      if (x == k) return true;
    return false;
  }
};

/// Re-labels an anomaly found on a whole-sequence series: it names the sequence, not a handler.
inline void as_sequence_anomaly(anomaly& a) {
  a.sequence = a.handler;
  a.handler.clear();
  a.description = "sequence " + a.sequence + ": " + a.description;
}

// ---- options -----------------------------------------------------------------------------------

/// Sample-size gates shared by the detectors: nothing is claimed on tiny samples.
struct sample_gates {
  std::uint64_t min_samples = 50;        ///< executions of a handler in the period
  std::size_t min_windows = 3;           ///< usable windows in the period
  std::uint64_t min_window_count = 5;    ///< executions for a window's p50 to count
  std::uint64_t min_window_count_tail = 20;  ///< executions for a window's p95 to count (below, p95 is the max)
};

struct performance_options {
  double ratio = 1.3;         ///< p50 or p95 ratio vs baseline that counts as large
  double alpha = 1e-3;        ///< one-sided Mann-Whitney significance (windows or samples)
  double cusum_k = 0.5, cusum_h = 5.0;
  double min_relative_sigma = 0.02;  ///< floor of the baseline's robust sigma, relative to its median
  sample_gates gates{};
};

struct traffic_options {
  double surge_ratio = 1.5;  ///< median calls per window vs baseline
  double drop_ratio = 1.5;   ///< baseline over current
  double alpha = 1e-3;
  std::size_t min_windows = 5;
  double min_baseline_rate = 5;  ///< calls per window in the baseline before a drop can be claimed
  std::uint64_t new_handler_min_count = 20;
};

struct error_options {
  double alpha = 1e-4;           ///< two-proportion / Poisson significance
  double min_rate_increase = 0.01;  ///< absolute error-rate rise that matters
  std::uint64_t min_errors = 10;
  std::uint64_t new_template_min_count = 5;
  double spike_ratio = 2.0;
  double spike_share_alpha = 1e-3;  ///< the template's share of its handlers' errors must rise at this level
  std::uint64_t spike_min_count = 10;
};

struct behavioral_options {
  double min_share = 0.02;          ///< share of executions affected
  std::uint64_t min_executions = 5; ///< affected executions
};

struct coverage_options {
  double min_traffic_share = 0.01;  ///< handler's share of all executions
  double min_line_coverage = 0.80;
};

struct detect_options {
  performance_options performance{};
  traffic_options traffic{};
  error_options errors{};
  behavioral_options behavioral{};
  coverage_options coverage{};
};

/// Severity from a ratio of "how much worse": ≥3 critical, ≥2 high, ≥1.5 medium, else low.
[[nodiscard]] constexpr severity severity_from_ratio(double r) noexcept {
  if (r >= 3.0) return severity::critical;
  if (r >= 2.0) return severity::high;
  if (r >= 1.5) return severity::medium;
  return severity::low;
}

struct slo_options {
  double alpha = 1e-3;
  std::uint64_t min_requests = 50;
};

/// Every detector's options and the SLO check's.
struct all_options {
  detect_options detect{};
  slo_options slo{};
};

struct baseline_options {
  sample_gates gates{};
  double confidence_samples = 200;  ///< n at which the sample factor reaches 1 − 1/e
  double confidence_windows = 10;   ///< w at which the window factor reaches 1 − 1/e
  double low_confidence_below = 0.5;
  double sample_credit = 0.6;  ///< the window factor's floor when the samples themselves are kept
};

// ---- requests and summaries of the two sequences (what the CLI and report printers read) ------

/// Anomalies counted by type, severity and kind.
struct anomaly_counts {
  std::map<std::string, std::uint64_t> by_type;
  std::map<std::string, std::uint64_t> by_severity;
  std::map<std::string, std::uint64_t> by_kind;
};

/// What `selfheal detect` asks for. Empty ids mean "the latest".
struct detect_request {
  std::string record_id;       ///< telemetry record (default: latest)
  std::string baseline_id;     ///< baseline (default: latest established)
  std::string slo_path;        ///< SLO objectives JSON, optional
  std::string sequences_dir;   ///< the monitored app's sequence definitions, optional
  std::string coverage_path;   ///< lcov tracefile, optional
  std::string repo_path;       ///< the monitored app's source tree: maps the tracefile through a symbol index, optional
  all_options options{};
};

/// anomaly.detect's result: what the CLI prints.
struct detect_summary {
  std::string record_id;
  std::string telemetry_record;
  std::string baseline_id;
  std::vector<anomaly> anomalies;
  anomaly_counts counts;
  std::vector<std::string> warnings;
};

/// What `selfheal baseline` asks for: records, or a period over every record, or (neither) the latest.
struct baseline_request {
  std::vector<std::string> records;  ///< telemetry record ids
  std::int64_t since_ns = no_time_ns;
  std::int64_t until_ns = no_time_ns;
  baseline_options options{};
};

/// baseline.establish's result.
struct baseline_summary {
  std::string id;
  std::vector<std::string> records;
  std::int64_t from_ns = no_time_ns, until_ns = no_time_ns, window_ns = 0;
  std::size_t windows = 0;
  std::uint64_t samples = 0;
  std::vector<handler_baseline> handlers;          ///< sorted by name
  std::vector<handler_baseline> sequences;         ///< whole-sequence baselines, sorted by name
  std::vector<std::string> low_confidence;         ///< handler names
};

}  // namespace selfheal::anomaly
