#!/usr/bin/env bash
# The main job on the bundled sample data: build the `selfheal` program (Release), then run it.
# Grows with the project; today: the catalogue of sequences and what is implemented.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target selfheal_cli -j "$(nproc)"
./build/selfheal sequences
