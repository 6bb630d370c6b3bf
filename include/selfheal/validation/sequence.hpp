#pragma once
/// \file
/// The validation sequence(s), declared beat by beat so that they read like their JSON files.
///
/// ```cpp
/// namespace val = selfheal::validation;
/// selfheal::context ctx;  ctx.store = &db;
/// val::run_request req;  req.repo = "/srv/shop";  req.patch_record = "fix-3";   // or req.patch_file
/// auto r = selfheal::run(val::run_validation, ctx, std::move(req));           // result<val::report>
/// // r->verdict == "pass" | "fail", r->reasons, r->checks, r->tests, r->performance, r->record_id
/// ```
///
/// Data flow, one type per beat so that a reordered sequence does not compile:
/// `run_request` → 1 → `validation_request` → 2 → `loaded_patch` → 3 → `applied_patch` → 4 →
/// `tested_patch` → 5 → `covered_patch` → 6 → `measured_patch` → 7 → `documented_patch` → 8 →
/// `judged_patch` → 9 → `stored_validation` → 10 → `report`.
///
/// Isolation: the patch is applied to a private checkout of its base commit (`source::checkout`,
/// a folder under the system's temporary directory that borrows the repository's objects); the
/// user's work tree, index, HEAD, refs and file times are never touched. The checkout lives in the
/// state: it is removed at the end of beat 6, or when the state is destroyed after a failed beat.
/// A patch that does not parse, leaves the repository or does not apply is a *failed validation*
/// (stored, with the reason), not an error; errors are for requests that cannot be judged at all
/// (no settings file, an unknown fix record).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "selfheal/anomaly/coverage.hpp"
#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/fix/model.hpp"
#include "selfheal/fix/store.hpp"
#include "selfheal/source/git.hpp"
#include "selfheal/source/patch.hpp"
#include "selfheal/source/settings.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/validation/coverage.hpp"
#include "selfheal/validation/docs.hpp"
#include "selfheal/validation/model.hpp"
#include "selfheal/validation/performance.hpp"
#include "selfheal/validation/store.hpp"
#include "selfheal/validation/tests.hpp"

namespace selfheal::validation {

namespace sh = ::selfheal;

/// What every beat hands on; each beat's output is its own type derived from it.
struct validation_state {
  run_request request;
  std::shared_ptr<source::git_library> git;    ///< libgit2 stays initialised while the checkout lives
  source::settings settings;
  fix::patch patch;                             ///< what is validated (from the store or a file)
  std::optional<source::patch> parsed;          ///< the diff as data (empty when it does not parse)
  std::optional<source::checkout> candidate;    ///< base + patch, private; reset after beat 6
  test_plan plan;
  changed_lines_map changed;                    ///< new-side lines the patch adds or changes
  std::vector<markdown_file> docs;              ///< changed Markdown, as the patched checkout holds it
  std::set<std::string> paths;                  ///< every file and folder of the patched checkout
  report out;                                   ///< the report being built
  bool applied = false;
};

struct validation_request : validation_state {};
struct loaded_patch : validation_state {};
struct applied_patch : validation_state {};
struct tested_patch : validation_state {};
struct covered_patch : validation_state {};
struct measured_patch : validation_state {};
struct documented_patch : validation_state {};
struct judged_patch : validation_state {};
struct stored_validation : validation_state {};

namespace detail {

template <class To, class From>
To advance(From&& from) {
  return To{{static_cast<validation_state&&>(from)}};
}

inline bool valid_id(std::string_view id) {
  return !id.empty() && id.size() < 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

inline std::chrono::milliseconds to_ms(source::seconds_d d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The placeholders a validation command may use.
inline std::map<std::string, std::string, std::less<>> placeholders(const validation_state& s, const std::filesystem::path& dir) {
  return {{"commit", s.out.base_commit},
          {"short", s.out.base_commit.substr(0, 12)},
          {"worktree", dir.string()},
          {"repo", s.settings.repo.string()}};
}

inline void skip_check(report& r, std::string name, std::string why) {
  r.checks.push_back({std::move(name), "skipped", 0, std::move(why), {}});
}

inline std::string percent(double share) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << share * 100 << " %";
  return o.str();
}

}  // namespace detail

// ---- validation.run ----------------------------------------------------------------------------

/// Beat 1: Validate; patch record.
struct validate_requested {
  result<validation_request> operator()(run_request req) const {
    if (req.repo.empty()) return fail(errc::invalid_request, "no repository given");
    if (!req.patch_record.empty() && !req.patch_file.empty())
      return fail(errc::invalid_request, "give either a fix record or a patch file, not both");
    if (!req.patch_record.empty() && !detail::valid_id(req.patch_record))
      return fail(errc::invalid_request, "fix id '" + req.patch_record + "' is malformed (expected e.g. fix-3 or fix-3.1)");
    if (!req.base.empty() && !std::all_of(req.base.begin(), req.base.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' || c == '.';
        }))
      return fail(errc::invalid_request, "base '" + req.base + "' is not a commit or branch name");
    validation_request v;
    v.request = std::move(req);
    return v;
  }
};

/// Beat 2: Load the patch (a fix record's, a file's, or one given in the request) and the settings.
struct load_patch {
  result<loaded_patch> operator()(validation_request in, context& ctx) const {
    auto& req = in.request;
    in.git = std::make_shared<source::git_library>();
    auto settings = source::load_settings(req.repo, req.config);
    if (!settings) {
      auto e = settings.error();
      if (e.code == errc::not_found) e.code = errc::invalid_request;  // no selfheal.toml: a configuration error
      return tl::unexpected(std::move(e));
    }
    in.settings = std::move(*settings);
    if (!req.patch.diff.empty()) {
      in.patch = req.patch;
    } else if (!req.patch_file.empty()) {
      std::ifstream f(req.patch_file, std::ios::binary);
      if (!f) return fail(errc::not_found, "cannot read patch file " + req.patch_file);
      std::ostringstream ss;
      ss << f.rdbuf();
      in.patch.diff = ss.str();
      in.patch.id = "file:" + std::filesystem::path(req.patch_file).filename().string();
      in.patch.strategy = "external";
    } else {
      if (!ctx.store) return fail(errc::invalid_request, "no store to read the fix from");
      std::string id = req.patch_record;
      if (id.empty()) {
        auto latest = store::latest_record(*ctx.store, "fix");
        if (!latest) return tl::unexpected(latest.error());
        id = *latest;
      }
      auto p = fix::load_patch(*ctx.store, id);
      if (!p) return tl::unexpected(p.error());
      in.patch = std::move(*p);
    }
    if (!req.handler.empty()) in.patch.handler = req.handler;
    if (!req.anomaly_type.empty()) in.patch.anomaly_type = req.anomaly_type;
    // The base: the request's, else the patch's, else the head of service.main.
    std::string base = !req.base.empty() ? req.base : in.patch.base_commit;
    {
      source::repo_ptr repo;
      if (auto r = source::open_repository(repo, in.settings.repo); !r) return tl::unexpected(r.error());
      auto full = base.empty() ? source::head_of_branch(repo.get(), in.settings.service.main)
                               : source::resolve_commit(repo.get(), base);
      if (!full) return tl::unexpected(full.error());
      base = std::move(*full);
    }
    auto& r = in.out;
    r.fix_record = in.patch.fix_record;
    r.patch_id = in.patch.id;
    r.base_commit = base;
    r.handler = in.patch.handler;
    r.anomaly_id = in.patch.anomaly_id;
    r.anomaly_type = in.patch.anomaly_type;
    r.strategy = in.patch.strategy;
    r.diff = in.patch.diff;
    auto parsed = source::parse_patch(in.patch.diff);
    if (parsed && parsed->files.empty())
      parsed = fail(errc::parse_error, "the patch changes no file");
    if (parsed) in.parsed = std::move(*parsed);
    else r.reasons.push_back("apply: the patch is not a unified diff: " + parsed.error().detail);
    // The plan of the build and test commands (placeholders filled in when the checkout exists).
    in.plan = plan_from_settings(in.settings);
    return detail::advance<loaded_patch>(std::move(in));
  }
};

/// Beat 3: Apply in an isolated worktree; the user's checkout is never touched.
struct apply_patch {
  result<applied_patch> operator()(loaded_patch in, context&) const {
    auto& r = in.out;
    const auto t0 = std::chrono::steady_clock::now();
    check c{"apply", "fail", 0, {}, {}};
    auto finish = [&](std::string detail_text, bool ok) {
      c.status = ok ? "pass" : "fail";
      c.detail = std::move(detail_text);
      c.seconds = detail::seconds_since(t0);
      if (!ok) r.reasons.push_back("apply: " + c.detail);
      r.checks.push_back(c);
      return detail::advance<applied_patch>(std::move(in));
    };
    if (!in.parsed) return finish(r.reasons.empty() ? "the patch does not parse" : r.reasons.back().substr(7), false);
    if (!r.reasons.empty()) r.reasons.pop_back();  // said again by the check
    auto co = source::checkout::create(in.settings.repo, r.base_commit, in.request.checkout_parent);
    if (!co) return tl::unexpected(co.error());
    if (auto ok = source::confine_paths(*in.parsed, co->dir()); !ok) return finish(ok.error().detail, false);
    if (auto ok = source::apply_patch(*co, in.patch.diff); !ok)
      return finish(ok.error().detail, false);  // `co` goes: the checkout is removed now
    in.candidate = std::move(*co);
    in.applied = true;
    const auto dir = in.candidate->dir();
    for (const auto& f : in.parsed->files) {
      if (f.new_path.empty()) continue;
      auto& lines = in.changed[f.path];
      for (auto l : f.changed_lines) lines.push_back(l);
      if (is_markdown(f.path)) {
        std::ifstream md(dir / f.path, std::ios::binary);
        std::ostringstream ss;
        ss << md.rdbuf();
        in.docs.push_back({f.path, ss.str()});
      }
    }
    if (!in.docs.empty()) {
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::recursive_directory_iterator();
           it.increment(ec)) {
        const auto rel = it->path().lexically_relative(dir).generic_string();
        if (rel == ".git") {
          it.disable_recursion_pending();
          continue;
        }
        in.paths.insert(rel);
      }
    }
    // placeholders of the commands name this checkout
    in.plan = plan_from_settings(in.settings, detail::placeholders(in, dir));
    std::size_t adds = 0, dels = 0;
    for (const auto& f : in.parsed->files) adds += f.additions, dels += f.deletions;
    return finish(std::to_string(in.parsed->files.size()) + " file(s), +" + std::to_string(adds) + " -" +
                      std::to_string(dels) + " on " + r.base_commit.substr(0, 12),
                  true);
  }
};

/// Beat 4: Build and run the repository's tests there, with time limits; parse results.
struct run_tests {
  result<tested_patch> operator()(applied_patch in, context&) const {
    auto& r = in.out;
    if (!in.candidate) {
      detail::skip_check(r, "build", "not run: the patch was not applied");
      detail::skip_check(r, "tests", "not run: the patch was not applied");
      return detail::advance<tested_patch>(std::move(in));
    }
    auto bt = run_build_and_tests(in.plan, in.candidate->dir());
    for (auto& c : bt.checks) r.checks.push_back(std::move(c));
    for (auto& why : bt.reasons) r.reasons.push_back(std::move(why));
    r.tests = std::move(bt.tests);
    return detail::advance<tested_patch>(std::move(in));
  }
};

/// Beat 5: Coverage of changed lines and overall, against thresholds.
struct check_coverage {
  result<covered_patch> operator()(tested_patch in, context&) const {
    auto& r = in.out;
    const auto& cs = in.settings.coverage;
    if (!cs.enabled) {
      detail::skip_check(r, "coverage", "no [coverage] table");
      return detail::advance<covered_patch>(std::move(in));
    }
    if (!in.candidate) {
      detail::skip_check(r, "coverage", "not run: the patch was not applied");
      return detail::advance<covered_patch>(std::move(in));
    }
    const auto t0 = std::chrono::steady_clock::now();
    check c{"coverage", "fail", 0, {}, {}};
    const auto dir = in.candidate->dir();
    if (!cs.command.empty()) {
      command_spec cmd{source::expand(cs.command, detail::placeholders(in, dir)), detail::to_ms(in.settings.test.timeout)};
      auto run = detail::run_command(cmd, dir, in.plan);
      c.output = detail::head_and_tail(run.output, in.plan.keep_output);
      if (!run.error.empty() || run.exit_code != 0)
        c.detail = detail::describe(cmd.argv) + ": " +
                   (run.error.empty() ? "exited with status " + std::to_string(run.exit_code) : run.error) + "; ";
    }
    auto text = detail::read_text(dir / cs.lcov);
    if (!text) {
      c.detail += cs.lcov + " was not written";
    } else {
      const auto lcov = anomaly::parse_lcov(*text, cs.lcov);
      const auto cov = changed_line_coverage(lcov, in.changed, dir.string());
      const bool ok = cov.share() + 1e-12 >= cs.changed_lines;
      c.status = ok ? "pass" : "fail";
      c.detail += std::to_string(cov.covered) + " of " + std::to_string(cov.instrumented) + " changed lines covered (" +
                  detail::percent(cov.share()) + ", needs " + detail::percent(cs.changed_lines) + "); overall " +
                  detail::percent(cov.overall());
      if (!cov.uncovered.empty()) {
        c.detail += "; not run: ";
        for (std::size_t i = 0; i < cov.uncovered.size() && i < 8; ++i) c.detail += (i ? ", " : "") + cov.uncovered[i];
      }
    }
    c.seconds = detail::seconds_since(t0);
    if (c.status == "fail") r.reasons.push_back("coverage: " + c.detail);
    r.checks.push_back(std::move(c));
    return detail::advance<covered_patch>(std::move(in));
  }
};

/// Beat 6: Replay or benchmark before/after; statistical comparison. Removes the checkout.
struct verify_performance {
  result<measured_patch> operator()(covered_patch in, context&) const {
    auto& r = in.out;
    const auto& ps = in.settings.performance;
    auto done = [&] {
      in.candidate.reset();  // the candidate checkout is removed here: nothing after needs it
      return detail::advance<measured_patch>(std::move(in));
    };
    if (ps.command.empty()) {
      detail::skip_check(r, "performance", "no [performance] command");
      return done();
    }
    if (!in.candidate) {
      detail::skip_check(r, "performance", "not run: the patch was not applied");
      return done();
    }
    const auto t0 = std::chrono::steady_clock::now();
    check c{"performance", "fail", 0, {}, {}};
    auto base = source::checkout::create(in.settings.repo, r.base_commit, in.request.checkout_parent);
    if (!base) return tl::unexpected(base.error());
    // the same argv on both sides except {worktree}
    const auto timeout = detail::to_ms(in.settings.test.timeout);
    auto cand_argv = source::expand(ps.command, detail::placeholders(in, in.candidate->dir()));
    auto base_argv = source::expand(ps.command, detail::placeholders(in, base->dir()));
    // the base is built the same way as the candidate was (a workload may run a built program)
    std::string base_build_error;
    if (in.plan.build && !in.settings.build.command.empty()) {
      command_spec build{source::expand(in.settings.build.command, detail::placeholders(in, base->dir())),
                         in.plan.build->timeout};
      auto run = detail::run_command(build, base->dir(), in.plan);
      if (!run.error.empty() || run.exit_code != 0)
        base_build_error = "the base " + r.base_commit.substr(0, 12) + " does not build: " +
                           (run.error.empty() ? "exit status " + std::to_string(run.exit_code) : run.error);
    }
    if (!base_build_error.empty()) {
      c.detail = base_build_error;
    } else if (cand_argv != base_argv) {
      c.detail = "the [performance] command may not depend on {worktree}";
    } else {
      auto samples = run_interleaved(command_spec{cand_argv, timeout}, base->dir(), in.candidate->dir(), ps.runs, in.plan.env);
      if (!samples) {
        c.detail = samples.error().detail;
      } else {
        performance_options opt;
        opt.max_regression = ps.max_regression;
        opt.min_improvement = ps.min_improvement;
        opt.min_regression_ms = ps.min_regression_ms;
        opt.handler = in.patch.handler;
        opt.expect_improvement = !in.patch.handler.empty() && is_latency_anomaly(in.patch.anomaly_type);
        auto v = compare_performance(samples->base, samples->candidate, opt);
        r.performance = std::move(v.result);
        c.status = v.reasons.empty() ? "pass" : "fail";
        c.detail = std::to_string(ps.runs) + " interleaved runs each; " + v.detail;
        for (auto& why : v.reasons) r.reasons.push_back(std::move(why));
      }
    }
    c.seconds = detail::seconds_since(t0);
    if (c.status == "fail" && (r.reasons.empty() || !r.reasons.back().starts_with("performance:")))
      r.reasons.push_back("performance: " + c.detail);
    r.checks.push_back(std::move(c));
    return done();
  }
};

/// Beat 7: Docs changed by the patch are well formed (pure: the texts and the checkout's paths were
/// collected by beat 3).
struct validate_documentation {
  documented_patch operator()(measured_patch in) const {
    auto& r = in.out;
    if (!in.applied) {
      detail::skip_check(r, "docs", "not run: the patch was not applied");
      return detail::advance<documented_patch>(std::move(in));
    }
    if (in.docs.empty()) {
      detail::skip_check(r, "docs", "the patch changes no Markdown");
      return detail::advance<documented_patch>(std::move(in));
    }
    std::vector<doc_problem> problems;
    for (const auto& f : in.docs)
      for (auto& p : check_markdown(f, in.paths)) problems.push_back(std::move(p));
    check c{"docs", problems.empty() ? "pass" : "fail", 0, {}, {}};
    if (problems.empty()) {
      c.detail = std::to_string(in.docs.size()) + " Markdown file(s) well formed, relative links resolve";
    } else {
      for (std::size_t i = 0; i < problems.size(); ++i) {
        const auto& p = problems[i];
        std::string one = p.path + (p.line > 0 ? ":" + std::to_string(p.line) : std::string()) + ": " + p.message;
        if (i < 10) c.detail += (i ? "; " : "") + one;
        r.reasons.push_back("docs: " + one);
      }
    }
    r.checks.push_back(std::move(c));
    return detail::advance<documented_patch>(std::move(in));
  }
};

/// Beat 8: One verdict with reasons. Pass only when the patch applied, the tests ran and passed,
/// and no check failed.
struct aggregate_validation_results {
  judged_patch operator()(documented_patch in) const {
    auto& r = in.out;
    bool ok = true;
    bool tests_passed = false;
    for (const auto& c : r.checks) {
      if (c.status == "fail") ok = false;
      if (c.name == "tests" && c.status == "pass") tests_passed = true;
    }
    if (ok && !tests_passed) {
      ok = false;
      r.reasons.push_back("tests: no test run passed, so nothing is validated");
    }
    if (!ok && r.reasons.empty()) r.reasons.push_back("a check failed");
    r.verdict = ok ? "pass" : "fail";
    return detail::advance<judged_patch>(std::move(in));
  }
};

/// Beat 9: One transaction; record id.
struct store_validation_results {
  result<stored_validation> operator()(judged_patch in, context& ctx) const {
    if (!in.request.store_result) return detail::advance<stored_validation>(std::move(in));
    if (!ctx.store) return fail(errc::invalid_request, "no store to write the validation to");
    auto id = store_validation(*ctx.store, in.out, ctx.now());
    if (!id) return tl::unexpected(id.error());
    in.out.record_id = std::move(*id);
    return detail::advance<stored_validation>(std::move(in));
  }
};

/// Beat 10: Summary: the report as stored.
struct validate_completed {
  report operator()(stored_validation in) const { return std::move(in.out); }
};

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
