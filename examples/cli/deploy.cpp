// `selfheal deploy [--validation ID] [--dry-run|--execute] [--approve] [--repo DIR] [--config FILE]`
// (`--record` is an alias of `--validation`):
// runs deployment.deploy (policy gate, branch, commit, pull request, CI, merge, stages, canary
// judge, rollback) for a validation record (default: the latest). Exit 0 when deployed or a dry
// run, 1 when blocked, failed or rolled back, 2 for a usage or configuration error.
// `selfheal approve DEPLOYMENT_ID` / `selfheal reject DEPLOYMENT_ID --reason TEXT` record a person's
// decision on a deployment that waits (policy.mode approve) or holds (a marginal stage); the next
// `selfheal deploy` of the same validation acts on it.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/deployment/report.hpp"
#include "selfheal/deployment/sequence.hpp"
#include "selfheal/deployment/store.hpp"
#include "selfheal/store/database.hpp"

namespace selfheal::cli {

namespace {

/// Who runs the command: --by, else $USER, else "unknown".
std::string deploy_actor(const std::string& by) {
  if (!by.empty()) return by;
  const char* u = std::getenv("USER");
  return u && *u ? std::string(u) : std::string("unknown");
}

void add_deploy_command(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string repo = ".";
    std::string config;
    std::string validation;
    std::string by;
    bool dry_run = false, execute = false, approve = false;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("deploy", "Ship a validated fix: policy gate, branch, PR, CI, merge, canary, rollback");
  add_common_options(sub, g);
  sub->add_option("--repo", o->repo, "the monitored git repository")->capture_default_str();
  sub->add_option("--config", o->config, "the settings file (default: <repo>/selfheal.toml)");
  sub->add_option("--validation,--record", o->validation, "the validation record to deploy (default: the latest)");
  auto* dry = sub->add_flag("--dry-run", o->dry_run, "print what would happen, with the commands; write nothing");
  sub->add_flag("--execute", o->execute, "act as policy.mode allows (the default)")->excludes(dry);
  sub->add_flag("--approve", o->approve, "approve this deployment yourself (policy.mode approve, or a held stage)");
  sub->add_option("--by", o->by, "who runs the deploy, for the audit log (default: $USER)");
  sub->callback([o, &g, &exit_code] {
    deployment::deploy_request req;
    req.repo = o->repo;
    req.config_path = o->config;
    req.validation_record = o->validation;
    req.db_path = g.db;
    req.dry_run = o->dry_run;
    req.execute = o->execute;
    req.approve = o->approve;
    req.actor = deploy_actor(o->by);
    auto r = run_on_store(g, "deploy", deployment::deploy_fix, std::move(req), exit_code);
    if (!r) return;
    std::fprintf(stderr, "selfheal deploy: %s %s\n", r->record_id.c_str(), r->status.c_str());
    if (g.json) print_json(deployment::deployment_json(*r));
    else std::printf("%s", deployment::deployment_text(*r).c_str());
    exit_code = (r->status == "deployed" || r->status == "dry_run") ? exit_ok : exit_failed;
  });
}

/// approve / reject: one row in deployment_approvals plus its audit row.
void add_decision(CLI::App& app, globals& g, int& exit_code, bool approve) {
  struct options {
    std::string id, reason, by;
  };
  auto o = std::make_shared<options>();
  const char* name = approve ? "approve" : "reject";
  auto* sub = app.add_subcommand(name, approve ? "Approve a deployment that waits or holds"
                                               : "Reject a deployment that waits or holds (a held stage is rolled back)");
  add_common_options(sub, g);
  sub->add_option("DEPLOYMENT_ID", o->id, "the deployment record, e.g. deployment-3")->required();
  auto* reason = sub->add_option("--reason", o->reason, approve ? "why (optional)" : "why it is rejected");
  if (!approve) reason->required();
  sub->add_option("--by", o->by, "who decides (default: $USER)");
  sub->callback([o, &g, &exit_code, approve, name] {
    auto db = open_store(g, name, exit_code);
    if (!db) return;
    auto rec = deployment::load_deployment(*db, o->id);
    if (!rec) { exit_code = report_error(g, name, rec.error(), rec.error().code == errc::not_found ? exit_usage : exit_failed); return; }
    if (rec->status != "blocked") {
      exit_code = report_usage(g, name, o->id + " is " + rec->status + ", not waiting for a decision");
      return;
    }
    const auto actor = deploy_actor(o->by);
    auto row = deployment::record_approval(*db, o->id, {approve ? "approve" : "reject", actor, o->reason, 0},
                                           default_clock().now());
    if (!row) { exit_code = report_error(g, name, row.error()); return; }
    if (g.json) {
      std::string out;
      json_writer w(out);
      w.begin_object().member("record_id", o->id).member("action", std::string(name)).member("actor", actor)
          .member("reason", o->reason).member("validation_record", rec->validation_record).member("audit", *row).end_object();
      print_json(out);
    } else {
      std::printf("%s %s by %s; run `selfheal deploy --validation %s` to continue\n", o->id.c_str(),
                  approve ? "approved" : "rejected", actor.c_str(), rec->validation_record.c_str());
    }
    exit_code = exit_ok;
  });
}

}  // namespace

void add_deploy(CLI::App& app, globals& g, int& exit_code) {
  add_deploy_command(app, g, exit_code);
  add_decision(app, g, exit_code, true);
  add_decision(app, g, exit_code, false);
}

}  // namespace selfheal::cli
