// deployment.deploy end to end against a small production (fixture.hpp): real repositories, a
// local bare remote, a deploy script installing releases into a folder, traffic driving the live
// release, telemetry parsed by selfheal's own code, the canary judge deciding.
#include "fixture.hpp"

#include <algorithm>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace selfheal::test::deploy;

namespace {
bool has(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }
}  // namespace

TEST_CASE("happy path: branch, commit, push, PR, CI, merge, canary and full pass", "[deployment][sequence][slow]") {
  production p;
  const auto before = p.main_head();
  auto r = p.deploy(p.validation_of(conf_diff(40, 0, 10, 0)));
  REQUIRE(r);
  INFO(r->reasons.size());
  for (const auto& x : r->reasons) UNSCOPED_INFO(x);
  CHECK(r->status == "deployed");
  CHECK(r->record_id == "deployment-1");
  CHECK(r->branch == "selfheal/checkout-deployment-1");
  CHECK(r->previous == before);
  // main is the merge: first parent the old head, second the fix commit; the work tree follows
  CHECK(p.main_head() == r->merge_commit);
  CHECK(production::trim(p.repo.git({"rev-parse", r->merge_commit + "^1"})) == before);
  CHECK(production::trim(p.repo.git({"rev-parse", r->merge_commit + "^2"})) == r->commit);
  CHECK(p.repo.read("app/handler.conf") == conf(10, 0));
  CHECK(production::trim(p.repo.git({"status", "--porcelain"})).empty());
  // the commit: authored by git.author, naming anomaly, diagnosis, evidence, validation
  const auto msg = p.repo.git({"log", "-1", "--format=%an <%ae>%n%B", r->commit});
  CHECK(msg.find("selfheal <selfheal@localhost>") == 0);
  CHECK(msg.find("Anomaly: anomaly-1.1") != std::string::npos);
  CHECK(msg.find("Diagnosis:") != std::string::npos);
  CHECK(msg.find("Evidence: tests 3 passed") != std::string::npos);
  CHECK(msg.find("Validation: validation-1") != std::string::npos);
  // pushed to the bare remote
  CHECK(production::trim(p.repo.git({"--git-dir", p.remote.string(), "rev-parse", "refs/heads/" + r->branch})) == r->commit);
  CHECK(production::trim(p.repo.git({"--git-dir", p.remote.string(), "rev-parse", "refs/heads/main"})) == r->merge_commit);
  // the forge got the branch, the title and the body in a file
  const auto calls = read_file(p.root / "forge-calls");
  CHECK(calls.find("selfheal/checkout-deployment-1\nselfheal: revert fix for checkout (anomaly-1.1)\n") == 0);
  REQUIRE(r->pr);
  CHECK(r->pr->url == "https://forge.example/pr/1");
  CHECK(read_file(p.root / "forge-body.md") == r->pr->body);
  CHECK(r->pr->body.find("| app/handler.conf | 3 | 3 |") != std::string::npos);
  CHECK(r->pr->body.find("## How to roll back") != std::string::npos);
  // both stages deployed the merge and passed the judge
  REQUIRE(r->stages.size() == 2);
  CHECK(r->stages[0].stage == "canary");
  CHECK(r->stages[0].verdict == "pass");
  CHECK(r->stages[1].stage == "full");
  CHECK(r->stages[1].verdict == "pass");
  CHECK(r->stages[1].score == 100);
  CHECK(r->stages[0].metrics.size() == 3);
  CHECK(p.deploys() == "canary " + r->merge_commit + "\nfull " + r->merge_commit + "\n");
  CHECK(p.live_conf() == conf(10, 0));
  CHECK_FALSE(r->rolled_back);
  // audited
  const auto acts = p.audit_actions();
  for (auto a : {"deploy.requested", "git.branch", "git.commit", "git.push", "pr.created", "ci.passed", "git.merge", "deploy.stage", "deploy.completed"}) {
    INFO(a);
    CHECK(has(acts, a));
  }
  // the store has it for learning
  auto back = dep::load_deployment(*p.db, r->record_id);
  REQUIRE(back);
  CHECK(back->status == "deployed");
  CHECK(back->stages.size() == 2);
  CHECK(back->audit.size() == r->audit.size());
}

TEST_CASE("a fix that passes tests but raises errors in production is rolled back", "[deployment][sequence][slow]") {
  production p;
  const auto before = p.main_head();
  auto r = p.deploy(p.validation_of(conf_diff(40, 0, 10, 1)));
  REQUIRE(r);
  for (const auto& x : r->reasons) UNSCOPED_INFO(x);
  CHECK(r->status == "rolled_back");
  REQUIRE(r->rolled_back);
  REQUIRE(r->stages.size() == 2);
  CHECK(r->stages[0].stage == "canary");
  CHECK(r->stages[0].verdict == "fail");
  CHECK(r->stages[0].score == 0);
  const auto& ms = r->stages[0].metrics;
  const auto it = std::find_if(ms.begin(), ms.end(), [](const dep::metric_verdict& m) { return m.name == "checkout.error_rate"; });
  REQUIRE(it != ms.end());
  const auto& err = *it;
  CHECK(err.name == "checkout.error_rate");
  CHECK(err.classification == "high");
  // the revert is on main, its tree is {previous}'s, its parent the merge; it was deployed as the
  // last stage's name and production runs the previous tree again
  CHECK(p.main_head() == r->rolled_back->commit);
  CHECK(production::trim(p.repo.git({"rev-parse", r->rolled_back->commit + "^"})) == r->merge_commit);
  CHECK(production::trim(p.repo.git({"rev-parse", r->rolled_back->commit + "^{tree}"})) ==
        production::trim(p.repo.git({"rev-parse", before + "^{tree}"})));
  CHECK(r->stages[1].stage == "canary (rollback)");
  CHECK(r->stages[1].commit == r->rolled_back->commit);
  CHECK(p.deploys() == "canary " + r->merge_commit + "\ncanary " + r->rolled_back->commit + "\n");
  CHECK(p.live_conf() == conf(40, 0));
  CHECK(p.repo.read("app/handler.conf") == conf(40, 0));
  const auto acts = p.audit_actions();
  CHECK(std::count(acts.begin(), acts.end(), "git.revert") == 1);
  CHECK(std::count(acts.begin(), acts.end(), "deploy.rollback") == 1);
  CHECK(production::trim(p.repo.git({"--git-dir", p.remote.string(), "rev-parse", "refs/heads/main"})) == r->rolled_back->commit);
}

TEST_CASE("a deploy command that hangs is killed at its timeout, then rolled back", "[deployment][sequence][slow]") {
  production p;
  auto cfg = p.config();
  cfg.deploy_timeout = std::chrono::milliseconds{1500};
  cfg.stages = {"full"};
  { std::ofstream(p.prod / "hang") << "1"; }
  // the rollback's deploy must not hang too: the script hangs only while the file exists, and the
  // first stage's timeout is what we test, so remove it once the stage has started
  std::thread remover([&] {
    for (int i = 0; i < 100 && !std::filesystem::exists(p.prod / "deploys.log"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    std::filesystem::remove(p.prod / "hang");
  });
  const auto t = std::chrono::steady_clock::now();
  auto r = p.deploy(p.validation_of(conf_diff(40, 0, 10, 0)), cfg);
  remover.join();
  REQUIRE(r);
  for (const auto& x : r->reasons) UNSCOPED_INFO(x);
  CHECK(std::chrono::steady_clock::now() - t < std::chrono::seconds{15});
  CHECK(r->status == "rolled_back");
  REQUIRE(r->rolled_back);
  CHECK(r->rolled_back->reason.find("time") != std::string::npos);
  CHECK(r->stages.front().verdict == "fail");
  CHECK(p.live_conf() == conf(40, 0));
}

TEST_CASE("a marginal stage holds, approve promotes it, reject rolls it back", "[deployment][sequence][slow]") {
  production p;
  auto cfg = p.config();
  cfg.canary.marginal = 60;  // ship's two latencies high, its error rate and checkout fine: 4/6
  // a --patch validation names no handler: every handler is judged, only error rates are critical
  auto v = p.validation_of(conf_diff(40, 0, 10, 0, 10, 30), "");
  auto r = p.deploy(v, cfg);
  REQUIRE(r);
  for (const auto& x : r->reasons) UNSCOPED_INFO(x);
  CHECK(r->status == "blocked");
  REQUIRE(r->stages.size() == 1);
  CHECK(r->stages[0].verdict == "marginal");
  CHECK(r->stages[0].score == Approx(200.0 / 3));
  CHECK(p.deploys() == "canary " + r->merge_commit + "\n");
  const auto id = r->record_id;
  SECTION("approve: the next deploy promotes canary and runs full") {
    REQUIRE(dep::record_approval(*p.db, id, {"approve", "alice", "", 0}, p.clock.now()));
    auto again = p.deploy(v, cfg);
    REQUIRE(again);
    CHECK(again->record_id == id);
    CHECK(again->status == "blocked");  // full is marginal too (same data): held again
    CHECK(again->stages.size() == 2);
    CHECK(again->stages[0].verdict == "pass");
    CHECK(p.deploys() == "canary " + r->merge_commit + "\nfull " + r->merge_commit + "\n");
    CHECK(has(p.audit_actions(), "deploy.promoted"));
  }
  SECTION("reject: the next deploy rolls back") {
    REQUIRE(dep::record_approval(*p.db, id, {"reject", "bob", "ship is slower", 0}, p.clock.now()));
    auto again = p.deploy(v, cfg);
    REQUIRE(again);
    CHECK(again->status == "rolled_back");
    REQUIRE(again->rolled_back);
    CHECK(again->rolled_back->reason.find("bob") != std::string::npos);
    CHECK(p.live_conf() == conf(40, 0));
  }
}

namespace {
/// Nothing reached the repository, the remote or production.
void check_untouched(production& p, const std::string& head) {
  CHECK(p.main_head() == head);
  CHECK(production::trim(p.repo.git({"for-each-ref", "--format=%(refname)", "refs/heads"})) == "refs/heads/main");
  CHECK(production::trim(p.repo.git({"--git-dir", p.remote.string(), "for-each-ref"})).empty());
  CHECK_FALSE(std::filesystem::exists(p.prod / "deploys.log"));
  CHECK_FALSE(std::filesystem::exists(p.root / "forge-calls"));
  CHECK(production::trim(p.repo.git({"status", "--porcelain"})).empty());
}
bool reason_names(const dep::record& r, std::string_view rule) {
  return std::any_of(r.reasons.begin(), r.reasons.end(), [&](const std::string& x) { return x.starts_with(rule); });
}
}  // namespace

TEST_CASE("refusals name their rule and write nothing to the repository or production", "[deployment][sequence]") {
  production p;
  const auto head = p.main_head();
  auto cfg = p.config();
  auto v = p.validation_of(conf_diff(40, 0, 10, 0));
  SECTION("dry-run is the default mode: the plan, with the commands") {
    cfg.policy.mode = "dry-run";
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(r->status == "dry_run");
    CHECK(reason_names(*r, "policy.mode"));
    CHECK(std::any_of(r->plan.begin(), r->plan.end(), [](const std::string& s) { return s.find("stage canary: sh ops/deploy.sh {commit} {stage}") == 0; }));
    CHECK(has(p.audit_actions(), "deploy.dry_run"));
    check_untouched(p, head);
  }
  SECTION("approve mode waits; `approve` lets the next deploy proceed") {
    cfg.policy.mode = "approve";
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(r->status == "blocked");
    CHECK(reason_names(*r, "policy.mode: approve"));
    check_untouched(p, head);
    REQUIRE(dep::record_approval(*p.db, r->record_id, {"approve", "alice", "", 0}, p.clock.now()));
    auto again = p.deploy(v, cfg);
    REQUIRE(again);
    CHECK(again->record_id == r->record_id);
    CHECK(again->status == "deployed");
    CHECK(again->approved_by == "alice");
  }
  SECTION("kill switch") {
    { std::ofstream(p.repo.root() / ".selfheal-stop") << "stop\n"; }
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(r->status == "blocked");
    CHECK(reason_names(*r, "policy.kill_switch"));
    std::filesystem::remove(p.repo.root() / ".selfheal-stop");
    check_untouched(p, head);
    CHECK(has(p.audit_actions(), "deploy.refused"));
  }
  SECTION("size limit") {
    cfg.policy.max_changed_lines = 5;
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(reason_names(*r, "policy.max_changed_lines"));
    check_untouched(p, head);
  }
  SECTION("strategy not allowed") {
    cfg.policy.strategies = {"config_change"};
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(reason_names(*r, "policy.strategies"));
    check_untouched(p, head);
  }
  SECTION("validation failed") {
    v.verdict = "fail";
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(reason_names(*r, "validation.verdict"));
    check_untouched(p, head);
  }
  SECTION("rate limit: a second deploy of the handler within 24 h") {
    cfg.stages = {"full"};
    auto first = p.deploy(v, cfg);
    REQUIRE(first);
    REQUIRE(first->status == "deployed");
    const auto after_first = p.main_head();
    const auto deploys = p.deploys();
    auto v2 = p.validation_of(conf_diff(10, 0, 11, 0));
    v2.record_id = "validation-2";
    v2.base_commit = after_first;
    auto second = p.deploy(v2, cfg);
    REQUIRE(second);
    CHECK(second->status == "blocked");
    CHECK(reason_names(*second, "policy.max_deploys_per_handler"));
    CHECK(p.main_head() == after_first);
    CHECK(p.deploys() == deploys);
    p.clock.advance(std::chrono::hours{25});
    auto third = p.deploy(v2, cfg);
    REQUIRE(third);
    CHECK(third->status == "deployed");
  }
}

TEST_CASE("main moved since validation: the patch is applied on the new head and tested again", "[deployment][sequence][slow]") {
  production p;
  auto v = p.validation_of(conf_diff(40, 0, 10, 0));
  p.repo.write("README.md", "the shop\n");
  const auto moved = p.repo.commit("docs: readme", t0 - 60);
  auto cfg = p.config();
  cfg.stages = {"full"};
  auto r = p.deploy(v, cfg);
  REQUIRE(r);
  CHECK(r->status == "deployed");
  CHECK(r->previous == moved);
  CHECK(reason_names(*r, "main moved since validation"));
  CHECK(production::trim(p.repo.git({"rev-parse", r->commit + "^"})) == moved);
  CHECK(p.repo.read("README.md") == "the shop\n");
  CHECK(p.repo.read("app/handler.conf") == conf(10, 0));
  SECTION("a patch that no longer applies fails before any merge") {
    p.repo.write("app/handler.conf", conf(99, 0));
    p.repo.commit("someone else changed it", t0 - 30);
    const auto head = p.main_head();
    auto v2 = p.validation_of(conf_diff(10, 0, 12, 0));
    v2.record_id = "validation-7";
    p.clock.advance(std::chrono::hours{25});
    auto r2 = p.deploy(v2, cfg);
    REQUIRE(r2);
    CHECK(r2->status == "failed");
    CHECK(p.main_head() == head);
  }
}

TEST_CASE("a dirty checked-out main stops the deploy before the merge", "[deployment][sequence][slow]") {
  production p;
  const auto head = p.main_head();
  p.repo.write("app/handler.conf", conf(41, 0));  // uncommitted work of a person
  auto cfg = p.config();
  cfg.stages = {"full"};
  auto v = p.validation_of(conf_diff(40, 0, 10, 0));
  auto r = p.deploy(v, cfg);
  REQUIRE(r);
  CHECK(r->status == "blocked");
  CHECK(reason_names(*r, "not merged: 'main' is checked out with uncommitted changes (app/handler.conf)"));
  CHECK(p.main_head() == head);
  CHECK(p.repo.read("app/handler.conf") == conf(41, 0));  // the person's work is intact
  CHECK_FALSE(std::filesystem::exists(p.prod / "deploys.log"));
  SECTION("once clean, the same deploy resumes: no second branch or commit") {
    const auto commit = r->commit;
    p.repo.git({"checkout", "--", "app/handler.conf"});
    auto again = p.deploy(v, cfg);
    REQUIRE(again);
    CHECK(again->record_id == r->record_id);
    CHECK(again->status == "deployed");
    CHECK(again->commit == commit);
    CHECK(p.main_head() == again->merge_commit);
  }
}

TEST_CASE("hostile handler names give harmless branch names", "[deployment][sequence]") {
  CHECK(dep::git::fix_branch_name("../../etc/passwd", "deployment-1") == "selfheal/etc-passwd-deployment-1");
  CHECK(dep::git::fix_branch_name("a b;rm -rf /", "deployment-2") == "selfheal/a-b-rm-rf-deployment-2");
  CHECK(dep::git::fix_branch_name("x..y.lock", "deployment-3") == "selfheal/x.y-deployment-3");
  CHECK(dep::git::fix_branch_name("$(reboot)`id`", "deployment-4") == "selfheal/reboot-id-deployment-4");
  CHECK(dep::git::fix_branch_name("", "deployment-5") == "selfheal/handler-deployment-5");
  CHECK(dep::git::fix_branch_name(std::string(300, 'a') + "\n\x01", "deployment-6").size() < 100);
  SECTION("end to end: the branch exists under that name and nothing else was created") {
    production p;
    auto cfg = p.config();
    cfg.stages = {"full"};
    auto v = p.validation_of(conf_diff(40, 0, 10, 0), "../../x\n--force @{-1}");
    auto r = p.deploy(v, cfg);
    REQUIRE(r);
    CHECK(r->branch == "selfheal/x-force-1-deployment-1");
    CHECK(production::trim(p.repo.git({"for-each-ref", "--format=%(refname)", "refs/heads"})) ==
          "refs/heads/main\nrefs/heads/" + r->branch);
    REQUIRE(r->pr);
    CHECK(r->pr->title.find('\n') == std::string::npos);
  }
}

namespace {
/// Raises SIGKILL when beat `after` has completed: a real kill -9 between two beats.
struct kill_after final : selfheal::event_sink {
  std::size_t after;
  explicit kill_after(std::size_t n) : after(n) {}
  void emit(const selfheal::beat_event_view& e) override {
    if (e.type == selfheal::event_type::beat_completed && e.beat == after) ::raise(SIGKILL);
  }
};

/// Runs one deploy in a forked child with its own store connection (optionally killed after a
/// beat); returns the child's wait status. No Catch macros in the child.
int deploy_in_child(production& p, const selfheal::validation::report& v, const dep::deploy_config& cfg, std::size_t kill_after_beat) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto db = selfheal::store::database::open((p.root / "selfheal.db").string());
    if (!db) ::_exit(3);
    selfheal::context ctx;
    ctx.store = &*db;
    ctx.clock = &p.clock;
    kill_after sink(kill_after_beat);
    if (kill_after_beat > 0) ctx.sink = &sink;
    dep::deploy_request req;
    req.repo = p.repo.root().string();
    req.validation_record = v.record_id;
    req.validation_report = v;
    req.config = cfg;
    auto r = selfheal::run(dep::deploy_fix, ctx, std::move(req));
    ::_exit(r ? 0 : 4);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

void check_single_deploy(production& p, const dep::record& r, const std::string& expected_deploys) {
  CHECK(r.status == "deployed");
  CHECK(r.record_id == "deployment-1");
  // one branch, one fix commit, one merge
  CHECK(production::trim(p.repo.git({"for-each-ref", "--format=%(refname)", "refs/heads"})) ==
        "refs/heads/main\nrefs/heads/selfheal/checkout-deployment-1");
  CHECK(production::trim(p.repo.git({"rev-list", "--count", "main"})) == "4");  // good, slow, fix, merge
  CHECK(production::trim(p.repo.git({"rev-parse", "main^2"})) == r.commit);
  CHECK(p.deploys() == expected_deploys);
  const auto acts = p.audit_actions();
  for (auto a : {"git.branch", "git.commit", "git.push", "pr.created", "git.merge", "deploy.completed"}) {
    INFO(a);
    CHECK(std::count(acts.begin(), acts.end(), a) == 1);
  }
}
}  // namespace

TEST_CASE("kill -9 between any two beats, then a second deploy resumes without repeating a step", "[deployment][sequence][slow]") {
  for (std::size_t beat = 1; beat <= 10; ++beat) {
    DYNAMIC_SECTION("killed after beat " << beat) {
      production p;
      auto cfg = p.config();
      auto v = p.validation_of(conf_diff(40, 0, 10, 0));
      const int status = deploy_in_child(p, v, cfg, beat);
      REQUIRE(WIFSIGNALED(status));
      CHECK(WTERMSIG(status) == SIGKILL);
      auto second = p.deploy(v, cfg);
      REQUIRE(second);
      for (const auto& x : second->reasons) UNSCOPED_INFO(x);
      check_single_deploy(p, *second, "canary " + second->merge_commit + "\nfull " + second->merge_commit + "\n");
      const auto acts = p.audit_actions();
      CHECK(std::count(acts.begin(), acts.end(), "deploy.stage") == 2);
    }
  }
}

TEST_CASE("kill -9 in the middle of a stage: the resume redeploys that stage only", "[deployment][sequence][slow]") {
  production p;
  auto cfg = p.config();
  auto v = p.validation_of(conf_diff(40, 0, 10, 0));
  { std::ofstream(p.prod / "kill-once") << "1"; }  // the deploy script kills selfheal (its parent)
  const int status = deploy_in_child(p, v, cfg, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  auto step = dep::get_step(*p.db, "deployment-1", "deploy:canary");
  REQUIRE(step);
  CHECK(step->state == "started");
  REQUIRE(step->at_ns > 0);
  p.clock.set(selfheal::time_point{} + std::chrono::nanoseconds{step->at_ns} + std::chrono::hours{1});  // the resume, an hour on
  auto second = p.deploy(v, cfg);
  REQUIRE(second);
  // the killed run's canary may have served the fix already: the stage keeps that first start (what
  // learning ends "during the anomaly" at), while the stage that ran only now starts now
  REQUIRE(second->stages.size() == 2);
  CHECK(second->stages[0].started_ns == step->at_ns);
  CHECK(second->stages[1].started_ns > step->at_ns + 3'600'000'000'000);
  // the interrupted canary is deployed again (its outcome was never recorded); nothing else twice
  check_single_deploy(p, *second, "canary " + second->merge_commit + "\ncanary " + second->merge_commit + "\nfull " +
                                      second->merge_commit + "\n");
}
