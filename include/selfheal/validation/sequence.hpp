#pragma once
/// \file
/// The validation sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/validation/model.hpp"

namespace selfheal::validation {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- validation.run ----------------------------------------------------------------------------

/// Beat 1: Validate; patch record.
struct validate_requested : pending_handler<"validateRequested"> {};
/// Beat 2: Load the patch.
struct load_patch : pending_handler<"loadPatch"> {};
/// Beat 3: Apply in an isolated worktree; the user's checkout is never touched.
struct apply_patch : pending_handler<"applyPatch"> {};
/// Beat 4: Build and run the repository's tests there, with time limits; parse results.
struct run_tests : pending_handler<"runTests"> {};
/// Beat 5: Coverage of changed lines and overall, against thresholds.
struct check_coverage : pending_handler<"checkCoverage"> {};
/// Beat 6: Replay or benchmark before/after; statistical comparison.
struct verify_performance : pending_handler<"verifyPerformance"> {};
/// Beat 7: Docs changed by the patch are well formed.
struct validate_documentation : pending_handler<"validateDocumentation"> {};
/// Beat 8: One verdict with reasons.
struct aggregate_validation_results : pending_handler<"aggregateValidationResults"> {};
/// Beat 9: One transaction; record id.
struct store_validation_results : pending_handler<"storeValidationResults"> {};
/// Beat 10: Summary.
struct validate_completed : pending_handler<"validateCompleted"> {};

/// `self-healing-validation-run-symphony` — reads like `sequences/validation.run.json`.
inline constexpr auto run_validation = sh::sequence<"self-healing-validation-run-symphony", run_request>(
    // movement: Prepare
    sh::beat<"self-healing:validation:run:requested", "validateRequested", sh::immediate, sh::pure>(validate_requested{}),
    sh::beat<"self-healing:validation:load:patch", "loadPatch", sh::async, sh::stage_crew>(load_patch{}),
    sh::beat<"self-healing:validation:apply:patch", "applyPatch", sh::async, sh::stage_crew>(apply_patch{}),
    // movement: Verify
    sh::beat<"self-healing:validation:run:tests", "runTests", sh::async, sh::stage_crew>(run_tests{}),
    sh::beat<"self-healing:validation:check:coverage", "checkCoverage", sh::async, sh::stage_crew>(check_coverage{}),
    sh::beat<"self-healing:validation:verify:performance", "verifyPerformance", sh::async, sh::stage_crew>(verify_performance{}),
    sh::beat<"self-healing:validation:validate:documentation", "validateDocumentation", sh::immediate, sh::pure>(validate_documentation{}),
    // movement: Verdict, persist and report
    sh::beat<"self-healing:validation:aggregate:results", "aggregateValidationResults", sh::immediate, sh::pure>(aggregate_validation_results{}),
    sh::beat<"self-healing:validation:store:results", "storeValidationResults", sh::async, sh::stage_crew>(store_validation_results{}),
    sh::beat<"self-healing:validation:run:completed", "validateCompleted", sh::immediate, sh::pure>(validate_completed{}));

}  // namespace selfheal::validation
