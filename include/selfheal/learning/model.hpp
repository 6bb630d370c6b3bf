#pragma once
/// \file
/// Plain data of the learning sequence: the request its first beat validates, what learning.track
/// measures (metric changes with intervals, improvements, the outcome), what it learns (posteriors,
/// threshold changes, a refreshed baseline) and the summary `selfheal learn` prints.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/deployment/model.hpp"
#include "selfheal/learning/posterior.hpp"

namespace selfheal::learning {

struct track_request {
  std::string deployment_record;  ///< the deployment record to learn from (default: latest)
  std::string db_path = "selfheal.db";
  std::string repo;    ///< the monitored repository, when the sequence needs one
  /// The deployment itself, when the caller holds it (heal, embedders): then it is not read from
  /// the store and `deployment_record` may be empty (its `record_id` names it).
  std::optional<deployment::record> deployment;
  std::uint64_t seed = 0x5e1f'4ea1'0000'0015ULL;  ///< bootstrap generator seed
  std::size_t resamples = 2000;                    ///< bootstrap resamples
  double confidence = 0.95;                        ///< of every interval
  double allowed_increase = 1.2;  ///< a metric is worse only above before × this (the judge's `allowed_increase`) …
  double min_effect_ms = 0.5;     ///< … and by at least this many ms (latency) …
  double min_error_increase = 0.01;  ///< … or this much error rate, with the interval above 0
  bool refresh_baseline = true;   ///< after a success, store a baseline that includes the post-fix period
};

/// The anomaly a deployment answered, as detection stored it.
struct answered_anomaly {
  std::string id;              ///< "anomaly-3.1"
  std::string detection_record;  ///< "anomaly-3"
  std::string type, kind, handler, sequence;
  std::int64_t onset_ns = anomaly::no_time_ns;
  std::string baseline_record;
};

/// One outcome learned earlier (for insights).
struct past_outcome {
  std::string record_id, deployment_record, anomaly_type, strategy, handler;
  learning::outcome result = outcome::failure;
  std::int64_t onset_ns = anomaly::no_time_ns, deployed_ns = 0;
  double time_to_heal_s = -1;  ///< onset → verified deploy; −1 when unknown
};

/// How often a handler appeared in detections (for insights).
struct handler_history {
  std::string handler;
  std::size_t regressions = 0;  ///< detection records with a performance / error / slo anomaly on it
  bool coverage_gap = false;    ///< some detection found a coverage gap on it
};

/// What the pure beats need from the store besides the deployment (loaded by beat 2).
struct model_state {
  beta_posterior current;                 ///< the pair's posterior (or its prior) before this outcome
  bool current_stored = false;            ///< whether `current` came from the learning table
  std::vector<past_outcome> history;      ///< every outcome learned so far
  std::vector<handler_history> handlers;  ///< every handler seen in detections
  std::vector<anomaly::feedback_entry> feedback;  ///< feedback not reported by an earlier learning record
  std::optional<std::string> learned_as;  ///< the learning record of this deployment, when it was learned already
};

/// One metric before and after, with the interval of the change (HEALING.md's `metrics[]`).
struct metric_change {
  std::string name;     ///< "<handler>.p50_ms" | ".p95_ms" | ".error_rate"
  std::string handler;
  std::string stat;     ///< "p50_ms" | "p95_ms" | "error_rate"
  double before = 0;    ///< the baseline: median of its per-window values (latency), its error rate
  double after = 0;     ///< the post-deploy period, likewise
  double change = 0;    ///< after − before
  double ci_low = 0, ci_high = 0;
  std::optional<double> during;  ///< the anomalous period (onset → deploy), when telemetry has it
  double normal_high = 0;        ///< the top of the baseline's normal range
  std::size_t before_n = 0, after_n = 0;  ///< windows (latency) or calls (error rate)
  bool has_data = false;
  bool from_judge = false;       ///< the deploy's judge used this metric
};

/// What beat 5 makes of a metric change.
struct metric_improvement {
  std::string name;
  double relative_change = 0;        ///< change / before
  std::optional<double> recovered;   ///< share of the regression undone: (during − after) / (during − before)
  bool within_normal = false;        ///< after ≤ normal_high
  bool better = false;               ///< significantly below the anomalous period
  bool worse = false;                ///< significantly and materially above the baseline
};

/// A threshold change reported by `learn` (feedback given since the previous learning record).
struct threshold_change {
  std::string anomaly_id, handler, kind, verdict;
  double factor_before = 1, factor_after = 1;
};

/// One plain statement with its numbers.
struct insight {
  std::string topic;  ///< strategy_success | time_to_heal | repeat_regressions | coverage | this_fix
  std::string text;
};

/// What `selfheal learn` prints (HEALING.md).
struct track_summary {
  std::string record_id, deployment_record;
  bool already_learned = false;
  std::string anomaly_id, anomaly_type, handler, strategy;
  std::string deployment_status;
  outcome result = outcome::failure;
  std::vector<std::string> reasons;
  std::vector<metric_change> metrics;
  std::vector<metric_improvement> improvements;
  std::vector<beta_posterior> posteriors;
  std::vector<threshold_change> threshold_changes;
  std::optional<std::string> baseline_record;  ///< the refreshed baseline, after a success
  std::vector<insight> insights;
  double time_to_heal_s = -1;
};

}  // namespace selfheal::learning
