// detectCoverageGaps through a symbol index (`selfheal detect --coverage F --repo DIR`): 10,000 hot
// handlers mapped onto the symbols of selfheal's own source tree (every C++/Python/JS file of the
// repository named by a generated DA-only tracefile), against the naive reference measured in the
// same run: one `coverage_by_symbol` lookup, a full pass over the index, per handler.
//   BM_index_coverage            resolve the tracefile's files and index them (Universal Ctags run)
//   BM_coverage_gaps_symbols     find_coverage_gaps(current, report, index), every handler hot
//   BM_coverage_gaps_naive       the same decisions, one index pass per handler
//
//   coverage_bench --benchmark_min_time=0.3

#include <selfheal/anomaly/coverage_index.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace an = selfheal::anomaly;
namespace fs = std::filesystem;

namespace {

const fs::path root = SELFHEAL_SOURCE_DIR;
constexpr std::size_t handlers = 10'000;

/// A DA-only tracefile naming every indexable source file of the repository (every third line hit).
const an::lcov_report& report() {
  static const an::lcov_report r = [] {
    std::string lcov;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      const auto p = e.path().string();
      if (!e.is_regular_file() || selfheal::source::language_of(p).empty()) continue;
      if (p.find("/.git/") != std::string::npos || p.find("/build") != std::string::npos) continue;
      lcov += "SF:" + fs::relative(e.path(), root).string() + "\n";
      std::ifstream in(e.path());
      std::string l;
      for (std::size_t n = 1; std::getline(in, l); ++n)
        if (!l.empty()) lcov += "DA:" + std::to_string(n) + "," + std::to_string(n % 3) + "\n";
      lcov += "end_of_record\n";
    }
    return an::parse_lcov(lcov);
  }();
  return r;
}

const an::coverage_index& index() {
  static const an::coverage_index idx = *an::index_coverage(report(), root);
  return idx;
}

/// 10,000 handlers, as many as there are named by real symbols of the index, the rest unknown.
const an::telemetry_data& current() {
  static const an::telemetry_data cur = [] {
    an::telemetry_data c;
    const auto& syms = index().symbols.symbols;
    for (std::size_t i = 0; i < handlers; ++i) {
      an::handler_series s;
      s.handler = i < syms.size() ? syms[i].name : "handler_" + std::to_string(i);
      s.windows.push_back({0, 10, 0, 1, 2, 3});
      c.handlers.push_back(std::move(s));
    }
    return c;
  }();
  return cur;
}

an::coverage_options every_handler_hot() {
  an::coverage_options o;
  o.min_traffic_share = 0;  // the worst case: every handler carries traffic
  return o;
}

void BM_index_coverage(benchmark::State& state) {
  for (auto _ : state) {
    auto idx = an::index_coverage(report(), root);
    benchmark::DoNotOptimize(idx->symbols.symbols.size());
  }
  state.counters["files"] = static_cast<double>(report().files.size());
  state.counters["symbols"] = static_cast<double>(index().symbols.symbols.size());
}
BENCHMARK(BM_index_coverage)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_coverage_gaps_symbols(benchmark::State& state) {
  const auto o = every_handler_hot();
  std::size_t gaps = 0;
  for (auto _ : state) {
    auto g = an::find_coverage_gaps(current(), report(), index(), o);
    gaps = g.anomalies.size();
    benchmark::DoNotOptimize(gaps);
  }
  state.counters["gaps"] = static_cast<double>(gaps);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * handlers));
}
BENCHMARK(BM_coverage_gaps_symbols)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_coverage_gaps_naive(benchmark::State& state) {
  const auto o = every_handler_hot();
  std::size_t gaps = 0;
  for (auto _ : state) {
    gaps = 0;
    for (const auto& s : current().handlers) {
      const auto c = an::coverage_by_symbol(index(), s.handler);
      if (c.coverage.lines && c.coverage.ratio() < o.min_line_coverage) ++gaps;
    }
    benchmark::DoNotOptimize(gaps);
  }
  state.counters["gaps"] = static_cast<double>(gaps);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * handlers));
}
BENCHMARK(BM_coverage_gaps_naive)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
