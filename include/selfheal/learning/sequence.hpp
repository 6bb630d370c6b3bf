#pragma once
/// \file
/// learning.track, declared beat by beat so that it reads like `sequences/learning.track.json`:
/// after a deploy, was the anomaly fixed (before vs after with confidence intervals), and what do the
/// models learn from it (strategy posteriors that diagnosis ranks with, feedback-tuned detection
/// thresholds, a baseline that includes the healthy post-fix period).
///
/// Each beat hands on a type that says what it added (`track_run` → `deployment_loaded` →
/// `metrics_collected` → `metrics_compared` → `improvement_calculated` → `success_assessed` →
/// `models_updated` → `insights_generated` → `effectiveness_stored` → `track_summary`), so a
/// reordered sequence does not compile. Beats 2, 3 and 9 do the I/O; the rest are pure.
///
/// \code
/// sh::context ctx; ctx.store = &db;
/// auto s = sh::run(learning::track_learning, ctx, learning::track_request{.deployment_record = "deployment-2"});
/// if (s) std::cout << to_string(s->result);   // success | partial | failure
/// \endcode

#include <algorithm>
#include <chrono>
#include <type_traits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/anomaly/store.hpp"
#include "selfheal/anomaly/thresholds.hpp"
#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/learning/compare.hpp"
#include "selfheal/learning/deployments.hpp"
#include "selfheal/learning/insights.hpp"
#include "selfheal/learning/model.hpp"
#include "selfheal/learning/posterior.hpp"
#include "selfheal/learning/store.hpp"

namespace selfheal::learning {

namespace sh = ::selfheal;

// ---- data handed from beat to beat ---------------------------------------------------------------

/// Beat 1's output: the validated request and the run's clock reading.
struct track_run {
  track_request request;
  time_point started_at{};
};

/// Beat 2's output: the deployment, the anomaly it answered, its baseline and the models' state.
struct deployment_loaded : track_run {
  deployment::record deployment;
  answered_anomaly answered;
  anomaly::baseline base;
  model_state models;
};

/// Beat 3's output: telemetry after the deploy, during the anomaly, and of the baseline's period.
struct metrics_collected : deployment_loaded {
  anomaly::telemetry_data after;
  anomaly::telemetry_data during;
  anomaly::telemetry_data baseline_period;
  std::vector<std::string> after_records;
};

/// Beat 4's output.
struct metrics_compared : metrics_collected {
  std::vector<metric_change> metrics;
};

/// Beat 5's output (parallel to `metrics`).
struct improvement_calculated : metrics_compared {
  std::vector<metric_improvement> improvements;
};

/// Beat 6's output.
struct success_assessed : improvement_calculated {
  assessment verdict;
  double time_to_heal_s = -1;
};

/// Beat 7's output.
struct models_updated : success_assessed {
  beta_posterior posterior;               ///< the pair after this outcome (unchanged when already learned)
  std::vector<threshold_change> threshold_changes;
  std::optional<anomaly::baseline> new_baseline;
};

/// Beat 8's output.
struct insights_generated : models_updated {
  std::vector<insight> insights;
};

/// Beat 9's output.
struct effectiveness_stored : insights_generated {
  std::string record_id;
  bool already_learned = false;
  std::optional<std::string> baseline_record;
};

namespace detail {
template <class To, class From>
To extend(From&& from) {
  To to;
  static_cast<std::remove_cvref_t<From>&>(to) = std::forward<From>(from);
  return to;
}
}  // namespace detail

// ---- the ten beats --------------------------------------------------------------------------------

/// Beat 1: Validate; deployment record.
struct track_requested {
  result<track_run> operator()(track_request req) const {
    if (!req.deployment_record.empty() && req.deployment_record.rfind("deployment-", 0) != 0)
      return fail(errc::invalid_request, "'" + req.deployment_record + "' is not a deployment record id (deployment-N)");
    if (!(req.confidence > 0.5 && req.confidence < 1)) return fail(errc::invalid_request, "the confidence must be in (0.5, 1)");
    if (req.resamples < 100) return fail(errc::invalid_request, "at least 100 bootstrap resamples");
    if (!(req.allowed_increase >= 1)) return fail(errc::invalid_request, "allowed_increase must be at least 1");
    if (req.deployment && req.deployment->record_id.empty())
      req.deployment->record_id = req.deployment_record;
    if (req.deployment && req.deployment->record_id.empty())
      return fail(errc::invalid_request, "a deployment handed over must carry its record id");
    return track_run{std::move(req), {}};  // the clock is read by beat 2, a stage-crew beat
  }
};

/// Beat 2: Load deployment and the anomaly it answered (and the baseline it was judged against,
/// the pair's posterior, earlier outcomes, detections and feedback not reported yet).
struct load_deployment_info {
  result<deployment_loaded> operator()(track_run run, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: learning.track needs a database in the context");
    auto& db = *ctx.store;
    if (auto m = migrate_learning(db); !m) return tl::unexpected(m.error());
    deployment_loaded s = detail::extend<deployment_loaded>(std::move(run));
    s.started_at = ctx.now();
    if (s.request.deployment) {
      s.deployment = *s.request.deployment;
    } else {
      auto d = load_deployment_for_learning(db, s.request.deployment_record);
      if (!d) return tl::unexpected(d.error());
      s.deployment = std::move(*d);
    }
    const auto& d = s.deployment;
    if (d.status != "deployed" && d.status != "rolled_back")
      return fail(errc::invalid_request, d.record_id + " is " + (d.status.empty() ? std::string("without a status") : d.status) +
                                             ": nothing reached production, so there is nothing to learn from");
    if (d.anomaly_id.empty()) return fail(errc::invalid_request, d.record_id + " names no anomaly: nothing to learn about");
    if (d.strategy.empty()) return fail(errc::invalid_request, d.record_id + " names no fix strategy: nothing to learn about");
    auto a = load_answered_anomaly(db, d.anomaly_id);
    if (!a) return tl::unexpected(a.error());
    s.answered = std::move(*a);
    if (s.answered.handler.empty() && s.answered.sequence.empty()) s.answered.handler = d.handler;
    auto base = anomaly::load_baseline(db, s.answered.baseline_record);
    if (!base) return tl::unexpected(base.error());
    s.base = std::move(*base);
    const std::string type = !s.answered.type.empty() ? s.answered.type : d.anomaly_type;
    auto post = load_posterior(db, type, d.strategy);
    if (!post) return tl::unexpected(post.error());
    s.models.current = std::move(post->first);
    s.models.current_stored = post->second;
    auto hist = load_history(db);
    if (!hist) return tl::unexpected(hist.error());
    s.models.history = std::move(*hist);
    auto handlers = load_handler_history(db);
    if (!handlers) return tl::unexpected(handlers.error());
    s.models.handlers = std::move(*handlers);
    auto through = feedback_reported_through(db);
    if (!through) return tl::unexpected(through.error());
    auto fb = anomaly::load_feedback(db, *through);
    if (!fb) return tl::unexpected(fb.error());
    s.models.feedback = std::move(*fb);
    auto learned = learned_record_of(db, d.record_id);
    if (!learned) return tl::unexpected(learned.error());
    s.models.learned_as = std::move(*learned);
    if (s.models.learned_as) {  // the history already holds this outcome: insights must not count it twice
      std::erase_if(s.models.history, [&](const past_outcome& p) { return p.deployment_record == d.record_id; });
      s.models.feedback.clear();
    }
    return s;
  }
};

/// Beat 3: Metrics after the deploy (windows starting at or after the verified deploy, any telemetry
/// record), during the anomaly (onset → the first stage's start) and of the baseline's own period (for a refresh).
struct collect_post_deployment_metrics {
  result<metrics_collected> operator()(deployment_loaded in, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: learning.track needs a database in the context");
    auto& db = *ctx.store;
    metrics_collected s = detail::extend<metrics_collected>(std::move(in));
    const std::int64_t deployed = s.deployment.deployed_ns;
    if (deployed <= 0) return fail(errc::invalid_request, s.deployment.record_id + " has no deploy time: cannot tell before from after");
    auto records = telemetry_records_since(db, deployed);
    if (!records) return tl::unexpected(records.error());
    if (records->empty() && s.deployment.status != "rolled_back")
      return fail(errc::not_found, "no telemetry after the deploy of " + s.deployment.record_id + " (" + anomaly::iso8601(deployed) +
                                       "): parse the logs written since then (`selfheal parse LOGS`), then learn again");
    if (!records->empty()) {
      anomaly::telemetry_selection after_sel{*records, deployed, anomaly::no_time_ns};
      auto after = anomaly::load_telemetry(db, after_sel);
      if (!after) return tl::unexpected(after.error());
      s.after = std::move(*after);
      s.after_records = std::move(*records);
    }
    // the anomalous period ends when the fix began to reach production (the first stage), not when
    // the last stage finished: a canary's traffic already runs the fix
    std::int64_t fix_reached = deployed;
    for (const auto& st : s.deployment.stages)
      if (st.started_ns > 0 && st.started_ns < fix_reached) fix_reached = st.started_ns;
    if (s.answered.onset_ns != anomaly::no_time_ns && s.answered.onset_ns < fix_reached) {
      anomaly::telemetry_selection during_sel;
      during_sel.since_ns = s.answered.onset_ns;
      during_sel.until_ns = fix_reached;
      auto during = anomaly::load_telemetry(db, during_sel);
      if (!during) return tl::unexpected(during.error());
      s.during = std::move(*during);
    }
    if (s.request.refresh_baseline && !s.base.records.empty()) {
      anomaly::telemetry_selection old_sel{s.base.records, s.base.from_ns, s.base.until_ns};
      auto old = anomaly::load_telemetry(db, old_sel);
      if (!old) return tl::unexpected(old.error());
      s.baseline_period = std::move(*old);
    }
    return s;
  }
};

/// Beat 4: Before vs after with confidence intervals.
struct compare_metrics {
  metrics_compared operator()(metrics_collected in) const {
    metrics_compared s = detail::extend<metrics_compared>(std::move(in));
    for (const auto& [name, judged] : metric_names(s.deployment, s.answered))
      s.metrics.push_back(compare_metric(name, judged, s.base, s.after, s.during, s.request));
    return s;
  }
};

/// Beat 5: Improvement per metric.
struct calculate_improvement {
  improvement_calculated operator()(metrics_compared in) const {
    improvement_calculated s = detail::extend<improvement_calculated>(std::move(in));
    for (const auto& m : s.metrics) s.improvements.push_back(improvement_of(m, s.after, s.during, s.request));
    return s;
  }
};

/// Beat 6: Success / partial / failure: is the anomaly gone and nothing else worse.
struct assess_success {
  success_assessed operator()(improvement_calculated in) const {
    success_assessed s = detail::extend<success_assessed>(std::move(in));
    s.verdict = assess(s.deployment, s.answered, s.metrics, s.improvements);
    if (s.verdict.result != outcome::failure && s.answered.onset_ns != anomaly::no_time_ns && s.deployment.deployed_ns > s.answered.onset_ns)
      s.time_to_heal_s = static_cast<double>(s.deployment.deployed_ns - s.answered.onset_ns) / 1e9;
    return s;
  }
};

/// Beat 7: Strategy success posteriors, detector thresholds, baselines.
struct update_learning_models {
  models_updated operator()(success_assessed in) const {
    models_updated s = detail::extend<models_updated>(std::move(in));
    s.posterior = s.models.learned_as ? s.models.current : updated(s.models.current, s.verdict.result);
    for (const auto& f : s.models.feedback)
      s.threshold_changes.push_back({f.anomaly_id, f.handler, f.kind, std::string(anomaly::to_string(f.given)), f.factor_before, f.factor_after});
    if (!s.models.learned_as && s.verdict.result == outcome::success && s.request.refresh_baseline && !s.baseline_period.handlers.empty()) {
      std::vector<std::string> records = s.base.records;
      for (const auto& r : s.after_records)
        if (std::find(records.begin(), records.end(), r) == records.end()) records.push_back(r);
      s.new_baseline = refreshed_baseline(s.baseline_period, s.after, std::move(records),
                                          anomaly::detail::to_ns(s.started_at));
    }
    return s;
  }
};

/// Beat 8: Insights report.
struct generate_insights {
  insights_generated operator()(models_updated in) const {
    insights_generated s = detail::extend<insights_generated>(std::move(in));
    past_outcome now;
    now.deployment_record = s.deployment.record_id;
    now.anomaly_type = s.posterior.anomaly_type;
    now.strategy = s.posterior.strategy;
    now.handler = s.answered.handler.empty() ? s.answered.sequence : s.answered.handler;
    now.result = s.verdict.result;
    now.onset_ns = s.answered.onset_ns;
    now.deployed_ns = s.deployment.deployed_ns;
    now.time_to_heal_s = s.time_to_heal_s;
    const beta_posterior one[] = {s.posterior};
    s.insights = learning::build_insights(now, s.models.history, s.metrics, primary_metric(s.answered), one, s.models.handlers);
    return s;
  }
};

/// Beat 9: One transaction; record id.
struct store_effectiveness {
  result<effectiveness_stored> operator()(insights_generated in, sh::context& ctx) const {
    if (ctx.store == nullptr) return fail(errc::invalid_request, "no store: learning.track needs a database in the context");
    effectiveness_stored s = detail::extend<effectiveness_stored>(std::move(in));
    learning_write w;
    w.deployment_record = s.deployment.record_id;
    w.anomaly_id = s.answered.id;
    w.anomaly_type = s.posterior.anomaly_type;
    w.strategy = s.posterior.strategy;
    w.handler = s.answered.handler.empty() ? s.answered.sequence : s.answered.handler;
    w.result = s.verdict.result;
    w.reasons = s.verdict.reasons;
    w.onset_ns = s.answered.onset_ns;
    w.deployed_ns = s.deployment.deployed_ns;
    w.time_to_heal_s = s.time_to_heal_s;
    w.metrics = s.metrics;
    w.improvements = s.improvements;
    w.posterior = s.posterior;
    w.new_baseline = s.new_baseline ? &*s.new_baseline : nullptr;
    w.feedback_through = s.models.feedback.empty() ? 0 : s.models.feedback.back().id;
    w.insights = s.insights;
    auto r = write_learning(*ctx.store, w, s.started_at);
    if (!r) return tl::unexpected(r.error());
    s.record_id = r->record_id;
    s.already_learned = r->already_learned;
    s.baseline_record = r->baseline_record;
    if (s.already_learned) {  // counted once: report what the store holds, not a second update
      s.posterior = s.models.current;
      s.threshold_changes.clear();
      s.new_baseline.reset();
    }
    return s;
  }
};

/// Beat 10: Summary.
struct track_completed {
  track_summary operator()(effectiveness_stored s) const {
    track_summary out;
    out.record_id = std::move(s.record_id);
    out.deployment_record = s.deployment.record_id;
    out.already_learned = s.already_learned;
    out.anomaly_id = s.answered.id;
    out.anomaly_type = s.posterior.anomaly_type;
    out.handler = s.answered.handler.empty() ? s.answered.sequence : s.answered.handler;
    out.strategy = s.posterior.strategy;
    out.deployment_status = s.deployment.status;
    out.result = s.verdict.result;
    out.reasons = std::move(s.verdict.reasons);
    out.metrics = std::move(s.metrics);
    out.improvements = std::move(s.improvements);
    out.posteriors = {s.posterior};
    out.threshold_changes = std::move(s.threshold_changes);
    out.baseline_record = std::move(s.baseline_record);
    out.insights = std::move(s.insights);
    out.time_to_heal_s = s.time_to_heal_s;
    return out;
  }
};

/// `self-healing-learning-track-symphony` — reads like `sequences/learning.track.json`.
inline constexpr auto track_learning = sh::sequence<"self-healing-learning-track-symphony", track_request>(
    // movement: Prepare
    sh::beat<"self-healing:learning:track:requested", "trackRequested", sh::immediate, sh::pure>(track_requested{}),
    sh::beat<"self-healing:learning:load:deployment", "loadDeploymentInfo", sh::async, sh::stage_crew>(load_deployment_info{}),
    sh::beat<"self-healing:learning:collect:metrics", "collectPostDeploymentMetrics", sh::async, sh::stage_crew>(collect_post_deployment_metrics{}),
    // movement: Evaluate
    sh::beat<"self-healing:learning:compare:metrics", "compareMetrics", sh::immediate, sh::pure>(compare_metrics{}),
    sh::beat<"self-healing:learning:calculate:improvement", "calculateImprovement", sh::immediate, sh::pure>(calculate_improvement{}),
    sh::beat<"self-healing:learning:assess:success", "assessSuccess", sh::immediate, sh::pure>(assess_success{}),
    // movement: Learn
    sh::beat<"self-healing:learning:update:models", "updateLearningModels", sh::immediate, sh::pure>(update_learning_models{}),
    sh::beat<"self-healing:learning:generate:insights", "generateInsights", sh::immediate, sh::pure>(generate_insights{}),
    // movement: Persist and report
    sh::beat<"self-healing:learning:store:effectiveness", "storeEffectiveness", sh::async, sh::stage_crew>(store_effectiveness{}),
    sh::beat<"self-healing:learning:track:completed", "trackCompleted", sh::immediate, sh::pure>(track_completed{}));

}  // namespace selfheal::learning
