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
