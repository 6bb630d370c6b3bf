#pragma once
/// \file
/// The fix sequence(s), declared beat by beat so that they read like their JSON files.
/// Handlers still `pending_handler` fail with `errc::not_implemented` naming themselves.

#include "selfheal/core/beat.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/fix/model.hpp"

namespace selfheal::fix {

namespace sh = ::selfheal;
using ::selfheal::pending_handler;

// ---- fix.generate ------------------------------------------------------------------------------

/// Beat 1: Validate; diagnosis record; strategy limits.
struct generate_fix_requested : pending_handler<"generateFixRequested"> {};
/// Beat 2: Load diagnoses and recommendations.
struct load_diagnosis : pending_handler<"loadDiagnosis"> {};
/// Beat 3: Apply the top strategy: full or partial revert of the suspect change, configuration change, or a user-supplied strategy (template extension).
struct generate_code_fix : pending_handler<"generateCodeFix"> {};
/// Beat 4: A regression test from production evidence, in the repository's test framework.
struct generate_test_fix : pending_handler<"generateTestFix"> {};
/// Beat 5: Runbook / changelog entry: symptom, cause, fix, evidence.
struct generate_documentation_fix : pending_handler<"generateDocumentationFix"> {};
/// Beat 6: One unified diff (git-apply compatible) of all changes; paths confined to the repository.
struct create_patch : pending_handler<"createPatch"> {};
/// Beat 7: Each changed file parses (per-language check command; JSON/YAML parsed in process).
struct validate_syntax : pending_handler<"validateSyntax"> {};
/// Beat 8: One transaction; record id.
struct store_patch : pending_handler<"storePatch"> {};
/// Beat 9: Summary.
struct generate_fix_completed : pending_handler<"generateFixCompleted"> {};

/// `self-healing-fix-generate-symphony` — reads like `sequences/fix.generate.json`.
inline constexpr auto generate_fix = sh::sequence<"self-healing-fix-generate-symphony", generate_request>(
    // movement: Prepare
    sh::beat<"self-healing:fix:generate:requested", "generateFixRequested", sh::immediate, sh::pure>(generate_fix_requested{}),
    sh::beat<"self-healing:fix:load:diagnosis", "loadDiagnosis", sh::async, sh::stage_crew>(load_diagnosis{}),
    // movement: Generate
    sh::beat<"self-healing:fix:generate:code", "generateCodeFix", sh::immediate, sh::pure>(generate_code_fix{}),
    sh::beat<"self-healing:fix:generate:test", "generateTestFix", sh::immediate, sh::pure>(generate_test_fix{}),
    sh::beat<"self-healing:fix:generate:documentation", "generateDocumentationFix", sh::immediate, sh::pure>(generate_documentation_fix{}),
    // movement: Patch and check
    sh::beat<"self-healing:fix:create:patch", "createPatch", sh::immediate, sh::pure>(create_patch{}),
    sh::beat<"self-healing:fix:validate:syntax", "validateSyntax", sh::immediate, sh::pure>(validate_syntax{}),
    // movement: Persist and report
    sh::beat<"self-healing:fix:store:patch", "storePatch", sh::async, sh::stage_crew>(store_patch{}),
    sh::beat<"self-healing:fix:generate:completed", "generateFixCompleted", sh::immediate, sh::pure>(generate_fix_completed{}));

}  // namespace selfheal::fix
