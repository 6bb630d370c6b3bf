#pragma once
/// \file
/// Plain data of diagnosis.analyze: the anomaly as the analyzers see it and the diagnosis they
/// produce; the codebase index (symbols, tests, sequence files, config keys, git history) is the
/// source layer's (source/model.hpp). No I/O, no third-party headers.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "selfheal/source/model.hpp"

namespace selfheal::diagnosis {

// ---------------------------------------------------------------------------------------------
// Codebase index: the source layer's data (source/model.hpp), named here as diagnosis reads it
// ---------------------------------------------------------------------------------------------

using source::beat_definition;
using source::codebase;
using source::commit_info;
using source::config_entry;
using source::config_use;
using source::config_value_change;
using source::file_change;
using source::history;
using source::hunk;
using source::sequence_file;
using source::symbol;
using source::symbol_index;
using source::tag_info;
using source::test_case_info;
using source::test_file;

// ---------------------------------------------------------------------------------------------
// Input: the anomaly as the analyzers see it
// ---------------------------------------------------------------------------------------------

/// A release seen in telemetry (`version|release|commit` field) and when it was first/last seen.
struct release_marker {
  std::string version;
  std::int64_t first_seen = 0;  ///< seconds since the epoch
  std::int64_t last_seen = 0;
};

/// A line-coverage record of one source file (from an lcov report).
struct file_coverage {
  std::string file;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> lines;     ///< (line, hits)
  std::vector<std::pair<std::uint32_t, std::uint64_t>> branches;  ///< (line, taken) per branch
};

/// One anomaly to explain; the adapter from anomaly.detect's records fills this in.
struct anomaly_input {
  std::string id;
  std::string type;        ///< performance | behavioral | coverage | error | slo
  std::string handler;     ///< handler name as logged (`applyDiscount`)
  std::string sequence;    ///< sequence id or name, when known
  std::string severity;    ///< as anomaly.detect ranked it
  double confidence = 0;
  std::int64_t onset = 0;  ///< seconds since the epoch; 0 when unknown
  // performance
  double baseline_p50 = 0, baseline_p95 = 0, baseline_p99 = 0;
  double current_p50 = 0, current_p95 = 0, current_p99 = 0;
  // traffic
  std::uint64_t handler_count = 0;  ///< executions of this handler in the window
  std::uint64_t total_count = 0;    ///< executions of all handlers in the window
  std::uint64_t error_count = 0;
  // SLO, when one is given: latency objective in ms and target fraction (0.99)
  std::optional<double> slo_latency_ms;
  std::optional<double> slo_target;
  double bad_fraction = 0;  ///< fraction of executions violating the SLO in the window
  // behavioral
  std::vector<std::string> missing_beats;
  std::vector<std::string> unexpected_beats;
  std::vector<std::string> reordered_beats;
  // errors
  std::string error_template;
  std::vector<std::string> error_samples;
  std::int64_t first_seen = 0;
  // releases seen in the telemetry around the anomaly (ordered by first_seen)
  std::vector<release_marker> releases;
  // coverage
  std::vector<file_coverage> coverage;
  std::string description;
};

// ---------------------------------------------------------------------------------------------
// Output: diagnoses
// ---------------------------------------------------------------------------------------------

struct location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t end_line = 0;
  std::string symbol;
};

struct suspect_commit {
  std::string commit;   ///< full sha
  std::string summary;
  std::string author;
  std::int64_t time = 0;
  double score = 0;
  bool in_release_range = false;
  bool overlaps = false;              ///< changed lines inside the target's range (not only its file)
  std::uint32_t lines_in_target = 0;  ///< changed lines inside the range
  std::uint32_t lines_changed = 0;    ///< all lines the commit changed (additions + deletions)
  std::string file;                   ///< the target file as of that commit
  std::vector<hunk> target_hunks;     ///< its hunks that fall in the target (the commit's own line numbers)
  std::vector<config_value_change> config_changes;  ///< values it changed that the code in question reads
  std::vector<std::string> reasons;
};

struct impact {
  std::string severity;  ///< critical | high | medium | low
  double traffic_share = 0;
  std::vector<std::string> sequences;
  double slo_budget_burn = 0;  ///< burn rate: bad fraction / allowed fraction (1 = on budget)
  std::vector<std::string> reasons;
};

struct recommendation {
  std::string strategy;  ///< revert | partial_revert | config_change | regression_test | ...
  int priority = 0;      ///< 1 = do first
  double expected_benefit = 0;
  std::string rationale;
  std::string commit;    ///< for revert / partial_revert
  std::string file;      ///< target file (config key file, test file, ...)
  std::string key;       ///< config key for config_change
  std::string old_value; ///< config_change restoring a suspect's change: the value to restore
  std::string new_value; ///< config_change restoring a suspect's change: the value it set (now in the file)
  std::vector<hunk> hunks;  ///< hunks inside the handler for partial_revert (new-side lines)
};

struct stack_frame {
  std::string raw;       ///< the frame as it appeared
  std::string file;      ///< resolved repository file ("" when unresolved)
  std::uint32_t line = 0;
  std::string function;  ///< as written in the frame, or the enclosing symbol when resolved
};

struct diagnosis_item {
  std::string anomaly_id;
  std::string type;
  std::string handler;
  std::string sequence;                     ///< the anomaly's sequence, when known
  std::string root_cause;
  double confidence = 0;
  std::optional<location> where;
  std::vector<std::string> evidence;        ///< human-readable lines
  std::vector<std::string> candidates;      ///< other symbols the handler name matched (ambiguity)
  std::string shape;                        ///< performance: shift | tail | mixed | unknown
  std::vector<suspect_commit> suspects;
  std::vector<stack_frame> frames;          ///< errors
  std::vector<std::uint32_t> uncovered_lines;  ///< coverage
  std::vector<std::string> nearby_tests;    ///< coverage / regression tests: "file: test name"
  std::vector<config_entry> related_config; ///< config keys matching the symptom
  impact effect;
  std::vector<recommendation> recommendations;
};

/// What a diagnosis is about, for people: the handler, or "sequence X" for a whole-sequence anomaly.
[[nodiscard]] inline std::string subject(const diagnosis_item& d) {
  if (!d.handler.empty() || d.sequence.empty()) return d.handler;
  return "sequence " + d.sequence;
}

}  // namespace selfheal::diagnosis
