// `selfheal parse` as a user runs it (issues 10 and 11): no false all-clear, missing inputs fail,
// log text cannot drive the terminal, long handler lists say how many more there are.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "selfheal/core/process.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;

namespace {
sh::process_output run_parse(std::vector<std::string> args) {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  args.insert(args.begin(), {(std::filesystem::path(bin) / "selfheal").string(), "parse"});
  sh::process_options options;
  options.timeout = std::chrono::seconds(60);
  auto out = sh::run_process(args, options);
  REQUIRE(out);
  return *out;
}
}  // namespace

TEST_CASE("selfheal parse: nothing new makes no record, a missing input fails", "[cli][parse][nothing-new]") {
  sh::test::temp_dir d;
  const std::string db = (d.path() / "store.db").string();
  const auto log = d.path() / "app.log";
  {
    std::ofstream out(log);
    for (int i = 0; i < 12; ++i)
      out << "2025-06-01T10:00:" << (i < 10 ? "0" : "") << i << "Z INFO handler=h" << i << " duration=3ms\n";
  }
  auto first = run_parse({log.string(), "--db", db});
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.out.find("telemetry-1: 12 events, 12 handler calls") != std::string::npos);
  CHECK(first.out.find("... and 2 more handlers") != std::string::npos);

  auto again = run_parse({log.string(), "--db", db, "--json"});
  CHECK(again.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(again.out).get(doc));
  CHECK(bool(doc["nothing_new"]));
  CHECK(std::string_view(doc["record_id"]).empty());
  auto text = run_parse({log.string(), "--db", db});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("nothing new") != std::string::npos);

  auto missing = run_parse({log.string(), (d.path() / "nope.log").string(), "--db", db});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("nope.log") != std::string::npos);
}

TEST_CASE("selfheal parse escapes control characters from logs in its human output", "[cli][parse][escape]") {
  sh::test::temp_dir d;
  const std::string db = (d.path() / "store.db").string();
  const auto log = d.path() / "evil.ndjson";
  std::ofstream(log) << R"({"ts":"2025-06-01T10:00:00Z","handler":"pay\u001b]0;pwned\u0007\u001b[2J","durationMs":3})" "\n"
                     << "{\"ts\":\"2025-06-01T10:00:01Z\",\"handler\":\"ok\",\"durationMs\":3}\n"
                     << "not json \x1b[31mred\x1b[0m\n";
  auto r = run_parse({log.string(), "--db", db});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.out.find("pay\\x1b]0;pwned\\x07\\x1b[2J") != std::string::npos);
}

TEST_CASE("selfheal parse exits 1 and says why when no input held a usable event", "[cli][parse][why]") {
  sh::test::temp_dir d;
  const std::string db = (d.path() / "store.db").string();
  const auto log = d.path() / "plain.txt";
  {
    std::ofstream out(log);
    for (int i = 0; i < 40; ++i) out << "just some words " << i << "\n";
  }
  auto r = run_parse({log.string(), "--db", db});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("40 lines, none usable") != std::string::npos);
  CHECK(r.err.find("first line: just some words 0") != std::string::npos);
}
