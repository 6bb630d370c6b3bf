#!/bin/sh
# Deploys one commit of the shop into the production folder: builds it (cwd is a clean checkout of
# the commit), installs the binary as releases/<commit>, and points `current` at it.
#   ops/deploy.sh COMMIT STAGE PRODUCTION_DIR SELFHEAL_INCLUDE
set -eu
commit=$1 stage=$2 prod=$3 inc=$4
make -s build/shop SELFHEAL_INCLUDE="$inc" >&2
mkdir -p "$prod/releases/$commit" "$prod/logs"
cp build/shop "$prod/releases/$commit/shop"
ln -sfn "releases/$commit" "$prod/current.new" && mv -T "$prod/current.new" "$prod/current"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $stage $commit" >> "$prod/deploys.log"
echo "deployed $commit to $stage"
