#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "selfheal/telemetry/formats.hpp"
#include "selfheal/telemetry/normalize.hpp"

namespace tel = selfheal::telemetry;

namespace {
struct owned {
  std::string ts, handler, sequence, beat, level, error;
  double duration = -1;
  tel::event_kind kind = tel::event_kind::other;
};
struct collect {
  std::vector<owned> events;
  std::vector<std::uint64_t> bad_lines;
  void event(const tel::raw_event_view& e) {
    owned o{std::string(e.ts_text), std::string(e.handler), std::string(e.sequence), std::string(e.beat),
            std::string(e.level), e.has_error ? std::string(e.error) : std::string(), e.has_duration ? e.duration_ms : -1,
            e.has_known_kind ? e.known_kind : tel::map_event_kind(e.kind)};
    events.push_back(o);
  }
  void bad(std::uint64_t line, const std::string&) { bad_lines.push_back(line); }
};
}  // namespace

TEST_CASE("formats are detected from a file's first lines", "[telemetry][extractTelemetryEvents][detect]") {
  CHECK(tel::detect_format("{\"a\":1}\n{\"b\":2}\n") == tel::log_format::ndjson);
  CHECK(tel::detect_format("\xEF\xBB\xBF{\"a\":1}\n") == tel::log_format::ndjson);
  CHECK(tel::detect_format("EventBus.ts:56 2025-11-15T16:38:23.985Z x\n") == tel::log_format::conductor);
  CHECK(tel::detect_format("2025-11-15T16:38:23.985Z \xE2\x8F\xB1\xEF\xB8\x8F PerformanceTracker: Beat 1: 2ms\n") ==
        tel::log_format::conductor);
  CHECK(tel::detect_format("[2025-11-09 14:30:45.123 -05:00] [INF] A.B: hi\n") == tel::log_format::serilog);
  CHECK(tel::detect_format("2025-01-01T00:00:00Z INFO handler:parse duration=12ms x\n") == tel::log_format::text);
  CHECK(tel::detect_format(std::string("ab\0\0\0\x01" "cd", 8)) == tel::log_format::binary);
  // a NUL byte in a text head is a damaged line, not a binary file
  CHECK(tel::detect_format(std::string("{\"a\":1}\nab\0cd\n{\"a\":2}\n", 22)) == tel::log_format::ndjson);  // 22: the NUL is inside
  CHECK(tel::detect_format(std::string(100, '\0') + "\n" + std::string(4000, 'x') + "\n") == tel::log_format::text);
  CHECK(tel::detect_format(std::string(2000, '\0') + std::string(2000, 'x')) == tel::log_format::binary);
}

TEST_CASE("Musical-Conductor console lines", "[telemetry][extractTelemetryEvents][conductor]") {
  tel::conductor_parser p;
  collect c;
  p.line("\xE2\x9C\x85 2025-11-15T16:38:23.985Z", 1, c);  // no time first: bad
  p.line("2025-11-15T16:38:23.985Z \xE2\x9C\x85 SequenceExecutor: Sequence \"Header UI Theme Get\" completed in 144ms", 2, c);
  p.line("2025-11-15T16:38:23.986Z \xE2\x9C\x85 BeatExecutor: Beat 1 (app:ui:theme:get) completed in 82ms", 3, c);
  p.line("2025-11-15T16:38:23.987Z \xE2\x8F\xB1\xEF\xB8\x8F PerformanceTracker: Started timing beat 2 for Library Load", 4, c);
  p.line("2025-11-15T16:38:23.988Z \xF0\x9F\x8E\xBD DataBaton: No changes | seq=Library Load beat=1 event=library:components:load handler=?", 5, c);
  p.line("2025-11-15T16:38:23.989Z \xE2\x9D\x8C BeatExecutor: Beat 2 (library:components:load) failed: boom", 6, c);
  p.line("", 7, c);
  CHECK(c.bad_lines == std::vector<std::uint64_t>{1});
  REQUIRE(c.events.size() == 5);
  CHECK(c.events[0].kind == tel::event_kind::sequence_completed);
  CHECK(c.events[0].sequence == "Header UI Theme Get");
  CHECK(c.events[0].duration == 144.0);
  CHECK(c.events[1].kind == tel::event_kind::beat_completed);
  CHECK(c.events[1].handler == "app:ui:theme:get");
  CHECK(c.events[1].duration == 82.0);
  CHECK(c.events[2].kind == tel::event_kind::beat_started);
  CHECK(c.events[2].sequence == "Library Load");
  CHECK(c.events[2].beat == "2");
  CHECK(c.events[4].kind == tel::event_kind::beat_failed);
  CHECK(c.events[4].handler == "library:components:load");
  CHECK_FALSE(c.events[4].error.empty());
}

TEST_CASE("Serilog-style lines", "[telemetry][extractTelemetryEvents][serilog]") {
  tel::serilog_parser p;
  collect c;
  p.line("[2025-11-09 14:30:45.123 -05:00] [INF] Orders.Api.Checkout: HTTP POST /checkout responded 200 in 12.3456 ms", 1, c);
  p.line("[2025-11-09 14:30:46.000 -05:00] [ERR] Orders.Api.Checkout: payment failed handler=chargeCard duration=40ms", 2, c);
  p.line("[not a time] [INF] x", 3, c);
  p.line("plain", 4, c);
  CHECK(c.bad_lines == std::vector<std::uint64_t>{3, 4});
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[0].handler == "Orders.Api.Checkout");
  CHECK(c.events[0].duration == Approx(12.3456));
  CHECK(c.events[0].level == "INF");
  CHECK(tel::parse_iso8601(c.events[0].ts) == tel::parse_iso8601("2025-11-09T19:30:45.123Z"));
  CHECK(c.events[1].handler == "chargeCard");
  CHECK(c.events[1].duration == 40.0);
  CHECK_FALSE(c.events[1].error.empty());
}

TEST_CASE("key=value text and logfmt lines", "[telemetry][extractTelemetryEvents][text]") {
  tel::text_parser p;
  collect c;
  p.line("2025-01-01T00:00:00Z INFO handler:parse duration=12ms message here", 1, c);
  p.line("ts=2025-01-01T00:00:01Z level=error handler=save latency_ms=1.5 error=\"disk full\"", 2, c);
  p.line("2025-01-01T00:00:02Z WARN duration=1.2s operation=slowThing", 3, c);
  p.line("just words here", 4, c);
  CHECK(c.bad_lines == std::vector<std::uint64_t>{4});
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0].handler == "parse");
  CHECK(c.events[0].duration == 12.0);
  CHECK(c.events[1].handler == "save");
  CHECK(c.events[1].duration == 1.5);
  CHECK(c.events[1].error == "disk full");
  CHECK(c.events[1].ts == "2025-01-01T00:00:01Z");
  CHECK(c.events[2].duration == 1200.0);
  CHECK(c.events[2].handler == "slowThing");
}

TEST_CASE("event kinds map onto one enum", "[telemetry][normalizeTelemetryData]") {
  CHECK(tel::map_event_kind("beat-completed") == tel::event_kind::beat_completed);
  CHECK(tel::map_event_kind("Beat_Completed") == tel::event_kind::beat_completed);
  CHECK(tel::map_event_kind("beat.started") == tel::event_kind::beat_started);
  CHECK(tel::map_event_kind("sequence-failed") == tel::event_kind::sequence_failed);
  CHECK(tel::map_event_kind("http.request") == tel::event_kind::other);
  CHECK(tel::is_error_level("ERROR"));
  CHECK(tel::is_error_level("ftl"));
  CHECK_FALSE(tel::is_error_level("info"));
}

TEST_CASE("started/completed pairs join into one execution", "[telemetry][normalizeTelemetryData][pairing]") {
  tel::interner names;
  tel::event_normalizer n(names);
  std::string reason;
  bool deferred = false;
  tel::raw_event_view start;
  start.ts_text = "2025-01-01T00:00:00.000Z";
  start.kind = "beat-started";
  start.handler = "  saveOrder ";
  start.correlation = "c1";
  start.beat = "2";
  auto s = n.normalize(start, reason, deferred);
  REQUIRE(s);
  CHECK_FALSE(s->execution);
  tel::raw_event_view end = start;
  end.ts_text = "2025-01-01T00:00:00.250Z";
  end.kind = "beat-completed";
  auto e = n.normalize(end, reason, deferred);
  REQUIRE(e);
  CHECK_FALSE(deferred);
  CHECK(e->execution);
  CHECK(e->duration_ns == 250'000'000);
  CHECK(names.name(e->handler) == "saveOrder");  // trimmed and interned
  CHECK(e->handler == s->handler);
  // A completion whose start this task never saw is deferred to the ordered reducer.
  tel::raw_event_view other = end;
  other.correlation = "c2";
  auto d = n.normalize(other, reason, deferred);
  REQUIRE(d);
  CHECK(deferred);
  auto pairs = n.take_pairing();
  REQUIRE(pairs.deferred_completions.size() == 1);
  CHECK(pairs.deferred_completions[0].handler == "saveOrder");
}

TEST_CASE("every DESIGN.md field alias and the beat-event topic are recognised, nothing else", "[telemetry][extractTelemetryEvents][aliases]") {
  using tel::field;
  const std::pair<const char*, field> aliases[] = {
      {"ts", field::ts}, {"timestamp", field::ts}, {"time", field::ts}, {"@timestamp", field::ts},
      {"handler", field::handler}, {"handlerName", field::handler}, {"handler_name", field::handler},
      {"operation", field::handler}, {"span", field::handler},
      {"durationMs", field::duration}, {"duration_ms", field::duration}, {"duration", field::duration},
      {"elapsed_ms", field::duration}, {"latency_ms", field::duration},
      {"event", field::kind}, {"type", field::kind}, {"kind", field::kind},
      {"level", field::level}, {"severity", field::level}, {"lvl", field::level},
      {"error", field::error}, {"err", field::error}, {"exception", field::error}, {"error.message", field::error},
      {"sequence", field::sequence}, {"sequenceId", field::sequence}, {"sequence_id", field::sequence},
      {"beat", field::beat}, {"topic", field::topic}, {"correlationId", field::correlation}, {"correlation_id", field::correlation},
      {"traceId", field::correlation}, {"trace_id", field::correlation},
      {"version", field::release}, {"release", field::release}, {"commit", field::release},
      {"status", field::status}, {"message", field::message}, {"msg", field::message}};
  for (const auto& [key, f] : aliases) {
    INFO(key);
    CHECK(tel::field_of(key) == f);
  }
  for (const char* other : {"", "t", "Ts", "handlers", "durationms", "Topic", "topics", "host", "attrs", "error_message", "traceid"})
    CHECK(tel::field_of(other) == field::none);
}

TEST_CASE("failed events without an error text say what marked them failed", "[telemetry][normalizeTelemetryData][errors]") {
  tel::interner names;
  tel::event_normalizer n(names);
  std::string reason;
  bool deferred = false;
  tel::raw_event_view e;
  e.handler = "pay";
  e.duration_ms = 3;
  e.has_duration = true;
  e.status = "error";
  auto a = n.normalize(e, reason, deferred);
  REQUIRE(a);
  CHECK(a->failed);
  CHECK(a->execution);
  CHECK(a->error_message == "status=error");
  e.status = "ok";
  e.level = "FATAL";
  auto b = n.normalize(e, reason, deferred);
  REQUIRE(b);
  CHECK(b->error_message == "level=FATAL");
  e.level = "info";
  e.error = "card declined";
  e.has_error = true;
  auto c = n.normalize(e, reason, deferred);
  REQUIRE(c);
  CHECK(c->error_message == "card declined");
  e.has_error = false;
  e.error = {};
  auto d = n.normalize(e, reason, deferred);
  REQUIRE(d);
  CHECK_FALSE(d->failed);
}

TEST_CASE("the interner tells apart names that share their ends, at every length", "[telemetry][normalizeTelemetryData][interner]") {
  // A slot compares a name's first and last 8 bytes and its length; names of up to 16 bytes are
  // then equal, longer ones are compared in full. Names sharing both ends (and a NUL byte where a
  // shorter name's zero extension is) must still get their own ids, through every table growth.
  std::vector<std::string> all;
  for (std::size_t len = 0; len <= 40; ++len) {
    std::string base(len, 'a');
    all.push_back(base);
    if (len > 0) {
      for (const std::size_t at : {std::size_t{0}, len / 2, len - 1}) {
        std::string other = base;
        other[at] = 'b';
        all.push_back(other);
        other[at] = '\0';
        all.push_back(other);
      }
    }
  }
  for (int i = 0; i < 1000; ++i) all.push_back("handler-" + std::to_string(i));  // past several growths
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  tel::interner names;
  std::vector<std::uint32_t> ids;
  for (const auto& n : all) ids.push_back(names.intern(n));
  REQUIRE(names.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    INFO(i << ": " << all[i].size() << " bytes");
    CHECK(ids[i] == i);  // a new id for each, none taken for another name
    CHECK(names.name(ids[i]) == all[i]);
    CHECK(names.intern(all[i]) == ids[i]);
    CHECK(names.find(all[i]) == ids[i]);
  }
  CHECK_FALSE(names.find(std::string(41, 'a')).has_value());
  CHECK_FALSE(names.find(std::string(20, 'a') + "c" + std::string(19, 'a')).has_value());
}
