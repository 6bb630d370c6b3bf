#pragma once
/// \file
/// The learning sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/learning/model.hpp"

namespace selfheal::learning {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- learning.track ----------------------------------------------------------------------------

/// Beat 1: Validate; deployment record.
struct track_requested : pending_handler<"trackRequested"> {};
/// Beat 2: Load deployment and the anomaly it answered.
struct load_deployment_info : pending_handler<"loadDeploymentInfo"> {};
/// Beat 3: Metrics after the deploy.
struct collect_post_deployment_metrics : pending_handler<"collectPostDeploymentMetrics"> {};
/// Beat 4: Before vs after with confidence intervals.
struct compare_metrics : pending_handler<"compareMetrics"> {};
/// Beat 5: Improvement per metric.
struct calculate_improvement : pending_handler<"calculateImprovement"> {};
/// Beat 6: Success / partial / failure: is the anomaly gone and nothing else worse.
struct assess_success : pending_handler<"assessSuccess"> {};
/// Beat 7: Strategy success posteriors, detector thresholds, baselines.
struct update_learning_models : pending_handler<"updateLearningModels"> {};
/// Beat 8: Insights report.
struct generate_insights : pending_handler<"generateInsights"> {};
/// Beat 9: One transaction; record id.
struct store_effectiveness : pending_handler<"storeEffectiveness"> {};
/// Beat 10: Summary.
struct track_completed : pending_handler<"trackCompleted"> {};

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
