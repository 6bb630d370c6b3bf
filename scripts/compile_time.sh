#!/usr/bin/env bash
# The compile-time benchmark: seconds and peak memory to compile one translation unit that includes
# selfheal/selfheal.hpp and instantiates all seven sequences (and baseline.establish) at -O2.
# Usage: scripts/compile_time.sh [compiler] [source dir] [max seconds]. It reports; it fails only
# when a bound is given and exceeded (speed belongs in benchmarks, and CI machines are shared).
set -euo pipefail
cxx="${1:-g++}"
src="${2:-$(cd "$(dirname "$0")/.." && pwd)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Two TUs: "sequences" composes every sequence (the composability gate runs on each) and reads its
# catalogue rows; "run" also instantiates run() for every sequence, which compiles every handler of
# the library in that one TU (what the selfheal program's main TU pays).
cat > "$work/sequences.cpp" <<'CPP'
#include <selfheal/selfheal.hpp>
namespace sh = selfheal;
int main() {
  std::size_t beats = 0;
  sh::for_each_sequence([&](std::string_view, const auto& seq) {
    using S = std::remove_cvref_t<decltype(seq)>;
    if constexpr (!std::is_same_v<typename S::input_type, sh::deferred_input>) {
      using out = typename S::template output_for<typename S::input_type>;  // the gate, per sequence
      static_assert(!std::is_same_v<out, sh::composition_failed>);
    }
    beats += S::describe().size();
  });
  return beats == 73 ? 0 : 1;
}
CPP
cat > "$work/run.cpp" <<'CPP'
#include <selfheal/selfheal.hpp>
namespace sh = selfheal;
int main() {
  sh::context ctx;
  int failures = 0;
  sh::for_each_sequence([&](std::string_view, const auto& seq) {
    using S = std::remove_cvref_t<decltype(seq)>;
    if constexpr (!std::is_same_v<typename S::input_type, sh::deferred_input>) {
      failures += sh::run(seq, ctx, typename S::input_type{}) ? 0 : 1;  // instantiates every beat
    }
  });
  return failures;
}
CPP
measure() {
  local name="$1"
  /usr/bin/time -f '%e %U %M' -o "$work/time" "$cxx" -std=c++20 -O2 -I"$src/include" -c "$work/$name.cpp" -o "$work/$name.o"
  read -r seconds user kib < "$work/time"
  echo "compile_time umbrella+$name: compiler=$(basename "$cxx") wall_s=$seconds cpu_s=$user peak_rss_mib=$((kib / 1024))"
}
measure sequences
seconds_sequences="$seconds"
measure run
seconds="$seconds_sequences"
if [[ -n "${3:-}" ]]; then
  awk -v s="$seconds" -v m="$3" 'BEGIN { exit (s < m) ? 0 : 1 }' || { echo "over the $3 s bound" >&2; exit 1; }
fi
