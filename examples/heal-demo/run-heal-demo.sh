#!/usr/bin/env bash
# The closed loop on a service that really runs: make the shop (make-service.sh), serve v1.0 and let
# `selfheal heal` learn its baseline, deploy v1.1, serve it, then one `selfheal heal` round.
#
#   examples/heal-demo/run-heal-demo.sh [--variant regression|rollback] [SELFHEAL] [OUT]
#     SELFHEAL: the selfheal program (default: ./build/selfheal)
#     OUT:      a new folder (default: a fresh temporary folder); the repository and the production
#               folder are left there for you to inspect.
#   regression (default): v1.1 slows applyDiscount; heal detects → diagnoses → reverts → validates
#               (tests, benchmark) → deploys (canary, full) → and the next round learns.
#   rollback:   v1.1 adds a small cost to chargePayment and ships just as production's card gateway
#               slows down. heal blames the commit and its revert passes the tests and the benchmark,
#               but production stays slow: the canary fails, the merge is reverted and redeployed, and
#               the next round does not try the same strategy again.
set -euo pipefail
variant=regression
args=()
while (($#)); do
  case $1 in
    --variant) variant=${2:?--variant needs regression or rollback}; shift 2 ;;
    --variant=*) variant=${1#--variant=}; shift ;;
    --rollback) variant=rollback; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$variant" == regression || "$variant" == rollback ]] || { echo "run-heal-demo.sh: unknown variant '$variant'" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
selfheal=$(realpath "${args[0]:-./build/selfheal}")
out=${args[1]:-$(mktemp -d "${TMPDIR:-/tmp}/selfheal-heal-XXXXXX")/demo}
inc=$(cd "$here/../../include" && pwd)
"$here/make-service.sh" "$out" "$inc" "$variant" >&2
out=$(cd "$out" && pwd)
repo=$out/repo prod=$out/production db=$out/selfheal.db
window=0.1   # seconds: a canary stage lasts seconds, so its windows must be short
events=$out/selfheal-events.ndjson

step() { echo "\$ ${*/#$selfheal/selfheal}" >&2; "$@"; }
heal() { step "$selfheal" heal --once --repo "$repo" --db "$db" --window "$window" --events "$events" "$@"; }
echo "== production runs v1.0 ($(git -C "$repo" rev-parse --short v1.0)); selfheal learns what healthy looks like" >&2
step "$repo/ops/traffic.sh" "$prod" 600 150
heal >/dev/null

echo "== v1.1 ($(git -C "$repo" rev-parse --short v1.1): $(git -C "$repo" log -1 --format=%s v1.1~1)) is deployed by hand, and serves" >&2
if [[ "$variant" == rollback ]]; then
  echo "== ... and at the same time production's card gateway slows down to 3 ms a charge (nobody told us)" >&2
  echo 3000 > "$prod/gateway-delay-us"
fi
tmp=$(mktemp -d)
git clone -q "$repo" "$tmp/v1.1"
(cd "$tmp/v1.1" && git checkout -q v1.1 && ops/deploy.sh "$(git rev-parse HEAD)" full "$prod" "$inc" >&2)
rm -rf "$tmp"
step "$repo/ops/traffic.sh" "$prod" 600 150

echo "== selfheal heal" >&2
start=$(date +%s.%N)
heal --json > "$out/heal.json" 2> >(tee "$out/heal.log" >&2) || true
end=$(date +%s.%N)
json=$(cat "$out/heal.json")
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$out/heal.json" "$1"; }
echo >&2
echo "-- the story --" >&2
python3 - "$out/heal.json" >&2 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d.get("anomalies", []):
    print(f"{a['id']} ({a['handler']}, {a['kind']}): {a['status']}")
    print(a.get("story", "").rstrip())
    if a.get("reason"):
        print("Pending:" if a["status"] == "deployed" else "Stopped:", a["reason"])
    if "time_to_heal_s" in a:
        print(f"Time to heal: {a['time_to_heal_s']:.1f} s")
print(f"selfheal's own share: {d.get('selfheal_s', 0):.2f} s of {d.get('sequences_s', 0):.1f} s in its sequences "
      f"(builds, tests, deploys and waits: {d.get('external_s', 0):.1f} s)")
PY
round_status=$(field status)

if [[ "$variant" == rollback ]]; then
  echo "== production still serves slowly; the next round must not try the same fix again" >&2
  step "$repo/ops/traffic.sh" "$prod" 600 150
  heal || true
  echo >&2
  echo "heal round: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s wall, status $round_status; main is now $(git -C "$repo" log -1 --format='%h %s' main)" >&2
  echo "deploys: $(tr '\n' ';' < "$prod/deploys.log")" >&2
else
  echo "== production serves the fix; the next round learns from it" >&2
  step "$repo/ops/traffic.sh" "$prod" 600 150
  heal
  echo >&2
  echo "heal round: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s wall, status $round_status; main is now $(git -C "$repo" log -1 --format='%h %s' main)" >&2
fi
step "$selfheal" report --html "$out/report.html" --db "$db" >&2
echo "production: $(readlink "$prod/current")" >&2
echo "left for you: $repo, $prod, $db, $out/report.html (selfheal's own beat events: $events)" >&2
