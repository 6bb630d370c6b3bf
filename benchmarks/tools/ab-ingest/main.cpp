// ab-ingest: two revisions of selfheal's ingest in one process, in turn (scripts/ab-ingest.sh).
//   ab-ingest FILE TRACES(0|1) [ROUNDS] [THREADS]
// Each round runs each build three times and keeps its fastest (process CPU time); prints every
// round's B/A time ratio and their median. Run in turn in one process, the two see the same
// neighbours' load, heap and page cache: differences of 1–2 % are resolved, which separate
// processes on a shared machine do not.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

double run_a(const char*, bool, unsigned, std::uint64_t&);
double run_b(const char*, bool, unsigned, std::uint64_t&);

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ab-ingest FILE TRACES(0|1) [ROUNDS] [THREADS]\n");
    return 2;
  }
  const char* path = argv[1];
  const bool traces = std::atoi(argv[2]) != 0;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 7;
  const unsigned threads = argc > 4 ? static_cast<unsigned>(std::max(1, std::atoi(argv[4]))) : 1u;
  std::vector<double> ratio;
  for (int r = 0; r < rounds; ++r) {
    double a = 1e9, b = 1e9;
    std::uint64_t ea = 0, eb = 0;
    for (int k = 0; k < 3; ++k) {
      a = std::min(a, run_a(path, traces, threads, ea));
      b = std::min(b, run_b(path, traces, threads, eb));
    }
    if (ea == 0) {
      std::printf("no events in %s\n", path);
      return 1;
    }
    if (ea != eb) {
      std::printf("the builds disagree: %llu events against %llu\n", static_cast<unsigned long long>(ea),
                  static_cast<unsigned long long>(eb));
      return 1;
    }
    ratio.push_back(b / a);
    std::printf("round %d: A %.1f ms, B %.1f ms, B/A %.3f\n", r + 1, a * 1e3, b * 1e3, b / a);
  }
  std::sort(ratio.begin(), ratio.end());
  std::printf("median B/A %.3f (below 1: B is faster)\n", ratio[ratio.size() / 2]);
  return 0;
}
