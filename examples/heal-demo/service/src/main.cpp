// shop: serves checkout requests. `shop --requests N [--rate R] [--seed S] [--log FILE]
// [--gateway-delay-us US]` runs N generated orders (R per second, 0 = as fast as it can), each
// through the checkout sequence, and appends the beat events to FILE (default: standard output).
// US is the card gateway's round trip (default 0: the sandbox).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "checkout.hpp"

int main(int argc, char** argv) {
  long requests = 100;
  double rate = 0;
  std::uint64_t seed = 1;
  const char* log = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--requests")) requests = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rate")) rate = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--log")) log = argv[i + 1];
    else if (!std::strcmp(argv[i], "--gateway-delay-us")) shop::gateway_delay_us = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "shop: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::FILE* out = log ? std::fopen(log, "a") : stdout;
  if (!out) {
    std::perror(log);
    return 1;
  }
  selfheal::ndjson_sink events(out);
  selfheal::context ctx{.sink = &events};
  static const char* const codes[] = {"", "", "SPRING", "VIP", "WINTER"};
  std::uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  auto next = [&x] { return (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  const auto start = std::chrono::steady_clock::now();
  long failed = 0;
  for (long n = 0; n < requests; ++n) {
    std::string text;
    const auto items = 1 + next() % 4;
    for (std::uint64_t k = 0; k < items; ++k) {
      if (k) text += ',';
      text += "SKU" + std::to_string(next() % 100) + ":" + std::to_string(1 + next() % 200) + "." +
              std::to_string(next() % 100) + ":" + std::to_string(1 + next() % 3);
    }
    text += ";";
    text += codes[next() % 5];
    if (!selfheal::run(shop::checkout, ctx, shop::request{text})) ++failed;
    if (rate > 0)
      std::this_thread::sleep_until(start + std::chrono::duration<double>(static_cast<double>(n + 1) / rate));
  }
  std::fflush(out);
  std::fprintf(stderr, "shop: %ld requests, %ld failed\n", requests, failed);
  return 0;
}
