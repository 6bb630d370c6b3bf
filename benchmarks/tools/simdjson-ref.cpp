// simdjson-ref: the whole-program references for `selfheal parse` (issue 3's speed goals).
//   simdjson-ref FILE            raw simdjson iterate_many, 8 MiB chunks, one field summed per handler
//   simdjson-ref --naive FILE    getline + nlohmann::json per line, same aggregation
// Prints bytes, documents, seconds and MB/s; run it beside `/usr/bin/time -v selfheal parse FILE`.
#include <chrono>
#include <cstdio>
#include <string>

#include "telemetry_ref.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: simdjson-ref [--naive] FILE\n");
    return 2;
  }
  const bool naive = std::string(argv[1]) == "--naive";
  if (naive && argc < 3) return 2;
  const std::string path = argv[naive ? 2 : 1];
  const auto t0 = std::chrono::steady_clock::now();
  const auto t = naive ? selfheal_ref::naive_reference(path) : selfheal_ref::simdjson_reference(path);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %llu bytes, %llu documents, %zu handlers, %.3f s, %.1f MB/s (checksum %.3f)\n",
              naive ? "naive nlohmann" : "simdjson iterate_many", static_cast<unsigned long long>(t.bytes),
              static_cast<unsigned long long>(t.docs), t.handlers, secs, static_cast<double>(t.bytes) / secs / 1e6, t.sum);
  return t.bytes > 0 ? 0 : 1;
}
