#include <cstdio>
#include <string>

#include <selfheal/selfheal.hpp>

namespace sh = selfheal;

struct greet { std::string operator()(std::string name) const { return "hello " + name; } };

int main() {
  constexpr auto seq = sh::sequence<"consumer-symphony">(sh::beat<"consumer:greet", "greet">(greet{}));
  sh::context ctx;
  auto r = sh::run(seq, ctx, std::string("selfheal"));
  std::printf("%s %zu\n", r ? r->c_str() : "failed", sh::telemetry::parse_telemetry.size);
  return r && *r == "hello selfheal" ? 0 : 1;
}
