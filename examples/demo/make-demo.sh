#!/usr/bin/env bash
# Makes the bundled demo of selfheal's main job: a small shop service in a real git repository
# (JavaScript and Python handlers, a week of history with fixed author/committer dates, release
# tags v1.0 and v1.1, one commit in v1.1 that slows applyDiscount, decoy commits next to it) and
# its telemetry before and after the v1.1 deploy (NDJSON with `version` deploy markers).
#
#   examples/demo/make-demo.sh [OUT]         # default OUT: ./selfheal-demo (must not exist)
#   -> OUT/repo, OUT/telemetry/before.ndjson, OUT/telemetry/after.ndjson
#
# Deterministic: the same files, commit ids and telemetry on every machine (fixed dates, fixed
# identities, an LCG instead of awk's rand). Needs git and awk; nothing is downloaded.
set -euo pipefail

out=${1:-selfheal-demo}
if [[ -e "$out" ]]; then
  echo "make-demo.sh: '$out' exists; remove it or name another folder" >&2
  exit 2
fi
mkdir -p "$out/repo" "$out/telemetry"
repo=$(cd "$out/repo" && pwd)

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
g() { git -C "$repo" "$@"; }
# commit EPOCH "Author Name" email "message"
commit() {
  local when="@$1 +0000"
  g add -A
  GIT_AUTHOR_NAME="$2" GIT_AUTHOR_EMAIL="$3" GIT_AUTHOR_DATE="$when" \
  GIT_COMMITTER_NAME="$2" GIT_COMMITTER_EMAIL="$3" GIT_COMMITTER_DATE="$when" \
    g commit -q --no-verify -m "$4"
}

g init -q -b main
mkdir -p "$repo/src" "$repo/services" "$repo/config" "$repo/sequences" "$repo/tests"

# ---- day 1: the service ----------------------------------------------------------------------
t0=1740992400   # 2025-03-03T09:00:00Z
cat > "$repo/src/money.js" <<'JS'
// Money helpers.
export const DISCOUNTS = { SPRING: 0.1, VIP: 0.2 };

export function roundCents(x) {
  return Math.round(x * 100) / 100;
}
JS
cat > "$repo/src/cart.js" <<'JS'
// Cart pricing for the shop front.
import { roundCents, DISCOUNTS } from './money.js';

export function computeTotal(items) {
  let total = 0;
  for (const item of items) {
    total += item.price * item.quantity;
  }
  return roundCents(total);
}

export function applyDiscount(cart, code) {
  const rate = DISCOUNTS[code] || 0;
  const discounted = cart.total * (1 - rate);
  return { ...cart, total: roundCents(discounted) };
}

export function formatReceipt(cart) {
  const lines = cart.items.map((i) => `${i.name}: ${i.price}`);
  return lines.join('\n');
}
JS
cat > "$repo/src/checkout.js" <<'JS'
// Checkout flow.
import { computeTotal, applyDiscount } from './cart.js';

export function checkoutOrder(order, cart) {
  const total = computeTotal(cart.items);
  if (order.code) {
    return applyDiscount({ ...cart, total }, order.code);
  }
  return { ...cart, total };
}

export function reserveStock(order) {
  const reserved = [];
  for (const line of order.lines) {
    reserved.push(line.sku);
  }
  return reserved;
}
JS
cat > "$repo/services/pricing.py" <<'PY'
"""Tax and catalog pricing."""
import copy
import json

RATES = {"eu": 0.2, "us": 0.07}


def compute_tax(amount, region):
    rate = RATES.get(region, 0.0)
    tax = amount * rate
    return round(tax, 2)


def load_catalog(path):
    with open(path) as f:
        items = json.load(f)
    return {i["sku"]: i for i in items}
PY
cat > "$repo/config/app.yaml" <<'YAML'
# Shop configuration
http:
  timeout_ms: 2000
  retries: 3
pricing:
  cache_size: 128
  discount_cache: true
catalog:
  batch_size: 50
database:
  pool_size: 10
YAML
cat > "$repo/sequences/checkout.json" <<'JSON'
{
  "id": "checkout-symphony",
  "name": "Checkout",
  "movements": [
    {"name": "Price", "beats": [
      {"beat": 1, "event": "shop:cart:total", "title": "Total", "handler": "computeTotal", "timing": "immediate", "kind": "pure"},
      {"beat": 2, "event": "shop:cart:discount", "title": "Discount", "handler": "applyDiscount", "timing": "immediate", "kind": "pure"},
      {"beat": 3, "event": "shop:tax:compute", "title": "Tax", "handler": "computeTax", "timing": "immediate", "kind": "pure"}
    ]},
    {"name": "Order", "beats": [
      {"beat": 4, "event": "shop:stock:reserve", "title": "Reserve", "handler": "reserveStock", "timing": "async", "kind": "stage-crew"},
      {"beat": 5, "event": "shop:order:checkout", "title": "Checkout", "handler": "checkoutOrder", "timing": "async", "kind": "stage-crew"}
    ]}
  ]
}
JSON
cat > "$repo/tests/cart.test.js" <<'JS'
import { applyDiscount, computeTotal } from '../src/cart.js';

test('applies a spring discount', () => {
  expect(applyDiscount({ total: 100 }, 'SPRING').total).toBe(90);
});

test('sums quantities', () => {
  expect(computeTotal([{ price: 2, quantity: 3 }])).toBe(6);
});
JS
cat > "$repo/tests/test_pricing.py" <<'PY'
from services.pricing import compute_tax


def test_compute_tax_eu():
    assert compute_tax(100, "eu") == 20
PY
printf '# Shop\n\nA small shop service.\n' > "$repo/README.md"
commit $t0 "Ada Lovelace" ada@example.com "Initial shop service"

# ---- days 2-5: ordinary work -----------------------------------------------------------------
# insert_before FILE REGEX TEXT...: insert lines before the first line matching REGEX
insert_before() {
  local file=$1 re=$2; shift 2
  local text; text=$(printf '%s\n' "$@")
  awk -v re="$re" -v text="$text" '!done && $0 ~ re { print text; done = 1 } { print }' "$file" > "$file.new"
  mv "$file.new" "$file"
}
insert_before "$repo/src/cart.js" '^  const rate = DISCOUNTS' '  // Unknown codes give no discount.'
commit $((t0 + 86400)) "Grace Hopper" grace@example.com "Document unknown discount codes"
printf '\n## Running\n\nnpm start\n' >> "$repo/README.md"
commit $((t0 + 2*86400)) "Alan Turing" alan@example.com "Docs: how to run"
printf "\ntest('empty cart', () => {\n  expect(computeTotal([])).toBe(0);\n});\n" >> "$repo/tests/cart.test.js"
commit $((t0 + 3*86400)) "Grace Hopper" grace@example.com "Tests: empty cart"
g tag v1.0
v10_deploy=$((t0 + 3*86400 + 3600))

# ---- day 5-6: release v1.1 (one commit slows applyDiscount; decoys around it) ------------------
t1=$((t0 + 4*86400))
# the guilty change: an audit trail serialised on every call, inside applyDiscount
awk '{ print } /^export function applyDiscount/ {
  print "  const audit = JSON.parse(JSON.stringify(cart));"
  print "  for (let i = 0; i < 20000; i++) {"
  print "    audit.trail = JSON.stringify(audit);"
  print "  }"
}' "$repo/src/cart.js" > "$repo/src/cart.js.new" && mv "$repo/src/cart.js.new" "$repo/src/cart.js"
commit $t1 "Edsger Dijkstra" edsger@example.com "Audit trail for discounts"
# decoy: same file, another function, later (closer to the deploy)
insert_before "$repo/src/cart.js" '^  const lines = cart.items.map' '  const started = Date.now();' '  void started;'
commit $((t1 + 2400)) "Alan Turing" alan@example.com "Time receipt formatting"
# decoy: another handler at about the same time
insert_before "$repo/services/pricing.py" '^    rate = RATES.get' '    items_seen = 0'
commit $((t1 + 4200)) "Grace Hopper" grace@example.com "Count calls in compute_tax"
# decoy: lines added above applyDiscount (moves it down)
insert_before "$repo/src/cart.js" '^export function computeTotal' '// Prices are in cents.' "export const CURRENCY = 'EUR';" ''
commit $((t1 + 6000)) "Ada Lovelace" ada@example.com "Pricing: currency constant"
g tag v1.1
v11_deploy=$((t1 + 9000))

# ---- telemetry: v1.0 for three hours before the deploy, v1.1 for the hour after ------------------
# Checkout executions as selfheal-style beat events: per execution a correlation id,
# sequence-started, the five beats of sequences/checkout.json (beat-completed, with topic and
# duration), sequence-completed. Between them, one in four slots is a standalone call of
# formatReceipt or loadCatalog (no sequence). Base latencies (ms): computeTotal 8, applyDiscount
# 12, computeTax 6, reserveStock 15, checkoutOrder 40, formatReceipt 3, loadCatalog 25;
# applyDiscount is 3x slower in v1.1.
gen() {  # gen FROM TO VERSION SLOW N SEED   (N slots)
  awk -v from="$1" -v to="$2" -v version="$3" -v slow="$4" -v n="$5" -v seed="$6" '
  function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  function iso(t, ms,   s) { return strftime("%Y-%m-%dT%H:%M:%S", t + int(ms / 1000), 1) sprintf(".%03dZ", ms % 1000) }
  # a log-normal-ish spread from the sum of three uniforms
  function dur(base) { return base * exp(0.35 * (rnd() + rnd() + rnd() - 1.5)) }
  function ev(t, ms, event, corr, extra) {
    printf "{\"ts\":\"%s\",\"level\":\"info\",\"event\":\"%s\",\"sequence\":\"checkout-symphony\",\"correlationId\":\"%s\",\"version\":\"%s\"%s}\n",
      iso(t, ms), event, corr, version, extra
  }
  BEGIN {
    split("computeTotal applyDiscount computeTax reserveStock checkoutOrder", h, " ")
    split("shop:cart:total shop:cart:discount shop:tax:compute shop:stock:reserve shop:order:checkout", topic, " ")
    split("8 12 6 15 40", base, " ")
    for (i = 0; i < n; i++) {
      t = from + int((to - from) * i / n)
      ms = int(rnd() * 500)
      if (rnd() < 0.25) {  # a standalone call
        k = rnd() < 0.5
        printf "{\"ts\":\"%s\",\"level\":\"info\",\"handler\":\"%s\",\"durationMs\":%.3f,\"correlationId\":\"s-%s-%d\",\"version\":\"%s\"}\n",
          iso(t, ms), k ? "formatReceipt" : "loadCatalog", dur(k ? 3 : 25), version, i, version
        continue
      }
      corr = "c-" version "-" i
      ev(t, ms, "sequence-started", corr, "")
      total = 0
      for (k = 1; k <= 5; k++) {
        d = dur(base[k])
        if (slow && h[k] == "applyDiscount") d *= 3
        total += d
        ev(t, ms + int(total), "beat-completed", corr,
           sprintf(",\"beat\":%d,\"topic\":\"%s\",\"handler\":\"%s\",\"durationMs\":%.3f", k, topic[k], h[k], d))
      }
      ev(t, ms + int(total) + 1, "sequence-completed", corr, sprintf(",\"durationMs\":%.3f", total + 1))
    }
  }'
}
# dense enough for confident one-minute windows: ~17 checkouts a minute
gen $((v11_deploy - 3*3600)) "$v11_deploy" v1.0 0 4000 7 > "$out/telemetry/before.ndjson"
gen "$v11_deploy" $((v11_deploy + 3600)) v1.1 1 1333 11 > "$out/telemetry/after.ndjson"

echo "demo repository: $repo ($(g rev-list --count HEAD) commits, tags: $(g tag | tr '\n' ' '))"
echo "telemetry:       $out/telemetry/before.ndjson ($(wc -l < "$out/telemetry/before.ndjson") events), $out/telemetry/after.ndjson ($(wc -l < "$out/telemetry/after.ndjson") events)"
echo "guilty commit:   $(g log --format='%H %s' -1 --grep='Audit trail')"
