#pragma once
// The `selfheal` program as the cli tests run it: a real child process (argv, a time limit, its own
// process group, closed standard input), and the small shop whose NDJSON logs the tests write.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "selfheal/core/process.hpp"

namespace selfheal::test::cli {

inline process_output run_selfheal(std::vector<std::string> args) {
  const char* bin = std::getenv("SELFHEAL_BINARY_DIR");
  REQUIRE(bin != nullptr);  // set by ctest; run this suite through ctest
  args.insert(args.begin(), (std::filesystem::path(bin) / "selfheal").string());
  process_options options;
  options.timeout = std::chrono::seconds(60);
  auto out = run_process(args, options);
  REQUIRE(out);
  return *out;
}

/// Exactly one JSON object and a newline.
inline bool one_object(const std::string& s) {
  return s.size() >= 3 && s.front() == '{' && s.ends_with("}\n") && s.find('\n') == s.size() - 1;
}

inline constexpr std::int64_t t0_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

/// Appends windows [from, to) of one minute each to `file`: 40 calls of "checkout" (10–16 ms,
/// times `slow`) and 40 of "pay" (20–24 ms) per window.
inline void write_shop_log(const std::filesystem::path& file, int from, int to, double slow = 1.0) {
  std::ofstream out(file, std::ios::app);
  for (int w = from; w < to; ++w)
    for (int i = 0; i < 40; ++i) {
      const std::int64_t ts = t0_ms + w * 60'000 + i * 1000;
      out << R"({"ts":)" << ts << R"(,"handler":"checkout","durationMs":)" << (10.0 + i % 7) * slow << "}\n";
      out << R"({"ts":)" << ts + 500 << R"(,"handler":"pay","durationMs":)" << 20.0 + i % 5 << "}\n";
    }
}

}  // namespace selfheal::test::cli
