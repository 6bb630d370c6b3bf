#!/usr/bin/env bash
# selfheal's main job on the bundled demo: make the demo (make-demo.sh), then
# parse → baseline → detect → diagnose, and print the readable diagnosis: the slow function, the
# commit to blame, the evidence and the recommended fix.
#
#   examples/demo/run-demo.sh [SELFHEAL] [OUT]
#     SELFHEAL: the selfheal program (default: ./build/selfheal, else `selfheal` in PATH)
#     OUT:      a new folder for the demo (default: a fresh temporary folder)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
selfheal=${1:-}
if [[ -z "$selfheal" ]]; then
  if [[ -x ./build/selfheal ]]; then selfheal=./build/selfheal; else selfheal=selfheal; fi
fi
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/selfheal-demo-XXXXXX")/demo}
"$here/make-demo.sh" "$out"
db="$out/selfheal.db"

step() { echo; echo "\$ $*" >&2; "$@"; }
step "$selfheal" parse --db "$db" "$out/telemetry/before.ndjson"
step "$selfheal" baseline --db "$db"
step "$selfheal" parse --db "$db" "$out/telemetry/after.ndjson"
step "$selfheal" detect --db "$db" --sequences "$out/repo/sequences"
step "$selfheal" diagnose --db "$db" --repo "$out/repo"
