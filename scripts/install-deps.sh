#!/usr/bin/env bash
# Installs every Debian 12 package selfheal needs to build, test and run (as root, or via sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[[ "$(id -u)" == 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $(cat scripts/debian-packages.txt) >/dev/null
echo "selfheal: Debian packages installed"
