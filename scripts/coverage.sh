#!/usr/bin/env bash
# Line coverage of selfheal's own headers by its test suite (gcov + lcov, Debian package `lcov`).
# Usage: scripts/coverage.sh [build dir, default build-coverage] [module...]
# Builds the tests and the program with --coverage at -O0, runs ctest (fuzz and compile-time
# benchmarks excluded), and writes
#   <dir>/coverage.info          an lcov tracefile of include/selfheal/ (what `selfheal detect --coverage` reads)
#   <dir>/coverage-summary.txt   lines found / hit / percent per layer (include/selfheal/<layer>/), and the total
# Header-only code is counted where it is instantiated: a template no test instantiates has no lines.
# With modules (e.g. `core anomaly`), only those test executables are built and run (and the
# program, when `cli` is one of them): a quicker, partial figure (layers are also exercised by other
# layers' tests, and tests that run the program fail without it).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="${1:-build-coverage}"
shift || true
modules=("$@")
command -v lcov >/dev/null || { echo "coverage.sh: lcov is not installed (apt-get install lcov)" >&2; exit 2; }
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
jobs="$(nproc)"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSELFHEAL_BUILD_BENCHMARKS=OFF \
  "-DCMAKE_CXX_FLAGS=--coverage -O0 -g" "-DCMAKE_EXE_LINKER_FLAGS=--coverage" >/dev/null
targets=() labels=()
for m in "${modules[@]}"; do
  targets+=("${m}_tests")
  labels+=("$m")
  [[ "$m" == cli ]] && targets+=(selfheal_cli)
done
if ((${#modules[@]})); then
  cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
  select=(-L "^($(IFS='|'; echo "${labels[*]}"))\$")
else
  cmake --build "$dir" -j "$jobs"
  select=(-LE "fuzz|compile_time")
fi
lcov --quiet --zerocounters --directory "$dir"
ctest --test-dir "$dir" -j "$jobs" "${select[@]}" --output-on-failure || status=$?
lcov --quiet --capture --directory "$dir" --output-file "$dir/coverage.all.info" --rc lcov_branch_coverage=0 \
  --ignore-errors gcov,source
lcov --quiet --extract "$dir/coverage.all.info" "$root/include/selfheal/*" --output-file "$dir/coverage.info"
rm -f "$dir/coverage.all.info"
# per layer: include/selfheal/<layer>/... (the umbrella headers count as "selfheal")
awk -v root="$root/include/selfheal/" '
  /^SF:/ { f = substr($0, 4); sub(root, "", f); n = split(f, p, "/"); layer = (n > 1 ? p[1] : "selfheal") }
  /^LF:/ { found[layer] += substr($0, 4); total_f += substr($0, 4) }
  /^LH:/ { hit[layer] += substr($0, 4); total_h += substr($0, 4) }
  END {
    printf "%-12s %8s %8s %8s\n", "layer", "lines", "hit", "percent"
    for (l in found) printf "%-12s %8d %8d %7.1f%%\n", l, found[l], hit[l], found[l] ? 100 * hit[l] / found[l] : 0 | "sort"
    close("sort")
    printf "%-12s %8d %8d %7.1f%%\n", "total", total_f, total_h, total_f ? 100 * total_h / total_f : 0
  }' "$dir/coverage.info" | tee "$dir/coverage-summary.txt"
echo "tracefile: $dir/coverage.info" >&2
exit "${status:-0}"
