#!/usr/bin/env bash
# Two revisions of the ingest in one process, in turn: how the commit messages' "A/B in process"
# figures were measured.
# Usage: scripts/ab-ingest.sh REV_A REV_B FILE [TRACES(0|1)=1] [ROUNDS=7] [THREADS=1]
# REV is a git revision, or "." for the working tree's headers. Needs the packages of
# scripts/debian-packages.txt (simdjson, fmt, SQLite, zlib).
set -euo pipefail
cd "$(dirname "$0")/.."
a="$1" b="$2" file="$3" traces="${4:-1}" rounds="${5:-7}" threads="${6:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
headers() {  # headers REV DIR
  mkdir -p "$2"
  if [[ "$1" == . ]]; then cp -r include "$2/"; else git archive "$1" include | tar -x -C "$2"; fi
}
headers "$a" "$work/a"
headers "$b" "$work/b"
flags=(-O3 -DNDEBUG -DFMT_SHARED -DSIMDJSON_THREADS_ENABLED=1 -std=gnu++20)
src=benchmarks/tools/ab-ingest
g++ "${flags[@]}" -DVARIANT=run_a -Dselfheal=selfheal_a -I"$work/a/include" -c "$src/variant.cpp" -o "$work/a.o" &
build_a=$!
g++ "${flags[@]}" -DVARIANT=run_b -Dselfheal=selfheal_b -I"$work/b/include" -c "$src/variant.cpp" -o "$work/b.o" &
build_b=$!
g++ "${flags[@]}" -c "$src/main.cpp" -o "$work/main.o"
wait "$build_a"  # (a bare `wait` returns 0 even when a build failed)
wait "$build_b"
g++ "$work/main.o" "$work/a.o" "$work/b.o" -o "$work/ab-ingest" -lsimdjson -lfmt -lsqlite3 -lz -lpthread
"$work/ab-ingest" "$file" "$traces" "$rounds" "$threads"
