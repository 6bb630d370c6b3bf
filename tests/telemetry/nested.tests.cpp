// Issue 10.4's shape (every event carries a nested context object with an array, executions of
// 3–12 beats of varying handlers, 4.5 % failed beats with escaped error strings) through the whole
// ingest, held to a straightforward recomputation of the same file (nlohmann::json line by line,
// std::map per handler and per path); and the bounds of the execution-path table when exceeded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../benchmarks/tools/telemetry_gen.hpp"
#include "selfheal/telemetry/ingest.hpp"
#include "temp_dir.hpp"

namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {

using label = std::tuple<std::string, std::string, std::string>;  // beat, topic, handler as logged
using path_key = std::pair<std::string, std::vector<label>>;       // sequence, beats

struct handler_truth {
  std::uint64_t count = 0, errors = 0;
  std::vector<double> durations_ms;
  [[nodiscard]] double quantile(double q) const {
    auto v = durations_ms;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return v[rank - 1];
  }
};
struct path_truth {
  std::uint64_t executions = 0, failed = 0;
};
struct recomputed {
  std::map<std::string, handler_truth> handlers;
  std::map<path_key, path_truth> paths;
  std::map<std::string, std::uint64_t> errors;  // error message → count
  std::uint64_t events = 0, executions = 0, sequence_executions = 0;
};

/// What a plain reading of the file gives: every line parsed whole, beats grouped by correlation
/// id from sequence-started to sequence-completed/-failed, each path in time order, each beat once.
recomputed recompute(const fs::path& file) {
  recomputed r;
  struct open_execution {
    std::string sequence;
    std::vector<std::pair<std::string, label>> steps;  // (ISO time, label): ISO times sort as text
  };
  std::map<std::string, open_execution> open;
  std::ifstream in(file, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    ++r.events;
    const auto event = j.at("event").get<std::string>();
    const auto corr = j.at("correlationId").get<std::string>();
    if (event == "sequence-started") {
      open[corr] = {j.at("sequence").get<std::string>(), {}};
    } else if (event == "beat-completed" || event == "beat-failed") {
      auto& h = r.handlers[j.at("handler").get<std::string>()];
      ++h.count;
      ++r.executions;
      h.durations_ms.push_back(j.at("durationMs").get<double>());
      if (event == "beat-failed") {
        ++h.errors;
        ++r.errors[j.at("error").get<std::string>()];
      }
      if (auto it = open.find(corr); it != open.end())
        it->second.steps.push_back({j.at("ts").get<std::string>(),
                                    {std::to_string(j.at("beat").get<int>()), "", j.at("handler").get<std::string>()}});
    } else if (event == "sequence-completed" || event == "sequence-failed") {
      ++r.sequence_executions;
      auto it = open.find(corr);
      if (it == open.end()) continue;
      auto steps = it->second.steps;
      std::stable_sort(steps.begin(), steps.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<label> beats;
      for (const auto& [ts, l] : steps)
        if (std::find(beats.begin(), beats.end(), l) == beats.end()) beats.push_back(l);
      auto& p = r.paths[{it->second.sequence, beats}];
      ++p.executions;
      if (event == "sequence-failed") ++p.failed;
      open.erase(it);
    }
  }
  return r;
}

fs::path generate_nested(const fs::path& dir, std::uint64_t bytes, std::uint64_t seed) {
  const auto p = dir / "nested.ndjson";
  selfheal_gen::options opt;
  opt.seed = seed;
  opt.target_bytes = bytes;
  std::FILE* f = std::fopen(p.c_str(), "wb");
  REQUIRE(f);
  selfheal_gen::write_nested(f, opt);
  std::fclose(f);
  return p;
}

tel::ingest_result ingest_file(const fs::path& p, unsigned threads, std::size_t chunk, tel::trace_limits limits = {}) {
  auto e = tel::expand_paths({p.string()});
  REQUIRE(e.sources.size() == 1);
  tel::ingest_options opt;
  opt.threads = threads;
  opt.chunk_size = chunk;
  opt.traces = limits;
  return tel::ingest(e.sources, opt);
}

path_key key_of(const tel::execution_path& p) {
  std::vector<label> beats;
  for (const auto& s : p.steps) beats.emplace_back(s.beat, s.topic, s.handler);
  return {p.sequence, beats};
}

bool within_1pct(double got, double want) { return std::fabs(got - want) <= 0.01 * std::fabs(want) + 1e-9; }

}  // namespace

TEST_CASE("the nested shape: counts, quantiles and paths equal a plain recomputation", "[telemetry][nested][truth]") {
  selfheal::test::temp_dir d;
  const auto file = generate_nested(d.path(), 2'500'000, 11);
  const auto want = recompute(file);
  REQUIRE(want.paths.size() > 500);  // distinct paths about as many as executions
  REQUIRE(want.errors.size() == 3);  // the three escaped error strings

  // 2 threads, 64 KiB chunks: lines, executions and started/completed pairs straddle chunks
  const auto r = ingest_file(file, 2, 64 << 10);
  const auto agg = tel::finish_aggregate(r);
  CHECK(r.bad_lines == 0);
  CHECK(agg.events == want.events);
  CHECK(agg.executions == want.executions);
  CHECK(agg.sequence_executions == want.sequence_executions);
  REQUIRE(agg.handlers.size() == want.handlers.size());
  for (const auto& h : agg.handlers) {
    INFO(h.name);
    const auto it = want.handlers.find(h.name);
    REQUIRE(it != want.handlers.end());
    const auto& w = it->second;
    CHECK(h.stats.count == w.count);
    CHECK(h.stats.errors == w.errors);
    CHECK(h.stats.timed == w.durations_ms.size());
    CHECK(within_1pct(h.stats.quantile_ms(0.50), w.quantile(0.50)));
    CHECK(within_1pct(h.stats.quantile_ms(0.95), w.quantile(0.95)));
    CHECK(within_1pct(h.stats.quantile_ms(0.99), w.quantile(0.99)));
    CHECK(h.stats.max_ms() == Approx(*std::max_element(w.durations_ms.begin(), w.durations_ms.end())).epsilon(1e-12));
  }
  // the escaped error strings, unescaped: the same messages and counts
  std::map<std::string, std::uint64_t> errors;
  for (const auto& e : agg.errors)
    if (!e.handler.empty()) errors[e.message] += e.count;  // (sequence-failed repeats the message, with no handler)
  CHECK(errors == want.errors);

  // Paths: under the bounds every one is exact; the most frequent are kept, the rest in one row.
  const auto& t = r.traces;
  CHECK(t.paths_replaced == 0);
  CHECK(t.evicted == 0);
  std::uint64_t total = 0;
  for (const auto& [k, p] : want.paths) total += p.executions;
  CHECK(t.executions == total);
  std::vector<std::pair<std::uint64_t, path_key>> by_count;
  for (const auto& [k, p] : want.paths) by_count.emplace_back(p.executions, k);
  std::uint64_t kept = 0, rest = 0, rest_failed = 0, failed = 0;
  for (const auto& p : t.paths) {
    if (p.rest) {
      rest += p.executions;
      rest_failed += p.failed;
      continue;
    }
    const auto it = want.paths.find(key_of(p));
    REQUIRE(it != want.paths.end());
    CHECK(p.executions == it->second.executions);
    CHECK(p.failed == it->second.failed);
    kept += p.executions;
    failed += p.failed;
  }
  CHECK(kept + rest == total);
  std::uint64_t want_failed = 0;
  for (const auto& [k, p] : want.paths) want_failed += p.failed;
  CHECK(failed + rest_failed == want_failed);
  // the kept rows are the most frequent paths: none left in the rest is more frequent than the last kept
  const auto kept_rows = static_cast<std::size_t>(std::count_if(t.paths.begin(), t.paths.end(), [](const auto& p) { return !p.rest; }));
  CHECK(kept_rows == std::min<std::size_t>(want.paths.size(), tel::trace_limits{}.max_paths_per_sequence));
  std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  const auto& last_kept = t.paths[kept_rows - 1];
  CHECK(last_kept.executions == by_count[kept_rows - 1].first);

  SECTION("one thread reading it whole gives the same aggregates and paths") {
    const auto one = ingest_file(file, 1, 8 << 20);
    CHECK(one.traces == t);
    const auto agg1 = tel::finish_aggregate(one);
    CHECK(agg1.windows == agg.windows);
    CHECK(agg1.handlers == agg.handlers);
    CHECK(agg1.errors == agg.errors);
  }
}

TEST_CASE("beyond the held-path bound the paths are a space-saving summary with a counted rest", "[telemetry][nested][limits]") {
  selfheal::test::temp_dir d;
  const auto file = generate_nested(d.path(), 2'500'000, 12);
  const auto want = recompute(file);
  tel::trace_limits limits;
  limits.max_paths_per_sequence = 16;
  limits.max_held_per_sequence = 64;
  const auto r = ingest_file(file, 2, 64 << 10, limits);
  const auto& t = r.traces;
  std::uint64_t total = 0;
  for (const auto& [k, p] : want.paths) total += p.executions;
  CHECK(t.executions == total);
  CHECK(t.paths_replaced > 0);
  REQUIRE(t.paths.size() == 17);  // 16 paths and the rest row
  CHECK(t.paths.back().rest);
  std::uint64_t sum = 0, failed = 0, want_failed = 0;
  for (const auto& p : t.paths) {
    sum += p.executions;
    failed += p.failed;
    if (p.rest) continue;
    // a held path's counts are exact since it was last taken in: never more than its truth
    const auto it = want.paths.find(key_of(p));
    REQUIRE(it != want.paths.end());
    CHECK(p.executions <= it->second.executions);
    CHECK(p.failed <= it->second.failed);
  }
  for (const auto& [k, p] : want.paths) want_failed += p.failed;
  CHECK(sum == total);  // shares computed from the rows stay exact
  CHECK(failed == want_failed);
  // the same summary for any thread count (batches are applied in input order)
  CHECK(ingest_file(file, 1, 64 << 10, limits).traces == t);
}

TEST_CASE("path_counter: exact under its bound, heavy paths kept above it, memory bounded", "[telemetry][nested][limits]") {
  std::mt19937_64 rng(5);
  // a stream of paths (as label ids): 4 heavy ones, 5 % each, and a long tail of mostly unique ones
  std::vector<std::vector<std::uint32_t>> stream;
  for (int i = 0; i < 20000; ++i) {
    const auto u = rng() % 100;
    if (u < 20) stream.push_back({static_cast<std::uint32_t>(u % 4), 100, 101});
    else stream.push_back({7, static_cast<std::uint32_t>(1000 + rng() % 50000), static_cast<std::uint32_t>(rng() % 3)});
  }
  std::map<std::vector<std::uint32_t>, std::uint64_t> truth;
  for (const auto& p : stream) ++truth[p];

  SECTION("under the bound: every count exact") {
    tel::path_counter c(1 << 16, 1 << 16);
    for (std::size_t i = 0; i < stream.size(); ++i)
      c.add(0, stream[i].data(), stream[i].size(), {1, i % 3 == 0 ? 1u : 0u, 0, static_cast<std::int64_t>(i), static_cast<std::int64_t>(i)});
    CHECK(c.replaced() == 0);
    CHECK(c.held() == truth.size());
    std::size_t seen = 0;
    c.for_each_sequence([&](std::uint32_t s, const auto& held, const tel::path_counter::counts& rest) {
      CHECK(s == 0);
      CHECK(rest.executions == 0);
      for (const auto* e : held) {
        CHECK(e->c.executions == truth.at(e->labels));
        ++seen;
      }
    });
    CHECK(seen == truth.size());
  }
  SECTION("over the bound: at most 64 held, the heavy paths among them, totals exact") {
    tel::path_counter c(64, 1 << 16);
    for (const auto& p : stream) c.add(0, p.data(), p.size(), {1, 0, 0, 0, 0});
    CHECK(c.held() == 64);
    CHECK(c.replaced() > 0);
    std::uint64_t sum = 0;
    int heavy = 0;
    c.for_each_sequence([&](std::uint32_t, const auto& held, const tel::path_counter::counts& rest) {
      sum += rest.executions;
      for (const auto* e : held) {
        sum += e->c.executions;
        CHECK(e->c.executions <= truth.at(e->labels));
        if (e->labels.size() == 3 && e->labels[1] == 100) {
          ++heavy;
          CHECK(e->c.executions * 10 >= truth.at(e->labels) * 9);  // lost at most its first few
        }
      }
    });
    CHECK(heavy == 4);
    CHECK(sum == stream.size());
  }
  SECTION("the total bound holds across sequences; a sequence without room counts in its rest") {
    tel::path_counter c(64, 100);
    for (std::uint32_t s = 0; s < 3; ++s)
      for (const auto& p : stream) c.add(s, p.data(), p.size(), {1, 0, 0, 0, 0});
    CHECK(c.held() == 100);
    std::uint64_t sum = 0;
    c.for_each_sequence([&](std::uint32_t, const auto& held, const tel::path_counter::counts& rest) {
      sum += rest.executions;
      for (const auto* e : held) sum += e->c.executions;
    });
    CHECK(sum == 3 * stream.size());
  }
}
