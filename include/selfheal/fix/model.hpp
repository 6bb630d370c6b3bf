#pragma once
/// \file
/// Plain data of fix.generate: the request its first beat validates and the patch it stores.
/// validation.run reads a `patch` back through `fix/store.hpp`; the JSON of `selfheal fix` prints it
/// (field names as in HEALING.md).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace selfheal::fix {

/// The numbers and messages production showed for one anomaly (from its anomaly record).
struct evidence {
  std::string anomaly_id;
  std::string type;  ///< performance | slo | error | behavioral | coverage
  double baseline_p50_ms = 0, baseline_p95_ms = 0;
  double current_p50_ms = 0, current_p95_ms = 0;
  std::uint64_t error_count = 0;
  std::string error_template;
  std::vector<std::string> error_samples;
};

struct generate_request {
  std::string diagnosis_record;  ///< the diagnosis record to fix (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
  std::string config;  ///< selfheal.toml (default: `<repo>/selfheal.toml`; absent file = defaults)
  std::vector<std::string> anomaly_ids;  ///< only the diagnoses of these anomalies (empty = all)
  std::string strategy;  ///< only this strategy (empty = the top recommended one that applies)
  std::string main_branch;  ///< overrides `service.main` (default "main")
  std::vector<std::string> test_command;  ///< overrides `[test] command` (framework detection)
  std::vector<std::string> fix_command;   ///< overrides `[fix] command` (the external strategy)
  long fix_timeout_ms = 0;                ///< overrides `[fix] timeout` (default 600 s)
  bool store_result = true;  ///< false: storePatch writes nothing
  std::vector<evidence> production;  ///< given directly (hosts, tests): overrides the anomaly record's numbers
};

/// One file a patch changes.
struct file_stat {
  std::string path;  ///< relative to the repository root, '/'-separated
  std::size_t additions = 0;
  std::size_t deletions = 0;
};

/// The result of one syntax check of one changed file.
struct syntax_check {
  std::string path;
  std::string tool;     ///< "python3 compile()", "node --check", "c++ -fsyntax-only (...)", "toml++", ...
  bool ok = false;
  std::string message;  ///< the tool's complaint, or empty
};

/// One patch: what `selfheal fix` prints under "patches" and `validate --fix` applies.
struct patch {
  std::string id;             ///< "<fix record>.<n>", e.g. "fix-3.1"
  std::string fix_record;     ///< "fix-3"
  std::string diagnosis_record;
  std::string anomaly_id;     ///< e.g. "anomaly-2.1"
  std::string anomaly_type;   ///< "latency_regression", "error_spike", ... (as the anomaly record names it)
  std::string handler;
  std::string strategy;       ///< revert | partial_revert | config_change | external | <user strategy>
  std::string suspect_commit; ///< the commit the strategy undoes (empty for strategies that undo none)
  std::string base_commit;    ///< head of service.main the diff was made against
  std::vector<file_stat> files;
  std::vector<std::string> tests_added;  ///< paths of regression tests the patch adds
  std::vector<std::string> docs_added;   ///< paths of runbook entries the patch adds or changes
  std::vector<syntax_check> syntax;
  std::string diff;           ///< one unified diff; `git apply --check` accepts it on base_commit
  std::string test_framework; ///< "unittest", "pytest", "node --test", "jest", "vitest", or "" (none found)
  std::vector<std::string> notes;  ///< what a reviewer should know: moved hunks, no test framework, ...
};

/// A strategy that did not produce a patch for a diagnosis, and why (printed under "skipped").
struct skipped_strategy {
  std::string anomaly_id;
  std::string handler;
  std::string strategy;
  std::string reason;
};

}  // namespace selfheal::fix
