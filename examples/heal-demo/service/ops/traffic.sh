#!/bin/sh
# Production traffic: the release `current` serves REQUESTS checkouts at RATE per second, and its
# beat events are appended to the production log. PRODUCTION_DIR/gateway-delay-us, when present,
# holds the card gateway's round trip in microseconds (production's world, not the shop's code).
#   ops/traffic.sh PRODUCTION_DIR [REQUESTS] [RATE]
set -eu
prod=$1 n=${2:-300} rate=${3:-150}
delay=$(cat "$prod/gateway-delay-us" 2>/dev/null || echo 0)
exec "$prod/current/shop" --requests "$n" --rate "$rate" --seed "$(date +%s%N)" --log "$prod/logs/shop.ndjson" \
  --gateway-delay-us "$delay"
