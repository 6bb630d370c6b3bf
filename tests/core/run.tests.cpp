#include <catch2/catch.hpp>

#include <chrono>
#include <stop_token>
#include <string>

#include "selfheal/core.hpp"

namespace sh = selfheal;

namespace {

struct parse_number {
  sh::result<int> operator()(const std::string& s) const {
    if (s.empty() || s.find_first_not_of("-0123456789") != std::string::npos)
      return sh::fail(sh::errc::parse_error, "not a number: '" + s + "'");
    return std::stoi(s);
  }
};
struct double_it {
  int* calls;
  long operator()(int x, sh::context&) const { ++*calls; return 2L * x; }
};
struct render {
  std::string operator()(long x) const { return "value=" + std::to_string(x); }
};
struct triple_it {
  long operator()(int x) const { return 3L * x; }
};

int g_double_calls = 0;

constexpr auto make_demo(int* calls) {
  return sh::sequence<"demo-symphony">(
      sh::beat<"demo:parse", "parseNumber">(parse_number{}),
      sh::beat<"demo:double", "doubleIt", sh::async, sh::stage_crew>(double_it{calls}),
      sh::beat<"demo:render", "renderIt">(render{}));
}

sh::time_point at(long long epoch_ms) { return sh::time_point{std::chrono::milliseconds(epoch_ms)}; }

}  // namespace

// Layered concepts: each layer refines the one before.
static_assert(sh::beat_handler<render>);
static_assert(sh::handler_for<render, long>);
static_assert(!sh::handler_for<render, std::string>);
static_assert(sh::handler_of<render, long, std::string>);
static_assert(sh::handler_of<parse_number, std::string, int>);  // result<int> unwraps to int
static_assert(sh::handler_of<double_it, int, long>);            // takes the context
static_assert(!sh::handler_implemented_v<sh::pending_handler<"x">>);
static_assert(sh::handler_implemented_v<render>);

TEST_CASE("run hands each beat's output to the next", "[core][run]") {
  int calls = 0;
  const auto seq = make_demo(&calls);
  static_assert(sh::sequence_of<decltype(seq), std::string, std::string>);
  static_assert(!sh::sequence_for<decltype(seq), double*>);
  sh::context ctx;
  auto r = sh::run(seq, ctx, std::string("21"));
  REQUIRE(r);
  CHECK(*r == "value=42");
  CHECK(calls == 1);
}

TEST_CASE("run stops at the first error and names the beat", "[core][run]") {
  int calls = 0;
  const auto seq = make_demo(&calls);
  sh::context ctx;
  auto r = sh::run(seq, ctx, std::string("x1"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == sh::errc::parse_error);
  CHECK(r.error().beat == 1);
  CHECK(r.error().handler == "parseNumber");
  CHECK(r.error().message() == "beat 1 parseNumber: not a number: 'x1'");
  CHECK(calls == 0);  // beat 2 never ran
}

TEST_CASE("run checks the stop token before every beat", "[core][run]") {
  int calls = 0;
  const auto seq = make_demo(&calls);
  std::stop_source stop;
  stop.request_stop();
  sh::context ctx;
  ctx.stop = stop.get_token();
  auto r = sh::run(seq, ctx, std::string("3"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == sh::errc::cancelled);
  CHECK(r.error().beat == 1);
  CHECK(calls == 0);
}

TEST_CASE("beat events are NDJSON as DESIGN.md specifies", "[core][events]") {
  int calls = 0;
  const auto seq = make_demo(&calls);
  sh::collecting_sink sink;
  sh::manual_clock clock(at(1763224703000), std::chrono::milliseconds(5));  // each reading advances 5 ms
  sh::context ctx;
  ctx.sink = &sink;
  ctx.clock = &clock;
  ctx.correlation_id = "mc-1";

  SECTION("a completed run") {
    REQUIRE(sh::run(seq, ctx, std::string("4")));
    const auto& l = sink.lines();
    REQUIRE(l.size() == 8);
    CHECK(l[0] == R"({"ts":"2025-11-15T16:38:23.000Z","event":"sequence-started","sequence":"demo-symphony","correlationId":"mc-1"})");
    CHECK(l[1] == R"({"ts":"2025-11-15T16:38:23.005Z","event":"beat-started","sequence":"demo-symphony","beat":1,"topic":"demo:parse","handler":"parseNumber","correlationId":"mc-1"})");
    CHECK(l[2] == R"({"ts":"2025-11-15T16:38:23.010Z","event":"beat-completed","sequence":"demo-symphony","beat":1,"topic":"demo:parse","handler":"parseNumber","durationMs":5,"correlationId":"mc-1"})");
    CHECK(l[4] == R"({"ts":"2025-11-15T16:38:23.020Z","event":"beat-completed","sequence":"demo-symphony","beat":2,"topic":"demo:double","handler":"doubleIt","durationMs":5,"correlationId":"mc-1"})");
    CHECK(l[7] == R"({"ts":"2025-11-15T16:38:23.035Z","event":"sequence-completed","sequence":"demo-symphony","durationMs":35,"correlationId":"mc-1"})");
  }
  SECTION("a failed run") {
    REQUIRE_FALSE(sh::run(seq, ctx, std::string("")));
    const auto& l = sink.lines();
    REQUIRE(l.size() == 4);
    CHECK(l[2] == R"({"ts":"2025-11-15T16:38:23.010Z","event":"beat-failed","sequence":"demo-symphony","beat":1,"topic":"demo:parse","handler":"parseNumber","durationMs":5,"correlationId":"mc-1","error":"beat 1 parseNumber: not a number: ''"})");
    CHECK(l[3] == R"({"ts":"2025-11-15T16:38:23.015Z","event":"sequence-failed","sequence":"demo-symphony","durationMs":15,"correlationId":"mc-1","error":"beat 1 parseNumber: not a number: ''"})");
  }
}

TEST_CASE("a run without a correlation id gets a fresh one each time", "[core][events]") {
  int calls = 0;
  const auto seq = make_demo(&calls);
  sh::collecting_sink sink;
  sh::manual_clock clock(at(1000));
  sh::context ctx;
  ctx.sink = &sink;
  ctx.clock = &clock;
  REQUIRE(sh::run(seq, ctx, std::string("1")));
  REQUIRE(sh::run(seq, ctx, std::string("2")));
  CHECK(sink.lines().front().find(R"("correlationId":"sh-1000-1")") != std::string::npos);
  CHECK(sink.lines().back().find(R"("correlationId":"sh-1000-2")") != std::string::npos);
  CHECK(ctx.correlation_id.empty());
}

TEST_CASE("replace and insert_after extend a sequence by handler name", "[core][sequence]") {
  const auto seq = make_demo(&g_double_calls);
  sh::context ctx;

  SECTION("replace keeps event, timing and kind") {
    const auto mine = seq.replace<"doubleIt">(triple_it{});
    constexpr auto rows = decltype(mine)::describe();
    STATIC_REQUIRE(rows[1].event == "demo:double");
    STATIC_REQUIRE(rows[1].timing == sh::timing::async);
    STATIC_REQUIRE(rows[1].kind == sh::kind::stage_crew);
    auto r = sh::run(mine, ctx, std::string("5"));
    REQUIRE(r);
    CHECK(*r == "value=15");
  }
  SECTION("insert_after adds a beat in place") {
    const auto more = seq.insert_after<"doubleIt">(sh::beat<"demo:inc", "incrementIt">([](long x) { return x + 1; }));
    constexpr auto rows = decltype(more)::describe();
    STATIC_REQUIRE(rows.size() == 4);
    STATIC_REQUIRE(rows[2].handler == "incrementIt");
    STATIC_REQUIRE(rows[3].number == 4);
    auto r = sh::run(more, ctx, std::string("5"));
    REQUIRE(r);
    CHECK(*r == "value=11");
  }
}

TEST_CASE("a pending handler fails with not_implemented, never a fake success", "[core][beat]") {
  const auto seq = sh::sequence<"pending-symphony">(
      sh::beat<"p:one", "renderIt">(render{}),
      sh::beat<"p:two", "notYet">(sh::pending_handler<"notYet">{}));
  STATIC_REQUIRE(!decltype(seq)::describe()[1].implemented);
  sh::context ctx;
  auto r = sh::run(seq, ctx, 7L);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == sh::errc::not_implemented);
  CHECK(r.error().message() == "beat 2 notYet: handler notYet is not implemented yet");
}
