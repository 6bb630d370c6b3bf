// Must NOT compile: anomaly.detect with its performance and behavioral beats swapped. Each beat
// hands on a type of its own, so beat 3 (now detectBehavioralAnomalies, which takes the output of
// the performance check) cannot take beat 2's loaded inputs.
#include "selfheal/anomaly/sequence.hpp"

namespace sh = selfheal;
namespace an = selfheal::anomaly;

inline constexpr auto swapped = sh::sequence<"self-healing-anomaly-detect-symphony">(
    sh::beat<"self-healing:anomaly:detect:requested", "detectAnomaliesRequested", sh::immediate, sh::pure>(an::detect_anomalies_requested{}),
    sh::beat<"self-healing:anomaly:load:telemetry", "loadTelemetryData", sh::async, sh::stage_crew>(an::load_telemetry_data{}),
    sh::beat<"self-healing:anomaly:detect:behavioral", "detectBehavioralAnomalies", sh::immediate, sh::pure>(an::detect_behavioral_anomalies{}),
    sh::beat<"self-healing:anomaly:detect:performance", "detectPerformanceAnomalies", sh::immediate, sh::pure>(an::detect_performance_anomalies{}),
    sh::beat<"self-healing:anomaly:detect:coverage", "detectCoverageGaps", sh::immediate, sh::pure>(an::detect_coverage_gaps{}),
    sh::beat<"self-healing:anomaly:detect:errors", "detectErrorPatterns", sh::immediate, sh::pure>(an::detect_error_patterns{}),
    sh::beat<"self-healing:anomaly:aggregate:results", "aggregateAnomalyResults", sh::immediate, sh::pure>(an::aggregate_anomaly_results{}),
    sh::beat<"self-healing:anomaly:store:results", "storeAnomalyResults", sh::async, sh::stage_crew>(an::store_anomaly_results{}),
    sh::beat<"self-healing:anomaly:detect:completed", "detectAnomaliesCompleted", sh::immediate, sh::pure>(an::detect_anomalies_completed{}));

int main() {}
