#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs every test (unit and end-to-end).
# Exit status is non-zero when any test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
deploy/install-deps.sh
deploy/build.sh
jobs="$(nproc 2>/dev/null || echo 2)"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600
