// selfheal-gen: seeded, realistic telemetry for tests and benchmarks (see telemetry_gen.hpp).
//
//   selfheal-gen --out FILE [--format ndjson|conductor|nested] [--size 200M] [--seed N]
//                [--malformed-rate 0.002] [--truth FILE.json] [--pad N] [--crlf]
//
// --pad N adds an unaliased "context" field of N bytes to every JSON event (for ~300-byte events
// use --pad 150).
//
// Writes FILE (or standard output for "-"); with --truth, a JSON file of what the data holds
// (events, executions, bad lines, per handler count/errors/max/mean/p50/p95/p99), computed by the
// generator from the values it wrote. Sizes take K/M/G suffixes (powers of 1000); multi-GB sizes
// stream with constant memory unless --truth is asked for (it keeps every duration).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "telemetry_gen.hpp"

namespace {
std::uint64_t parse_size(const char* s) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  double mul = 1;
  if (end && (*end == 'K' || *end == 'k')) mul = 1e3;
  else if (end && (*end == 'M' || *end == 'm')) mul = 1e6;
  else if (end && (*end == 'G' || *end == 'g')) mul = 1e9;
  return static_cast<std::uint64_t>(v * mul);
}
int usage() {
  std::fprintf(stderr, "usage: selfheal-gen --out FILE [--format ndjson|conductor|nested] [--size 200M] [--seed N] "
                       "[--malformed-rate X] [--truth FILE.json] [--pad N] [--crlf]\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  selfheal_gen::options opt;
  opt.target_bytes = 10'000'000;
  std::string out_path, truth_path, format = "ndjson";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--crlf") { opt.crlf = true; continue; }
    if (!(v = next())) return usage();
    if (a == "--out") out_path = v;
    else if (a == "--format") format = v;
    else if (a == "--size") opt.target_bytes = parse_size(v);
    else if (a == "--seed") opt.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--malformed-rate") opt.malformed_rate = std::strtod(v, nullptr);
    else if (a == "--truth") truth_path = v;
    else if (a == "--pad") opt.pad_bytes = std::strtoull(v, nullptr, 10);
    else return usage();
  }
  if (out_path.empty() || (format != "ndjson" && format != "conductor" && format != "nested")) return usage();
  opt.keep_durations = !truth_path.empty();
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "selfheal-gen: cannot write %s: %s\n", out_path.c_str(), std::strerror(errno));
    return 1;
  }
  static char buf[1 << 20];
  std::setvbuf(out, buf, _IOFBF, sizeof buf);
  const auto t = format == "ndjson"   ? selfheal_gen::write_ndjson(out, opt)
                 : format == "nested" ? selfheal_gen::write_nested(out, opt)
                                      : selfheal_gen::write_conductor(out, opt);
  if (out != stdout) std::fclose(out);
  else std::fflush(out);
  if (!truth_path.empty()) {
    std::FILE* tf = std::fopen(truth_path.c_str(), "wb");
    if (!tf) return 1;
    std::fprintf(tf, "{\"bytes\":%llu,\"lines\":%llu,\"events\":%llu,\"executions\":%llu,\"bad_lines\":%llu,\"handlers\":[",
                 static_cast<unsigned long long>(t.bytes), static_cast<unsigned long long>(t.lines),
                 static_cast<unsigned long long>(t.events), static_cast<unsigned long long>(t.executions),
                 static_cast<unsigned long long>(t.bad_lines));
    bool first = true;
    for (const auto& [name, h] : t.handlers) {
      std::fprintf(tf, "%s{\"handler\":\"%s\",\"count\":%llu,\"errors\":%llu,\"max_ms\":%.3f,\"mean_ms\":%.6f,"
                       "\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f}",
                   first ? "" : ",", name.c_str(), static_cast<unsigned long long>(h.count),
                   static_cast<unsigned long long>(h.errors), static_cast<double>(h.max_us) / 1000.0,
                   h.count ? static_cast<double>(h.sum_us) / static_cast<double>(h.count) / 1000.0 : 0.0,
                   h.quantile_ms(0.5), h.quantile_ms(0.95), h.quantile_ms(0.99));
      first = false;
    }
    std::fprintf(tf, "]}\n");
    std::fclose(tf);
  }
  std::fprintf(stderr, "selfheal-gen: %llu bytes, %llu lines, %llu executions, %llu bad lines\n",
               static_cast<unsigned long long>(t.bytes), static_cast<unsigned long long>(t.lines),
               static_cast<unsigned long long>(t.executions), static_cast<unsigned long long>(t.bad_lines));
  return 0;
}
