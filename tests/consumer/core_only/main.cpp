// Built against selfheal::core alone: the pipeline core compiles and runs without SQLite,
// simdjson or libgit2.
#include <cstdio>
#include <string>

#include <selfheal/core.hpp>

namespace sh = selfheal;

struct greet { std::string operator()(std::string name) const { return "hello " + name; } };
struct shout { std::string operator()(std::string s) const { return s + "!"; } };

int main() {
  constexpr auto seq = sh::sequence<"core-consumer-symphony">(sh::beat<"consumer:greet", "greet">(greet{}),
                                                              sh::beat<"consumer:shout", "shout">(shout{}));
  sh::context ctx;
  auto r = sh::run(seq, ctx, std::string("core"));
  std::printf("%s %zu\n", r ? r->c_str() : "failed", seq.size);
  return r && *r == "hello core!" ? 0 : 1;
}
