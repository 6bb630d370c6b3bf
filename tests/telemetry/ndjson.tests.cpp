#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "selfheal/telemetry/ndjson.hpp"

namespace tel = selfheal::telemetry;

namespace {
struct owned_event {
  std::uint64_t line;
  std::string handler, kind, ts, error, beat;
  double duration;
  bool has_duration, has_error;
};
struct collect {
  std::vector<owned_event> events;
  std::vector<std::pair<std::uint64_t, std::string>> bad_lines;
  void event(const tel::raw_event_view& e) {
    events.push_back({e.line, std::string(e.handler), std::string(e.kind), std::string(e.ts_text), std::string(e.error),
                      std::string(e.beat), e.duration_ms, e.has_duration, e.has_error});
  }
  void bad(std::uint64_t line, std::string reason) { bad_lines.emplace_back(line, std::move(reason)); }
};
collect parse(const std::string& text, std::size_t batch = 256 << 10) {
  std::string buf = text;
  buf.append(tel::chunk_padding, ' ');
  tel::ndjson_parser p(batch);
  collect c;
  p.parse(tel::padded_view::of(buf, text.size()), 1, c);
  return c;
}
std::vector<std::uint64_t> lines_of(const collect& c) {
  std::vector<std::uint64_t> v;
  for (auto& e : c.events) v.push_back(e.line);
  return v;
}
std::vector<std::uint64_t> bad_lines_of(const collect& c) {
  std::vector<std::uint64_t> v;
  for (auto& e : c.bad_lines) v.push_back(e.first);
  return v;
}
const std::string good = R"({"ts":"2025-01-01T00:00:00Z","handler":"a","durationMs":1.5,"event":"beat-completed"})";
}  // namespace

TEST_CASE("NDJSON fields and their aliases", "[telemetry][extractTelemetryEvents][ndjson]") {
  auto c = parse(
      R"({"timestamp":1735689600123,"handlerName":"h1","duration_ms":"12ms","type":"x","level":"error","error":{"message":"boom","code":5},"beat":3})"
      "\n"
      R"({"@timestamp":"2025-01-01T00:00:00Z","operation":"h2","elapsed_ms":7,"exception":"bad thing","unknown":{"deep":[1,2,{"x":null}]}})"
      "\n");
  REQUIRE(c.bad_lines.empty());
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[0].handler == "h1");
  CHECK(c.events[0].duration == 12.0);
  CHECK(c.events[0].error == "boom");
  CHECK(c.events[0].beat == "3");
  CHECK(c.events[1].handler == "h2");
  CHECK(c.events[1].ts == "2025-01-01T00:00:00Z");
  CHECK(c.events[1].duration == 7.0);
  CHECK(c.events[1].error == "bad thing");
}

TEST_CASE("a malformed NDJSON line costs that line only", "[telemetry][extractTelemetryEvents][ndjson]") {
  SECTION("unterminated string (flips simdjson's quote parity)") {
    auto c = parse(good + "\n" + R"({"handler":"x,"durationMs":1)" + "\n" + R"({"handler":"oops)" + "\n" + good + "\n" + good + "\n");
    CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 4, 5});
    CHECK(bad_lines_of(c) == std::vector<std::uint64_t>{2, 3});
  }
  SECTION("unbalanced braces, two documents on a line, garbage, arrays, scalars") {
    auto c = parse(good + "\n{\"a\":[1,2}\n" + good + " " + good + "\nhello world\n[1,2]\n42\n\"str\n" + good + "\n");
    CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 8});
    CHECK(bad_lines_of(c) == std::vector<std::uint64_t>{2, 3, 4, 5, 6, 7});
  }
  SECTION("invalid UTF-8 fails a whole simdjson batch; only its line is lost") {
    auto c = parse(good + "\n" + "{\"handler\":\"\xff\xfe\"}\n" + good + "\n" + good + "\n");
    CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 3, 4});
    REQUIRE(bad_lines_of(c) == std::vector<std::uint64_t>{2});
    CHECK(c.bad_lines[0].second.find("UTF-8") != std::string::npos);
  }
  SECTION("blank lines, CRLF, a truncated last line") {
    auto c = parse(good + "\r\n\r\n\n" + good + "\r\n" + R"({"handler":"a","dur)");
    CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 4});
    CHECK(bad_lines_of(c) == std::vector<std::uint64_t>{5});
  }
  SECTION("an error inside a document does not break the stream (fuzz finding)") {
    // simdjson 3.0.1 abandons the iterator on such an error; advancing the stream then crashed.
    auto c = parse(good + "\n" + R"({"ts":"2025-01-01T00:00:00Z","event":"beat-completed"+"sequence":"S"})" + "\n" + good + "\n" + good + "\n", 4096);
    CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 3, 4});
    CHECK(bad_lines_of(c) == std::vector<std::uint64_t>{2});
  }
  SECTION("numbers out of range and wrong types") {
    auto c = parse(R"({"handler":"a","durationMs":1e999})" "\n" R"({"handler":["a"]})" "\n" R"({"ts":true})" "\n" + good + "\n");
    CHECK(lines_of(c) == std::vector<std::uint64_t>{4});
    CHECK(bad_lines_of(c) == std::vector<std::uint64_t>{1, 2, 3});
  }
  SECTION("deep nesting") {
    std::string deep = "{\"handler\":\"a\",\"x\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
    auto c = parse(good + "\n" + deep + "\n" + std::string(3000, '[') + "\n" + good + "\n");
    CHECK(lines_of(c).front() == 1);
    CHECK(lines_of(c).back() == 4);
    CHECK(bad_lines_of(c).size() + c.events.size() == 4);
  }
  SECTION("a line longer than the batch") {
    std::string big = "{\"handler\":\"big\",\"pad\":\"" + std::string(100000, 'x') + "\"}";
    auto c = parse(good + "\n" + big + "\n" + good + "\n", 4096);
    CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(c.bad_lines.empty());
  }
  SECTION("many batches, bad lines scattered") {
    std::string text;
    std::vector<std::uint64_t> want_good, want_bad;
    for (std::uint64_t i = 1; i <= 3000; ++i) {
      if (i % 97 == 0) { text += "{\"handler\":\"cut\n"; want_bad.push_back(i); }
      else if (i % 101 == 0) { text += "not json at all\n"; want_bad.push_back(i); }
      else { text += good + "\n"; want_good.push_back(i); }
    }
    auto c = parse(text, 16 << 10);
    CHECK(lines_of(c) == want_good);
    CHECK(bad_lines_of(c) == want_bad);
  }
}
