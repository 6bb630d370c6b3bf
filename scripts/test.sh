#!/usr/bin/env bash
# The test command: configure, build everything (tests, benchmarks, examples) and run ctest.
# Usage: scripts/test.sh [build dir]. SELFHEAL_SANITIZE=1 (with clang) adds
# -fsanitize=address,undefined and a short run of every libFuzzer target.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
# ccache (when installed) shares its cache between checkouts in different folders.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
jobs="$(nproc)"
extra=()
sanitize="${SELFHEAL_SANITIZE:-0}"
if [[ "$sanitize" == 1 ]]; then
  # Tests only: benchmarks and the header check already ran in the Release build.
  [[ "${CXX:-}" == *clang* ]] && extra+=(-DSELFHEAL_FUZZ=ON)  # libFuzzer is clang's
  extra+=(-DCMAKE_BUILD_TYPE=Debug -DSELFHEAL_BUILD_BENCHMARKS=OFF -DSELFHEAL_SKIP_SLOW=ON
          "-DCMAKE_CXX_FLAGS=-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined")
  export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
  command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"
else
  extra+=(-DCMAKE_BUILD_TYPE=Release)
fi
# SELFHEAL_SANITIZE_MODULES="core telemetry …" limits a sanitizer pass to those modules' tests (and
# the fuzz targets), so that CI's two passes fit its time on two cores.
targets=(all)
select=()
if [[ "$sanitize" == 1 && -n "${SELFHEAL_SANITIZE_MODULES:-}" ]]; then
  targets=()
  for m in $SELFHEAL_SANITIZE_MODULES; do targets+=("${m}_tests"); done
  if [[ "${CXX:-}" == *clang* ]]; then
    for f in tests/fuzz/*.fuzz.cpp; do n=$(basename "$f" .fuzz.cpp); targets+=("fuzz_$n"); done
  fi
  select=(-L "^($(tr ' ' '|' <<< "$SELFHEAL_SANITIZE_MODULES")|fuzz)\$")
  skip_program=ON  # the selfheal program is not built in this pass: leave out the tests that run it
fi
extra+=("-DSELFHEAL_SKIP_PROGRAM_TESTS=${skip_program:-OFF}")
cmake -S . -B "$dir" -G Ninja "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
if [[ "$sanitize" != 1 ]]; then
  cmake --build "$dir" --target all_verify_interface_header_sets -j "$jobs"  # every header alone
fi
ctest --test-dir "$dir" -j "$jobs" --output-on-failure "${select[@]}"
