#!/usr/bin/env bash
# The main job on bundled sample data: build the `selfheal` program (Release), make the bundled
# demo service (a small git repository with history and its telemetry, examples/demo/make-demo.sh),
# then parse → baseline → detect → diagnose it and print the diagnosis: the slow function, the
# commit to blame, the evidence and the recommended fix.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target selfheal_cli -j "$(nproc)"
examples/demo/run-demo.sh ./build/selfheal
