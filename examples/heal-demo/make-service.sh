#!/usr/bin/env bash
# Makes the healing demo's service: the shop (a small C++ service built on selfheal's core, from
# examples/heal-demo/service) in a new git repository with a believable history, its selfheal.toml,
# and a production folder where v1.0 is deployed and serving.
#
#   examples/heal-demo/make-service.sh OUT [SELFHEAL_INCLUDE] [VARIANT]
#   -> OUT/repo        the service's repository (main: v1.0, then the slow commit, released as v1.1)
#   VARIANT: regression (default: v1.1 slows applyDiscount) or rollback (v1.1 adds a small cost to
#            chargePayment, released while production's card gateway slows down: a revert passes the
#            tests and the benchmark but cannot make production fast, so the canary fails)
#      OUT/production  releases/<commit>/shop, current -> the deployed release, logs/shop.ndjson
#
# Fixed dates and identities; selfheal.toml names this machine's folders, so ids differ by folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-service.sh OUT [SELFHEAL_INCLUDE] [VARIANT]}
inc=${2:-$(cd "$here/../../include" && pwd)}
variant=${3:-regression}
[[ "$variant" == regression || "$variant" == rollback ]] || { echo "make-service.sh: unknown variant '$variant'" >&2; exit 2; }
[[ -e "$out" ]] && { echo "make-service.sh: '$out' exists" >&2; exit 2; }
mkdir -p "$out/repo" "$out/production/logs"
out=$(cd "$out" && pwd)
repo=$out/repo prod=$out/production

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
g() { git -C "$repo" "$@"; }
commit() {  # commit EPOCH "Name" email "message"
  local when="@$1 +0000"
  g add -A
  GIT_AUTHOR_NAME="$2" GIT_AUTHOR_EMAIL="$3" GIT_AUTHOR_DATE="$when" \
  GIT_COMMITTER_NAME="$2" GIT_COMMITTER_EMAIL="$3" GIT_COMMITTER_DATE="$when" \
    g commit -q --no-verify -m "$4"
}

g init -q -b main
cp -r "$here/service/." "$repo/"
printf 'build/\n' > "$repo/.gitignore"
cat > "$repo/selfheal.toml" <<TOML
# selfheal's settings for the shop (HEALING.md).
[service]
name = "shop"
main = "main"
telemetry = ["$prod/logs/*.ndjson"]

[build]
command = ["make", "-s", "build/shop", "SELFHEAL_INCLUDE=$inc"]
timeout = "120s"

[test]
command = ["make", "-s", "test", "SELFHEAL_INCLUDE=$inc"]
timeout = "120s"
retries = 1

[performance]
command = ["build/shop", "--requests", "400"]
runs = 3
max_regression = 1.5
min_improvement = 1.2

[deploy]
command = ["ops/deploy.sh", "{commit}", "{stage}", "$prod", "$inc"]
stages = ["canary", "full"]
traffic = ["ops/traffic.sh", "$prod", "600", "150"]
settle = "1s"
timeout = "180s"

[canary]
min_samples = 30

[policy]
mode = "auto"
max_changed_lines = 200
max_deploys_per_handler = "2/24h"

[git]
author = "selfheal <selfheal@localhost>"
TOML

t0=1740992400   # 2025-03-03T09:00:00Z
commit $t0 "Ada Lovelace" ada@shop.example "shop: checkout as a selfheal sequence (parse, total, discount, payment)"

sed -i 's|^inline constexpr double card_limit = 5000.0;|inline constexpr double card_limit = 5000.0;  // the processor'"'"'s single-charge limit|' "$repo/src/payment.hpp"
commit $((t0 + 86400)) "Grace Hopper" grace@shop.example "payment: say where the card limit comes from"

sed -i 's|^inline double round_cents(double x) { return std::round(x \* 100.0) / 100.0; }|inline double round_cents(double x) { return std::round(x * 100.0) / 100.0; }  // half away from zero|' "$repo/src/cart.hpp"
commit $((t0 + 2 * 86400)) "Alan Turing" alan@shop.example "cart: document the rounding rule"
g tag v1.0

if [[ "$variant" == rollback ]]; then
# A small real cost in chargePayment: every charge builds the gateway's limits table and looks the
# card's limit up (the benchmark sees it; production will mostly see the gateway itself slow down).
python3 - "$repo/src/payment.hpp" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('#include <thread>\n', '#include <thread>\n#include <vector>\n')
s = s.replace('''inline receipt charge_payment(const cart& c, std::uint64_t id) {
  if (c.discounted > card_limit) throw std::runtime_error("payment declined: over the card limit");''', '''/// The gateway's limit for the card's tier (the tiers the gateway publishes).
inline double tier_limit(std::uint64_t card) {
  std::vector<std::string> tiers;
  for (int t = 0; t < 6000; ++t) tiers.push_back("T" + std::to_string(t));
  const std::string mine = "T" + std::to_string(card % 6000);
  for (const auto& t : tiers)
    if (t == mine) return card_limit;
  return card_limit;
}

inline receipt charge_payment(const cart& c, std::uint64_t id) {
  if (c.discounted > tier_limit(id)) throw std::runtime_error("payment declined: over the card limit");''')
open(p, 'w').write(s)
PY
commit $((t0 + 3 * 86400)) "Linus Torvalds" linus@shop.example "payment: check the charge against the gateway's limits table"
else
# The slow change: every call builds the list of issued campaign codes and scans it.
python3 - "$repo/src/discount.hpp" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('#include <string>\n', '#include <string>\n#include <vector>\n')
s = s.replace('''inline cart apply_discount(cart c) {
  const double rate = discount_rate(c.o.code);''', '''/// Whether a code belongs to a campaign that was ever issued (the list grows every season).
inline bool campaign_issued(const std::string& code) {
  std::vector<std::string> issued;
  for (int season = 0; season < 40000; ++season) issued.push_back("S" + std::to_string(season));
  issued.push_back("SPRING");
  issued.push_back("VIP");
  for (const auto& c : issued)
    if (c == code) return true;
  return false;
}

inline cart apply_discount(cart c) {
  const double rate = campaign_issued(c.o.code) ? discount_rate(c.o.code) : 0.0;''')
open(p, 'w').write(s)
PY
commit $((t0 + 3 * 86400)) "Linus Torvalds" linus@shop.example "discount: honour only codes of issued campaigns"
fi

cat > "$repo/README.md" <<'MD'
# shop

The checkout service. `make` builds `build/shop`, `make test` runs the tests.
MD
commit $((t0 + 3 * 86400 + 3600)) "Ada Lovelace" ada@shop.example "docs: a README for the shop"
g tag v1.1

# Production runs v1.0 and serves its first traffic.
v10=$(g rev-parse v1.0)
tmp=$(mktemp -d)
git -C "$repo" worktree add -q --detach "$tmp/v1.0" "$v10" 2>/dev/null || { git clone -q "$repo" "$tmp/v1.0"; git -C "$tmp/v1.0" checkout -q "$v10"; }
(cd "$tmp/v1.0" && ops/deploy.sh "$v10" full "$prod" "$inc" >/dev/null)
git -C "$repo" worktree remove --force "$tmp/v1.0" 2>/dev/null || true
rm -rf "$tmp"
echo "make-service.sh: $repo (main at $(g rev-parse --short HEAD)), production at $prod running v1.0 ($(g rev-parse --short v1.0))"
