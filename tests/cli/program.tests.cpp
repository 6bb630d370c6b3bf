// The `selfheal` program as a user runs it: a real child process, its exit code and its output.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "selfheal/core/process.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;

namespace {

sh::process_output run_selfheal(std::vector<std::string> args, std::optional<std::string> input = std::nullopt) {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  args.insert(args.begin(), (std::filesystem::path(bin) / "selfheal").string());
  sh::process_options options;
  options.timeout = std::chrono::seconds(60);
  options.stdin_data = std::move(input);
  auto out = sh::run_process(args, options);
  REQUIRE(out);
  return *out;
}

}  // namespace

TEST_CASE("selfheal sequences --json prints the catalogue as one object", "[cli][sequences]") {
  const auto r = run_selfheal({"sequences", "--json"});
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.back() == '\n');
  CHECK(r.out.find('\n') == r.out.size() - 1);  // exactly one line: one object

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(r.out).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array sequences;
  REQUIRE(doc["sequences"].get(sequences) == simdjson::SUCCESS);
  CHECK(sequences.size() == 8);

  std::size_t beats = 0;
  for (auto s : sequences) {
    simdjson::dom::array b;
    REQUIRE(s["beats"].get(b) == simdjson::SUCCESS);
    beats += b.size();
  }
  CHECK(beats == 73);  // 67 of SEQUENCES.md + 6 of baseline.establish

  auto telemetry = sequences.at(0);
  CHECK(std::string_view(telemetry["id"]) == "self-healing-telemetry-parse-symphony");
  CHECK(std::string_view(telemetry["file"]) == "sequences/telemetry.parse.json");
  auto load = telemetry["beats"].at(1);
  CHECK(int64_t(load["beat"]) == 2);
  CHECK(std::string_view(load["event"]) == "self-healing:telemetry:load:logs");
  CHECK(std::string_view(load["handler"]) == "loadLogFiles");
  CHECK(std::string_view(load["timing"]) == "async");
  CHECK(std::string_view(load["kind"]) == "stage-crew");
  CHECK(bool(load["implemented"]));

  auto fix = sequences.at(4);
  CHECK(std::string_view(fix["id"]) == "self-healing-fix-generate-symphony");
  CHECK(bool(fix["beats"].at(0)["implemented"]));
}

TEST_CASE("report and export refuse a store that does not exist and leave none behind", "[cli][report]") {
  sh::test::temp_dir d;
  const auto db = (d.path() / "typo.db").string();
  const auto r = run_selfheal({"report", "--html", (d.path() / "r.html").string(), "--db", db, "--json"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.rfind("{\"error\":", 0) == 0);
  CHECK(!std::filesystem::exists(db));
  CHECK(!std::filesystem::exists(d.path() / "r.html"));
  const auto e = run_selfheal({"export", "--prometheus", "--db", db});
  CHECK(e.exit_code == 1);
  CHECK(!std::filesystem::exists(db));
}

TEST_CASE("report --html and export --prometheus on a parsed store", "[cli][report]") {
  sh::test::temp_dir d;
  const auto db = (d.path() / "store.db").string();
  std::string log;
  for (int i = 0; i < 20; ++i)
    log += R"({"ts":")" + std::string("2026-01-01T00:00:") + (i < 10 ? "0" : "") + std::to_string(i) +
           R"(.000Z","event":"beat-completed","handler":"checkout","durationMs":)" + std::to_string(10 + i % 3) + "}\n";
  REQUIRE(run_selfheal({"parse", "-", "--db", db}, log).exit_code == 0);
  const auto page = d.path() / "report.html";
  const auto r = run_selfheal({"report", "--html", page.string(), "--db", db, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"deployments\":0") != std::string::npos);
  REQUIRE(std::filesystem::exists(page));
  const auto e = run_selfheal({"export", "--prometheus", "--db", db});
  REQUIRE(e.exit_code == 0);
  CHECK(e.out.find("selfheal_handler_calls{handler=\"checkout\",record=\"telemetry-1\"} 20\n") != std::string::npos);
  const auto out = d.path() / "metrics.prom";
  REQUIRE(run_selfheal({"export", "--prometheus", "--out", out.string(), "--db", db}).exit_code == 0);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == e.out);
  CHECK(!std::filesystem::exists(out.string() + ".tmp"));
  CHECK(run_selfheal({"report", "--db", db}).exit_code == 2);  // --html is required
}

TEST_CASE("usage errors exit 2, --version exits 0", "[cli][exit-codes]") {
  CHECK(run_selfheal({"no-such-command"}).exit_code == 2);
  CHECK(run_selfheal({}).exit_code == 2);
  CHECK(run_selfheal({"parse"}).exit_code == 2);  // PATH... is required
  CHECK(run_selfheal({"parse", "x.log", "--format", "yaml"}).exit_code == 2);
  const auto v = run_selfheal({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out == "selfheal 0.1.0\n");
}

TEST_CASE("selfheal parse reads standard input and traces its executions", "[cli][parse][stdin]") {
  sh::test::temp_dir d;
  const std::string db = (d.path() / "store.db").string();
  // three executions of one sequence (the third fails at its second beat), one stray beat, one
  // execution still running when the input ends (standard input is never resumed: incomplete), one bad line
  std::string log;
  for (int i = 0; i < 3; ++i) {
    const std::string c = R"(,"sequence":"orders","correlationId":"o)" + std::to_string(i) + '"';
    const std::string t = "2026-01-01T00:00:0" + std::to_string(i);
    log += R"({"ts":")" + t + R"(.000Z","event":"sequence-started")" + c + "}\n";
    log += R"({"ts":")" + t + R"(.010Z","event":"beat-completed","beat":1,"handler":"validate","durationMs":10)" + c + "}\n";
    log += R"({"ts":")" + t + R"(.030Z","event":")" + (i == 2 ? "beat-failed" : "beat-completed") +
           R"(","beat":2,"handler":"persist","durationMs":20)" + c + "}\n";
    log += R"({"ts":")" + t + R"(.031Z","event":")" + (i == 2 ? "sequence-failed" : "sequence-completed") + '"' + c + "}\n";
  }
  log += R"({"ts":"2026-01-01T00:00:09.000Z","event":"beat-completed","handler":"persist","durationMs":1,"correlationId":"lost"})" "\n";
  log += R"({"ts":"2026-01-01T00:00:10.000Z","event":"sequence-started","sequence":"orders","correlationId":"o9"})" "\n";
  log += R"({"ts":"2026-01-01T00:00:10.010Z","event":"beat-completed","beat":1,"handler":"validate","durationMs":10,"correlationId":"o9"})" "\n";
  log += "{not json\n";

  const auto text = run_selfheal({"parse", "--db", db, "-"}, log);
  INFO(text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("telemetry-1: 15 events, 8 handler calls, 1 bad lines from 1 source(s)") != std::string::npos);
  CHECK(text.out.find("sequence executions traced by correlation id: 4, distinct beat paths: 2, incomplete: 1; beat calls outside a traced execution: 1") !=
        std::string::npos);
  CHECK(text.err.find("-:16:") != std::string::npos);  // the bad line, named by source and line

  const auto untraced = run_selfheal({"parse", "--db", db, "--no-traces", "-"}, log);
  CHECK(untraced.exit_code == 0);
  CHECK(untraced.out.find("15 events, 8 handler calls") != std::string::npos);
  CHECK(untraced.out.find("executions traced") == std::string::npos);

  const auto json = run_selfheal({"parse", "--db", db, "--json", "-"}, log);
  CHECK(json.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(json.out).get(doc));
  CHECK(std::string_view(doc["record_id"]) == "telemetry-3");  // stdin is never resumed: read again
  CHECK(int64_t(doc["events"]) == 15);
  CHECK(int64_t(doc["bad_lines"]) == 1);
}

TEST_CASE("selfheal detect --coverage --repo maps a tracefile without FN records through ctags", "[cli][detect]") {
  selfheal::test::temp_dir t;
  const auto dir = t.path();
  std::filesystem::create_directories(dir / "repo/app");
  std::ofstream(dir / "repo/app/payments.py") << "import json\n"                        //  1
                                                 "\n"                                   //  2
                                                 "def charge_card(amount):\n"           //  3  charge_card: 3-6
                                                 "    if amount <= 0:\n"                //  4
                                                 "        raise ValueError(amount)\n"   //  5
                                                 "    return amount * 1.03\n"           //  6
                                                 "\n"                                   //  7
                                                 "def list_cards():\n"                  //  8  list_cards: 8-9
                                                 "    return json.dumps([])\n";         //  9
  // coverage.py-style: relative SF, DA only. charge_card 1 of 4 lines hit; list_cards 2 of 2.
  // /etc/hostname lies outside the repository: skipped with a warning, never read.
  std::ofstream(dir / "cov.info") << "SF:app/payments.py\nDA:1,1\nDA:3,1\nDA:4,0\nDA:5,0\nDA:6,0\nDA:8,1\nDA:9,1\n"
                                     "end_of_record\nSF:/etc/hostname\nDA:1,0\nend_of_record\n";
  {
    std::ofstream log(dir / "app.ndjson");
    for (int w = 0; w < 5; ++w)
      for (int i = 0; i < 20; ++i) {
        char line[160];
        std::snprintf(line, sizeof line, "{\"ts\":\"2026-01-01T00:%02d:%02d.000Z\",\"handler\":\"%s\",\"durationMs\":12}\n", w, i,
                      i < 10 ? "chargeCard" : "listCards");
        log << line;
      }
  }
  const std::string db = (dir / "s.db").string();
  REQUIRE(run_selfheal({"parse", (dir / "app.ndjson").string(), "--db", db}).exit_code == 0);
  REQUIRE(run_selfheal({"baseline", "--db", db}).exit_code == 0);

  const auto r = run_selfheal({"detect", "--db", db, "--coverage", (dir / "cov.info").string(), "--repo",
                               (dir / "repo").string(), "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("1 SF path(s) outside the repository") != std::string::npos);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(r.out).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array anomalies;
  REQUIRE(doc["anomalies"].get(anomalies) == simdjson::SUCCESS);
  REQUIRE(anomalies.size() == 1);
  auto gap = anomalies.at(0);
  CHECK(std::string_view(gap["kind"]) == "coverage_gap");
  CHECK(std::string_view(gap["handler"]) == "chargeCard");
  CHECK(std::string_view(gap["evidence"]["mapping"]) == "symbols");
  CHECK(int64_t(gap["evidence"]["first_line"]) == 3);
  CHECK(int64_t(gap["evidence"]["last_line"]) == 6);
  CHECK(double(gap["evidence"]["line_coverage"]) == Approx(0.25));

  SECTION("a --repo that does not exist is a usage error") {
    CHECK(run_selfheal({"detect", "--db", db, "--coverage", (dir / "cov.info").string(), "--repo",
                        (dir / "nope").string()}).exit_code == 2);
  }
}
