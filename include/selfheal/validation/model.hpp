#pragma once
/// \file
/// Plain data of validation.run: the request its first beat validates and the report it stores.
/// deployment.deploy reads a `report` back through `validation/store.hpp`; `selfheal validate --json`
/// prints it (field names as in HEALING.md).

#include <cstddef>
#include <string>
#include <vector>

#include "selfheal/fix/model.hpp"

namespace selfheal::validation {

struct run_request {
  std::string patch_record;  ///< the fix record or patch id to validate (default: latest fix)
  std::string patch_file;    ///< or: any unified diff (a person's fix), validated against the same evidence
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
  std::string config;  ///< selfheal.toml to read (default: `<repo>/selfheal.toml`)
  std::string base;    ///< the commit to apply the patch on (default: the patch's base, else service.main's head)
  fix::patch patch;    ///< or: the patch itself (a non-empty `diff`), e.g. from heal or a test
  std::string handler;       ///< the handler the patch fixes, when not from a fix record (for the performance check)
  std::string anomaly_type;  ///< its anomaly type ("performance": the handler must get faster)
  bool store_result = true;  ///< false: beat 9 writes nothing (record id stays empty)
  std::string checkout_parent;  ///< where the private checkouts go (default: the system's temporary directory)
};

/// One check: apply | build | tests | coverage | performance | docs.
struct check {
  std::string name;
  std::string status = "skipped";  ///< pass | fail | skipped
  double seconds = 0;
  std::string detail;
  std::string output;  ///< what the check's commands printed, cut to its head and tail (stored, not printed)
};

struct test_failure {
  std::string name;
  std::string message;
};

struct test_results {
  std::size_t passed = 0, failed = 0, skipped = 0, flaky = 0;
  std::vector<test_failure> failures;
  std::vector<std::string> flaky_tests;
  std::string format;        ///< where the results came from: junit | unittest | pytest | ctest | node | tap | exit_code
  std::size_t attempts = 0;  ///< runs of the test command (1 + retries used)
};

struct handler_comparison {
  std::string handler;
  double main_p50_ms = 0, candidate_p50_ms = 0, ratio = 0, p_value = 1;
};

struct performance_result {
  std::string handler;  ///< the anomalous handler (empty for a --patch validation without one)
  double main_p50_ms = 0, candidate_p50_ms = 0, ratio = 0, p_value = 1;
  std::vector<handler_comparison> handlers;     ///< every handler compared
  std::vector<std::string> regressions;         ///< handlers slower beyond max_regression, significant
};

/// What `selfheal validate` stores and prints.
struct report {
  std::string record_id;    ///< "validation-4"
  std::string fix_record;   ///< "fix-3" (empty for --patch)
  std::string patch_id;     ///< "fix-3.1", or "file:<name>" for --patch
  std::string base_commit;
  std::string handler, anomaly_id, anomaly_type, strategy;  ///< copied from the patch, for deploy/learn
  std::string diff;         ///< the patch validated (deploy commits exactly this)
  std::string verdict = "fail";  ///< pass | fail
  std::vector<std::string> reasons;
  std::vector<check> checks;
  test_results tests;
  performance_result performance;
};

}  // namespace selfheal::validation
