#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "selfheal/validation/docs.hpp"

namespace val = selfheal::validation;

namespace {
const std::set<std::string> repo_paths = {"README.md", "docs", "docs/runbook", "docs/runbook/checkout.md",
                                          "docs/img", "docs/img/flow.png", "ops", "ops/deploy.sh"};
std::vector<val::doc_problem> check(const std::string& text, const std::string& path = "docs/runbook/checkout.md") {
  return val::check_markdown({path, text}, repo_paths);
}
}  // namespace

TEST_CASE("a well-formed runbook with resolving relative links passes", "[validation][validateDocumentation]") {
  const std::string text = "# checkout: slow\n\n## What to do\n\nRun [deploy](../../ops/deploy.sh), see "
                           "[the readme](/README.md), [above](#what-to-do) and [ext](https://example.com/x).\n\n"
                           "![flow](../img/flow.png)\n\n```sh\nops/deploy.sh main canary\n```\n";
  CHECK(check(text).empty());
}

TEST_CASE("broken relative links, images and anchors are named with their line", "[validation][validateDocumentation]") {
  const std::string text = "# Title\n\nSee [missing](../../ops/rollback.sh).\n\n![gone](img/none.png)\n\n"
                           "[nowhere](#no-such-section) and [escape](../../../etc/passwd)\n";
  auto p = check(text);
  REQUIRE(p.size() == 4);
  CHECK(p[0].line == 3);
  CHECK(p[0].message.find("ops/rollback.sh") != std::string::npos);
  CHECK(p[1].line == 5);
  CHECK(p[1].message.find("image img/none.png") != std::string::npos);
  CHECK(p[2].message.find("#no-such-section") != std::string::npos);
  CHECK(p[3].message.find("leaves the repository") != std::string::npos);
}

TEST_CASE("an unclosed code fence, an empty link, invalid UTF-8 and an empty file fail", "[validation][validateDocumentation]") {
  auto fence = check("# T\n\n```sh\nrun this\n\n## Next\n");
  REQUIRE(fence.size() == 1);
  CHECK(fence[0].line == 3);
  CHECK(fence[0].message.find("never closed") != std::string::npos);
  CHECK(check("# T\n\n~~~~\ncode\n~~~~\n").empty());
  CHECK(check("# T\n\n    indented code\n").empty());
  auto empty_link = check("# T\n\n[here]()\n");
  REQUIRE(empty_link.size() == 1);
  CHECK(empty_link[0].message.find("empty destination") != std::string::npos);
  CHECK(check("# T \xC3\x28\n").at(0).message == "not valid UTF-8");
  CHECK(check("  \n").at(0).message == "is empty");
}

TEST_CASE("heading slugs follow GitHub's", "[validation][validateDocumentation]") {
  CHECK(val::detail::heading_slug("What to do: now!") == "what-to-do-now");
  CHECK(check("# A b\n# A b\n\n[x](#a-b-1)\n").empty());
  CHECK(val::is_markdown("docs/X.MD"));
  CHECK_FALSE(val::is_markdown("docs/x.mdx"));
}
