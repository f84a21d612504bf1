#!/usr/bin/env bash
# build.sh - configures and builds everything into build/ (Release with debug info, warnings as errors).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DB2B_WARNINGS_AS_ERRORS=ON "$@"
cmake --build build -j "$jobs" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
