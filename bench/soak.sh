#!/usr/bin/env bash
# soak.sh - the long soak: 10 minutes at 1,000 calls per second, calls held 5 s (about 5,000 up
# at once), the PBX in security.trusted, svcrack guessing a password from address after address
# and the admin API written twice a second (tests/e2e/soak.py; `.ci/run` runs a short version,
# the e2e case soak_short). Prints the figures and a verdict; the RSS/descriptor curve goes to
# bench/results/soak-<time>.tsv. Loopback only. Build first (deploy/build.sh).
#
#   bench/soak.sh                      DURATION=600 RATE=1000 HOLD_MS=5000 by default
#   DURATION=120 RATE=500 bench/soak.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
mkdir -p "$here/results"
exec python3 "$root/tests/e2e/soak.py" --b2bua "$root/build/bin/b2bua" --duration "${DURATION:-600}" \
  --rate "${RATE:-1000}" --hold-ms "${HOLD_MS:-5000}" --curve "$here/results/soak-$(date -u +%Y%m%dT%H%M%SZ).tsv" "$@"
