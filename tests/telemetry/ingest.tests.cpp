// telemetry.parse end to end on generated data with known truth, thread-count independence and
// incremental re-ingest. The truth comes from the generator (benchmarks/tools/telemetry_gen.hpp),
// which computes it from the values it writes, independently of selfheal.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../../benchmarks/tools/telemetry_gen.hpp"
#include "selfheal/core/run.hpp"
#include "selfheal/store/database.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "fixture.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
struct fixture : sh::test::telemetry_fixture {
  // Small chunks by default here, so that lines and started/completed pairs straddle chunks.
  sh::result<tel::parse_summary> parse(std::vector<std::string> paths, unsigned threads = 2,
                                       std::size_t chunk = 16 << 10, bool incremental = true) {
    return telemetry_fixture::parse(std::move(paths), threads, chunk, incremental);
  }
  selfheal_gen::truth generate(const fs::path& p, selfheal_gen::options opt) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    REQUIRE(f);
    auto t = selfheal_gen::write_ndjson(f, opt);
    std::fclose(f);
    return t;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& s, std::ios::openmode mode = std::ios::trunc) {
  std::ofstream out(p, std::ios::binary | mode);
  out << s;
}
bool within_1pct(double got, double want) { return std::fabs(got - want) <= 0.01 * std::fabs(want) + 1e-9; }
}  // namespace

TEST_CASE("JSON output matches the truth of generated telemetry", "[telemetry][parseTelemetryCompleted][truth]") {
  fixture f;
  selfheal_gen::options opt;
  opt.seed = 7;
  opt.target_bytes = 700'000;
  const auto truth = f.generate(f.dir / "app.ndjson", opt);
  REQUIRE(truth.bad_lines > 0);
  auto s = f.parse({(f.dir / "app.ndjson").string()});
  REQUIRE(s);
  const auto json = nlohmann::json::parse(tel::to_json(*s));
  CHECK(json["record_id"] == "telemetry-1");
  REQUIRE(json["files"].size() == 1);
  CHECK(json["files"][0]["format"] == "ndjson");
  CHECK(json["files"][0]["bytes"] == truth.bytes);
  CHECK(json["files"][0]["events"] == truth.events);
  CHECK(json["files"][0]["bad_lines"] == truth.bad_lines);
  CHECK(json["events"] == truth.events);
  CHECK(json["executions"] == truth.executions);
  CHECK(json["bad_lines"] == truth.bad_lines);
  CHECK(json["bad_line_samples"].size() == std::min<std::uint64_t>(20, truth.bad_lines));
  std::vector<std::string> keys;
  for (auto it = json.begin(); it != json.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"bad_line_samples", "bad_lines", "events", "executions", "files", "handler_calls",
                                         "handlers", "nothing_new", "record_id", "sequence_executions", "sequences",
                                         "traced_executions"});
  REQUIRE(json["handlers"].size() == truth.handlers.size());
  for (const auto& h : json["handlers"]) {
    const std::string name = h["handler"];
    INFO(name);
    REQUIRE(truth.handlers.count(name) == 1);
    const auto& t = truth.handlers.at(name);
    CHECK(h["count"] == t.count);
    CHECK(h["errors"] == t.errors);
    CHECK(h["error_rate"].get<double>() == Approx(static_cast<double>(t.errors) / static_cast<double>(t.count)));
    CHECK(h["max_ms"].get<double>() == Approx(static_cast<double>(t.max_us) / 1000.0).epsilon(1e-12));
    CHECK(h["mean_ms"].get<double>() ==
          Approx(static_cast<double>(t.sum_us) / static_cast<double>(t.count) / 1000.0).epsilon(1e-12));
    CHECK(within_1pct(h["p50_ms"].get<double>(), t.quantile_ms(0.50)));
    CHECK(within_1pct(h["p95_ms"].get<double>(), t.quantile_ms(0.95)));
    CHECK(within_1pct(h["p99_ms"].get<double>(), t.quantile_ms(0.99)));
  }
  // The sample lines are in input order and name their file.
  std::uint64_t prev = 0;
  for (const auto& b : json["bad_line_samples"]) {
    CHECK(b["path"] == (f.dir / "app.ndjson").string());
    CHECK(b["line"].get<std::uint64_t>() > prev);
    prev = b["line"];
    CHECK_FALSE(b["reason"].get<std::string>().empty());
  }
  SECTION("the store holds the same numbers") {
    auto rows = tel::load_window_metrics(*f.db, s->record_id);
    REQUIRE(rows);
    std::uint64_t count = 0;
    for (const auto& m : *rows)
      if (m.scope == tel::metric_scope::handler) count += m.stats.count;
    CHECK(count == truth.executions);
    auto errs = tel::load_error_samples(*f.db, s->record_id);
    REQUIRE(errs);
    CHECK_FALSE(errs->empty());
    auto rel = tel::load_releases(*f.db, s->record_id);
    REQUIRE(rel);
    CHECK_FALSE(rel->empty());
  }
}

TEST_CASE("out-of-order events are counted across chunk boundaries too", "[telemetry][aggregateTelemetryMetrics][order]") {
  // Seeded timestamps that step back now and then; the expected count is the test's own walk over
  // what it wrote. Small chunks put many step-backs on a chunk's first line (once uncounted there).
  fixture f;
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  std::string log;
  std::int64_t ms = 3'600'000, prev = 0;  // since 2025-01-01T00:00Z, written as ISO 8601
  const auto iso = [](std::int64_t t) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "2025-01-01T%02d:%02d:%02d.%03dZ", static_cast<int>(t / 3'600'000),
                  static_cast<int>(t / 60'000 % 60), static_cast<int>(t / 1000 % 60), static_cast<int>(t % 1000));
    return std::string(buf);
  };
  std::uint64_t want = 0;
  for (int i = 0; i < 6000; ++i) {
    ms += next() % 7 == 0 ? -static_cast<std::int64_t>(1 + next() % 900) : static_cast<std::int64_t>(next() % 400);
    if (i > 0 && ms < prev) ++want;
    prev = ms;
    log += R"({"ts":")" + iso(ms) + R"(","event":"beat-completed","handler":"h)" + std::to_string(i % 5) +
           R"(","durationMs":1.5,"pad":")" + std::string(next() % 60, 'x') + "\"}\n";
  }
  spit(f.dir / "order.ndjson", log);
  REQUIRE(want > 500);
  for (const std::size_t chunk : {std::size_t{4096}, std::size_t{16} << 10, tel::default_chunk_size})
    for (const unsigned threads : {1u, 2u}) {
      auto s = f.parse({(f.dir / "order.ndjson").string()}, threads, chunk, false);
      REQUIRE(s);
      INFO("chunk " << chunk << ", threads " << threads);
      CHECK(s->aggregate.events == 6000);
      CHECK(s->aggregate.out_of_order == want);
    }
}

TEST_CASE("results are identical on one thread and on several", "[telemetry][aggregateTelemetryMetrics][threads]") {
  fixture f;
  selfheal_gen::options opt;
  opt.seed = 11;
  opt.target_bytes = 400'000;
  opt.pair_rate = 0.5;  // many pairs straddling chunk boundaries
  f.generate(f.dir / "a.ndjson", opt);
  opt.seed = 12;
  f.generate(f.dir / "b.ndjson", opt);
  auto one = f.parse({f.dir.string() + "/*.ndjson"}, 1, 8 << 10);
  auto three = f.parse({f.dir.string() + "/*.ndjson"}, 3, 8 << 10, false);
  REQUIRE(three);
  CHECK(three->aggregate.sources.size() == 2);
  CHECK(three->aggregate.events == one->aggregate.events);
  REQUIRE(one);
  REQUIRE(three);
  CHECK(one->aggregate.windows == three->aggregate.windows);
  CHECK(one->aggregate.handlers == three->aggregate.handlers);
  CHECK(one->aggregate.errors == three->aggregate.errors);
  CHECK(one->aggregate.releases == three->aggregate.releases);
  CHECK(one->aggregate.bad_line_samples == three->aggregate.bad_line_samples);
  CHECK(one->aggregate.unmatched_starts == 0);
  CHECK(three->aggregate.unmatched_starts == 0);
  // Pairs across chunk boundaries were joined: every execution has its duration.
  for (const auto& h : three->aggregate.handlers) CHECK(h.stats.timed == h.stats.count);
}

TEST_CASE("a mix of sources reduces the same on one thread and on four, every time",
          "[telemetry][aggregateTelemetryMetrics][threads]") {
  // Chunk reading, reduction and the end of each source run under separate locks: the sources here
  // end in every way a source can (read whole, cut mid-line, one text task, empty, binary, a zeroed
  // block), so that the reduction meets each while other workers read, parse and reduce.
  fixture f;
  selfheal_gen::options opt;
  opt.seed = 21;
  opt.target_bytes = 300'000;
  opt.malformed_rate = 0.01;
  const auto write = [&](const fs::path& p, auto writer) {
    std::FILE* out = std::fopen(p.c_str(), "wb");
    REQUIRE(out);
    writer(out, opt);
    std::fclose(out);
  };
  write(f.dir / "a.ndjson", [](std::FILE* o, const selfheal_gen::options& g) { selfheal_gen::write_nested(o, g); });
  opt.seed = 22;
  write(f.dir / "b.ndjson", [](std::FILE* o, const selfheal_gen::options& g) { selfheal_gen::write_ndjson(o, g); });
  std::string b = slurp(f.dir / "b.ndjson");
  b.resize(b.size() - 37);  // cut mid-line: carried state, a held-back tail
  spit(f.dir / "b.ndjson", b);
  opt.seed = 23;
  opt.target_bytes = 100'000;
  write(f.dir / "c.log", [](std::FILE* o, const selfheal_gen::options& g) { selfheal_gen::write_conductor(o, g); });
  spit(f.dir / "d.ndjson", "");
  std::string binary(8192, '\0');
  for (std::size_t i = 0; i < binary.size(); i += 3) binary[i] = static_cast<char>(i * 7 + 1);
  spit(f.dir / "e.bin", binary);
  opt.seed = 24;
  opt.target_bytes = 120'000;
  write(f.dir / "g.ndjson", [](std::FILE* o, const selfheal_gen::options& g) { selfheal_gen::write_nested(o, g); });
  std::string g = slurp(f.dir / "g.ndjson");
  const auto at = g.find('\n', g.size() / 2) + 1;
  g.insert(at, std::string(4096, '\0'));  // a zeroed block between good lines
  spit(f.dir / "g.ndjson", g);

  const auto run = [&](unsigned threads) {
    std::vector<std::string> paths;
    for (const char* name : {"a.ndjson", "b.ndjson", "c.log", "d.ndjson", "e.bin", "g.ndjson"})
      paths.push_back((f.dir / name).string());
    auto found = tel::expand_paths(paths);
    REQUIRE(found.sources.size() == paths.size());
    tel::ingest_options o;
    o.threads = threads;
    o.chunk_size = 4 << 10;
    return tel::finish_aggregate(tel::ingest(std::move(found.sources), o));
  };
  const auto one = run(1);
  REQUIRE(one.sources.size() == 6);
  CHECK(one.sources[0].events > 0);
  CHECK(one.sources[1].held_back_bytes > 0);
  CHECK(one.sources[2].format == tel::log_format::conductor);
  CHECK(one.sources[3].events == 0);
  CHECK(one.sources[4].format == tel::log_format::binary);
  CHECK(one.sources[5].bad_lines > 0);
  CHECK(one.traces.executions > 0);
  for (int round = 0; round < 4; ++round) {
    INFO("round " << round);
    const auto four = run(4);
    CHECK(four.events == one.events);
    CHECK(four.bad_lines == one.bad_lines);
    CHECK(four.out_of_order == one.out_of_order);
    CHECK(four.unmatched_starts == one.unmatched_starts);
    CHECK(four.windows == one.windows);
    CHECK(four.handlers == one.handlers);
    CHECK(four.sequences == one.sequences);
    CHECK(four.errors == one.errors);
    CHECK(four.bad_line_samples == one.bad_line_samples);
    CHECK(four.traces == one.traces);
    REQUIRE(four.sources.size() == one.sources.size());
    for (std::size_t i = 0; i < one.sources.size(); ++i) {
      INFO("source " << one.sources[i].plan.path);
      const auto& x = four.sources[i];
      const auto& y = one.sources[i];
      CHECK(x.format == y.format);
      CHECK(x.bytes == y.bytes);
      CHECK(x.end_offset == y.end_offset);
      CHECK(x.lines == y.lines);
      CHECK(x.events == y.events);
      CHECK(x.bad_lines == y.bad_lines);
      CHECK(x.error == y.error);
      CHECK(x.held_back_bytes == y.held_back_bytes);
      CHECK(x.hint == y.hint);
      CHECK(x.carried == y.carried);
    }
  }
}

TEST_CASE("a second parse of a growing log ingests only the new bytes", "[telemetry][loadLogFiles][incremental]") {
  fixture f;
  selfheal_gen::options opt;
  opt.seed = 5;
  opt.target_bytes = 200'000;
  opt.pair_rate = 0;  // no pairs across the cut
  const auto full_path = f.dir / "full.ndjson";
  const auto truth = f.generate(full_path, opt);
  const std::string all = slurp(full_path);
  const auto cut = all.find('\n', all.size() / 2) + 1;
  const auto log = f.dir / "app.log";
  spit(log, all.substr(0, cut));
  auto first = f.parse({log.string()});
  REQUIRE(first);
  CHECK(first->aggregate.sources[0].bytes == cut);
  spit(log, all.substr(cut), std::ios::app);
  auto second = f.parse({log.string()});
  REQUIRE(second);
  const auto& src = second->aggregate.sources[0];
  CHECK(src.plan.note == "resumed");
  CHECK(src.plan.start_offset == cut);
  CHECK(src.bytes == all.size() - cut);
  CHECK(first->aggregate.events + second->aggregate.events == truth.events);
  CHECK(first->aggregate.executions + second->aggregate.executions == truth.executions);
  CHECK(first->aggregate.bad_lines + second->aggregate.bad_lines == truth.bad_lines);
  // Line numbers continue from the first run.
  for (const auto& b : second->aggregate.bad_line_samples) CHECK(b.line > first->aggregate.sources[0].lines);

  SECTION("nothing new: nothing read") {
    auto third = f.parse({log.string()});
    REQUIRE(third);
    CHECK(third->aggregate.sources[0].plan.note == "unchanged");
    CHECK(third->aggregate.sources[0].bytes == 0);
    CHECK(third->aggregate.events == 0);
    CHECK(third->nothing_new);  // and no record made
    CHECK(third->record_id.empty());
    CHECK(*tel::latest_telemetry_record(*f.db) == second->record_id);
  }
  SECTION("truncated: read from the start") {
    spit(log, all.substr(0, 1000 + all.find('\n', 1000) - 1000 + 1));
    auto third = f.parse({log.string()});
    REQUIRE(third);
    CHECK(third->aggregate.sources[0].plan.note == "truncated");
    CHECK(third->aggregate.sources[0].plan.start_offset == 0);
  }
  SECTION("rotated (a new file under the same name): read from the start") {
    const auto tmp = f.dir / "new.log";
    const std::string fresh = R"({"ts":"2025-02-01T00:00:00Z","handler":"new","durationMs":1})" "\n";
    spit(tmp, fresh + all);
    fs::rename(tmp, log);
    auto third = f.parse({log.string()});
    REQUIRE(third);
    CHECK(third->aggregate.sources[0].plan.note == "rotated");
    CHECK(third->aggregate.sources[0].bytes == fresh.size() + all.size());
    CHECK(third->aggregate.events == truth.events + 1);
  }
  SECTION("the same content under a new inode is not read twice (a copy)") {
    const auto tmp = f.dir / "copy.log";
    spit(tmp, all);
    fs::rename(tmp, log);
    auto third = f.parse({log.string()});
    REQUIRE(third);
    CHECK(third->aggregate.sources[0].plan.note == "moved");
    CHECK(third->aggregate.sources[0].bytes == 0);
    CHECK(third->nothing_new);
  }
  SECTION("a half-written last line is read again once complete") {
    const std::string half = R"({"ts":"2025-01-01T00:00:00Z","handler":"late","durationMs":)";
    spit(log, half, std::ios::app);
    auto third = f.parse({log.string()});
    REQUIRE(third);
    CHECK(third->aggregate.bad_lines == 0);  // held back, not counted
    CHECK(third->aggregate.sources[0].held_back_bytes == half.size());
    spit(log, "5}\n", std::ios::app);
    auto fourth = f.parse({log.string()});
    REQUIRE(fourth);
    CHECK(fourth->aggregate.bad_lines == 0);
    CHECK(fourth->aggregate.executions == 1);
    REQUIRE(fourth->aggregate.handlers.size() == 1);
    CHECK(fourth->aggregate.handlers[0].name == "late");
  }
}
