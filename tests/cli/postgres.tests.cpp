// The `selfheal` program on a PostgreSQL store (`--db postgresql://…`): parse, baseline, detect,
// records, export and report give what they give on an SQLite file, from the same logs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <simdjson.h>

#include "postgres.hpp"
#include "program.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
using sh::test::cli::one_object;
using sh::test::cli::run_selfheal;

namespace {

/// The element `key` of a JSON document, minified (for comparing two runs' documents).
std::string member(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  simdjson::dom::element e;
  if (doc[key].get(e) != simdjson::SUCCESS) return std::string("<no ") + key + ">";
  return simdjson::minify(e);
}

/// Sequence executions with correlation ids (traced paths), errors with a message, and a release
/// marker, appended to the shop log's windows.
void write_orders(const std::filesystem::path& file, int from, int to, bool skip_charge) {
  std::ofstream out(file, std::ios::app);
  for (int w = from; w < to; ++w)
    for (int i = 0; i < 10; ++i) {
      const std::int64_t ts = sh::test::cli::t0_ms + w * 60'000 + i * 5000 + 100;
      const std::string c = R"(,"sequence":"orders","correlationId":"o)" + std::to_string(w * 100 + i) + '"';
      out << R"({"ts":)" << ts << R"(,"event":"sequence-started")" << c << "}\n";
      out << R"({"ts":)" << ts + 10 << R"(,"event":"beat-completed","beat":1,"handler":"reserve","durationMs":3)" << c << "}\n";
      if (!(skip_charge && i % 3 == 0))
        out << R"({"ts":)" << ts + 20 << R"(,"event":"beat-completed","beat":2,"handler":"charge","durationMs":4)" << c << "}\n";
      if (i == 7)
        out << R"({"ts":)" << ts + 30 << R"(,"event":"beat-failed","beat":3,"handler":"ship","durationMs":5,"error":"carrier said 'no' \u00e9")"
            << c << "}\n";
      else
        out << R"({"ts":)" << ts + 30 << R"(,"event":"beat-completed","beat":3,"handler":"ship","durationMs":5)" << c << "}\n";
      out << R"({"ts":)" << ts + 40 << R"(,"event":"sequence-completed")" << c << "}\n";
    }
}

struct run_on {
  std::string db;
  std::vector<sh::process_output> outs;
  sh::process_output run(std::vector<std::string> args) {
    args.push_back("--db");
    args.push_back(db);
    auto r = run_selfheal(args);
    INFO(db << ": selfheal " << args.front() << "\n" << r.err);
    CHECK(r.exit_code == 0);
    return r;
  }
};

}  // namespace

TEST_CASE("parse, baseline and detect give the same anomalies on SQLite and PostgreSQL", "[cli][program][postgres]") {
  sh::test::temp_dir d;
  const auto log = d.path() / "shop.ndjson";
  const auto orders = d.path() / "orders.ndjson";
  run_on lite{(d.path() / "store.db").string(), {}};
  run_on pg{sh::test::fresh_postgres_url(), {}};

  sh::test::cli::write_shop_log(log, 0, 20);
  write_orders(orders, 0, 20, false);
  for (auto* s : {&lite, &pg}) {
    const auto p = s->run({"parse", log.string(), orders.string(), "--json"});
    REQUIRE(one_object(p.out));
    CHECK(member(p.out, "record_id") == "\"telemetry-1\"");
    s->outs.push_back(p);
    s->outs.push_back(s->run({"baseline", "--json"}));
  }
  // the second day: checkout three times slower, one in three orders skips charge
  sh::test::cli::write_shop_log(log, 20, 30, 3.0);
  write_orders(orders, 20, 30, true);
  const auto defs = d.path() / "defs";
  std::filesystem::create_directories(defs);
  std::ofstream(defs / "orders.json") << R"({"id":"orders","movements":[{"beats":[
      {"beat":1,"event":"shop:reserve","handler":"reserve"},{"beat":2,"event":"shop:charge","handler":"charge"},
      {"beat":3,"event":"shop:ship","handler":"ship"}]}]})";
  for (auto* s : {&lite, &pg}) {
    const auto p = s->run({"parse", log.string(), orders.string(), "--json"});  // resumes both files
    CHECK(member(p.out, "record_id") == "\"telemetry-2\"");
    s->outs.push_back(p);
    s->outs.push_back(s->run({"detect", "--sequences", defs.string(), "--json"}));
    s->outs.push_back(s->run({"records", "--json"}));
    s->outs.push_back(s->run({"export", "--prometheus"}));
    s->outs.push_back(s->run({"show", "telemetry-2", "--json"}));
    const auto page = d.path() / (s == &pg ? "pg.html" : "lite.html");
    s->outs.push_back(s->run({"report", "--html", page.string(), "--json"}));
    CHECK(std::filesystem::exists(page));
    s->outs.push_back(s->run({"feedback", "anomaly-1.1", "--verdict", "false-positive", "--json"}));
    s->outs.push_back(s->run({"detect", "--sequences", defs.string(), "--json"}));  // with the tuned threshold
  }
  REQUIRE(lite.outs.size() == pg.outs.size());
  // parse: the same counts (the resumed second run read only what was appended)
  for (std::size_t i : {0u, 2u})
    for (const char* k : {"events", "bad_lines", "handlers", "sequences", "record_id"}) {
      INFO("parse " << i << " " << k);
      CHECK(member(pg.outs[i].out, k) == member(lite.outs[i].out, k));
    }
  CHECK(member(pg.outs[1].out, "handlers") == member(lite.outs[1].out, "handlers"));  // the baseline
  const auto& detect_lite = lite.outs[3].out;
  const auto& detect_pg = pg.outs[3].out;
  CHECK(member(detect_pg, "record_id") == "\"anomaly-1\"");
  CHECK(member(detect_pg, "anomalies") == member(detect_lite, "anomalies"));
  CHECK_THAT(detect_pg, Catch::Contains("\"handler\":\"checkout\""));
  CHECK_THAT(detect_pg, Catch::Contains("\"handler\":\"charge\""));  // the missing beat, from the traced paths
  // the same records (created at the wall clock's time: left out)
  const auto undated = [](std::string s) { return std::regex_replace(s, std::regex(R"("created":"[^"]*",)"), ""); };
  CHECK(undated(member(pg.outs[4].out, "records")) == undated(member(lite.outs[4].out, "records")));
  CHECK(pg.outs[5].out == lite.outs[5].out);  // the Prometheus exposition, byte for byte
  CHECK(member(pg.outs[6].out, "handlers") == member(lite.outs[6].out, "handlers"));
  CHECK(member(pg.outs[7].out, "deployments") == member(lite.outs[7].out, "deployments"));
  CHECK(member(pg.outs[9].out, "anomalies") == member(lite.outs[9].out, "anomalies"));
  CHECK(member(pg.outs[9].out, "record_id") == "\"anomaly-2\"");
}

TEST_CASE("a PostgreSQL store that is not there is named, and never created by a reading command", "[cli][program][postgres]") {
  const auto url = sh::test::shared_postgres().url("no_such_store");
  const auto r = run_selfheal({"records", "--db", url, "--json"});
  CHECK(r.exit_code == 1);
  REQUIRE(one_object(r.out));
  CHECK_THAT(r.out, Catch::Contains("\"error\":\"not_found\""));
  CHECK_THAT(r.out, Catch::Contains("no_such_store"));
  // an existing database without a store: reading commands refuse it, parse makes it one
  const auto empty = sh::test::fresh_postgres_url();
  const auto d = run_selfheal({"detect", "--db", empty, "--json"});
  CHECK(d.exit_code == 1);
  CHECK_THAT(d.out, Catch::Contains("run `selfheal parse` first"));
  sh::test::temp_dir dir;
  sh::test::cli::write_shop_log(dir.path() / "a.ndjson", 0, 1);
  const auto p = run_selfheal({"parse", (dir.path() / "a.ndjson").string(), "--db", empty, "--json"});
  INFO(p.err);
  CHECK(p.exit_code == 0);
  CHECK(run_selfheal({"records", "--db", empty}).exit_code == 0);
}
