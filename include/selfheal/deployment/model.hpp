#pragma once
/// \file
/// Plain data of deployment.deploy: the request its first beat validates and the record it stores.
/// learning.track reads a `record` back through `deployment/store.hpp`; `selfheal deploy --json` prints
/// it (field names as in HEALING.md).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "selfheal/deployment/config.hpp"
#include "selfheal/validation/model.hpp"

namespace selfheal::deployment {

struct deploy_request {
  std::string validation_record;  ///< the validation record whose patch to deploy (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
  bool dry_run = false;   ///< --dry-run: print what would happen, write nothing
  bool execute = false;   ///< --execute: act even when policy.mode is dry-run? (no: mode wins; see HEALING.md)
  bool approve = false;   ///< --approve
  std::string actor;      ///< who asks (recorded in the audit log); default "selfheal"
  std::string config_path;               ///< --config FILE; default <repo>/selfheal.toml
  std::optional<deploy_config> config;   ///< given directly (tests, hosts): no file is read
  std::optional<validation::report> validation_report;  ///< given directly (hosts, tests): no store read
};

/// One metric as the canary judge classified it.
struct metric_verdict {
  std::string name;                 ///< "<handler>.p50_ms", "<handler>.p95_ms", "<handler>.error_rate"
  double baseline = 0, canary = 0, ratio = 0, p_value = 1;
  std::string classification = "nodata";  ///< pass | high | low | nodata
  bool critical = false;
};

struct stage_result {
  std::string stage;     ///< "canary", "full", or the rollback's stage
  std::string commit;
  std::int64_t started_ns = 0, finished_ns = 0;
  std::string verdict = "skipped";  ///< pass | marginal | fail | skipped
  double score = 0;
  std::vector<metric_verdict> metrics;
};

struct pull_request {
  std::string id, title, url;
  std::string body;  ///< Markdown
};

struct rollback {
  std::string commit;
  std::string reason;
};

/// What `selfheal deploy` stores and prints.
struct record {
  std::string record_id, validation_record, mode;
  std::string status;  ///< deployed | rolled_back | blocked | dry_run | failed (running while a deploy acts)
  std::vector<std::string> reasons;
  std::string handler, anomaly_id, anomaly_type, strategy;  ///< from the validation, for learning
  std::string branch, commit, merge_commit, previous;        ///< previous: main's head before the merge
  std::optional<pull_request> pr;
  std::vector<stage_result> stages;
  std::optional<struct rollback> rolled_back;
  std::vector<std::int64_t> audit;  ///< audit row ids
  std::string approved_by;          ///< who approved (approve mode, or a held stage's promotion)
  std::vector<std::string> plan;    ///< what the deploy does / would do, one step a line (with the commands)
  std::int64_t deployed_ns = 0;     ///< when the last stage finished (event time of the verified deploy)
};

}  // namespace selfheal::deployment
