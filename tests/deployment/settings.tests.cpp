// deploy_config from a real selfheal.toml through source/settings.hpp.
#include <selfheal/deployment/settings.hpp>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <fstream>

namespace dep = selfheal::deployment;

TEST_CASE("load_deploy_config maps every table deploy reads", "[deployment][settings]") {
  selfheal::test::temp_dir tmp;
  {
    std::ofstream(tmp.path() / "selfheal.toml") << R"(
[service]
name = "shop"
main = "trunk"
telemetry = ["prod/logs/*.ndjson"]
[build]
command = ["make", "-j2"]
timeout = "90s"
[test]
command = ["make", "test"]
retries = 2
[deploy]
command = ["ops/deploy.sh", "{commit}", "{stage}"]
stages = ["canary", "full"]
traffic = ["ops/traffic.sh"]
settle = "2s"
timeout = "5m"
[canary]
pass = 90
min_samples = 12
[policy]
mode = "approve"
max_changed_lines = 50
max_deploys_per_handler = "3/12h"
kill_switch = ".stop"
[git]
author = "bot <bot@example.com>"
remote = "origin"
forge = ["gh", "pr", "create", "--head", "{branch}", "--body-file", "{body_file}"]
)";
  }
  auto c = dep::load_deploy_config("", tmp.path());
  REQUIRE(c);
  CHECK(c->service_name == "shop");
  CHECK(c->main_branch == "trunk");
  REQUIRE(c->build);
  CHECK(c->build->timeout == std::chrono::seconds{90});
  REQUIRE(c->test);
  CHECK(c->test_retries == 2);
  CHECK(c->deploy_command.size() == 3);
  CHECK(c->stages == std::vector<std::string>{"canary", "full"});
  CHECK(c->settle == std::chrono::seconds{2});
  CHECK(c->deploy_timeout == std::chrono::minutes{5});
  CHECK(c->telemetry_globs() == std::vector<std::string>{"prod/logs/*.ndjson"});
  CHECK(c->canary.pass == 90);
  CHECK(c->canary.min_samples == 12);
  CHECK(c->policy.mode == "approve");
  CHECK(c->policy.max_changed_lines == 50);
  CHECK(c->policy.max_deploys_per_handler.count == 3);
  CHECK(c->policy.max_deploys_per_handler.window == std::chrono::hours{12});
  CHECK(c->policy.kill_switch == ".stop");
  CHECK(c->git_author == "bot <bot@example.com>");
  CHECK(c->git_remote == "origin");
  CHECK(c->forge.back() == "{body_file}");
  SECTION("a missing file says where it looked") {
    auto none = dep::load_deploy_config("", tmp.path() / "nowhere");
    REQUIRE_FALSE(none);
    CHECK(none.error().detail.find("selfheal.toml") != std::string::npos);
  }
}
