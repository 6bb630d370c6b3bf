// A user's own handler replacing one of ours, checked at compile time.
//
// Here the demo's "renderIt" beat is replaced by a handler that renders differently. Replacing a
// beat with a handler that cannot take the previous beat's output does not compile (see
// tests/compile_fail/), and naming a beat that does not exist does not compile either.

#include <cstdio>
#include <string>

#include "selfheal/core.hpp"

namespace sh = selfheal;

struct count_words {
  std::size_t operator()(const std::string& text) const {
    std::size_t n = 0;
    bool in_word = false;
    for (char c : text) {
      const bool space = c == ' ' || c == '\n' || c == '\t';
      n += (!space && !in_word) ? 1 : 0;
      in_word = !space;
    }
    return n;
  }
};

struct render_plain {
  std::string operator()(std::size_t n) const { return std::to_string(n) + " words"; }
};

inline constexpr auto word_count = sh::sequence<"word-count-symphony">(
    sh::beat<"words:count", "countWords">(count_words{}),
    sh::beat<"words:render", "renderIt">(render_plain{}));

// The user's handler: same input type as the beat it replaces, its own output.
struct render_json {
  std::string operator()(std::size_t n) const { return "{\"words\":" + std::to_string(n) + "}"; }
};

int main() {
  sh::ndjson_sink events(stderr);  // beat events on standard error
  sh::context ctx;
  ctx.sink = &events;

  constexpr auto mine = word_count.replace<"renderIt">(render_json{});
  auto a = sh::run(word_count, ctx, std::string("self healing systems"));
  auto b = sh::run(mine, ctx, std::string("self healing systems"));
  if (!a || !b) return 1;
  std::printf("ours:  %s\nyours: %s\n", a->c_str(), b->c_str());
  return 0;
}
