#pragma once
/// \file
/// Plain data of diagnosis.analyze: the codebase index (symbols, tests, sequence files, config keys,
/// git history), the anomaly as the analyzers see it, and the diagnosis they produce.
/// No I/O, no third-party headers.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace selfheal::diagnosis {

// ---------------------------------------------------------------------------------------------
// Codebase index
// ---------------------------------------------------------------------------------------------

/// One definition in the monitored repository. `file` is relative to the repository root, with '/'.
struct symbol {
  std::string name;        ///< `applyDiscount`
  std::string scope;       ///< `Cart` or `shop::Cart` (empty at top level)
  std::string kind;        ///< ctags kind: function, method, member, class, constant, ...
  std::string language;    ///< C, C++, JavaScript, TypeScript, Python, Go, Java
  std::string file;        ///< `src/cart.js`
  std::uint32_t line = 0;      ///< first line, 1-based
  std::uint32_t end_line = 0;  ///< last line, 1-based (>= line)
  bool end_scanned = false;    ///< end line computed by the brace/indent scanner, not by ctags

  /// `Cart::applyDiscount` or `applyDiscount`.
  [[nodiscard]] std::string qualified() const { return scope.empty() ? name : scope + "::" + name; }
};

/// Where the symbols came from and what went wrong on the way.
struct symbol_index {
  std::vector<symbol> symbols;
  std::string source;                 ///< "ctags" or "fallback"
  std::vector<std::string> warnings;  ///< "ctags: ...", "src/x.js:12: ..."
  std::size_t cached_files = 0;   ///< source files whose symbols came from the symbol cache (load_codebase)
  std::size_t indexed_files = 0;  ///< source files run through ctags or the scanner this time
};

struct test_case_info {
  std::string name;        ///< "applies a 10% discount"
  std::uint32_t line = 0;
};

/// A test file, its test cases and the identifiers it mentions (for "tests near the handler").
struct test_file {
  std::string file;
  std::string language;
  std::vector<test_case_info> tests;
  std::vector<std::string> identifiers;  ///< sorted, unique identifiers appearing in the file
};

struct beat_definition {
  std::uint32_t number = 0;  ///< 1-based position in the sequence
  std::string event;
  std::string handler;
};

/// A sequence definition file (`sequences/*.json`: sequence → movements → beats).
struct sequence_file {
  std::string file;
  std::string id;
  std::string name;
  std::vector<beat_definition> beats;
};

/// One key of a configuration file, flattened: `database.pool.size`.
struct config_entry {
  std::string file;
  std::string key;
  std::string value;
  std::uint32_t line = 0;
};

/// A configuration value one commit changed (the flattened key, as in `config_entry`). An added
/// key has an empty `old_value` and `added`; a removed one an empty `new_value` and `removed`.
struct config_value_change {
  std::string file;
  std::string key;
  std::string old_value;
  std::string new_value;
  bool added = false;
  bool removed = false;
};

/// Where the code names a configuration key that some commit changed: the key (dotted, or its last
/// segment as a whole word) at `file:line`, inside the callable `function` (empty at top level),
/// which is itself called at `called_at` (file, line).
struct config_use {
  std::string key;
  std::string file;
  std::uint32_t line = 0;
  std::string function;
  std::vector<std::pair<std::string, std::uint32_t>> called_at;
};

/// A hunk of a diff against the first parent, zero context lines (git's @@ -a,b +c,d @@).
struct hunk {
  std::uint32_t old_start = 0;
  std::uint32_t old_lines = 0;
  std::uint32_t new_start = 0;
  std::uint32_t new_lines = 0;
};

struct file_change {
  std::string path;      ///< path after the commit
  std::string old_path;  ///< path before (differs on renames)
  char status = 'M';     ///< A, D, M, R
  std::uint32_t additions = 0;
  std::uint32_t deletions = 0;
  std::vector<hunk> hunks;
  bool hunks_known = true;  ///< false: its blobs are missing (blob-less clone); only the path is known
};

struct commit_info {
  std::string id;                     ///< full 40-hex sha
  std::string author;
  std::string email;
  std::int64_t time = 0;              ///< author time, seconds since the epoch (UTC)
  std::int64_t commit_time = 0;       ///< committer time, seconds since the epoch (UTC)
  std::string summary;                ///< first line of the message
  std::string message;
  std::vector<std::string> parents;
  std::vector<file_change> files;     ///< against the first parent (the empty tree for a root)
  bool shallow_boundary = false;      ///< a shallow clone's boundary: its parent is absent, `files` is empty
  bool incomplete = false;            ///< some of its objects are missing: files without hunks
  std::vector<config_value_change> config_changes;  ///< values of configuration files it changed (load_codebase)
};

struct tag_info {
  std::string name;    ///< `v1.2.0`
  std::string target;  ///< the commit it points to (peeled)
};

/// Commits newest first (topological + time order from HEAD).
struct history {
  std::string head;
  std::vector<commit_info> commits;
  std::vector<tag_info> tags;
  std::size_t read_from_git = 0;    ///< commits read through libgit2 in this run
  std::size_t read_from_cache = 0;  ///< commits read back from the store
  std::vector<std::string> warnings;  ///< shallow boundaries, missing objects
};

/// Everything `loadCodebaseInfo` learns about the monitored repository.
struct codebase {
  std::filesystem::path root;
  std::vector<std::string> files;  ///< tracked files, relative, sorted
  symbol_index symbols;
  std::vector<test_file> tests;
  std::vector<sequence_file> sequences;
  std::vector<config_entry> configs;
  std::vector<config_use> config_uses;  ///< where the code names keys that commits changed
  history git;
  std::vector<std::string> warnings;
};

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
