#!/bin/sh
# Production traffic: the release `current` serves REQUESTS checkouts at RATE per second, and its
# beat events are appended to the production log.
#   ops/traffic.sh PRODUCTION_DIR [REQUESTS] [RATE]
set -eu
prod=$1 n=${2:-300} rate=${3:-150}
exec "$prod/current/shop" --requests "$n" --rate "$rate" --seed "$(date +%s%N)" --log "$prod/logs/shop.ndjson"
