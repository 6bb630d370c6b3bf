// The one ISO-8601 formatter (core/clock.hpp): milliseconds or seconds, before and after the epoch.
#include <catch2/catch.hpp>

#include <chrono>

#include "selfheal/core/clock.hpp"

TEST_CASE("format_iso8601 writes UTC with milliseconds or seconds", "[core][clock]") {
  using selfheal::format_iso8601;
  using selfheal::iso_precision;
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(1'767'225'600'123'456'789) == "2026-01-01T00:00:00.123Z");
  CHECK(format_iso8601(951'782'400'000'000'000) == "2000-02-29T00:00:00.000Z");
  CHECK(format_iso8601(1'740'909'600'999'000'000, iso_precision::seconds) == "2025-03-02T10:00:00Z");
  CHECK(format_iso8601(-1) == "1969-12-31T23:59:59.999Z");  // rounds down before the epoch
  CHECK(format_iso8601(-1'000'000'000, iso_precision::seconds) == "1969-12-31T23:59:59Z");
  const auto t = selfheal::time_point(std::chrono::duration_cast<selfheal::time_point::duration>(
      std::chrono::nanoseconds(1'767'225'600'123'000'000)));
  CHECK(selfheal::format_iso8601_ms(t) == "2026-01-01T00:00:00.123Z");
}
