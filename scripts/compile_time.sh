#!/usr/bin/env bash
# The compile-time benchmark: seconds and peak memory to compile one translation unit that includes
# selfheal/selfheal.hpp and instantiates all seven sequences (and baseline.establish) at -O2.
# Usage: scripts/compile_time.sh [compiler] [source dir]. Fails past 20 s (the issue's bound).
set -euo pipefail
cxx="${1:-g++}"
src="${2:-$(cd "$(dirname "$0")/.." && pwd)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/umbrella.cpp" <<'CPP'
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
    failures += static_cast<int>(S::describe().size() == 0);
  });
  return failures >= 0 ? 0 : 1;
}
CPP
flags=(-std=c++20 -O2 -I"$src/include" -c "$work/umbrella.cpp" -o "$work/umbrella.o")
if [[ -x /usr/bin/time ]]; then
  /usr/bin/time -f '%e %M' -o "$work/time" "$cxx" "${flags[@]}"
  read -r seconds kib < "$work/time"
else
  start=$(date +%s.%N); "$cxx" "${flags[@]}"; end=$(date +%s.%N)
  seconds=$(echo "$end - $start" | bc); kib=0
fi
echo "compile_time umbrella: compiler=$(basename "$cxx") seconds=$seconds peak_rss_mib=$((kib / 1024))"
awk -v s="$seconds" 'BEGIN { exit (s < 20.0) ? 0 : 1 }' || { echo "over the 20 s bound" >&2; exit 1; }
