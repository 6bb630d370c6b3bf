// Canary samples come from the telemetry appended since a mark, parsed by selfheal's own telemetry
// code; the metric list covers the healed handler and its sequence, critical where HEALING.md says.
#include <selfheal/deployment/samples.hpp>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <fstream>
#include <string>

namespace dep = selfheal::deployment;

namespace {
// One NDJSON event per second from `start_s`, `n` of them, `ms` each, every `err_every`-th an error.
void append_events(const std::filesystem::path& file, int start_s, int n, double ms, int err_every = 0) {
  std::ofstream out(file, std::ios::app);
  for (int i = 0; i < n; ++i) {
    const int t = start_s + i;
    char ts[64];
    std::snprintf(ts, sizeof ts, "2026-01-01T00:%02d:%02d.000Z", t / 60, t % 60);
    const bool err = err_every > 0 && i % err_every == 0;
    out << "{\"ts\":\"" << ts << "\",\"level\":\"" << (err ? "error" : "info")
        << "\",\"handler\":\"checkout\",\"durationMs\":" << ms + 0.01 * (i % 7)
        << ",\"correlationId\":\"c" << t << "\"" << (err ? ",\"message\":\"boom\"" : "") << "}\n";
  }
}
}  // namespace

TEST_CASE("read_since parses only what was appended after the mark", "[deployment][samples]") {
  selfheal::test::temp_dir tmp;
  std::filesystem::create_directories(tmp.path() / "logs");
  const auto log = tmp.path() / "logs" / "app.ndjson";
  append_events(log, 0, 40, 10.0);
  const std::vector<std::string> globs{"logs/*.ndjson"};
  const auto mark = dep::mark_telemetry(tmp.path(), globs);
  REQUIRE(mark.files.size() == 1);
  append_events(log, 100, 30, 30.0, 3);
  auto s = dep::read_since(mark, tmp.path(), globs, 1'000'000'000);
  REQUIRE(s);
  REQUIRE(s->handlers.count("checkout") == 1);
  const auto& h = s->handlers.at("checkout");
  CHECK(h.p50_ms.size() == 30);  // one window per second, only the new ones
  CHECK(h.error_rate.size() == 30);
  CHECK(*std::min_element(h.p50_ms.begin(), h.p50_ms.end()) > 25);
  CHECK(std::count(h.error_rate.begin(), h.error_rate.end(), 1.0) == 10);
  SECTION("a file that appeared after the mark is read whole") {
    append_events(tmp.path() / "logs" / "new.ndjson", 200, 5, 5.0);
    auto again = dep::read_since(mark, tmp.path(), globs, 1'000'000'000);
    REQUIRE(again);
    CHECK(again->handlers.at("checkout").p50_ms.size() == 35);
  }
}

TEST_CASE("metrics_to_judge: the healed handler, its sequence, critical flags", "[deployment][samples]") {
  dep::sample_set base, canary;
  base.handlers["pay"].p50_ms = {1, 2};
  base.handlers["ship"].p50_ms = {1};
  base.handlers["other"].p50_ms = {1};
  base.sequence_of = {{"pay", "checkout"}, {"ship", "checkout"}, {"other", "admin"}};
  canary.handlers["pay"].p50_ms = {3};
  const auto ms = dep::metrics_to_judge(base, canary, "pay");
  REQUIRE(ms.size() == 6);  // pay and ship, three metrics each
  CHECK(ms[0].name == "pay.p50_ms");
  CHECK(ms[0].critical);
  CHECK(ms[0].canary == std::vector<double>{3});
  CHECK(ms[2].name == "pay.error_rate");
  CHECK(ms[2].critical);
  CHECK(ms[3].name == "ship.p50_ms");
  CHECK_FALSE(ms[3].critical);
  CHECK(ms[5].critical);  // every error rate
  CHECK(dep::metrics_to_judge(base, canary, "").size() == 9);
}
