#pragma once
/// \file
/// The diagnosis sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"

namespace selfheal::diagnosis {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- diagnosis.analyze -------------------------------------------------------------------------

/// Beat 1: Validate; anomaly record (default latest); repository path.
struct analyze_requested : pending_handler<"analyzeRequested"> {};
/// Beat 2: Load the anomalies and the telemetry they came from.
struct load_anomalies : pending_handler<"loadAnomalies"> {};
/// Beat 3: Index the monitored repository: symbols with file and line range (Universal Ctags JSON, fallback scanner), tests, sequence files, config files; git history (commits, times, touched files and hunks).
struct load_codebase_info : pending_handler<"loadCodebaseInfo"> {};
/// Beat 4: Locate the handler's code; shift vs tail shape; suspect commits that changed that code before the onset (or between the deploy markers around it), ranked.
struct analyze_performance_issues : pending_handler<"analyzePerformanceIssues"> {};
/// Beat 5: Which definition or code change explains missing/out-of-order/new beats.
struct analyze_behavioral_issues : pending_handler<"analyzeBehavioralIssues"> {};
/// Beat 6: Uncovered lines and branches of the hot handler; which tests exist near it.
struct analyze_coverage_issues : pending_handler<"analyzeCoverageIssues"> {};
/// Beat 7: Stack frames / messages → source location; first-seen time vs commits.
struct analyze_error_issues : pending_handler<"analyzeErrorIssues"> {};
/// Beat 8: Traffic share, affected sequences, SLO error-budget burn, severity.
struct assess_impact : pending_handler<"assessImpact"> {};
/// Beat 9: Ranked fix strategies per diagnosis (revert, partial revert, config tuning, regression test, coverage test, doc update), with rationale and expected benefit; priors from learning when present.
struct recommend_fixes : pending_handler<"recommendFixes"> {};
/// Beat 10: One transaction; record id.
struct store_diagnosis : pending_handler<"storeDiagnosis"> {};
/// Beat 11: Summary.
struct analyze_completed : pending_handler<"analyzeCompleted"> {};

/// `self-healing-diagnosis-analyze-symphony` — reads like `sequences/diagnosis.analyze.json`.
inline constexpr auto analyze_diagnosis = sh::sequence<"self-healing-diagnosis-analyze-symphony">(
    // movement: Prepare
    sh::beat<"self-healing:diagnosis:analyze:requested", "analyzeRequested", sh::immediate, sh::pure>(analyze_requested{}),
    sh::beat<"self-healing:diagnosis:load:anomalies", "loadAnomalies", sh::async, sh::stage_crew>(load_anomalies{}),
    sh::beat<"self-healing:diagnosis:load:codebase", "loadCodebaseInfo", sh::async, sh::stage_crew>(load_codebase_info{}),
    // movement: Analyze
    sh::beat<"self-healing:diagnosis:analyze:performance", "analyzePerformanceIssues", sh::immediate, sh::pure>(analyze_performance_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:behavioral", "analyzeBehavioralIssues", sh::immediate, sh::pure>(analyze_behavioral_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:coverage", "analyzeCoverageIssues", sh::immediate, sh::pure>(analyze_coverage_issues{}),
    sh::beat<"self-healing:diagnosis:analyze:errors", "analyzeErrorIssues", sh::immediate, sh::pure>(analyze_error_issues{}),
    // movement: Assess and recommend
    sh::beat<"self-healing:diagnosis:assess:impact", "assessImpact", sh::immediate, sh::pure>(assess_impact{}),
    sh::beat<"self-healing:diagnosis:recommend:fixes", "recommendFixes", sh::immediate, sh::pure>(recommend_fixes{}),
    // movement: Persist and report
    sh::beat<"self-healing:diagnosis:store:diagnosis", "storeDiagnosis", sh::async, sh::stage_crew>(store_diagnosis{}),
    sh::beat<"self-healing:diagnosis:analyze:completed", "analyzeCompleted", sh::immediate, sh::pure>(analyze_completed{}));

}  // namespace selfheal::diagnosis
