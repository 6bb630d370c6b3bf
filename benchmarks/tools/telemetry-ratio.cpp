// telemetry-ratio: selfheal's ingest against the fields reference in CPU time, interleaved.
//   telemetry-ratio FILE [ROUNDS] [REPS] [THREADS]
//
// Each round runs, REPS times each, the raw simdjson fields reference (`telemetry_ref.hpp`) and
// selfheal's ingest with execution paths and without, all at THREADS threads (default 1); a round's
// figure for each is its fastest run in process CPU time (and, apart, in wall time). Prints every
// round's ratios (reference time / selfheal time) and the median over the rounds. On a machine shared with other work, wall
// time follows the neighbours' load; running the three side by side, round after round, and
// keeping each round's fastest run makes the ratio comparable from one build to the next. The
// figures in the per-commit messages of issue 10.4's work were measured this way (64 MB from
// `selfheal-gen --format nested --size 64M --seed 42 --malformed-rate 0 --pad 150`, 4 rounds of 3).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "ingest_file.hpp"
#include "telemetry_ref.hpp"

namespace tel = selfheal::telemetry;

namespace {
double cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
double wall_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: telemetry-ratio FILE [ROUNDS] [REPS] [THREADS]\n");
    return 2;
  }
  const std::string path = argv[1];
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 4;
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const unsigned threads = argc > 4 ? static_cast<unsigned>(std::max(1, std::atoi(argv[4]))) : 1u;
  std::vector<double> with_traces, without_traces, wall_with, wall_without;
  for (int r = 0; r < rounds; ++r) {
    double ref = 1e30, on = 1e30, off = 1e30;
    double ref_w = 1e30, on_w = 1e30, off_w = 1e30;
    for (int k = 0; k < reps; ++k) {
      double t0 = cpu_seconds(), w0 = wall_seconds();
      const auto t = selfheal_ref::simdjson_fields_reference(path, threads);
      ref = std::min(ref, cpu_seconds() - t0);
      ref_w = std::min(ref_w, wall_seconds() - w0);
      if (t.docs == 0) {
        std::fprintf(stderr, "telemetry-ratio: no documents in %s\n", path.c_str());
        return 1;
      }
      for (const bool traces : {true, false}) {
        t0 = cpu_seconds();
        w0 = wall_seconds();
        const auto agg = selfheal::bench::ingest_file(path, threads, traces);
        const double s = cpu_seconds() - t0, w = wall_seconds() - w0;
        (traces ? on : off) = std::min(traces ? on : off, s);
        (traces ? on_w : off_w) = std::min(traces ? on_w : off_w, w);
        if (agg.events == 0) return 1;
      }
    }
    with_traces.push_back(ref / on);
    without_traces.push_back(ref / off);
    wall_with.push_back(ref_w / on_w);
    wall_without.push_back(ref_w / off_w);
    std::printf("round %d: CPU reference %.1f ms, traces on %.1f ms (x%.3f), off %.1f ms (x%.3f); wall %.1f ms: x%.3f, x%.3f\n",
                r + 1, ref * 1e3, on * 1e3, ref / on, off * 1e3, ref / off, ref_w * 1e3, ref_w / on_w, ref_w / off_w);
  }
  std::printf("median ratio (reference time / selfheal's, %u thread%s): CPU traces on %.3f, off %.3f; wall on %.3f, off %.3f\n",
              threads, threads == 1 ? "" : "s", median(with_traces), median(without_traces), median(wall_with),
              median(wall_without));
  return 0;
}
