#!/usr/bin/env bash
# The main job on bundled sample data: build the `selfheal` program (Release), make the healing demo
# (a small C++ shop built on selfheal's core, in a git repository with history, and a production
# folder), serve v1.0, deploy the slow v1.1, and let `selfheal heal` detect, blame, fix, validate,
# deploy through canary and full, and learn (examples/heal-demo/run-heal-demo.sh).
# `scripts/demo.sh --rollback`: the variant where the fix passes the tests but the canary fails, and
# selfheal rolls it back (run-heal-demo.sh --variant rollback).
# The analysis half alone on the week-long demo shop: examples/demo/run-demo.sh ./build/selfheal
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target selfheal_cli -j "$(nproc)"
examples/heal-demo/run-heal-demo.sh "$@" ./build/selfheal
