// simdjson-ref: the whole-program references for `selfheal parse` (issue 3's speed goals).
//   simdjson-ref FILE            raw simdjson iterate_many, 8 MiB chunks, one field summed per handler
//   simdjson-ref --naive FILE    getline + nlohmann::json per line, same aggregation
//   simdjson-ref --fields [--threads N] FILE
//                                raw simdjson reading every field selfheal reads of issue 10.4's
//                                nested shape, on N threads (each its own part of the file)
// Prints bytes, documents, seconds and MB/s; run it beside `/usr/bin/time -v selfheal parse FILE`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "telemetry_ref.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: simdjson-ref [--naive | --fields [--threads N]] FILE\n");
    return 2;
  }
  const std::string mode = argv[1];
  const bool naive = mode == "--naive";
  const bool fields = mode == "--fields";
  unsigned threads = 1;
  int at = naive || fields ? 2 : 1;
  if (fields && argc > at + 1 && std::string(argv[at]) == "--threads") {
    threads = static_cast<unsigned>(std::strtoul(argv[at + 1], nullptr, 10));
    at += 2;
  }
  if (argc <= at || threads == 0) return 2;
  const std::string path = argv[at];
  const auto t0 = std::chrono::steady_clock::now();
  const auto t = naive ? selfheal_ref::naive_reference(path)
                 : fields ? selfheal_ref::simdjson_fields_reference(path, threads)
                          : selfheal_ref::simdjson_reference(path);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %llu bytes, %llu documents, %zu handlers, %.3f s, %.1f MB/s (checksum %.3f)\n",
              naive ? "naive nlohmann" : fields ? "simdjson iterate_many, every field read" : "simdjson iterate_many",
              static_cast<unsigned long long>(t.bytes),
              static_cast<unsigned long long>(t.docs), t.handlers, secs, static_cast<double>(t.bytes) / secs / 1e6, t.sum);
  return t.bytes > 0 ? 0 : 1;
}
