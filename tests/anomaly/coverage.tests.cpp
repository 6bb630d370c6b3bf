#include <selfheal/anomaly/coverage.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace an = selfheal::anomaly;

namespace {
// two functions in one file; load_log_files spans lines 10-19 (the next function starts at 20),
// 3 of its 10 DA lines hit; parse_rows spans 20-24 (its last DA line), all hit
const char* const tracefile =
    "TN:unit\n"
    "SF:src/telemetry/source.cpp\n"
    "FN:10,selfheal::telemetry::load_log_files::operator()(request const&)\n"
    "FN:20,_ZN8selfheal9telemetry10parse_rowsEv\n"
    "FNDA:40,selfheal::telemetry::load_log_files::operator()(request const&)\n"
    "FNDA:7,_ZN8selfheal9telemetry10parse_rowsEv\n"
    "FNF:2\nFNH:2\n"
    "DA:10,4\nDA:11,4\nDA:12,4\nDA:13,0\nDA:14,0\nDA:15,0\nDA:16,0\nDA:17,0\nDA:18,0\nDA:19,0\n"
    "DA:20,7\nDA:21,7\nDA:22,7,abcdef0123\nDA:24,7\n"
    "BRDA:12,0,0,1\nBRF:1\nBRH:1\n"
    "XYZ:unknown record\n"
    "DA:oops\n"
    "LF:14\nLH:7\n"
    "end_of_record\n"
    "SF:web/app.ts\n"
    "FN:5,20,handleCheckout\n"
    "DA:5,1\nDA:6,1\nDA:7,1\nDA:8,1\nDA:30,0\n"
    "end_of_record\n";
}  // namespace

TEST_CASE("lcov tracefiles parse, unknown records are counted with file:line", "[anomaly][detectCoverageGaps]") {
  const auto rep = an::parse_lcov(tracefile, "cov.info");
  REQUIRE(rep.files.size() == 2);
  CHECK(rep.files[0].path == "src/telemetry/source.cpp");
  CHECK(rep.files[0].functions.size() == 2);
  CHECK(rep.files[0].functions[0].hits == 40);
  CHECK(rep.files[0].lines.size() == 14);
  CHECK(rep.files[0].lines.at(22) == 7);  // the checksum field is ignored
  CHECK(rep.skipped_lines == 2);
  REQUIRE(rep.skipped_samples.size() == 2);
  CHECK(rep.skipped_samples[0] == "cov.info:26: unknown record 'XYZ'");
  CHECK(rep.skipped_samples[1] == "cov.info:27: malformed DA record");
  CHECK(rep.files[1].functions[0].end_line == 20);  // lcov 2 FN:<start>,<end>,<name>
}

TEST_CASE("handlers map to functions by name, camelCase or snake_case, mangled or not", "[anomaly][detectCoverageGaps]") {
  CHECK(an::function_matches("selfheal::telemetry::load_log_files::operator()(request const&)", "loadLogFiles"));
  CHECK(an::function_matches("_ZN8selfheal9telemetry10parse_rowsEv", "parseRows"));
  CHECK(an::function_matches("handleCheckout", "handle_checkout"));
  CHECK(an::function_matches("Checkout.handleCheckout", "handleCheckout"));
  CHECK_FALSE(an::function_matches("load_log_files_fast", "loadLogFiles"));
  CHECK_FALSE(an::function_matches("anything", ""));

  const auto rep = an::parse_lcov(tracefile);
  const auto c = an::coverage_of(rep, "loadLogFiles");
  REQUIRE(c.size() == 1);
  CHECK(c[0].first_line == 10);
  CHECK(c[0].last_line == 19);
  CHECK(c[0].lines == 10);
  CHECK(c[0].covered == 3);
  const auto p = an::coverage_of(rep, "parseRows");
  REQUIRE(p.size() == 1);
  CHECK(p[0].last_line == 24);
  CHECK(p[0].ratio() == 1.0);
  const auto h = an::coverage_of(rep, "handleCheckout");
  REQUIRE(h.size() == 1);
  CHECK(h[0].lines == 4);  // DA:30 is past the function's end line 20
}

TEST_CASE("hot handlers with poorly covered code are gaps, cold or covered ones are not", "[anomaly][detectCoverageGaps]") {
  const auto rep = an::parse_lcov(tracefile);
  an::telemetry_data cur;
  auto series = [](const char* name, std::uint64_t calls) {
    an::handler_series s;
    s.handler = name;
    s.windows.push_back({0, calls, 0, 1, 2, 3});
    return s;
  };
  cur.handlers = {series("loadLogFiles", 500), series("parseRows", 495), series("other", 5)};
  auto found = an::find_coverage_gaps(cur, rep);
  REQUIRE(found.size() == 1);
  CHECK(found[0].kind == an::anomaly_kind::coverage_gap);
  CHECK(found[0].handler == "loadLogFiles");
  CHECK(found[0].find("line_coverage")->number == Approx(0.3));
  CHECK(found[0].find("traffic_share")->number == Approx(0.5));
  CHECK(found[0].find("file")->text == "src/telemetry/source.cpp");
  CHECK(found[0].level == an::severity::high);
  SECTION("a cold handler (share below 1%) is not flagged") {
    cur.handlers = {series("loadLogFiles", 5), series("parseRows", 995)};
    CHECK(an::find_coverage_gaps(cur, rep).empty());
  }
  SECTION("the coverage threshold is configurable") {
    an::coverage_options o;
    o.min_line_coverage = 0.25;
    CHECK(an::find_coverage_gaps(cur, rep, o).empty());
  }
}
