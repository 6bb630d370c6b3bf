#!/usr/bin/env bash
# The closed loop on a service that really runs: make the shop (make-service.sh), serve v1.0 and let
# `selfheal heal` learn its baseline, deploy v1.1 (the commit that slows applyDiscount), serve it,
# then one `selfheal heal` round: detect → diagnose → fix → validate → deploy (canary, full) → learn.
#
#   examples/heal-demo/run-heal-demo.sh [SELFHEAL] [OUT]
#     SELFHEAL: the selfheal program (default: ./build/selfheal)
#     OUT:      a new folder (default: a fresh temporary folder); the repository and the production
#               folder are left there for you to inspect.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
selfheal=$(realpath "${1:-./build/selfheal}")
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/selfheal-heal-XXXXXX")/demo}
inc=$(cd "$here/../../include" && pwd)
"$here/make-service.sh" "$out" "$inc" >&2
out=$(cd "$out" && pwd)
repo=$out/repo prod=$out/production db=$out/selfheal.db
window=0.1   # seconds: a canary stage lasts seconds, so its windows must be short

step() { echo "\$ ${*/#$selfheal/selfheal}" >&2; "$@"; }
echo "== production runs v1.0 ($(git -C "$repo" rev-parse --short v1.0)); selfheal learns what healthy looks like" >&2
step "$repo/ops/traffic.sh" "$prod" 600 150
step "$selfheal" heal --once --repo "$repo" --db "$db" --window "$window" --events "$out/selfheal-events.ndjson" >/dev/null

echo "== v1.1 ($(git -C "$repo" rev-parse --short v1.1)) is deployed by hand, and serves" >&2
tmp=$(mktemp -d)
git clone -q "$repo" "$tmp/v1.1"
(cd "$tmp/v1.1" && git checkout -q v1.1 && ops/deploy.sh "$(git rev-parse HEAD)" full "$prod" "$inc" >&2)
rm -rf "$tmp"
step "$repo/ops/traffic.sh" "$prod" 600 150

echo "== selfheal heal" >&2
start=$(date +%s.%N)
step "$selfheal" heal --once --repo "$repo" --db "$db" --window "$window" --events "$out/selfheal-events.ndjson"
end=$(date +%s.%N)

echo "== production serves the fix; the next round learns from it" >&2
step "$repo/ops/traffic.sh" "$prod" 600 150
step "$selfheal" heal --once --repo "$repo" --db "$db" --window "$window" --events "$out/selfheal-events.ndjson"
echo >&2
echo "heal round: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s wall; main is now $(git -C "$repo" log -1 --format='%h %s' main)" >&2
echo "production: $(readlink "$prod/current")" >&2
echo "left for you: $repo, $prod, $db" >&2
