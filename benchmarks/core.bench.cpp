// The cost of `run` per beat, against calling the same handlers by hand (the reference, in the
// same run), with no sink and with the NDJSON sink. Seven trivial handlers that return
// `result<T>`, as real handlers do, so the hand-written reference checks each result too.
//
//   ./build/core_bench --benchmark_min_time=0.3 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Ratio of interest: BM_run_null_sink / BM_by_hand (zero-cost: within 5%), and
// BM_run_ndjson_sink's ns per beat (items/s counts beats).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>

#include "selfheal/core.hpp"

namespace sh = selfheal;

namespace {

struct step {
  std::uint64_t k;
  sh::result<std::uint64_t> operator()(std::uint64_t x) const {
    if (x == 0xFFFF'FFFF'FFFF'FFFFull) return sh::fail(sh::errc::failed, "overflow");
    return x * k + 1;
  }
};

constexpr auto seven = sh::sequence<"bench-symphony">(
    sh::beat<"b:1", "s1">(step{3}), sh::beat<"b:2", "s2">(step{5}), sh::beat<"b:3", "s3">(step{7}),
    sh::beat<"b:4", "s4">(step{11}), sh::beat<"b:5", "s5">(step{13}), sh::beat<"b:6", "s6">(step{17}),
    sh::beat<"b:7", "s7">(step{19}));

constexpr std::int64_t beats = 7;

sh::result<std::uint64_t> by_hand(std::uint64_t x) {
  const step s1{3}, s2{5}, s3{7}, s4{11}, s5{13}, s6{17}, s7{19};
  auto r = s1(x);
  if (!r) return r;
  r = s2(*r);
  if (!r) return r;
  r = s3(*r);
  if (!r) return r;
  r = s4(*r);
  if (!r) return r;
  r = s5(*r);
  if (!r) return r;
  r = s6(*r);
  if (!r) return r;
  return s7(*r);
}

void BM_by_hand(benchmark::State& state) {
  std::uint64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    auto r = by_hand(x);
    benchmark::DoNotOptimize(r);
    x += *r & 1;
  }
  state.SetItemsProcessed(state.iterations() * beats);
}
BENCHMARK(BM_by_hand);

/// Runs `seven` in a loop with the given context; the two sink variants differ only in `ctx`.
void run_loop(benchmark::State& state, sh::context& ctx) {
  ctx.correlation_id = "bench";
  std::uint64_t x = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    auto r = sh::run(seven, ctx, x);
    benchmark::DoNotOptimize(r);
    x += *r & 1;
  }
  state.SetItemsProcessed(state.iterations() * beats);
}

void BM_run_null_sink(benchmark::State& state) {
  sh::context ctx;
  run_loop(state, ctx);
}
BENCHMARK(BM_run_null_sink);

void BM_run_ndjson_sink(benchmark::State& state) {
  std::FILE* devnull = std::fopen("/dev/null", "w");
  sh::ndjson_sink sink(devnull);
  sh::context ctx;
  ctx.sink = &sink;
  run_loop(state, ctx);
  std::fclose(devnull);
}
BENCHMARK(BM_run_ndjson_sink);

}  // namespace
