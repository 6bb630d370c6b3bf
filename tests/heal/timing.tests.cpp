// selfheal's own share of a heal, read back from beat events with the telemetry NDJSON parser, and
// the events heal_sink keeps and forwards.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "selfheal/core/events.hpp"
#include "selfheal/core/process.hpp"
#include "selfheal/heal/timing.hpp"

namespace hl = selfheal::heal;

TEST_CASE("share_of: sequence time minus the outside world's, from NDJSON beat events", "[heal][timing]") {
  const std::string ndjson =
      R"({"ts":"2026-01-01T00:00:00.000Z","event":"sequence-started","sequence":"self-healing-fix-generate-symphony","correlationId":"a"})"
      "\n"
      R"({"ts":"2026-01-01T00:00:00.100Z","event":"beat-completed","sequence":"self-healing-fix-generate-symphony","beat":1,"topic":"t","handler":"h","durationMs":100,"correlationId":"a"})"
      "\n"
      R"({"ts":"2026-01-01T00:00:01.500Z","event":"sequence-completed","sequence":"self-healing-fix-generate-symphony","durationMs":1500,"correlationId":"a"})"
      "\n"
      R"({"ts":"2026-01-01T00:00:01.500Z","event":"beat-completed","sequence":"self-healing-heal-symphony","beat":1,"topic":"self-healing:heal:wait:external","handler":"externalWait","durationMs":1200,"correlationId":"a"})"
      "\n"
      R"({"ts":"2026-01-01T00:00:04.000Z","event":"sequence-failed","sequence":"self-healing-validation-run-symphony","durationMs":2500,"correlationId":"b","error":"x"})"
      "\n"
      R"({"ts":"2026-01-01T00:00:04.000Z","event":"beat-completed","sequence":"self-healing-heal-symphony","beat":1,"topic":"self-healing:heal:wait:external","handler":"externalWait","durationMs":2000,"correlationId":"b"})"
      "\n"
      "not json at all\n";
  const auto s = hl::share_of(ndjson);
  CHECK(s.sequences == 2);
  CHECK(s.sequences_s == Approx(4.0));
  CHECK(s.external_s == Approx(3.2));
  CHECK(s.selfheal_s == Approx(0.8));
  CHECK(hl::share_of("").selfheal_s == 0);
}

TEST_CASE("heal_sink forwards every event, keeps it as NDJSON, and externalWait counts child processes",
          "[heal][timing]") {
  selfheal::collecting_sink inner;
  hl::heal_sink sink(&inner);
  selfheal::context ctx;
  ctx.sink = &sink;
  const auto since = selfheal::external_wait_ns().load();
  auto r = selfheal::run_process({"sleep", "0.2"});
  REQUIRE(r);
  REQUIRE(r->ok());
  CHECK(selfheal::external_wait_ns().load() - since >= 200'000'000);
  hl::emit_external_wait(ctx, since);
  REQUIRE(inner.lines().size() == 1);
  CHECK(inner.lines()[0].find("\"handler\":\"externalWait\"") != std::string::npos);
  CHECK(sink.ndjson() == inner.lines()[0] + "\n");
  const auto s = hl::share_of(sink.ndjson());
  CHECK(s.external_s >= 0.2);
  CHECK(s.sequences == 0);
}
