#include <catch2/catch.hpp>

#include "selfheal/telemetry/timestamp.hpp"

namespace tel = selfheal::telemetry;

namespace {
constexpr std::int64_t s_2025 = 1735689600;  // 2025-01-01T00:00:00Z (date -d @1735689600 -u)
constexpr std::int64_t ns = 1'000'000'000;
}  // namespace

TEST_CASE("ISO-8601 timestamps become UTC nanoseconds", "[telemetry][timestamp]") {
  SECTION("Z and no zone are UTC") {
    CHECK(tel::parse_iso8601("1970-01-01T00:00:00Z") == 0);
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00Z") == s_2025 * ns);
    CHECK(tel::parse_iso8601("2025-01-01 00:00:00") == s_2025 * ns);
    CHECK(tel::parse_iso8601("2000-01-01T00:00:00Z") == 946684800LL * ns);
  }
  SECTION("fractions of any length") {
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00.5Z") == s_2025 * ns + 500'000'000);
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00.985Z") == s_2025 * ns + 985'000'000);
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00.123456Z") == s_2025 * ns + 123'456'000);
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00.123456789Z") == s_2025 * ns + 123'456'789);
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00.1234567891234Z") == s_2025 * ns + 123'456'789);
    CHECK(tel::parse_iso8601("2025-01-01T00:00:00,25Z") == s_2025 * ns + 250'000'000);
  }
  SECTION("any offset") {
    CHECK(tel::parse_iso8601("2025-01-01T01:00:00+01:00") == s_2025 * ns);
    CHECK(tel::parse_iso8601("2024-12-31T19:00:00-05:00") == s_2025 * ns);
    CHECK(tel::parse_iso8601("2024-12-31T19:00:00 -05:00") == s_2025 * ns);
    CHECK(tel::parse_iso8601("2025-01-01T05:30:00+0530") == s_2025 * ns);
    CHECK(tel::parse_iso8601("2025-01-01T02:00:00+02") == s_2025 * ns);
  }
  SECTION("prefix parsing reports what it used") {
    std::size_t used = 0;
    CHECK(tel::parse_iso8601_prefix("2025-01-01T00:00:00Z INFO x", used) == s_2025 * ns);
    CHECK(used == 20);
    CHECK(tel::parse_iso8601_prefix("2025-11-09 14:30:45.123 -05:00] [INF]", used).has_value());
    CHECK(used == 30);
  }
  SECTION("garbage and impossible dates are rejected") {
    CHECK_FALSE(tel::parse_iso8601("yesterday"));
    CHECK_FALSE(tel::parse_iso8601("2025-13-01T00:00:00Z"));
    CHECK_FALSE(tel::parse_iso8601("2025-02-30T00:00:00Z"));
    CHECK_FALSE(tel::parse_iso8601("2025-01-01T25:00:00Z"));
    CHECK_FALSE(tel::parse_iso8601("9999-01-01T00:00:00Z"));
    CHECK_FALSE(tel::parse_iso8601("2025-01-01T00:00:00Zjunk"));
    CHECK_FALSE(tel::parse_iso8601(""));
  }
}

TEST_CASE("epoch numbers are told apart by magnitude", "[telemetry][timestamp]") {
  CHECK(tel::epoch_to_ns(std::int64_t{s_2025}) == s_2025 * ns);
  CHECK(tel::epoch_to_ns(std::int64_t{s_2025 * 1000}) == s_2025 * ns);
  CHECK(tel::epoch_to_ns(std::int64_t{s_2025 * 1000000}) == s_2025 * ns);
  CHECK(tel::epoch_to_ns(std::int64_t{s_2025 * ns + 7}) == s_2025 * ns + 7);
  CHECK(tel::epoch_to_ns(1735689600.25) == s_2025 * ns + 250'000'000);
  CHECK(tel::epoch_to_ns(1735689600250.0) == s_2025 * ns + 250'000'000);
  CHECK_FALSE(tel::epoch_to_ns(1e300));
  CHECK_FALSE(tel::epoch_to_ns(std::numeric_limits<double>::quiet_NaN()));
}
