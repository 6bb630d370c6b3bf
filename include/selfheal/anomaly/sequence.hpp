#pragma once
/// \file
/// The anomaly sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"

namespace selfheal::anomaly {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- anomaly.detect ----------------------------------------------------------------------------

/// Beat 1: Validate; choose the telemetry record (default: latest) and the baseline (default: latest established).
struct detect_anomalies_requested : pending_handler<"detectAnomaliesRequested"> {};
/// Beat 2: Load current windowed metrics, the baseline, SLO objectives, the monitored app's sequence definitions and a coverage report when given.
struct load_telemetry_data : pending_handler<"loadTelemetryData"> {};
/// Beat 3: Latency regressions that are both large (ratio of p50/p95 vs baseline) and statistically real (robust test, not one slow call), with onset time; SLO burn-rate breaches (multi-window).
struct detect_performance_anomalies : pending_handler<"detectPerformanceAnomalies"> {};
/// Beat 4: Per execution (correlation id) compare observed beats with the sequence definition: missing, out-of-order, unexpected beats; new handlers; traffic surges and drops.
struct detect_behavioral_anomalies : pending_handler<"detectBehavioralAnomalies"> {};
/// Beat 5: Handlers hot in production whose source lines are poorly covered by tests (lcov report mapped to handler source ranges).
struct detect_coverage_gaps : pending_handler<"detectCoverageGaps"> {};
/// Beat 6: Mine error messages into templates; new templates, template spikes, error-rate rises that are significant.
struct detect_error_patterns : pending_handler<"detectErrorPatterns"> {};
/// Beat 7: Merge duplicates (one root symptom, one anomaly), score and rank by severity × confidence.
struct aggregate_anomaly_results : pending_handler<"aggregateAnomalyResults"> {};
/// Beat 8: One transaction; record id.
struct store_anomaly_results : pending_handler<"storeAnomalyResults"> {};
/// Beat 9: Counts by type and severity.
struct detect_anomalies_completed : pending_handler<"detectAnomaliesCompleted"> {};

/// `self-healing-anomaly-detect-symphony` — reads like `sequences/anomaly.detect.json`.
inline constexpr auto detect_anomalies = sh::sequence<"self-healing-anomaly-detect-symphony">(
    // movement: Prepare
    sh::beat<"self-healing:anomaly:detect:requested", "detectAnomaliesRequested", sh::immediate, sh::pure>(detect_anomalies_requested{}),
    sh::beat<"self-healing:anomaly:load:telemetry", "loadTelemetryData", sh::async, sh::stage_crew>(load_telemetry_data{}),
    // movement: Detect
    sh::beat<"self-healing:anomaly:detect:performance", "detectPerformanceAnomalies", sh::immediate, sh::pure>(detect_performance_anomalies{}),
    sh::beat<"self-healing:anomaly:detect:behavioral", "detectBehavioralAnomalies", sh::immediate, sh::pure>(detect_behavioral_anomalies{}),
    sh::beat<"self-healing:anomaly:detect:coverage", "detectCoverageGaps", sh::immediate, sh::pure>(detect_coverage_gaps{}),
    sh::beat<"self-healing:anomaly:detect:errors", "detectErrorPatterns", sh::immediate, sh::pure>(detect_error_patterns{}),
    // movement: Rank, persist and report
    sh::beat<"self-healing:anomaly:aggregate:results", "aggregateAnomalyResults", sh::immediate, sh::pure>(aggregate_anomaly_results{}),
    sh::beat<"self-healing:anomaly:store:results", "storeAnomalyResults", sh::async, sh::stage_crew>(store_anomaly_results{}),
    sh::beat<"self-healing:anomaly:detect:completed", "detectAnomaliesCompleted", sh::immediate, sh::pure>(detect_anomalies_completed{}));

// ---- baseline.establish ------------------------------------------------------------------------

/// Beat 1: Validate the request: records or a time period; new baseline id.
struct establish_baseline_requested : pending_handler<"establishBaselineRequested"> {};
/// Beat 2: Collect the stored windowed metrics (sketches, counts, errors) of the chosen records or period.
struct load_baseline_metrics : pending_handler<"loadBaselineMetrics"> {};
/// Beat 3: Per handler and sequence: quantiles from merged sketches; median and MAD of per-window p50/p95, error rate and call rate; sample size.
struct compute_baseline_statistics : pending_handler<"computeBaselineStatistics"> {};
/// Beat 4: A confidence that grows with samples and windows; list low-confidence handlers.
struct assess_baseline_confidence : pending_handler<"assessBaselineConfidence"> {};
/// Beat 5: One transaction into the store; returns the baseline id.
struct store_baseline : pending_handler<"storeBaseline"> {};
/// Beat 6: Summary: handlers, windows, low-confidence handlers.
struct establish_baseline_completed : pending_handler<"establishBaselineCompleted"> {};

/// `self-healing-baseline-establish-symphony` — reads like `sequences/baseline.establish.json`.
inline constexpr auto establish_baseline = sh::sequence<"self-healing-baseline-establish-symphony">(
    // movement: Prepare
    sh::beat<"self-healing:baseline:establish:requested", "establishBaselineRequested", sh::immediate, sh::pure>(establish_baseline_requested{}),
    sh::beat<"self-healing:baseline:load:metrics", "loadBaselineMetrics", sh::async, sh::stage_crew>(load_baseline_metrics{}),
    // movement: Compute
    sh::beat<"self-healing:baseline:compute:statistics", "computeBaselineStatistics", sh::immediate, sh::pure>(compute_baseline_statistics{}),
    sh::beat<"self-healing:baseline:assess:confidence", "assessBaselineConfidence", sh::immediate, sh::pure>(assess_baseline_confidence{}),
    // movement: Persist and report
    sh::beat<"self-healing:baseline:store:baseline", "storeBaseline", sh::async, sh::stage_crew>(store_baseline{}),
    sh::beat<"self-healing:baseline:establish:completed", "establishBaselineCompleted", sh::immediate, sh::pure>(establish_baseline_completed{}));

}  // namespace selfheal::anomaly
