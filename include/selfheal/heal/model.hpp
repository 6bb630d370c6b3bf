#pragma once
/// \file
/// Plain data of `selfheal heal`, the closed loop: the request, each anomaly's way through diagnose →
/// fix → validate → deploy → learn (one record id per step, so a killed run resumes at the first
/// step without one), and the report (field names as in HEALING.md).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace selfheal::heal {

struct heal_request {
  std::filesystem::path repo;    ///< the monitored repository (holds selfheal.toml)
  std::filesystem::path config;  ///< another settings file (default: <repo>/selfheal.toml)
  unsigned max_rounds = 1;       ///< --once: 1; --watch: until stopped (0 = unbounded)
  double watch_seconds = 0;      ///< pause between rounds
  double window_seconds = 1;     ///< telemetry aggregation window for the rounds' parses
};

/// The steps of one anomaly, in order. A step's record is empty until the step has committed.
inline constexpr const char* step_names[] = {"diagnosis", "fix", "validation", "deployment", "learning"};

struct anomaly_progress {
  std::string id;       ///< the anomaly ("anomaly-4.1")
  std::string handler;
  std::string type;     ///< latency | errors | behavior | coverage | ... (anomaly_type)
  std::string kind;     ///< latency_shift, error_rate, ...
  std::string description;
  std::int64_t onset_ns = 0;     ///< event time of the anomaly's onset (0 when unknown)
  std::int64_t detected_ns = 0;  ///< start of the round that first detected it
  std::int64_t healed_ns = 0;    ///< when the verified full deploy finished
  std::string diagnosis, fix, validation, deployment, learning;  ///< record ids, in step order
  std::string strategy;          ///< the fix's strategy
  std::string status = "open";   ///< open | healed | blocked | dry_run | failed | rolled_back | skipped
  std::string reason;            ///< why it stopped, when it did
  std::string story;             ///< the human account: what broke, why, what changed, the evidence

  [[nodiscard]] bool finished() const noexcept { return status != "open"; }
};

struct heal_report {
  std::string record_id;
  std::string status = "nothing_to_do";  ///< healed | nothing_to_do | blocked | failed | dry_run
  unsigned rounds = 0;
  std::vector<std::string> telemetry_records;
  std::string baseline_record;
  std::vector<anomaly_progress> anomalies;
  double time_to_heal_s = 0;  ///< mean over healed anomalies: detecting round → verified full deploy
  double mttr_s = 0;          ///< mean over healed anomalies: onset (event time) → verified full deploy
  std::vector<std::string> notes;  ///< what each round did, for the human output
  /// This invocation's time, from its own beat events (timing.hpp): inside selfheal's sequences
  /// (`sequences_s`), of which waiting on child processes and settle waits (`external_s`), and
  /// selfheal's own share, the difference (`selfheal_s`).
  double sequences_s = 0;
  double external_s = 0;
  double selfheal_s = 0;
};

}  // namespace selfheal::heal
