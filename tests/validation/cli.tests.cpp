// `selfheal validate` as a user runs it: a real child process on a real repository.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "scenario.hpp"
#include "selfheal/core/process.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
selfheal::process_output run_selfheal(std::vector<std::string> args) {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  args.insert(args.begin(), (fs::path(bin) / "selfheal").string());
  selfheal::process_options options;
  options.timeout = std::chrono::seconds(120);
  auto out = selfheal::run_process(args, options);
  REQUIRE(out);
  return *out;
}
}  // namespace

TEST_CASE("selfheal validate --patch --json: one object, exit 0 on pass and 1 on fail, 2 on a config error",
          "[validation][cli]") {
  selfheal::test::git_repo repo;
  repo.write("calc.py", "def add(a, b):\n    return a + b + 1\n");
  repo.write("test_calc.py", "import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
                             "    def test_add(self):\n        self.assertEqual(add(2, 2), 4)\n");
  repo.write("selfheal.toml", "[service]\nname = \"calc\"\n\n[test]\ncommand = [\"python3\", \"-m\", \"unittest\"]\ntimeout = \"60s\"\n");
  const auto base = repo.commit("calc", 1'740'992'400);
  repo.write("calc.py", "def add(a, b):\n    return a + b\n");
  const auto good = repo.git({"diff"});
  repo.write("calc.py", "def add(a, b):\n    return a - b\n");
  const auto bad = repo.git({"diff"});
  repo.git({"checkout", "--", "calc.py"});
  selfheal::test::temp_dir d;
  std::ofstream(d.path() / "good.patch") << good;
  std::ofstream(d.path() / "bad.patch") << bad;
  const std::string db = (d.path() / "s.db").string();

  auto pass = run_selfheal({"validate", "--repo", repo.root().string(), "--db", db, "--patch",
                            (d.path() / "good.patch").string(), "--json"});
  INFO(pass.err);
  CHECK(pass.exit_code == 0);
  REQUIRE(!pass.out.empty());
  CHECK(pass.out.find('\n') == pass.out.size() - 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(pass.out).get(doc) == simdjson::SUCCESS);
  CHECK(std::string_view(doc["record_id"]) == "validation-1");
  CHECK(std::string_view(doc["verdict"]) == "pass");
  CHECK(std::string_view(doc["patch_id"]) == "file:good.patch");
  CHECK(std::string_view(doc["base_commit"]) == base);
  CHECK(std::string_view(doc["fix_record"]).empty());
  CHECK(int64_t(doc["tests"]["passed"]) == 1);
  CHECK(pass.err.find("selfheal validate: tests") != std::string::npos);

  auto fail = run_selfheal({"validate", "--repo", repo.root().string(), "--db", db, "--patch",
                            (d.path() / "bad.patch").string(), "--json", "--base", base});
  CHECK(fail.exit_code == 1);
  simdjson::dom::element doc2;
  REQUIRE(parser.parse(fail.out).get(doc2) == simdjson::SUCCESS);
  CHECK(std::string_view(doc2["verdict"]) == "fail");
  CHECK(std::string_view(doc2["tests"]["failures"].at(0)["name"]) == "test_calc.T.test_add");

  auto text = run_selfheal({"validate", "--repo", repo.root().string(), "--db", db, "--patch", (d.path() / "bad.patch").string()});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("validation validation-3 of file:bad.patch") != std::string::npos);

  fs::remove(repo.root() / "selfheal.toml");
  auto config = run_selfheal({"validate", "--repo", repo.root().string(), "--db", db, "--patch",
                              (d.path() / "good.patch").string(), "--json"});
  CHECK(config.exit_code == 2);
  CHECK(config.out.find("\"error\":\"invalid_request\"") != std::string::npos);
  CHECK(run_selfheal({"validate", "--fix", "fix-1", "--patch", "x"}).exit_code == 2);
}
