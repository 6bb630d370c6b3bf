#pragma once
/// \file
/// Plain data of fix.generate: the request its first beat validates and the patch it stores.
/// validation.run reads a `patch` back through `fix/store.hpp`; the JSON of `selfheal fix` prints it
/// (field names as in HEALING.md).

#include <cstddef>
#include <string>
#include <vector>

namespace selfheal::fix {

struct generate_request {
  std::string diagnosis_record;  ///< the diagnosis record to fix (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
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
  std::string tool;     ///< "python3 -m py_compile", "node --check", "toml++", ...
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
};

}  // namespace selfheal::fix
