// `selfheal validate [--fix ID | --patch FILE [--base COMMIT]] [--repo DIR] [--config FILE] [--db F] [--json]`
// (`--record` is an alias of `--fix`):
// runs validation.run: the patch is applied to a private checkout of its base commit, built and
// tested there (with coverage, performance and docs checks when configured), and judged. The
// user's work tree, index, HEAD and refs are never touched. Exit 0 when the verdict is pass, 1 when
// it is fail (or the run failed), 2 for a usage or configuration error. With --json, standard
// output is exactly one object (HEALING.md: record_id, fix_record, patch_id, base_commit, verdict,
// reasons, checks, tests, performance); progress goes to standard error. `--patch` needs no earlier
// record, so it may create the store; `--fix` refuses a store that does not exist.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "selfheal/validation/report.hpp"
#include "selfheal/validation/sequence.hpp"

namespace selfheal::cli {

void add_validate(CLI::App& app, globals& g, int& exit_code) {
  struct options {
    std::string repo = ".";
    std::string config;
    std::string fix;
    std::string patch;
    std::string base;
    std::string handler;
    std::string anomaly_type;
  };
  auto o = std::make_shared<options>();
  auto* sub = app.add_subcommand("validate", "Validate a patch in an isolated checkout: build, tests, coverage, performance, docs");
  add_common_options(sub, g);
  sub->add_option("--repo", o->repo, "the monitored git repository (default: the current directory)");
  sub->add_option("--config", o->config, "selfheal.toml to read (default: <repo>/selfheal.toml)");
  auto* fix = sub->add_option("--fix,--record", o->fix, "the fix record or patch to validate (fix-3 or fix-3.1; default: the latest)");
  auto* patch = sub->add_option("--patch", o->patch, "validate this unified diff instead (a person's fix)");
  fix->excludes(patch);
  sub->add_option("--base", o->base, "the commit to apply --patch on (default: the head of service.main)")->needs(patch);
  sub->add_option("--handler", o->handler, "the handler --patch fixes (its latency must improve when --anomaly-type is performance)");
  sub->add_option("--anomaly-type", o->anomaly_type, "the anomaly type --patch fixes (performance, error, ...)");
  sub->callback([o, &g, &exit_code] {
    validation::run_request req;
    req.repo = o->repo;
    req.config = o->config;
    req.patch_record = o->fix;
    req.patch_file = o->patch;
    req.base = o->base;
    req.handler = o->handler;
    req.anomaly_type = o->anomaly_type;
    req.db_path = g.db;
    std::fprintf(stderr, "selfheal validate: checking out, applying, building and testing ...\n");
    const auto mode = o->patch.empty() ? store_mode::existing : store_mode::create;
    auto r = run_on_store(g, "validate", validation::run_validation, std::move(req), exit_code, mode);
    if (!r) return;
    for (const auto& c : r->checks)
      std::fprintf(stderr, "selfheal validate: %-11s %-7s %.2f s  %s\n", c.name.c_str(), c.status.c_str(), c.seconds,
                   c.detail.c_str());
    if (g.json) print_json(validation::validation_json(*r));
    else std::printf("%s", validation::validation_text(*r).c_str());
    exit_code = r->verdict == "pass" ? exit_ok : exit_failed;
  });
}

}  // namespace selfheal::cli
