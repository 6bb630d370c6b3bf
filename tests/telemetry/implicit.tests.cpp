// Issue 10.2: executions logged without `sequence-started` (only beats with a correlation id and a
// sequence, as OpenTelemetry-style spans are) are grouped by (correlation id, sequence), ordered by
// timestamp, and end at sequence-completed/-failed, after an idle gap, or at the end of input.
// All data is generated here.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/telemetry/store.hpp"
#include "fixture.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
std::string iso_ms(long ms) {  // 2025-06-01T09:00:00.000Z + ms
  char buf[40];
  const long s = ms / 1000;
  std::snprintf(buf, sizeof buf, "2025-06-01T%02ld:%02ld:%02ld.%03ldZ", 9 + s / 3600, (s / 60) % 60, s % 60, ms % 1000);
  return buf;
}

struct beat_line {
  long ts_ms;
  std::string text;
};

/// `n` checkout executions of beats 1–4 (no sequence-started), 8 in flight at once, lines in
/// arrival order. Every 4th execution runs beats 2 and 3 swapped; its lines say so only through
/// their timestamps (each line keeps its own `beat` field). Every 10th one ends with
/// sequence-completed; the others end by the idle gap or the end of input.
std::string write_headless(int n, int& swapped) {
  std::vector<beat_line> lines;
  swapped = 0;
  for (int i = 0; i < n; ++i) {
    const long start = static_cast<long>(i) * 40;  // 8 in flight: each takes ~320 ms
    const bool swap = i % 4 == 3;
    swapped += swap ? 1 : 0;
    const int order[4] = {1, swap ? 3 : 2, swap ? 2 : 3, 4};
    for (int k = 0; k < 4; ++k) {
      const int b = order[k];
      const long t = start + 80L * k;
      lines.push_back({t, "{\"ts\":\"" + iso_ms(t) + "\",\"event\":\"" + (b == 4 && i % 7 == 0 ? "beat-failed" : "beat-completed") +
                              "\",\"sequence\":\"checkout\",\"beat\":" + std::to_string(b) + ",\"topic\":\"shop:step" +
                              std::to_string(b) + "\",\"handler\":\"step" + std::to_string(b) +
                              "\",\"durationMs\":3,\"correlationId\":\"r" + std::to_string(i) + "\"}"});
    }
    if (i % 10 == 0)
      lines.push_back({start + 330, "{\"ts\":\"" + iso_ms(start + 330) +
                                        "\",\"event\":\"sequence-completed\",\"sequence\":\"checkout\",\"correlationId\":\"r" +
                                        std::to_string(i) + "\"}"});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const beat_line& a, const beat_line& b) { return a.ts_ms < b.ts_ms; });
  // a shipper reorders a little: swap some neighbouring lines (time order is restored by the ts)
  std::mt19937 rng(11);
  for (std::size_t k = 1; k + 1 < lines.size(); k += 7)
    if (rng() % 2) std::swap(lines[k], lines[k + 1]);
  std::string out;
  for (const auto& l : lines) out += l.text + "\n";
  return out;
}

tel::path_step step(int b) { return {std::to_string(b), "shop:step" + std::to_string(b), "step" + std::to_string(b)}; }
}  // namespace

TEST_CASE("executions without sequence-started are grouped by correlation id and sequence",
          "[telemetry][traces][implicit]") {
  sh::test::telemetry_fixture f;
  int swapped = 0;
  const auto log = f.dir / "spans.ndjson";
  std::ofstream(log, std::ios::binary) << write_headless(400, swapped);
  REQUIRE(swapped == 100);

  for (const std::size_t chunk : {std::size_t{0}, std::size_t{4096}}) {
    INFO("chunk " << chunk);
    auto s = f.parse({log.string()}, 2, chunk, false);
    REQUIRE(s);
    const auto& t = s->aggregate.traces;
    CHECK(t.executions == 400);
    CHECK(t.incomplete == 0);
    CHECK(t.untraced_beats == 0);
    std::map<std::vector<tel::path_step>, std::uint64_t> by_path;
    std::uint64_t failed = 0;
    for (const auto& p : t.paths) {
      CHECK(p.sequence == "checkout");
      by_path[p.steps] += p.executions;
      failed += p.failed;
    }
    CHECK(failed == 0);  // every execution ends in sequence-completed
    CHECK(by_path.size() == 2);
    CHECK(by_path[{step(1), step(2), step(3), step(4)}] == 300);
    CHECK(by_path[{step(1), step(3), step(2), step(4)}] == 100);  // by time, not by the beat field
    // the paths are stored for anomaly detection
    auto back = tel::load_traces(*f.db, s->record_id);
    REQUIRE(back);
    CHECK(*back == t);
  }

  SECTION("an idle gap longer than --execution-timeout ends an execution") {
    std::string gap;
    for (int k = 1; k <= 4; ++k) {
      const long t = k <= 2 ? 100L * k : 10'000 + 100L * k;  // 10 s between beats 2 and 3
      gap += "{\"ts\":\"" + iso_ms(t) + "\",\"event\":\"beat-completed\",\"sequence\":\"checkout\",\"beat\":" +
             std::to_string(k) + ",\"handler\":\"step" + std::to_string(k) + "\",\"correlationId\":\"same\"}\n";
    }
    std::ofstream(f.dir / "gap.ndjson", std::ios::binary) << gap;
    tel::parse_request req;
    req.paths = {(f.dir / "gap.ndjson").string()};
    req.execution_timeout = std::chrono::seconds(5);
    auto s = sh::run(tel::parse_telemetry, f.ctx, req);
    REQUIRE(s);
    CHECK(s->aggregate.traces.executions == 2);
    req.execution_timeout = std::chrono::seconds(60);
    req.incremental = false;
    s = sh::run(tel::parse_telemetry, f.ctx, req);
    REQUIRE(s);
    CHECK(s->aggregate.traces.executions == 1);
  }
}
