#pragma once
/// \file
/// The deployment sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/deployment/model.hpp"

namespace selfheal::deployment {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- deployment.deploy -------------------------------------------------------------------------

/// Beat 1: Validate; validation record.
struct deploy_requested : pending_handler<"deployRequested"> {};
/// Beat 2: Load the verdict and patch.
struct load_validation_results : pending_handler<"loadValidationResults"> {};
/// Beat 3: Policy gate: validation passed, risk within limits, rate limits, kill switch, human approval where policy asks.
struct check_approval : pending_handler<"checkApproval"> {};
/// Beat 4: Branch for the fix in the real repository.
struct create_branch : pending_handler<"createBranch"> {};
/// Beat 5: Commit the patch on the branch.
struct apply_changes : pending_handler<"applyChanges"> {};
/// Beat 6: A pull-request record with evidence (local forge by default).
struct create_pull_request : pending_handler<"createPullRequest"> {};
/// Beat 7: The repository's CI command on the branch.
struct run_ci_checks : pending_handler<"runCIChecks"> {};
/// Beat 8: Merge only when every check passed.
struct auto_merge_pr : pending_handler<"autoMergePR"> {};
/// Beat 9: Run the configured deploy command, progressively where configured.
struct deploy_to_production : pending_handler<"deployToProduction"> {};
/// Beat 10: Canary analysis of post-deploy telemetry vs baseline; roll back on failure.
struct verify_deployment : pending_handler<"verifyDeployment"> {};
/// Beat 11: Summary; audit entry.
struct deploy_completed : pending_handler<"deployCompleted"> {};

/// `self-healing-deployment-deploy-symphony` — reads like `sequences/deployment.deploy.json`.
inline constexpr auto deploy_fix = sh::sequence<"self-healing-deployment-deploy-symphony", deploy_request>(
    // movement: Prepare
    sh::beat<"self-healing:deployment:deploy:requested", "deployRequested", sh::immediate, sh::pure>(deploy_requested{}),
    sh::beat<"self-healing:deployment:load:validation", "loadValidationResults", sh::async, sh::stage_crew>(load_validation_results{}),
    sh::beat<"self-healing:deployment:check:approval", "checkApproval", sh::immediate, sh::pure>(check_approval{}),
    // movement: Branch, commit and review
    sh::beat<"self-healing:deployment:create:branch", "createBranch", sh::async, sh::stage_crew>(create_branch{}),
    sh::beat<"self-healing:deployment:apply:changes", "applyChanges", sh::async, sh::stage_crew>(apply_changes{}),
    sh::beat<"self-healing:deployment:create:pr", "createPullRequest", sh::async, sh::stage_crew>(create_pull_request{}),
    sh::beat<"self-healing:deployment:run:ci", "runCIChecks", sh::async, sh::stage_crew>(run_ci_checks{}),
    sh::beat<"self-healing:deployment:auto:merge", "autoMergePR", sh::async, sh::stage_crew>(auto_merge_pr{}),
    // movement: Release and verify
    sh::beat<"self-healing:deployment:deploy:production", "deployToProduction", sh::async, sh::stage_crew>(deploy_to_production{}),
    sh::beat<"self-healing:deployment:verify:deployment", "verifyDeployment", sh::async, sh::stage_crew>(verify_deployment{}),
    // movement: Report
    sh::beat<"self-healing:deployment:deploy:completed", "deployCompleted", sh::immediate, sh::pure>(deploy_completed{}));

}  // namespace selfheal::deployment
