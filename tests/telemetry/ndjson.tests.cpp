#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
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

namespace {
/// Every field of an event, owned, for comparing two parses.
std::string describe(const tel::raw_event_view& e) {
  std::string s = std::to_string(e.line);
  for (std::string_view v : {e.ts_text, e.handler, e.sequence, e.beat, e.kind, e.level, e.status, e.error,
                             e.correlation, e.release, e.message}) {
    s += '|';
    s.append(v.data(), v.size());
  }
  char num[128];
  std::snprintf(num, sizeof num, "|%a|%lld|%d%d|%a|%d|%d", e.ts_number, static_cast<long long>(e.ts_integer),
                e.has_ts_number ? 1 : 0, e.ts_is_integer ? 1 : 0, e.duration_ms, e.has_duration ? 1 : 0,
                e.has_error ? 1 : 0);
  return s + num;
}
struct describe_all {
  std::vector<std::string> events;
  std::vector<std::uint64_t> bad_lines;
  void event(const tel::raw_event_view& e) { events.push_back(describe(e)); }
  void bad(std::uint64_t line, const std::string&) { bad_lines.push_back(line); }
};
describe_all parse_with(const std::string& text, bool fast) {
  std::string buf = text;
  buf.append(tel::chunk_padding, ' ');
  tel::ndjson_parser p;
  p.set_fast_path(fast);
  describe_all c;
  p.parse(tel::padded_view::of(buf, text.size()), 1, c);
  return c;
}
}  // namespace

TEST_CASE("the flat-object fast path reads exactly what On-Demand reads", "[telemetry][extractTelemetryEvents][ndjson]") {
  std::vector<std::string> corpus = {
      good,
      R"({"ts":"2025-01-01T00:00:00Z","handler":"h\"x","durationMs":1.5})",
      R"({"ha\u006edler":"esc-key","durationMs":2})",
      R"({"handler":"a","context":"esc \" \\ \n inside","durationMs":0.125})",
      R"({"handler":"a","durationMs":-0})",
      R"({"handler":"a","durationMs":1e3})",
      R"({"handler":"a","durationMs":12345678901234567890})",
      R"({"handler":"a","durationMs":1.00000000000000000000001})",
      R"({"handler":"a","durationMs":0.30000000000000004,"duration":"12ms"})",
      R"({"handler":"a","durationMs":"1.5 s"})",
      R"({"handler":"a","durationMs":"soon"})",
      R"({"handler":"a","durationMs":null,"ts":null})",
      R"({"handler":"a","durationMs":true})",
      R"({"handler":"a","durationMs":01})",
      R"({"handler":"a","durationMs":1.})",
      R"({"handler":"a","durationMs":-})",
      R"({"timestamp":1735689600032,"handler_name":"h"})",
      R"({"timestamp":-1735689600,"handler_name":"h"})",
      R"({"timestamp":-0,"handler_name":"h"})",
      R"({"timestamp":1735689600.123456,"handler_name":"h"})",
      R"({"timestamp":17356896000321234567,"handler_name":"h"})",
      R"({"timestamp":1.7e9,"handler_name":"h"})",
      R"({"timestamp":true,"handler_name":"h"})",
      R"({"handler":12,"beat":3,"level":true,"status":false,"version":null,"sequence":-1.5e2})",
      R"({"handler":{"name":"x"}})",
      R"({"handler":["x"]})",
      R"({"error":{"message":"boom","code":500},"handler":"e"})",
      R"({"error":true,"handler":"e"},)",
      R"({"error":true,"handler":"e"})",
      R"({"error":false,"handler":"e"})",
      R"({"error":null,"handler":"e"})",
      R"({"error":"","handler":"e"})",
      R"({"error":0,"handler":"e"})",
      R"({"err":"bad \"thing\"","handler":"e"})",
      // escapes in kept strings: the simple ones are unescaped by the fast path, \u goes to On-Demand
      R"({"error":"card \"declined\"\nretry in 30s","handler":"e\/f","ts":"2025-01-01T00:00:00Z"})",
      R"({"error":"C:\\svc\\stock.cs \b\f\r\t","sequence":"s\"q","beat":"b\\1","correlationId":"c\/2"})",
      R"({"error":"x\u00e9y","handler":"h\"1","message":"m\\"})",
      R"({"error":"bad escape \x","handler":"h"})",
      R"({"handler":"\"","error":"\\","level":"\t"})",
      R"({"attrs":{"a":[1,2,{"b":null}],"c":"d"},"handler":"n","tags":[],"o":{}})",
      R"({"attrs":{"a":[1,2,{"b":nul}]},"handler":"n"})",
      R"({"attrs":{"a" 1},"handler":"n"})",
      R"({"handler":"dup","handler":"dup2","durationMs":1,"durationMs":null})",
      "{ \"handler\" :\t\"ws\" ,\r \"durationMs\" : 3 }\r",
      "{\"handler\":\"ctl\x01char\"}",
      "{\"handler\":\"bad utf8 \xff\xfe\"}",
      "{\"context\":\"ok utf8 \xc3\xa9\xe2\x82\xac\",\"handler\":\"u\"}",
      R"({"handler":"a"} trailing)",
      R"({"handler":"a"}{"handler":"b"})",
      R"([1,2,3])",
      R"("just a string")",
      R"(42)",
      R"({})",
      R"({"handler":"unclosed)",
      R"({"handler":"a",})",
      R"({"handler":"a" "b"})",
      R"({,"handler":"a"})",
      R"({"handler":tru})",
      R"({"handler":"a"}})",
      R"({"msg":"m","message":"n","release":"r","commit":"c","traceId":"t","correlationId":"c2","type":"beat-failed"})",
      "",
      "   ",
      "{\"handler\":\"multi\",\n\"durationMs\":1}",
  };
  // issue 10.4's shape: a nested context object with an array in every event
  corpus.push_back(R"({"ts":"2025-01-01T00:00:00.001135Z","event":"beat-failed","sequence":"checkout","beat":1,"handler":"h","durationMs":2.5,"correlationId":"n1","ctx":{"host":"web-0","pid":7298,"tags":["retry","v2"]},"error":"card \"declined\"\nretry"})");
  corpus.push_back(R"({"ctx" : { "a" : [ 1 , { "b" : [ ] } , -2.5e3 , true , null ] , "c" : { } } , "handler" : "spaced"})");
  corpus.push_back(R"({"ctx":{"a":[1,{"b":[]},2],"c":{}]},"handler":"mismatched"})");
  corpus.push_back(R"({"ctx":{"a":[1,2,]},"handler":"trailing comma"})");
  corpus.push_back(R"({"ctx":{"a":1,},"handler":"trailing comma"})");
  corpus.push_back(R"({"ctx":{"a":01},"handler":"bad number"})");
  corpus.push_back(R"({"ctx":{"a" "b"},"handler":"no colon"})");
  corpus.push_back(R"({"ctx":{1:2},"handler":"number key"})");
  corpus.push_back(R"({"ctx":["a" "b"],"handler":"no comma"})");
  corpus.push_back(R"({"ctx":{"a\"b":"c\\"},"handler":"escaped key inside"})");
  // the bracket skip: brackets and quotes inside strings, raw control characters, escapes (the exact
  // loop), and strings crossing its 64-byte blocks at every offset
  corpus.push_back(R"({"ctx":{"s":"has } and ] and { inside","t":["[",{"u":"}"}]},"handler":"brackets in strings"})");
  corpus.push_back("{\"ctx\":{\"a\":\"x\ty\"},\"handler\":\"raw tab in a string\"}");
  corpus.push_back("{\"ctx\":{\"a\":\t1\r},\"handler\":\"tab and CR between tokens\"}");
  corpus.push_back("{\"ctx\":{\"a\":\"x\ny\"},\"handler\":\"newline in a string\"}");
  corpus.push_back(R"({"ctx":{"a":"esc " q ] }"},"handler":"escaped quote inside"})");
  corpus.push_back(R"({"ctx":{"a":[1,2]},"handler":"h","error":"after " the context"})");
  corpus.push_back(R"({"ctx":{"a":[1,2}},"handler":"mismatched close"})");
  corpus.push_back(R"({"ctx":{"a":[1,2]]},"handler":"one close too many"})");
  for (int pad = 40; pad < 90; pad += 7)
    corpus.push_back("{\"ctx\":{\"k\":\"" + std::string(static_cast<std::size_t>(pad), 'y') + "}\",\"l\":[\"" +
                     std::string(static_cast<std::size_t>(pad / 2), 'z') + "\",{}]},\"handler\":\"pad" + std::to_string(pad) + "\"}");
  for (const int depth : {31, 32, 33}) {  // the fast path skips up to 32 levels (then On-Demand)
    std::string line = "{\"deep\":";
    for (int i = 0; i < depth; ++i) line += i % 2 ? "[" : "{\"k\":";
    for (int i = depth - 1; i >= 0; --i) line += i % 2 ? "]" : "}";
    corpus.push_back(line + ",\"handler\":\"d" + std::to_string(depth) + "\"}");
  }
  // longer than the unescape buffer, with escapes in a kept string
  corpus.push_back("{\"handler\":\"long\",\"error\":\"" + std::string(6000, 'x') + "\\n\\\"q\\\"\"}");
  std::string nested = "{\"deep\":";
  for (int i = 0; i < 40; ++i) nested += "[";
  for (int i = 0; i < 40; ++i) nested += "]";
  nested += ",\"handler\":\"deep\"}";

  SECTION("line by line and all together") {
    std::string all;
    for (const auto& line : corpus) {
      const auto one = line + "\n";
      const auto slow = parse_with(one, false);
      const auto fast = parse_with(one, true);
      INFO(line);
      CHECK(fast.events == slow.events);
      CHECK(fast.bad_lines == slow.bad_lines);
      all += one;
    }
    all += nested + "\n";
    const auto slow = parse_with(all, false);
    const auto fast = parse_with(all, true);
    CHECK(fast.events == slow.events);
    CHECK(fast.bad_lines == slow.bad_lines);
    CHECK(fast.events.size() > 20);  // the corpus holds good lines, and they were read
    CHECK(fast.bad_lines.size() > 10);
  }

  SECTION("random mutations of the corpus (seeded)") {
    std::mt19937 rng(20251126);
    const std::string alphabet = "{}[]\":,\\ 0123456789.-eEabnrtuflsx\t\r\n\x01\xff\xc3";
    for (int round = 0; round < 400; ++round) {
      std::string text;
      const int lines = 1 + static_cast<int>(rng() % 12);
      for (int l = 0; l < lines; ++l) {
        std::string line = corpus[rng() % corpus.size()];
        const int edits = static_cast<int>(rng() % 3);
        for (int k = 0; k < edits && !line.empty(); ++k) {
          const auto at = rng() % line.size();
          switch (rng() % 3) {
            case 0: line[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: line.erase(at, 1); break;
            default: line.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
          }
        }
        text += line;
        if (l + 1 < lines || rng() % 2) text += '\n';
      }
      const auto slow = parse_with(text, false);
      const auto fast = parse_with(text, true);
      INFO("round " << round << ": " << text);
      REQUIRE(fast.events == slow.events);
      REQUIRE(fast.bad_lines == slow.bad_lines);
    }
  }
}

TEST_CASE("the fast path's key prediction never mistakes one key for another", "[telemetry][extractTelemetryEvents][ndjson]") {
  // Keys are predicted from the keys that followed the previous one on earlier lines. Lines that
  // repeat one order with optional keys (the predictions hit), near misses of known keys (a
  // prefix, one more byte, one byte changed at either end, the same key escaped, 15 and 16 bytes
  // long), more distinct keys than are tracked, and a key cut by the end of the text: the fast
  // path must read exactly what On-Demand reads.
  enum value_kind { text, time, duration, any };
  const std::vector<std::pair<std::string, value_kind>> keys = {
      {"ts", time}, {"Ts", any}, {"tsx", any}, {"t", any}, {R"(t\u0073)", time}, {"event", text},
      {"evenT", any}, {"events", any}, {"handler", text}, {"handler_", any}, {R"(handl\u0065r)", text},
      {"sequence", text}, {"beat", text}, {"correlationId", text}, {"correlationIdX", any},
      {"durationMs", duration}, {"durationMS", any}, {"duration", duration}, {"error", text}, {"err", text},
      {"erR", any}, {"errors", any}, {"fifteen_bytes_k", any}, {"sixteen_bytes_ke", any}, {"ctx", any},
      {"level", text}, {"Level", any}, {"msg", text}, {"message", text}};
  const std::vector<std::string> texts = {R"("beat-completed")", R"("h")", R"("x\"y")", R"("")", "3", "null"};
  const std::vector<std::string> anything = {R"({"a":[1,"b"]})", "[]", "true", "-2.5e3", R"("z")"};
  const auto value_for = [&](value_kind k, std::mt19937& rng) -> std::string {
    switch (k) {
      case time: return rng() % 2 ? R"("2025-01-01T00:00:01.5Z")" : "1735689600";
      case duration: return rng() % 2 ? "1.5" : R"("12ms")";
      case text: return texts[rng() % texts.size()];
      case any: return anything[rng() % anything.size()];
    }
    return {};
  };
  static const std::size_t order[] = {0, 5, 11, 12, 8, 13, 15, 24};  // ts event sequence beat handler …
  std::mt19937 rng(20261130);
  std::string all;
  std::uint64_t lines = 0;
  for (int l = 0; l < 3000; ++l) {
    const bool usual = rng() % 4 != 0;  // most lines: the usual order, some keys left out
    const std::size_t n = usual ? std::size(order) : 1 + rng() % 10;
    std::string line = "{";
    for (std::size_t k = 0; k < n; ++k) {
      if (usual && rng() % 5 == 0) continue;
      auto [key, kind] = usual ? keys[order[k]] : keys[rng() % keys.size()];
      if (l > 2000 && rng() % 3 == 0) {  // more distinct keys than are tracked
        key += "_" + std::to_string(rng() % 64);
        kind = any;
      }
      if (line.size() > 1) line += ',';
      line += '"' + key + '"' + (rng() % 50 == 0 ? " : " : ":") + value_for(kind, rng);
    }
    all += line + "}\n";
    ++lines;
  }
  all += R"({"ts":"2025-01-01T00:00:00Z","handler":"cut","correlati)";  // the last key ends with the text
  const auto slow = parse_with(all, false);
  const auto fast = parse_with(all, true);
  CHECK(fast.events == slow.events);
  CHECK(fast.bad_lines == slow.bad_lines);
  CHECK(fast.events.size() == lines);
  CHECK(fast.bad_lines == std::vector<std::uint64_t>{lines + 1});
  // the first 300 lines again, each alone (nothing predicted from earlier lines): the same events
  const auto without_line = [](const std::string& e) { return e.substr(e.find('|')); };
  std::vector<std::string> alone, together;
  std::size_t at = 0;
  for (int l = 0; l < 300; ++l) {
    const auto nl = all.find('\n', at);
    for (const auto& e : parse_with(all.substr(at, nl + 1 - at), true).events) alone.push_back(without_line(e));
    at = nl + 1;
  }
  for (const auto& e : fast.events)
    if (std::stoull(e.substr(0, e.find('|'))) <= 300) together.push_back(without_line(e));
  CHECK(alone.size() == 300);
  CHECK(together == alone);
}

TEST_CASE("nested context values, long escaped lines and unterminated last lines take the fast path",
          "[telemetry][extractTelemetryEvents][ndjson]") {
  const std::string ctx_line =
      R"({"ts":"2025-01-01T00:00:00Z","event":"beat-completed","handler":"h","durationMs":2,"ctx":{"host":"web-0","pid":7,"tags":["a","b"]}})";
  const std::string long_line = "{\"handler\":\"long\",\"error\":\"" + std::string(6000, 'x') + "\\\"q\\\"\"}";
  const std::string text = ctx_line + "\r\n" + long_line + "\n" + ctx_line + "\n" + R"({"ctx":{"a":[1,2]},"handler":"unclosed")" + "\n" + ctx_line;
  std::string buf = text;
  buf.append(tel::chunk_padding, ' ');
  tel::ndjson_parser p;
  collect c;
  const auto lines = p.parse(tel::padded_view::of(buf, text.size()), 1, c);
  CHECK(lines == 5);
  CHECK(lines_of(c) == std::vector<std::uint64_t>{1, 2, 3, 5});
  CHECK(bad_lines_of(c) == std::vector<std::uint64_t>{4});
  CHECK(p.fast_lines() == 4);  // every good line, the long one included; the bad one went to On-Demand
  REQUIRE(c.events.size() == 4);
  CHECK(c.events[0].handler == "h");
  CHECK(c.events[0].duration == 2.0);
  CHECK(c.events[1].error == std::string(6000, 'x') + "\"q\"");
  CHECK(c.events[3].handler == "h");

  // a context longer than one 64-byte block, with brackets inside its strings
  const std::string wide = R"({"handler":"w","ctx":{"note":")" + std::string(70, 'n') + R"( ] } [ {","tags":["x","y"],"o":{"p":[1,{}]}},"durationMs":3})";
  buf = wide + "\n";
  buf.append(tel::chunk_padding, ' ');
  tel::ndjson_parser q;
  collect d;
  CHECK(q.parse(tel::padded_view::of(buf, wide.size() + 1), 1, d) == 1);
  CHECK(q.fast_lines() == 1);
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].duration == 3.0);
}
