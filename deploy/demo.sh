#!/usr/bin/env bash
# demo.sh - installs what is missing, builds, and runs the demo (see deploy/demo.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
deploy/install-deps.sh
BUILD_TARGET=b2bua deploy/build.sh
exec python3 deploy/demo.py "$@"
