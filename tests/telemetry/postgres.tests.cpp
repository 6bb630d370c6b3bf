// Telemetry on a PostgreSQL store: the same logs parsed into an SQLite file and into a PostgreSQL
// database read back the same — windowed metrics with their sketches (BYTEA), traced execution
// paths, executions carried open across a resumed source, errors with odd bytes — and a second run
// resumes each source where the first stopped.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "postgres.hpp"
#include "selfheal/core/clock.hpp"
#include "selfheal/core/context.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/telemetry/store.hpp"
#include "temp_dir.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;

namespace {
constexpr std::int64_t t0_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

/// Orders [from, to): reserve → charge → ship, every fifth one failing at ship with an error
/// whose message holds a quote, a backslash and UTF-8; the last order of a part stays open.
void write_orders(const std::filesystem::path& file, int from, int to) {
  std::ofstream out(file, std::ios::app);
  for (int i = from; i < to; ++i) {
    const std::int64_t ts = t0_ms + i * 700;
    const std::string c = R"(,"sequence":"orders","correlationId":"o)" + std::to_string(i) + '"';
    if (i == from && from > 0) {  // the order left open by the previous part ends here
      const std::string prev = R"(,"sequence":"orders","correlationId":"o)" + std::to_string(i - 1) + '"';
      out << R"({"ts":)" << ts << R"(,"event":"beat-completed","beat":3,"handler":"ship","durationMs":5)" << prev << "}\n";
      out << R"({"ts":)" << ts + 1 << R"(,"event":"sequence-completed")" << prev << "}\n";
    }
    out << R"({"ts":)" << ts << R"(,"event":"sequence-started")" << c << "}\n";
    out << R"({"ts":)" << ts + 10 << R"(,"event":"beat-completed","beat":1,"handler":"reserve","durationMs":)" << 2 + i % 4 << c << "}\n";
    out << R"({"ts":)" << ts + 20 << R"(,"event":"beat-completed","beat":2,"handler":"charge","durationMs":)" << 7 + i % 3 << c << "}\n";
    if (i == to - 1) continue;  // still open at the end of this part
    if (i % 5 == 4) {
      out << R"({"ts":)" << ts + 30 << R"(,"event":"beat-failed","beat":3,"handler":"ship","durationMs":9,"error":"it's a \\ \u00e9 failure")" << c << "}\n";
      out << R"({"ts":)" << ts + 31 << R"(,"event":"sequence-failed")" << c << "}\n";
    } else {
      out << R"({"ts":)" << ts + 30 << R"(,"event":"beat-completed","beat":3,"handler":"ship","durationMs":5)" << c << "}\n";
      out << R"({"ts":)" << ts + 31 << R"(,"event":"sequence-completed")" << c << "}\n";
    }
  }
  out << "{not json\n";
}

struct read_back {
  std::vector<std::string> ids;
  std::vector<std::vector<tel::window_metric>> windows;
  std::vector<std::vector<tel::error_sample>> errors;
  std::vector<tel::trace_summary> traces;
  std::vector<std::vector<tel::stored_source>> sources;
  std::vector<tel::telemetry_run> runs;
};

read_back parse_twice(const std::string& url, const std::filesystem::path& log) {
  auto db = sh::store::database::open(url);
  REQUIRE(db);
  sh::manual_clock clock(sh::time_point(std::chrono::milliseconds(t0_ms + 86'400'000)), std::chrono::milliseconds(1));
  sh::context ctx;
  ctx.store = &*db;
  ctx.clock = &clock;
  read_back out;
  std::filesystem::remove(log);
  for (const auto& [from, to] : {std::pair{0, 300}, std::pair{300, 500}}) {
    write_orders(log, from, to);
    tel::parse_request req;
    req.paths = {log.string()};
    req.threads = 2;
    req.chunk_size = 4096;
    auto r = sh::run(tel::parse_telemetry, ctx, std::move(req));
    INFO((r ? std::string() : r.error().detail));
    REQUIRE(r);
    out.ids.push_back(r->record_id);
  }
  for (const auto& id : out.ids) {
    auto w = tel::load_window_metrics(*db, id);
    auto e = tel::load_error_samples(*db, id);
    auto t = tel::load_traces(*db, id);
    auto s = tel::load_sources(*db, id);
    auto run = tel::load_run(*db, id);
    REQUIRE(w);
    REQUIRE(e);
    REQUIRE(t);
    REQUIRE(s);
    REQUIRE(run);
    out.windows.push_back(*w);
    out.errors.push_back(*e);
    out.traces.push_back(*t);
    out.sources.push_back(*s);
    out.runs.push_back(*run);
  }
  return out;
}
}  // namespace

TEST_CASE("telemetry reads back the same from SQLite and PostgreSQL, and resumes on both", "[telemetry][store][postgres]") {
  sh::test::temp_dir dir;
  const auto lite = parse_twice((dir.path() / "s.db").string(), dir.path() / "a.ndjson");
  const auto pg = parse_twice(sh::test::fresh_postgres_url(), dir.path() / "a.ndjson");
  CHECK(pg.ids == std::vector<std::string>{"telemetry-1", "telemetry-2"});
  CHECK(pg.ids == lite.ids);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO("run " << i + 1);
    CHECK(pg.windows[i] == lite.windows[i]);  // counts, quantile sketches (BYTEA) and all
    CHECK_FALSE(pg.windows[i].empty());
    CHECK(pg.errors[i] == lite.errors[i]);
    CHECK(pg.traces[i] == lite.traces[i]);  // the distinct paths with their steps
    CHECK(pg.runs[i].events == lite.runs[i].events);
    CHECK(pg.runs[i].bad_lines == 1);
    REQUIRE(pg.sources[i].size() == 1);
    CHECK(pg.sources[i][0].start_offset == lite.sources[i][0].start_offset);
    CHECK(pg.sources[i][0].end_offset == lite.sources[i][0].end_offset);
    CHECK(pg.sources[i][0].lines == lite.sources[i][0].lines);
  }
  CHECK(pg.sources[1][0].start_offset == pg.sources[0][0].end_offset);  // resumed, nothing read twice
  REQUIRE_FALSE(pg.errors[0].empty());
  // the failure's message, quote, backslash and UTF-8 as logged
  CHECK(std::any_of(pg.errors[0].begin(), pg.errors[0].end(),
                    [](const tel::error_sample& e) { return e.message == "it's a \\ \xc3\xa9 failure"; }));
}
