#pragma once
/// \file
/// The deployment sequence, declared beat by beat so that it reads like its JSON file.
///
/// ```cpp
/// namespace dep = selfheal::deployment;
/// selfheal::context ctx;  ctx.store = &db;
/// dep::deploy_request req;  req.repo = "/path/to/repo";  req.validation_record = "validation-4";
/// auto rec = selfheal::run(dep::deploy_fix, ctx, std::move(req));   // result<dep::record>
/// ```
///
/// Data flow, one type per beat so a reordered sequence does not compile:
/// `deploy_request` → requested → loaded → gated → branched → committed → reviewed → checked →
/// merged → released → verified → `record`.
///
/// Every step that writes (the record, the branch, the commit, the push, the pull request, CI,
/// the merge, each stage, the rollback) notes `started` before and `done` after in
/// `deployment_steps` (store.hpp); a second `deploy` of the same validation resumes the open
/// deployment and repeats no `done` step. Once the gate refuses, holds or the deploy fails, the
/// later beats pass the state through untouched (`halted`), and the record says why.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "selfheal/core/beat.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/core/result.hpp"
#include "selfheal/core/sequence.hpp"
#include "selfheal/core/temp_folder.hpp"
#include "selfheal/deployment/config.hpp"
#include "selfheal/deployment/git_ops.hpp"
#include "selfheal/deployment/judge.hpp"
#include "selfheal/deployment/model.hpp"
#include "selfheal/deployment/policy.hpp"
#include "selfheal/deployment/pull_request.hpp"
#include "selfheal/deployment/samples.hpp"
#include "selfheal/deployment/settings.hpp"
#include "selfheal/deployment/store.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/store/records.hpp"
#include "selfheal/validation/model.hpp"
#include "selfheal/validation/store.hpp"

namespace selfheal::deployment {

namespace sh = ::selfheal;

/// What every beat hands on (wrapped in a type per beat, below).
struct deploy_state {
  deploy_request request;
  deploy_config config;
  std::filesystem::path repo;
  validation::report validation;
  record rec;
  policy_facts facts;
  policy_decision decision;
  std::string actor = "selfheal";
  std::string diagnosis_record;  ///< found through the records' parents, for the commit message
  std::vector<approval> approvals;  ///< of a resumed deployment, oldest first
  bool resumed = false;
  bool halted = false;           ///< refused, dry run, waiting, held or failed: later beats pass through
  bool revalidated = false;      ///< main moved since validation: the patch is applied on the new head
  bool rollback_needed = false;
  std::string rollback_reason;
};

struct requested_deploy { deploy_state s; };
struct loaded_deploy { deploy_state s; };
struct gated_deploy { deploy_state s; };
struct branched_deploy { deploy_state s; };
struct committed_deploy { deploy_state s; };
struct reviewed_deploy { deploy_state s; };
struct checked_deploy { deploy_state s; };
struct merged_deploy { deploy_state s; };
struct released_deploy { deploy_state s; };
struct verified_deploy { deploy_state s; };

namespace detail {

inline bool valid_record_id(std::string_view id) {
  return !id.empty() && id.size() < 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

inline std::int64_t seconds(time_point t) {
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

/// The record's parent (records.parent), or empty.
inline std::string parent_of(store::database& db, std::string_view id) {
  auto st = db.prepare("SELECT COALESCE(parent, '') FROM records WHERE id = ?1");
  if (!st) return {};
  st->bind(1, std::string(id));
  auto row = st->step();
  if (!row || !*row) return {};
  return st->column_text(0);
}

/// Saves the record (with an optional audit row whose id joins `rec.audit`).
inline result<void> save(deploy_state& s, context& ctx, std::string_view action = {}, std::string_view what = {}) {
  auto id = save_deployment(*ctx.store, s.rec, ctx.now(), s.actor, action, what);
  if (!id) return tl::unexpected(id.error());
  if (*id > 0) s.rec.audit.push_back(*id);
  return {};
}

/// Runs `f` as step `name` unless it is done: `started` before, `done` with its detail after.
/// Returns the step's detail (the stored one when it was already done).
template <class F>
result<std::string> step(deploy_state& s, context& ctx, std::string_view name, F&& f) {
  auto have = get_step(*ctx.store, s.rec.record_id, name);
  if (!have) return tl::unexpected(have.error());
  if (have->state == "done") return have->detail;
  if (auto r = set_step(*ctx.store, s.rec.record_id, name, "started", have->detail, ctx.now()); !r)
    return tl::unexpected(r.error());
  result<std::string> out = f(have->state == "started");
  if (!out) {
    static_cast<void>(set_step(*ctx.store, s.rec.record_id, name, "failed", out.error().detail, ctx.now()));
    return out;
  }
  if (auto r = set_step(*ctx.store, s.rec.record_id, name, "done", *out, ctx.now()); !r) return tl::unexpected(r.error());
  return out;
}

/// Ends the deploy here with `status` and a reason (saved, audited).
inline result<void> halt(deploy_state& s, context& ctx, std::string status, std::string reason, std::string_view action) {
  s.halted = true;
  s.rec.status = std::move(status);
  s.rec.reasons.push_back(reason);
  return save(s, ctx, action, reason);
}

inline std::vector<std::pair<std::string, std::string>> placeholders(const deploy_state& s, std::string_view commit,
                                                                     std::string_view stage) {
  return {{"commit", std::string(commit)},
          {"short", std::string(commit.substr(0, 12))},
          {"stage", std::string(stage)},
          {"previous", s.rec.previous},
          {"branch", s.rec.branch},
          {"title", s.rec.pr ? s.rec.pr->title : std::string()},
          {"repo", s.repo.string()}};
}

inline std::string describe(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

/// Runs a configured command (argv, time limit, own process group, stdin closed). A non-zero exit
/// or a timeout is an error naming the command and the tail of its output.
inline result<process_output> run_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                                          std::chrono::milliseconds timeout, std::string_view what) {
  process_options po;
  po.cwd = cwd;
  po.timeout = timeout;
  po.max_output = std::size_t{1} << 20;
  auto out = run_process(std::span<const std::string>(argv), po);
  if (!out) {
    auto e = out.error();
    e.detail = std::string(what) + " (" + describe(argv) + "): " + e.detail;
    return tl::unexpected(std::move(e));
  }
  if (!out->ok()) {
    std::string tail = out->err.size() > 400 ? out->err.substr(out->err.size() - 400) : out->err;
    if (tail.empty()) tail = out->out.size() > 400 ? out->out.substr(out->out.size() - 400) : out->out;
    return fail(errc::process_failed, std::string(what) + " (" + describe(argv) + ") exited with " +
                                          std::to_string(out->exit_code) + (tail.empty() ? "" : ": " + tail));
  }
  return out;
}

}  // namespace detail

// ---- deployment.deploy -------------------------------------------------------------------------

/// Beat 1: Validate; validation record.
struct deploy_requested {
  result<requested_deploy> operator()(deploy_request req) const {
    if (req.repo.empty()) return fail(errc::invalid_request, "no repository given");
    if (!req.validation_record.empty() && !detail::valid_record_id(req.validation_record))
      return fail(errc::invalid_request, "validation record id '" + req.validation_record + "' is malformed (expected e.g. validation-4)");
    requested_deploy out;
    out.s.repo = std::filesystem::path(req.repo);
    out.s.actor = req.actor.empty() ? "selfheal" : req.actor;
    out.s.request = std::move(req);
    return out;
  }
};

/// Beat 2: Load the verdict and patch, the configuration, an open deployment of the same
/// validation (resume), and the facts the policy gate decides on.
struct load_validation_results {
  result<loaded_deploy> operator()(requested_deploy in, context& ctx) const {
    auto& s = in.s;
    if (!ctx.store) return fail(errc::invalid_request, "no store to read the validation from");
    auto& db = *ctx.store;
    if (s.request.validation_report) {
      s.validation = *s.request.validation_report;
    } else {
      auto v = validation::load_validation(db, s.request.validation_record);
      if (!v) return tl::unexpected(v.error());
      s.validation = std::move(*v);
    }
    if (s.request.config) {
      s.config = *s.request.config;
    } else {
      auto cfg = load_deploy_config(s.request.config_path, s.repo);
      if (!cfg) return tl::unexpected(cfg.error());
      s.config = std::move(*cfg);
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(s.repo, ec)) return fail(errc::not_found, "repository '" + s.repo.string() + "' is not a directory");
    s.repo = std::filesystem::absolute(s.repo, ec);
    // The chain validation → fix → diagnosis, for the commit message.
    const auto fix_rec = detail::parent_of(db, s.validation.record_id);
    if (!fix_rec.empty()) s.diagnosis_record = detail::parent_of(db, fix_rec);
    // Already shipped (or rolled back): report that deployment, do nothing again.
    auto finished = finished_deployment_for(db, s.validation.record_id);
    if (!finished) return tl::unexpected(finished.error());
    if (!finished->empty()) {
      auto r = load_deployment(db, *finished);
      if (!r) return tl::unexpected(r.error());
      s.rec = std::move(*r);
      s.rec.reasons.push_back(s.validation.record_id + " was already " + (s.rec.status == "deployed" ? "deployed" : "rolled back") +
                              " by " + s.rec.record_id + ": nothing to do");
      s.resumed = true;
      s.halted = true;
      return loaded_deploy{std::move(s)};
    }
    // Resume an open deployment of this validation.
    auto open = open_deployment_for(db, s.validation.record_id);
    if (!open) return tl::unexpected(open.error());
    if (!open->empty()) {
      auto r = load_deployment(db, *open);
      if (!r) return tl::unexpected(r.error());
      s.rec = std::move(*r);
      s.resumed = true;
    } else {
      s.rec.validation_record = s.validation.record_id;
      s.rec.handler = s.validation.handler;
      s.rec.anomaly_id = s.validation.anomaly_id;
      s.rec.anomaly_type = s.validation.anomaly_type;
      s.rec.strategy = s.validation.strategy;
    }
    s.rec.mode = s.request.dry_run ? "dry-run" : s.config.policy.mode;
    s.rec.reasons.clear();
    // Facts for the gate.
    auto& f = s.facts;
    f.verdict = s.validation.verdict;
    f.strategy = s.validation.strategy;
    f.handler = s.validation.handler;
    f.changed_lines = changed_lines(s.validation.diff);
    f.kill_switch_present = !s.config.policy.kill_switch.empty() &&
                            std::filesystem::exists(s.repo / s.config.policy.kill_switch, ec);
    auto recent = deploys_of_handler(db, s.validation.handler, s.rec.record_id);
    if (!recent) return tl::unexpected(recent.error());
    f.recent_deploys_ns = std::move(*recent);
    f.now_ns = detail::to_ns(ctx.now());
    f.dry_run_flag = s.request.dry_run;
    f.approve_flag = s.request.approve;
    if (s.resumed) {
      auto approvals = load_approvals(db, s.rec.record_id);
      if (!approvals) return tl::unexpected(approvals.error());
      s.approvals = *approvals;
      for (const auto& a : *approvals) {
        if (a.action == "approve") f.approved_by = a.actor;
        if (a.action == "reject") { f.rejected_by = a.actor; f.rejected_reason = a.reason; }
      }
    }
    return loaded_deploy{std::move(s)};
  }
};

/// Beat 3: Policy gate: validation passed, risk within limits, rate limits, kill switch, human
/// approval where policy asks. Pure; also writes the plan (what would happen, with the commands).
struct check_approval {
  gated_deploy operator()(loaded_deploy in) const {
    auto& s = in.s;
    if (s.halted) return gated_deploy{std::move(s)};
    const auto& c = s.config;
    // Past the merge, a rejection is not a refusal: it rolls the held stage back (beat 9).
    auto facts = s.facts;
    if (!s.rec.merge_commit.empty()) facts.rejected_by.reset();
    s.decision = check_policy(c.policy, facts);
    if (s.decision.proceeds() && s.decision.mode == "approve" && !s.facts.approved_by) s.rec.approved_by = s.actor;
    else if (s.facts.approved_by) s.rec.approved_by = *s.facts.approved_by;
    auto& plan = s.rec.plan;
    plan.clear();
    const std::string branch = s.rec.branch.empty() ? git::fix_branch_name(s.validation.handler, s.rec.record_id.empty() ? "deployment-N" : s.rec.record_id)
                                                    : s.rec.branch;
    plan.push_back("branch " + branch + " from " + c.main_branch);
    plan.push_back("commit the patch of " + s.validation.patch_id + " (" + std::to_string(s.facts.changed_lines) +
                   " changed lines) as " + c.git_author);
    if (!c.git_remote.empty()) plan.push_back("push " + branch + " to " + c.git_remote);
    plan.push_back("pull request record" + (c.forge.empty() ? std::string() : ", then run: " + detail::describe(c.forge)));
    if (c.build) plan.push_back("CI build: " + detail::describe(c.build->argv));
    if (c.test) plan.push_back("CI tests: " + detail::describe(c.test->argv));
    plan.push_back("merge into " + c.main_branch + " if CI passed and " + c.main_branch + " did not move");
    for (const auto& stage : c.stages) {
      if (!c.deploy_command.empty()) plan.push_back("stage " + stage + ": " + detail::describe(c.deploy_command));
      if (!c.traffic.empty()) plan.push_back("  traffic: " + detail::describe(c.traffic));
      plan.push_back("  judge the telemetry appended since the stage began (pass " + detail::fmt(c.canary.pass) +
                     ", marginal " + detail::fmt(c.canary.marginal) + ")");
    }
    plan.push_back("on fail: revert the merge on " + c.main_branch + " and deploy it as the last stage");
    return gated_deploy{std::move(s)};
  }
};

/// Beat 4: Branch for the fix in the real repository (at main's head). Before it, the record is
/// written; a refusal, a dry run or a wait for approval ends the deploy here, audited.
struct create_branch {
  result<branched_deploy> operator()(gated_deploy in, context& ctx) const {
    auto& s = in.s;
    auto& db = *ctx.store;
    const auto& d = s.decision;
    if (s.halted) return branched_deploy{std::move(s)};
    if (s.rec.record_id.empty()) {
      s.rec.status = d.proceeds() ? "running" : d.action == "dry_run" ? "dry_run" : "blocked";
      auto id = create_deployment(db, s.rec, ctx.now(), s.actor);
      if (!id) return tl::unexpected(id.error());
      s.rec.record_id = *id;
      if (!s.rec.plan.empty()) s.rec.plan.front() = "branch " + git::fix_branch_name(s.validation.handler, *id) + " from " + s.config.main_branch;
    }
    if (!d.proceeds()) {
      const std::string what = d.action == "dry_run" ? "deploy.dry_run" : d.action == "await_approval" ? "deploy.awaiting_approval" : "deploy.refused";
      s.rec.reasons = d.reasons();
      std::string why;
      for (const auto& r : s.rec.reasons) why += (why.empty() ? "" : "; ") + r;
      s.halted = true;
      s.rec.status = d.action == "dry_run" ? "dry_run" : "blocked";
      if (auto r = detail::save(s, ctx, what, why); !r) return tl::unexpected(r.error());
      return branched_deploy{std::move(s)};
    }
    s.rec.status = "running";
    if (!s.rec.approved_by.empty() && s.decision.mode == "approve")
      if (auto r = detail::save(s, ctx, "deploy.approved", "approved by " + s.rec.approved_by); !r) return tl::unexpected(r.error());
    auto repo = git::repository::open(s.repo);
    if (!repo) return tl::unexpected(repo.error());
    const std::string branch = git::fix_branch_name(s.validation.handler, s.rec.record_id);
    auto base = detail::step(s, ctx, "branch", [&](bool) -> result<std::string> {
      auto head = git::branch_head(*repo, s.config.main_branch);
      if (!head) return tl::unexpected(head.error());
      if (head->empty()) return fail(errc::not_found, "the repository has no branch '" + s.config.main_branch + "' (service.main)");
      if (auto r = git::ensure_branch(*repo, branch, *head); !r) {
        // resumed after the commit moved it: the branch's parent is the base
        auto at = git::branch_head(*repo, branch);
        if (!at || at->empty()) return tl::unexpected(r.error());
        auto info = git::read_commit(*repo, *at);
        if (!info || info->parent != *head) return tl::unexpected(r.error());
      }
      if (auto a = audit_deployment(db, ctx.now(), s.actor, "git.branch", branch, s.rec.record_id, "at " + *head); !a)
        return tl::unexpected(a.error());
      return *head;
    });
    if (!base) {
      auto r = detail::halt(s, ctx, "failed", base.error().detail, "deploy.failed");
      if (!r) return tl::unexpected(r.error());
      return branched_deploy{std::move(s)};
    }
    s.rec.branch = branch;
    s.rec.previous = *base;
    if (!s.validation.base_commit.empty() && s.validation.base_commit != *base) {
      s.revalidated = true;
      s.rec.reasons.push_back(s.config.main_branch + " moved since validation (validated on " + s.validation.base_commit.substr(0, 12) +
                              ", now " + base->substr(0, 12) + "): the patch is applied to the new head and built and tested again before merging");
    }
    if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
    return branched_deploy{std::move(s)};
  }
};

/// Beat 5: Commit the patch on the branch (authored by git.author; the message names the
/// anomaly, the diagnosis, the evidence and the validation); push it when git.remote is set.
struct apply_changes {
  result<committed_deploy> operator()(branched_deploy in, context& ctx) const {
    auto& s = in.s;
    if (s.halted) return committed_deploy{std::move(s)};
    auto repo = git::repository::open(s.repo);
    if (!repo) return tl::unexpected(repo.error());
    const std::string message = commit_message(s.validation, s.diagnosis_record, s.rec);
    auto commit = detail::step(s, ctx, "commit", [&](bool) -> result<std::string> {
      auto c = git::commit_patch(*repo, s.rec.previous, s.validation.diff, s.config.git_author, detail::seconds(ctx.now()), message);
      if (!c) return c;
      auto at = git::branch_head(*repo, s.rec.branch);
      if (!at) return tl::unexpected(at.error());
      if (*at != s.rec.previous) {
        // a resumed run: the branch already carries a commit of the same tree on the same base
        auto have = git::read_commit(*repo, *at);
        auto made = git::read_commit(*repo, *c);
        if (have && made && have->parent == s.rec.previous && have->tree == made->tree) return *at;
        return fail(errc::git_error, "branch '" + s.rec.branch + "' moved to " + at->substr(0, 12) + " outside selfheal");
      }
      if (auto r = git::advance_branch(*repo, s.rec.branch, s.rec.previous, *c); !r) return tl::unexpected(r.error());
      if (auto a = audit_deployment(*ctx.store, ctx.now(), s.actor, "git.commit", s.rec.branch, s.rec.record_id,
                                    *c + " " + s.validation.patch_id);
          !a)
        return tl::unexpected(a.error());
      return c;
    });
    if (!commit) {
      auto r = detail::halt(s, ctx, "failed", commit.error().detail, "deploy.failed");
      if (!r) return tl::unexpected(r.error());
      return committed_deploy{std::move(s)};
    }
    s.rec.commit = *commit;
    if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
    if (!s.config.git_remote.empty()) {
      auto pushed = detail::step(s, ctx, "push", [&](bool) -> result<std::string> {
        if (auto p = git::push(*repo, s.config.git_remote, {s.rec.branch}); !p) return tl::unexpected(p.error());
        if (auto a = audit_deployment(*ctx.store, ctx.now(), s.actor, "git.push", s.rec.branch, s.rec.record_id, s.config.git_remote); !a)
          return tl::unexpected(a.error());
        return s.config.git_remote;
      });
      if (!pushed) {
        auto r = detail::halt(s, ctx, "failed", pushed.error().detail, "deploy.failed");
        if (!r) return tl::unexpected(r.error());
      }
    }
    return committed_deploy{std::move(s)};
  }
};

/// Beat 6: A pull-request record with evidence (local forge by default; `git.forge` is run with
/// the body in a file when configured).
struct create_pull_request {
  result<reviewed_deploy> operator()(committed_deploy in, context& ctx) const {
    auto& s = in.s;
    if (s.halted) return reviewed_deploy{std::move(s)};
    if (!s.rec.pr) {
      s.rec.pr = pull_request{"pr-" + s.rec.record_id, pr_title(s.validation), "", pr_body(s.validation, s.rec, s.config, s.diagnosis_record)};
      if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
    }
    auto url = detail::step(s, ctx, "pr", [&](bool) -> result<std::string> {
      std::string u;
      if (!s.config.forge.empty()) {
        // a private folder: two stores deploying on one machine both have a deployment-1
        const temp_folder dir("selfheal-pr");
        if (dir.path().empty()) return fail(errc::io_error, "cannot create a temporary folder for the pull request's body");
        const auto body_file = dir.path() / "body.md";
        { std::ofstream(body_file) << s.rec.pr->body; }
        auto vals = detail::placeholders(s, s.rec.commit, "");
        vals.emplace_back("body_file", body_file.string());
        auto out = detail::run_command(expand_argv(s.config.forge, vals), s.repo, std::chrono::seconds{120}, "git.forge");
        if (!out) return tl::unexpected(out.error());
        // The forge prints the pull request's address (gh does): its last non-empty line.
        std::string text = out->out;
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        const auto nl = text.rfind('\n');
        u = nl == std::string::npos ? text : text.substr(nl + 1);
        if (u.size() > 500) u.resize(500);
      }
      if (auto a = audit_deployment(*ctx.store, ctx.now(), s.actor, "pr.created", s.rec.branch, s.rec.record_id,
                                    s.rec.pr->id + (u.empty() ? "" : " " + u));
          !a)
        return tl::unexpected(a.error());
      return u;
    });
    if (!url) {
      auto r = detail::halt(s, ctx, "failed", url.error().detail, "deploy.failed");
      if (!r) return tl::unexpected(r.error());
      return reviewed_deploy{std::move(s)};
    }
    s.rec.pr->url = *url;
    if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
    return reviewed_deploy{std::move(s)};
  }
};

/// Beat 7: The repository's CI (the [build] and [test] commands) on the branch head, in a fresh checkout.
struct run_ci_checks {
  result<checked_deploy> operator()(reviewed_deploy in, context& ctx) const {
    auto& s = in.s;
    if (s.halted) return checked_deploy{std::move(s)};
    auto repo = git::repository::open(s.repo);
    if (!repo) return tl::unexpected(repo.error());
    auto ci = detail::step(s, ctx, "ci", [&](bool) -> result<std::string> {
      if (!s.config.test) return fail(errc::invalid_request, "no [test] command: nothing is merged untested");
      auto co = git::temp_checkout::make(*repo, s.rec.commit, "ci");
      if (!co) return tl::unexpected(co.error());
      std::string summary;
      for (const auto* cmd : {s.config.build ? &*s.config.build : nullptr, &*s.config.test}) {
        if (!cmd) continue;
        auto vals = detail::placeholders(s, s.rec.commit, "");
        vals.emplace_back("worktree", co->path().string());
        const auto t0 = std::chrono::steady_clock::now();
        auto out = detail::run_command(expand_argv(cmd->argv, vals), co->path(), cmd->timeout, cmd == &*s.config.test ? "CI tests" : "CI build");
        if (!out) {
          // a failed test run is repeated `retries` times (flaky tests pass the second time)
          bool passed = false;
          for (unsigned i = 0; cmd == &*s.config.test && i < s.config.test_retries && !passed; ++i)
            passed = static_cast<bool>(detail::run_command(expand_argv(cmd->argv, vals), co->path(), cmd->timeout, "CI tests"));
          if (!passed) return tl::unexpected(out.error());
        }
        const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        summary += (summary.empty() ? "" : ", ") + std::string(cmd == &*s.config.test ? "tests" : "build") + " passed in " + detail::fmt(secs) + " s";
      }
      if (auto a = audit_deployment(*ctx.store, ctx.now(), s.actor, "ci.passed", s.rec.branch, s.rec.record_id, s.rec.commit + ": " + summary); !a)
        return tl::unexpected(a.error());
      return summary;
    });
    if (!ci) {
      auto r = detail::halt(s, ctx, "failed", "CI failed on " + s.rec.commit.substr(0, 12) + ": " + ci.error().detail, "ci.failed");
      if (!r) return tl::unexpected(r.error());
      return checked_deploy{std::move(s)};
    }
    s.rec.reasons.push_back("CI: " + *ci);
    return checked_deploy{std::move(s)};
  }
};

/// Beat 8: Merge only when every check passed and main has not moved; a checked-out main is
/// updated as `git merge --ff-only` would, only when clean.
struct auto_merge_pr {
  result<merged_deploy> operator()(checked_deploy in, context& ctx) const {
    auto& s = in.s;
    if (s.halted) return merged_deploy{std::move(s)};
    auto repo = git::repository::open(s.repo);
    if (!repo) return tl::unexpected(repo.error());
    auto merged = detail::step(s, ctx, "merge", [&](bool) -> result<std::string> {
      auto head = git::branch_head(*repo, s.config.main_branch);
      if (!head) return tl::unexpected(head.error());
      std::string merge = s.rec.merge_commit;
      if (*head != s.rec.previous) {
        // resumed after the ref moved: main already is our merge
        auto info = git::read_commit(*repo, *head);
        if (info && info->parents == 2 && info->parent == s.rec.previous && !merge.empty() && *head == merge) return merge;
        return fail(errc::failed, s.config.main_branch + " moved to " + head->substr(0, 12) + " while CI ran: deploy again to validate the patch on the new head");
      }
      if (merge.empty()) {
        auto m = git::merge_commit(*repo, s.rec.previous, s.rec.commit, s.config.git_author, detail::seconds(ctx.now()),
                                   "Merge " + s.rec.branch + ": " + (s.rec.pr ? s.rec.pr->title : s.rec.branch) + "\n\nPull request " +
                                       (s.rec.pr ? s.rec.pr->id : std::string()) + ", deployment " + s.rec.record_id + "\n");
        if (!m) return m;
        merge = *m;
        s.rec.merge_commit = merge;  // saved before the ref moves, so a resume finds it
        if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
      }
      if (auto r = git::advance_main(*repo, s.config.main_branch, s.rec.previous, merge); !r)
        return tl::unexpected(r.error());
      if (auto a = audit_deployment(*ctx.store, ctx.now(), s.actor, "git.merge", s.config.main_branch, s.rec.record_id,
                                    merge + " (" + s.rec.previous.substr(0, 12) + " → " + merge.substr(0, 12) + ")");
          !a)
        return tl::unexpected(a.error());
      return merge;
    });
    if (!merged) {
      const bool dirty = merged.error().code == errc::policy_denied;
      s.rec.merge_commit.clear();
      auto r = detail::halt(s, ctx, dirty ? "blocked" : "failed", "not merged: " + merged.error().detail, dirty ? "deploy.refused" : "deploy.failed");
      if (!r) return tl::unexpected(r.error());
      if (dirty) static_cast<void>(set_step(*ctx.store, s.rec.record_id, "merge", "started", "", ctx.now()));
      return merged_deploy{std::move(s)};
    }
    s.rec.merge_commit = *merged;
    if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
    if (!s.config.git_remote.empty()) {
      auto pushed = detail::step(s, ctx, "push:main", [&](bool) -> result<std::string> {
        if (auto p = git::push(*repo, s.config.git_remote, {s.config.main_branch}); !p) return tl::unexpected(p.error());
        return s.config.git_remote;
      });
      if (!pushed) s.rec.reasons.push_back("push of " + s.config.main_branch + " failed: " + pushed.error().detail);
    }
    return merged_deploy{std::move(s)};
  }
};

namespace detail {

/// One stage: the deploy command (cwd a clean checkout of `commit`), settle, traffic, then the judge
/// on the telemetry appended since the stage began.
inline result<stage_result> run_stage(deploy_state& s, context& ctx, const git::repository& repo, const std::string& stage,
                                      const std::string& commit, const sample_set& baseline) {
  stage_result out;
  out.stage = stage;
  out.commit = commit;
  out.started_ns = to_ns(ctx.now());
  const auto& c = s.config;
  const auto mark = mark_telemetry(s.repo, c.telemetry_globs());
  auto co = git::temp_checkout::make(repo, commit, "deploy");
  if (!co) return tl::unexpected(co.error());
  auto vals = placeholders(s, commit, stage);
  vals.emplace_back("worktree", co->path().string());
  if (auto r = run_command(expand_argv(c.deploy_command, vals), co->path(), c.deploy_timeout, "deploy stage " + stage); !r)
    return tl::unexpected(r.error());
  if (c.settle.count() > 0) {
    const external_wait_scope waiting;
    std::this_thread::sleep_for(c.settle);
  }
  if (!c.traffic.empty())
    if (auto r = run_command(expand_argv(c.traffic, vals), s.repo, c.deploy_timeout, "traffic after stage " + stage); !r)
      return tl::unexpected(r.error());
  auto canary = read_since(mark, s.repo, c.telemetry_globs(), baseline.window_ns);
  if (!canary) return tl::unexpected(canary.error());
  std::size_t windows = 0;
  for (const auto& [h, hs] : canary->handlers) windows = std::max(windows, hs.error_rate.size());
  if (windows < c.canary.min_samples)
    s.rec.reasons.push_back("stage " + stage + ": the telemetry appended since the stage began has " + std::to_string(windows) +
                            " window(s) of " + fmt(static_cast<double>(baseline.window_ns) / 1e9) + " s (the baseline's width); [canary] min_samples is " +
                            std::to_string(c.canary.min_samples) + ": drive more traffic, or parse telemetry with a smaller --window");
  const auto metrics = metrics_to_judge(baseline, *canary, s.validation.handler);
  const auto j = judge(std::span<const metric_samples>(metrics), c.canary);
  out.verdict = j.verdict;
  out.score = j.score;
  out.metrics = j.metrics;
  out.finished_ns = to_ns(ctx.now());
  for (const auto& r : j.reasons) s.rec.reasons.push_back("stage " + stage + ": " + r);
  return out;
}

}  // namespace detail

/// Beat 9: Run the configured deploy command, progressively: each stage is deployed, settled,
/// driven with traffic and judged; only a passing stage leads to the next. Marginal holds (a
/// person promotes it with `selfheal approve`); Fail, a failing or hanging deploy command, or a
/// rejection marks the deploy for rollback.
struct deploy_to_production {
  result<released_deploy> operator()(merged_deploy in, context& ctx) const {
    auto& s = in.s;
    if (s.halted) return released_deploy{std::move(s)};
    if (s.config.deploy_command.empty()) {
      s.rec.reasons.push_back("no [deploy] command: merged, nothing deployed");
      return released_deploy{std::move(s)};
    }
    auto repo = git::repository::open(s.repo);
    if (!repo) return tl::unexpected(repo.error());
    auto baseline = baseline_samples(*ctx.store, s.validation.anomaly_id);
    if (!baseline) return tl::unexpected(baseline.error());
    for (std::size_t i = 0; i < s.config.stages.size(); ++i) {
      const auto& stage = s.config.stages[i];
      const std::string key = "deploy:" + stage;
      auto have = get_step(*ctx.store, s.rec.record_id, key);
      if (!have) return tl::unexpected(have.error());
      const bool held = have->state == "done" && have->detail == "marginal";
      if (have->state == "done" && !held && have->detail == "pass") continue;
      if (held) {
        // only a decision taken after the stage was judged counts
        std::int64_t judged_at = 0;
        for (const auto& st : s.rec.stages)
          if (st.stage == stage) judged_at = st.finished_ns;
        const approval* decision = nullptr;
        for (const auto& a : s.approvals)
          if (a.at_ns >= judged_at) decision = &a;
        if (decision && decision->action == "reject") {
          s.rollback_needed = true;
          s.rollback_reason = "stage " + stage + " was held (marginal) and rejected by " + decision->actor +
                              (decision->reason.empty() ? "" : ": " + decision->reason);
          break;
        }
        if ((decision && decision->action == "approve") || s.request.approve) {
          const std::string who = decision ? decision->actor : s.actor;
          for (auto& st : s.rec.stages)
            if (st.stage == stage && st.verdict == "marginal") st.verdict = "pass";
          if (auto r = set_step(*ctx.store, s.rec.record_id, key, "done", "pass", ctx.now()); !r) return tl::unexpected(r.error());
          if (auto r = detail::save(s, ctx, "deploy.promoted", "stage " + stage + " promoted by " + who); !r) return tl::unexpected(r.error());
          continue;
        }
        auto r = detail::halt(s, ctx, "blocked", "stage " + stage + " is marginal and held: `selfheal approve " + s.rec.record_id +
                                                     "` promotes it, `selfheal reject " + s.rec.record_id + " --reason TEXT` rolls it back",
                              "deploy.held");
        if (!r) return tl::unexpected(r.error());
        return released_deploy{std::move(s)};
      }
      // A stage an earlier run began and never finished (killed) may have reached production then:
      // the stage keeps that first start, so learning's "during the anomaly" ends where the fix
      // first served, not at the resumed deploy.
      const std::int64_t interrupted_ns = have->state == "started" ? have->at_ns : 0;
      if (auto r = set_step(*ctx.store, s.rec.record_id, key, "started", "", ctx.now()); !r) return tl::unexpected(r.error());
      auto st = detail::run_stage(s, ctx, *repo, stage, s.rec.merge_commit, *baseline);
      if (st && interrupted_ns > 0) st->started_ns = std::min(st->started_ns, interrupted_ns);
      if (!st) {
        static_cast<void>(set_step(*ctx.store, s.rec.record_id, key, "failed", st.error().detail, ctx.now()));
        stage_result failed;
        failed.stage = stage;
        failed.commit = s.rec.merge_commit;
        failed.verdict = "fail";
        failed.started_ns = failed.finished_ns = detail::to_ns(ctx.now());
        if (interrupted_ns > 0) failed.started_ns = interrupted_ns;
        s.rec.stages.push_back(failed);
        s.rollback_needed = true;
        s.rollback_reason = st.error().detail;
        if (auto r = detail::save(s, ctx, "deploy.stage_failed", st.error().detail); !r) return tl::unexpected(r.error());
        break;
      }
      s.rec.stages.push_back(*st);
      if (auto r = set_step(*ctx.store, s.rec.record_id, key, "done", st->verdict, ctx.now()); !r) return tl::unexpected(r.error());
      if (auto r = detail::save(s, ctx, "deploy.stage", "stage " + stage + " of " + s.rec.merge_commit.substr(0, 12) + ": " +
                                                          st->verdict + " (score " + detail::fmt(st->score) + ")");
          !r)
        return tl::unexpected(r.error());
      if (st->verdict == "fail") {
        s.rollback_needed = true;
        s.rollback_reason = "stage " + stage + " failed the canary judge (score " + detail::fmt(st->score) + ")";
        break;
      }
      if (st->verdict == "marginal") {
        auto r = detail::halt(s, ctx, "blocked", "stage " + stage + " is marginal (score " + detail::fmt(st->score) + ") and held: `selfheal approve " +
                                                     s.rec.record_id + "` promotes it, `selfheal reject " + s.rec.record_id + " --reason TEXT` rolls it back",
                              "deploy.held");
        if (!r) return tl::unexpected(r.error());
        return released_deploy{std::move(s)};
      }
    }
    return released_deploy{std::move(s)};
  }
};

/// Beat 10: The verdict of the release: all stages passed → deployed; otherwise roll back — a
/// revert commit of the merge on main (its tree is `{previous}`), deployed with the last stage's
/// name, and judged again.
struct verify_deployment {
  result<verified_deploy> operator()(released_deploy in, context& ctx) const {
    auto out = verify(std::move(in), ctx);
    if (!out) return out;
    // every audit row of this deployment, by any beat
    auto back = load_deployment(*ctx.store, out->s.rec.record_id);
    if (back) out->s.rec.audit = std::move(back->audit);
    return out;
  }

 private:
  static result<verified_deploy> verify(released_deploy in, context& ctx) {
    auto& s = in.s;
    if (s.halted) return verified_deploy{std::move(s)};
    if (!s.rollback_needed) {
      s.rec.status = "deployed";
      s.rec.deployed_ns = s.rec.stages.empty() ? detail::to_ns(ctx.now()) : s.rec.stages.back().finished_ns;
      if (auto r = detail::save(s, ctx, "deploy.completed", "deployed " + s.rec.merge_commit); !r) return tl::unexpected(r.error());
      return verified_deploy{std::move(s)};
    }
    auto repo = git::repository::open(s.repo);
    if (!repo) return tl::unexpected(repo.error());
    const std::string last_stage = s.rec.stages.empty() ? s.config.stages.back() : s.rec.stages.back().stage;
    auto revert = detail::step(s, ctx, "rollback", [&](bool) -> result<std::string> {
      auto head = git::branch_head(*repo, s.config.main_branch);
      if (!head) return tl::unexpected(head.error());
      std::string rc = s.rec.rolled_back ? s.rec.rolled_back->commit : std::string();
      if (!rc.empty() && *head == rc) return rc;  // resumed: already on main
      if (*head != s.rec.merge_commit)
        return fail(errc::failed, s.config.main_branch + " moved past the merge (now " + head->substr(0, 12) +
                                      "): revert by hand with `git revert -m 1 " + s.rec.merge_commit + "`");
      if (rc.empty()) {
        auto c = git::revert_commit(*repo, s.rec.merge_commit, s.rec.previous, s.config.git_author, detail::seconds(ctx.now()),
                                    "Revert \"" + (s.rec.pr ? s.rec.pr->title : s.rec.branch) + "\"\n\nselfheal rolled back " +
                                        s.rec.merge_commit + " (deployment " + s.rec.record_id + "): " + sanitize_text(s.rollback_reason, 300) + "\n");
        if (!c) return c;
        rc = *c;
        s.rec.rolled_back = rollback{rc, s.rollback_reason};
        if (auto r = detail::save(s, ctx); !r) return tl::unexpected(r.error());
      }
      if (auto r = git::advance_main(*repo, s.config.main_branch, s.rec.merge_commit, rc); !r)
        return tl::unexpected(r.error());
      if (auto a = audit_deployment(*ctx.store, ctx.now(), s.actor, "git.revert", s.config.main_branch, s.rec.record_id, rc); !a)
        return tl::unexpected(a.error());
      return rc;
    });
    if (!revert) {
      auto r = detail::halt(s, ctx, "failed", "rollback failed: " + revert.error().detail, "deploy.rollback_failed");
      if (!r) return tl::unexpected(r.error());
      return verified_deploy{std::move(s)};
    }
    s.rec.rolled_back = rollback{*revert, s.rollback_reason};
    if (!s.config.git_remote.empty())
      if (auto p = git::push(*repo, s.config.git_remote, {s.config.main_branch}); !p)
        s.rec.reasons.push_back("push of the rollback failed: " + p.error().detail);
    // Deploy the reverted tree with the last stage's name, and judge it again.
    auto redeploy = detail::step(s, ctx, "rollback:deploy", [&](bool) -> result<std::string> {
      auto baseline = baseline_samples(*ctx.store, s.validation.anomaly_id);
      if (!baseline) return tl::unexpected(baseline.error());
      auto st = detail::run_stage(s, ctx, *repo, last_stage, *revert, *baseline);
      if (!st) return tl::unexpected(st.error());
      st->stage = last_stage + " (rollback)";
      s.rec.stages.push_back(*st);
      return st->verdict;
    });
    if (!redeploy) {
      auto r = detail::halt(s, ctx, "failed", "the rollback's deploy failed: " + redeploy.error().detail, "deploy.rollback_failed");
      if (!r) return tl::unexpected(r.error());
      return verified_deploy{std::move(s)};
    }
    s.rec.status = "rolled_back";
    s.rec.reasons.push_back("rolled back: " + s.rollback_reason);
    if (*redeploy != "pass") s.rec.reasons.push_back("after the rollback the judge says " + *redeploy + ": look at production");
    s.rec.deployed_ns = detail::to_ns(ctx.now());
    if (auto r = detail::save(s, ctx, "deploy.rollback", "reverted " + s.rec.merge_commit + " with " + *revert + ": " + s.rollback_reason); !r)
      return tl::unexpected(r.error());
    return verified_deploy{std::move(s)};
  }
};

/// Beat 11: Summary (the record, with its audit row ids).
struct deploy_completed {
  record operator()(verified_deploy in) const { return std::move(in.s.rec); }
};

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
