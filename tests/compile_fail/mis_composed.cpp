// Must NOT compile: beat 2 takes text, but beat 1 hands on an int.
// The compile-fail test pins the one diagnostic this produces.
#include <string>

#include "selfheal/core/sequence.hpp"

namespace sh = selfheal;

struct parse_number { int operator()(const std::string& s) const { return std::stoi(s); } };
struct extract_events { std::string operator()(const std::string& s) const { return s; } };
struct render { std::string operator()(long x) const { return std::to_string(x); } };

inline constexpr auto broken = sh::sequence<"broken-symphony">(
    sh::beat<"demo:parse", "parseNumber">(parse_number{}),
    sh::beat<"demo:extract", "extractTelemetryEvents">(extract_events{}),
    sh::beat<"demo:render", "renderIt">(render{}));

int main() {}
