// Must NOT compile: no beat of the sequence has the handler name "noSuchHandler".
#include <string>

#include "selfheal/core/sequence.hpp"

namespace sh = selfheal;

struct render { std::string operator()(long x) const { return std::to_string(x); } };
struct other { std::string operator()(long x) const { return std::to_string(-x); } };

inline constexpr auto seq = sh::sequence<"demo-symphony">(sh::beat<"demo:render", "renderIt">(render{}));
const auto mine = seq.replace<"noSuchHandler">(other{});

int main() {}
