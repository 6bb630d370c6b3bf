#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

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
  // Integers whose ns do not fit int64 (found by the NDJSON fuzzer: signed overflow before)
  CHECK_FALSE(tel::epoch_to_ns(std::int64_t{17356890047}));       // seconds past 2262
  CHECK_FALSE(tel::epoch_to_ns(std::int64_t{-17356890047}));
  CHECK_FALSE(tel::epoch_to_ns(std::int64_t{11735689600007}));    // milliseconds past 2262
  CHECK_FALSE(tel::epoch_to_ns(std::int64_t{11735689600007000}));  // microseconds past 2262
  CHECK(tel::epoch_to_ns(std::int64_t{9'223'372'037}) == std::nullopt);  // INT64_MAX ns is 9'223'372'036.85 s
  CHECK(tel::epoch_to_ns(std::int64_t{9'223'372'036}) == 9'223'372'036 * ns);
  CHECK(tel::epoch_to_ns(std::numeric_limits<std::int64_t>::min()) == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("the ISO-8601 memo gives exactly parse_iso8601's results", "[telemetry][timestamp]") {
  const std::vector<std::string> seeds = {
      "2025-01-01T00:00:00.007036Z", "2025-01-01T00:00:59.999999999Z", "2025-01-01T00:00:60Z",
      "2025-01-01T00:00:61Z",        "2025-01-01T00:00Z",              "2025-01-01T00:00",
      "2024-12-31T19:00:00.064305-05:00", "2024-12-31T19:00:00.1+0530", "2024-12-31T19:00:00 +05",
      "2024-12-31T19:00:00 x",       "2024-12-31 19:00:00,5Z",         "2024-12-31t19:00:00z",
      "  2025-01-01T00:00:01Z \r",   "2025-02-29T00:00:00Z",           "2024-02-29T00:00:00Z",
      "2261-12-31T23:59:59-23:59",   "1678-01-01T00:00:00+23:59",      "1677-12-31T23:59:59Z",
      "2025-01-01T00:00:00.Z",       "2025-01-01T00:00:0Z",            "2025-01-01T00:00:00+24:00",
      "2025-01-01T00:00:00+05:",     "2025-01-01T00:00:00Zjunk",       "2025-01-01T24:00:00Z",
      // the memo's straight path: 1 to 9 fraction digits and Z (10 take the general one)
      "2025-01-01T00:00:07.5Z",      "2025-01-01T00:00:07.125Z",       "2025-01-01T00:00:07.123456789Z",
      "2025-01-01T00:00:07.1234567891Z", "2025-01-01T00:00:60.5Z",     "2025-01-01T00:00:61.5Z",
  };
  std::mt19937 rng(42);
  const std::string alphabet = "0123456789:.-+ TZz,\r";
  std::vector<std::string> inputs;
  for (const auto& s : seeds) {
    inputs.push_back(s);
    for (int k = 0; k < 50; ++k) {  // mutate the tail mostly: the memo's own territory
      std::string m = s;
      const auto at = m.empty() ? 0 : (rng() % 4 == 0 ? rng() % m.size() : std::min<std::size_t>(m.size() - 1, 14 + rng() % 20));
      switch (rng() % 3) {
        case 0: if (!m.empty()) m[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: if (!m.empty()) m.erase(at, 1); break;
        default: m.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
      inputs.push_back(m);
    }
  }
  tel::iso8601_memo memo;
  std::size_t parsed = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& s : inputs) {
      INFO(s);
      const auto want = tel::parse_iso8601(s);
      REQUIRE(memo.parse(s) == want);
      parsed += want ? 1 : 0;
    }
    std::shuffle(inputs.begin(), inputs.end(), rng);
  }
  CHECK(parsed > 200);  // most inputs are timestamps, so the memo was used
}
