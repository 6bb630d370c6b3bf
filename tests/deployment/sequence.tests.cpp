// deployment.deploy end to end against a small production (fixture.hpp): real repositories, a
// local bare remote, a deploy script installing releases into a folder, traffic driving the live
// release, telemetry parsed by selfheal's own code, the canary judge deciding.
#include "fixture.hpp"

#include <algorithm>

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

TEST_CASE("a marginal stage holds; approve promotes it, reject rolls it back", "[deployment][sequence][slow]") {
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
