// Must NOT compile: beat 2 is declared pure, but its handler takes the context (to read the clock).
// The compile-fail test pins the one diagnostic this produces.
#include "selfheal/core/context.hpp"
#include "selfheal/core/sequence.hpp"

namespace sh = selfheal;

struct parse_number { int operator()(int x) const { return x; } };
struct stamp_time {
  long operator()(int x, sh::context& ctx) const { return x + ctx.now().time_since_epoch().count(); }
};

inline constexpr auto broken = sh::sequence<"stamped-symphony">(
    sh::beat<"demo:parse", "parseNumber">(parse_number{}),
    sh::beat<"demo:stamp", "stampTime", sh::immediate, sh::pure>(stamp_time{}));

int main() {}
