// One way to say things (issue 9 item 7) and the CLI leftovers of issue 11: every usage error exits
// 2 and, with --json, prints exactly one object; commands that read earlier records refuse a store
// that does not exist; defaults skip empty telemetry records and say so; `diagnose --anomaly` of a
// record that is not the latest diagnoses that record. Each runs the real program.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <simdjson.h>

#include "program.hpp"
#include "scenario.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
using sh::test::cli::one_object;
using sh::test::cli::run_selfheal;

namespace {
std::string json_text(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing " + std::string(key) + ">";
  return std::string(v);
}
}  // namespace

TEST_CASE("every usage error exits 2 and, with --json, prints one object", "[cli][usage]") {
  struct usage_case {
    std::vector<std::string> args;
    std::string message;  // a part of the message
  };
  const std::vector<usage_case> cases = {
      {{"bogus", "--json"}, "unknown command 'bogus'"},
      {{"--json"}, "a command is required"},
      {{"detect", "--no-such-option", "--json"}, "--no-such-option"},
      {{"detect", "--json", "--telemetry"}, "--telemetry"},  // a missing value
      {{"parse", "--json"}, "paths is required"},
      {{"parse", "x.log", "--format", "yaml", "--json"}, "--format must be"},
      {{"parse", "x.log", "--threads", "5000", "--json"}, "--threads"},
      {{"records", "--kind", "nope", "--json"}, "--kind 'nope'"},
      {{"prune", "--json"}, "--keep-days"},
      {{"prune", "--keep-days", "3", "--now", "yesterday", "--json"}, "--now 'yesterday'"},
      {{"validate", "--fix", "fix-1", "--patch", "x", "--json"}, "excludes"},
  };
  for (const auto& c : cases) {
    INFO(c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : ""));
    const auto r = run_selfheal(c.args);
    CHECK(r.exit_code == 2);
    REQUIRE(one_object(r.out));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(r.out).get(doc) == simdjson::SUCCESS);
    CHECK(json_text(doc, "error") == "usage");
    CHECK_THAT(json_text(doc, "message"), Catch::Contains(c.message));
  }
  SECTION("without --json the word is named on standard error and standard output stays empty") {
    const auto r = run_selfheal({"bogus"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("unknown command 'bogus'"));
  }
  SECTION("--json after a -- is an argument, not the flag") {
    const auto r = run_selfheal({"bogus", "--", "--json"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
  }
}

TEST_CASE("each input record is named for its kind, and --record is its alias", "[cli][usage]") {
  for (const auto& [command, flag] : std::vector<std::pair<std::string, std::string>>{
           {"baseline", "--telemetry"}, {"detect", "--telemetry"}, {"detect", "--baseline"}, {"diagnose", "--anomaly"},
           {"diagnose", "--telemetry"}, {"diagnose", "--coverage"}, {"detect", "--coverage"}, {"fix", "--diagnosis"},
           {"validate", "--fix"}, {"deploy", "--validation"}, {"learn", "--deployment"}}) {
    INFO(command << " " << flag);
    const auto help = run_selfheal({command, "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains(flag));
  }
  for (const char* command : {"baseline", "detect", "diagnose", "fix", "validate", "deploy", "learn"}) {
    INFO(command);
    CHECK_THAT(run_selfheal({command, "--help"}).out, Catch::Contains("--record"));
  }
  CHECK_THAT(run_selfheal({"diagnose", "--help"}).out, !Catch::Contains("--lcov"));
}

TEST_CASE("a command that reads earlier records refuses a store that does not exist", "[cli][store]") {
  sh::test::temp_dir d;
  const auto missing = d.path() / "mistyped.db";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"baseline"}, {"detect"}, {"diagnose", "--repo", d.path().string()}, {"fix"}, {"validate"}, {"deploy"},
           {"learn"}, {"feedback", "anomaly-1.1", "--verdict", "true-positive"}, {"approve", "deployment-1"},
           {"reject", "deployment-1", "--reason", "no"}, {"records"}, {"show", "telemetry-1"}, {"prune", "--keep-days", "1"}}) {
    auto a = args;
    a.insert(a.end(), {"--db", missing.string(), "--json"});
    INFO(args[0]);
    const auto r = run_selfheal(a);
    CHECK(r.exit_code == 1);
    CHECK(one_object(r.out));
    CHECK_THAT(r.out, Catch::Contains("no store at"));
    CHECK_THAT(r.err, Catch::Contains("--db"));
    CHECK_FALSE(std::filesystem::exists(missing));  // a mistyped --db leaves no file behind
  }
  SECTION("parse creates the store") {
    const auto log = d.path() / "app.ndjson";
    sh::test::cli::write_shop_log(log, 0, 2);
    CHECK(run_selfheal({"parse", log.string(), "--db", missing.string()}).exit_code == 0);
    CHECK(std::filesystem::exists(missing));
  }
}

TEST_CASE("baseline and detect skip an empty telemetry record by default and say which they used", "[cli][store]") {
  sh::test::temp_dir d;
  const std::string db = (d.path() / "s.db").string();
  const auto good = d.path() / "good.ndjson";
  sh::test::cli::write_shop_log(good, 0, 20);
  REQUIRE(run_selfheal({"parse", good.string(), "--db", db}).exit_code == 0);  // telemetry-1
  const auto bad = d.path() / "bad.ndjson";
  std::ofstream(bad) << "{not json\n{\"also\": \"no event\"\n";
  const auto empty = run_selfheal({"parse", bad.string(), "--db", db, "--json"});  // telemetry-2: no events
  REQUIRE_THAT(empty.out, Catch::Contains("\"record_id\":\"telemetry-2\""));

  const auto base = run_selfheal({"baseline", "--db", db, "--json"});
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  CHECK_THAT(base.out, Catch::Contains("\"records\":[\"telemetry-1\"]"));
  CHECK_THAT(base.err, Catch::Contains("using telemetry-1, the newest telemetry record with events (telemetry-2 has none)"));

  const auto det = run_selfheal({"detect", "--db", db, "--json"});
  REQUIRE(det.exit_code == 0);
  CHECK_THAT(det.out, Catch::Contains("\"telemetry_record\":\"telemetry-1\""));
  CHECK_THAT(det.err, Catch::Contains("using telemetry-1"));

  SECTION("a record given by name is used as it is, under either name") {
    const auto named = run_selfheal({"detect", "--db", db, "--telemetry", "telemetry-1", "--json"});
    CHECK(named.exit_code == 0);
    CHECK_THAT(named.err, !Catch::Contains("using telemetry-1"));
    const auto alias = run_selfheal({"detect", "--db", db, "--record", "telemetry-1", "--json"});
    CHECK(alias.exit_code == 0);
    CHECK_THAT(alias.out, Catch::Contains("\"telemetry_record\":\"telemetry-1\""));
  }
}

TEST_CASE("diagnose --anomaly anomaly-1.1 diagnoses that anomaly when anomaly-1 is not the latest record", "[cli][diagnose]") {
  sh::test::temp_dir d;
  const std::string db = (d.path() / "s.db").string();
  const auto log = d.path() / "shop.ndjson";
  sh::test::cli::write_shop_log(log, 0, 20);
  REQUIRE(run_selfheal({"parse", log.string(), "--db", db}).exit_code == 0);
  REQUIRE(run_selfheal({"baseline", "--db", db}).exit_code == 0);
  sh::test::cli::write_shop_log(log, 20, 30, 3.0);  // checkout three times slower
  REQUIRE(run_selfheal({"parse", log.string(), "--db", db}).exit_code == 0);
  const auto first = run_selfheal({"detect", "--db", db, "--json"});
  REQUIRE(first.exit_code == 0);
  REQUIRE_THAT(first.out, Catch::Contains("\"record_id\":\"anomaly-1\""));
  REQUIRE_THAT(first.out, Catch::Contains("\"id\":\"anomaly-1.1\""));
  REQUIRE(run_selfheal({"detect", "--db", db}).exit_code == 0);  // anomaly-2 is now the latest

  sh::test::git_repo repo;
  repo.write("shop.py", "def checkout(cart):\n    return sum(cart)\n\n\ndef pay(amount):\n    return amount\n");
  repo.commit("shop", 1'767'000'000);

  const auto r = run_selfheal({"diagnose", "--repo", repo.root().string(), "--db", db, "--anomaly", "anomaly-1.1",
                               "--no-ctags", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(r.out).get(doc) == simdjson::SUCCESS);
  CHECK(json_text(doc, "anomaly_record") == "anomaly-1");
  simdjson::dom::array items;
  REQUIRE(doc["diagnoses"].get(items) == simdjson::SUCCESS);
  REQUIRE(items.size() == 1);
  CHECK(json_text(items.at(0), "anomaly_id") == "anomaly-1.1");

  SECTION("--anomaly with a record diagnoses all of it; two records at once are a usage error") {
    const auto whole = run_selfheal({"diagnose", "--repo", repo.root().string(), "--db", db, "--record", "anomaly-1",
                                     "--no-ctags", "--json"});
    CHECK(whole.exit_code == 0);
    CHECK_THAT(whole.out, Catch::Contains("\"anomaly_record\":\"anomaly-1\""));
    const auto two = run_selfheal({"diagnose", "--repo", repo.root().string(), "--db", db, "--anomaly", "anomaly-1.1",
                                   "--anomaly", "anomaly-2.1", "--no-ctags", "--json"});
    CHECK(two.exit_code == 2);
    CHECK(one_object(two.out));
  }
}
