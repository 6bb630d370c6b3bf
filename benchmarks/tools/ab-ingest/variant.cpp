// One ingest, timed in process CPU time. scripts/ab-ingest.sh compiles this file twice, each time
// with another revision's headers and the namespace renamed (-Dselfheal=selfheal_a / _b, and
// -DVARIANT=run_a / run_b), so that both builds link into one program and run in turn.
#include <cstdint>
#include <ctime>

#include "../ingest_file.hpp"

namespace {
double cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
}  // namespace

/// Ingests `path` (and merges the partials, as `selfheal parse` does); returns the CPU seconds
/// taken and the events found in `events`.
double VARIANT(const char* path, bool traces, unsigned threads, std::uint64_t& events) {
  const double t0 = cpu_seconds();
  events = selfheal::bench::ingest_file(path, threads, traces).events;
  return cpu_seconds() - t0;
}
