#pragma once
/// \file
/// The aggregated telemetry as it is stored and read back: per-scope statistics with a quantile
/// sketch, windowed metric rows, release (deploy) markers, error samples and the whole run's
/// `telemetry_aggregate`. Plain data plus exact, order-independent `merge`s.
///
/// Durations are kept as integer nanoseconds for min/max/sum (so sums merge exactly, in any order,
/// on any number of threads) and in milliseconds in the sketch.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "selfheal/telemetry/model.hpp"
#include "selfheal/telemetry/sketch.hpp"

namespace selfheal::telemetry {

/// Executions of one handler (or sequence), in one window or overall.
struct metric_stats {
  std::uint64_t count = 0;   ///< executions
  std::uint64_t errors = 0;  ///< executions that failed
  std::uint64_t timed = 0;   ///< executions with a duration (the sketch holds exactly these)
  std::int64_t min_ns = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t sum_ns = 0;
  quantile_sketch sketch;    ///< durations in ms

  /// One execution; `duration_ns` < 0 means "no duration known".
  void add(bool failed, std::int64_t duration_ns) {
    ++count;
    if (failed) ++errors;
    if (duration_ns >= 0) {
      ++timed;
      min_ns = std::min(min_ns, duration_ns);
      max_ns = std::max(max_ns, duration_ns);
      sum_ns += duration_ns;
      sketch.add(static_cast<double>(duration_ns) / 1e6);
    }
  }
  void merge(const metric_stats& o) {
    count += o.count;
    errors += o.errors;
    timed += o.timed;
    min_ns = std::min(min_ns, o.min_ns);
    max_ns = std::max(max_ns, o.max_ns);
    sum_ns += o.sum_ns;
    sketch.merge(o.sketch);
  }
  [[nodiscard]] double error_rate() const noexcept {
    return count ? static_cast<double>(errors) / static_cast<double>(count) : 0.0;
  }
  [[nodiscard]] double mean_ms() const noexcept {
    return timed ? static_cast<double>(sum_ns) / static_cast<double>(timed) / 1e6 : 0.0;
  }
  [[nodiscard]] double min_ms() const noexcept { return timed ? static_cast<double>(min_ns) / 1e6 : 0.0; }
  [[nodiscard]] double max_ms() const noexcept { return timed ? static_cast<double>(max_ns) / 1e6 : 0.0; }
  [[nodiscard]] double quantile_ms(double q) const noexcept { return sketch.quantile(q); }
  friend bool operator==(const metric_stats&, const metric_stats&) = default;
};

/// Handler executions or sequence executions.
enum class metric_scope : std::uint8_t { handler, sequence };

[[nodiscard]] constexpr std::string_view to_string(metric_scope s) noexcept {
  return s == metric_scope::handler ? "handler" : "sequence";
}

/// One row of `telemetry_window_metrics`: a scope, a name, a window and its statistics.
struct window_metric {
  metric_scope scope = metric_scope::handler;
  std::string name;
  std::int64_t window_start_ns = no_time;  ///< `no_time` for executions without a timestamp
  metric_stats stats;
  friend bool operator==(const window_metric&, const window_metric&) = default;
};

/// Totals over all windows for one name.
struct named_metric {
  std::string name;
  metric_stats stats;
  friend bool operator==(const named_metric&, const named_metric&) = default;
};

/// A `version|release|commit` value seen in a window: a deploy marker for diagnosis.
struct release_marker {
  std::int64_t window_start_ns = no_time;
  std::string release;
  std::int64_t first_seen_ns = no_time;
  std::int64_t last_seen_ns = no_time;
  std::uint64_t count = 0;
  friend bool operator==(const release_marker&, const release_marker&) = default;
};

/// A distinct error message (per handler): how often, first and last seen. Input for template mining.
struct error_sample {
  std::string handler;   ///< empty when the event named no handler
  std::string message;   ///< at most `max_error_message` bytes, trimmed
  std::int64_t first_seen_ns = no_time;
  std::int64_t last_seen_ns = no_time;
  std::uint64_t count = 0;
  friend bool operator==(const error_sample&, const error_sample&) = default;
};

inline constexpr std::size_t max_error_message = 512;   ///< bytes of a message kept
inline constexpr std::size_t max_error_samples = 10000; ///< distinct (handler, message) kept per run

/// Earliest of two times where `no_time` means unknown.
[[nodiscard]] constexpr std::int64_t earliest(std::int64_t a, std::int64_t b) noexcept {
  if (a == no_time) return b;
  if (b == no_time) return a;
  return std::min(a, b);
}
[[nodiscard]] constexpr std::int64_t latest(std::int64_t a, std::int64_t b) noexcept {
  if (a == no_time) return b;
  if (b == no_time) return a;
  return std::max(a, b);
}

/// The executions of one sequence that ran exactly these beats in this order (see `traces.hpp`).
struct execution_path {
  std::string sequence;
  std::vector<path_step> steps;       ///< in time order, each beat once; empty for a `rest` row
  bool rest = false;                  ///< executions of the paths beyond the per-sequence limit
  std::uint64_t executions = 0;
  std::uint64_t failed = 0;           ///< ended with sequence-failed
  std::uint64_t incomplete = 0;       ///< no end seen (end of file, or evicted)
  std::int64_t first_ns = no_time;    ///< earliest start of these executions
  std::int64_t last_ns = no_time;     ///< latest start
  friend bool operator==(const execution_path&, const execution_path&) = default;
};

/// Adds `from`'s counts to `into` (the same path of another run, or a path folded into a rest row).
inline void merge_counts(execution_path& into, const execution_path& from) {
  into.executions += from.executions;
  into.failed += from.failed;
  into.incomplete += from.incomplete;
  into.first_ns = earliest(into.first_ns, from.first_ns);
  into.last_ns = latest(into.last_ns, from.last_ns);
}

/// The execution paths of a run and what could not be traced.
struct trace_summary {
  std::vector<execution_path> paths;  ///< by sequence, then executions (desc), then steps; `rest` last
  std::uint64_t executions = 0;       ///< executions traced, complete or not
  std::uint64_t incomplete = 0;       ///< of which no end was seen
  std::uint64_t evicted = 0;          ///< of which closed early: too many open at once
  std::uint64_t untraced_beats = 0;   ///< beat events whose correlation id had no open execution
  std::uint64_t carried = 0;          ///< open at the end of a source the next run resumes: counted then
  /// Times a held distinct path made room for a new one (space-saving, `traces.hpp`): its
  /// executions went to its sequence's rest row. 0: every path was counted exactly.
  std::uint64_t paths_replaced = 0;
  friend bool operator==(const trace_summary&, const trace_summary&) = default;
};

/// The whole run, merged: what beat 5 hands to the store and the summary.
struct telemetry_aggregate {
  std::int64_t window_ns = 60'000'000'000;
  std::vector<window_metric> windows;      ///< sorted by (scope, name, window_start_ns)
  std::vector<named_metric> handlers;      ///< totals, sorted by count desc, then name
  std::vector<named_metric> sequences;     ///< totals, sorted by count desc, then name
  std::vector<release_marker> releases;    ///< sorted by (window, release)
  std::vector<error_sample> errors;        ///< sorted by (handler, message)
  std::uint64_t events = 0;                ///< events extracted (good lines with an event)
  std::uint64_t executions = 0;            ///< handler executions (sum of handler counts)
  std::uint64_t sequence_executions = 0;
  std::uint64_t bad_lines = 0;
  std::uint64_t unmatched_starts = 0;      ///< beat-started events never completed
  std::uint64_t out_of_order = 0;          ///< events older than the one before them in their source
  std::uint64_t error_samples_dropped = 0; ///< error events past `max_error_samples` distinct messages
  std::int64_t first_event_ns = no_time;
  std::int64_t last_event_ns = no_time;
  std::vector<bad_line> bad_line_samples;  ///< the first `max_bad_line_samples`, in input order
  std::vector<source_result> sources;      ///< in input order
  std::vector<skipped_source> skipped;
  std::uint64_t bytes = 0;                 ///< bytes read this run
  std::int64_t elapsed_ns = 0;             ///< wall time of the ingest (beat 3), for throughput
  trace_summary traces;                    ///< execution paths by correlation id
};

}  // namespace selfheal::telemetry
