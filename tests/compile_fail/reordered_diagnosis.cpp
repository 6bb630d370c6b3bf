// Must NOT compile: diagnosis.analyze with beats 4 and 5 swapped. Each beat's output type says what
// it added (`performance_analyzed`, `behavior_analyzed`, ...), so analyzeBehavioralIssues cannot take
// loadCodebaseInfo's `codebase_loaded`. The compile-fail test pins the one diagnostic.
#include "selfheal/diagnosis/sequence.hpp"

namespace sh = selfheal;
namespace dx = selfheal::diagnosis;

inline constexpr auto reordered = sh::sequence<"self-healing-diagnosis-analyze-symphony">(
    sh::beat<"self-healing:diagnosis:analyze:requested", "analyzeRequested", sh::immediate, sh::pure>(dx::analyze_requested{}),
    sh::beat<"self-healing:diagnosis:load:anomalies", "loadAnomalies", sh::async, sh::stage_crew>(dx::load_anomalies{}),
    sh::beat<"self-healing:diagnosis:load:codebase", "loadCodebaseInfo", sh::async, sh::stage_crew>(dx::load_codebase_info{}),
    sh::beat<"self-healing:diagnosis:analyze:behavioral", "analyzeBehavioralIssues", sh::immediate, sh::pure>(dx::analyze_behavioral_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:performance", "analyzePerformanceIssues", sh::immediate, sh::pure>(dx::analyze_performance_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:coverage", "analyzeCoverageIssues", sh::immediate, sh::pure>(dx::analyze_coverage_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:errors", "analyzeErrorIssues", sh::immediate, sh::pure>(dx::analyze_error_issues{}),
    sh::beat<"self-healing:diagnosis:assess:impact", "assessImpact", sh::immediate, sh::pure>(dx::assess_impact{}),
    sh::beat<"self-healing:diagnosis:recommend:fixes", "recommendFixes", sh::immediate, sh::pure>(dx::recommend_fixes{}),
    sh::beat<"self-healing:diagnosis:store:diagnosis", "storeDiagnosis", sh::async, sh::stage_crew>(dx::store_diagnosis{}),
    sh::beat<"self-healing:diagnosis:analyze:completed", "analyzeCompleted", sh::immediate, sh::pure>(dx::analyze_completed{}));

int main() {}
