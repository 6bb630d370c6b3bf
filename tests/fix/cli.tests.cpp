// `selfheal fix` as a user runs it: a real child process on a stored diagnosis of a real repository.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <simdjson.h>

#include "fix_support.hpp"

using selfheal::test::git_repo;
namespace dx = selfheal::diagnosis;

namespace {

selfheal::process_output run_selfheal(std::vector<std::string> args) {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  args.insert(args.begin(), (std::filesystem::path(bin) / "selfheal").string());
  selfheal::process_options o;
  o.timeout = std::chrono::seconds{120};
  auto r = selfheal::run_process(args, o);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("selfheal fix --json prints one object with the patch, --out writes the diff", "[fix][cli]") {
  git_repo repo;
  repo.write("app.py", "def handle(order):\n    return order\n");
  repo.write("config/app.toml", "[db]\npool = 10  # sized for 200 rps\n");
  repo.write("selfheal.toml", "[service]\nname = \"shop\"\nmain = \"main\"\n");
  repo.commit("Initial", 1740787200);
  repo.write("config/app.toml", "[db]\npool = 2  # sized for 200 rps\n");
  const auto guilty = repo.commit("Smaller pool", 1740790800);
  dx::diagnosis_item d;
  d.anomaly_id = "anomaly-1.1";
  d.type = "performance";
  d.handler = "handleOrder";
  d.where = dx::location{"app.py", 1, 2, "handle"};
  dx::suspect_commit s;
  s.commit = guilty;
  d.suspects.push_back(s);
  fixtest::store_fixture st;
  const auto record = st.store(repo.root(), {d});
  const auto db = (st.dir.path() / "store.db").string();
  const auto out_file = st.dir.path() / "fix.patch";

  const auto r = run_selfheal({"fix", "--db", db, "--repo", repo.root().string(), "--json", "--out", out_file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find('\n') == r.out.size() - 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(r.out).get(doc) == simdjson::SUCCESS);
  CHECK(std::string_view(doc["record_id"]) == "fix-1");
  CHECK(std::string_view(doc["diagnosis_record"]) == record);
  auto p = doc["patches"].at(0);
  CHECK(std::string_view(p["id"]) == "fix-1.1");
  CHECK(std::string_view(p["strategy"]) == "config_change");
  CHECK(std::string_view(p["anomaly_id"]) == "anomaly-1.1");
  CHECK(std::string_view(p["handler"]) == "handleOrder");
  CHECK(std::string_view(p["base_commit"]) == guilty);
  CHECK(std::string_view(p["files"].at(0)["path"]) == "config/app.toml");
  CHECK(std::string_view(p["docs_added"].at(0)) == "docs/runbook/handleOrder.md");
  CHECK(bool(p["syntax"].at(0)["ok"]));
  const std::string diff{std::string_view(p["diff"])};
  CHECK(diff.find("+pool = 10  # sized for 200 rps") != std::string::npos);
  std::ifstream f(out_file, std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(written == diff);

  SECTION("a malformed request exits 2, one JSON object still") {
    const auto bad = run_selfheal({"fix", "--db", db, "--repo", repo.root().string(), "--json", "--diagnosis", "../x"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.out.rfind("{\"error\":\"invalid_request\"", 0) == 0);
  }
  SECTION("no strategy that applies exits 1 with the reasons") {
    const auto none = run_selfheal({"fix", "--db", db, "--repo", repo.root().string(), "--strategy", "partial_revert"});
    CHECK(none.exit_code == 1);
    CHECK(none.err.find("no strategy produced a patch") != std::string::npos);
  }
  SECTION("a selfheal.toml that does not parse is a usage error naming the line") {
    repo.write("selfheal.toml", "[service]\nname = \n");
    repo.commit("Broken config", 1740794400);
    const auto broken = run_selfheal({"fix", "--db", db, "--repo", repo.root().string()});
    CHECK(broken.exit_code == 2);
    CHECK(broken.err.find("selfheal.toml:2") != std::string::npos);
  }
}
