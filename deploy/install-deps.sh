#!/usr/bin/env bash
# install-deps.sh - installs, from Debian 12 packages, what building and testing the B2BUA needs.
# Idempotent: installs only the packages that are missing. Run as root (or with sudo available).
#   deploy/install-deps.sh          build + test dependencies
#   deploy/install-deps.sh --bench  also SQLite for the Kamailio anchor's topos runs in bench/, perf for
#                                   bench/profile.sh and heaptrack for bench/held_calls.py --heaptrack
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  clang libclang-rt-dev llvm
  libboost1.81-dev libboost-json1.81-dev
  libspdlog-dev libfmt-dev prometheus-cpp-dev libyaml-cpp-dev libssl-dev libc-ares-dev libsqlite3-dev libsystemd-dev libhiredis-dev
  dpkg-dev adduser systemd ca-certificates
  libgtest-dev libgmock-dev libbenchmark-dev
  sip-tester baresip sipvicious curl procps iproute2 python3 python3-yaml python3-jsonschema dnsmasq-base
  kamailio kamailio-tls-modules openssl
  redis-server
  prometheus
  docker-compose chromium strace
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(kamailio-sqlite-modules sqlite3 linux-perf heaptrack)
fi

# Node and npm for the OpenAPI validator below, unless a Node with npm is there already (from
# another source: Debian's npm would conflict with it).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The validator CI runs on admin/openapi.yaml: Redocly's CLI, pinned (not packaged in Debian;
# 1.x runs on Debian 12's Node 18).
redocly_version=1.34.5
if [[ "$(redocly --version 2>/dev/null || true)" != "$redocly_version" ]]; then
  echo "installing: @redocly/cli@$redocly_version (npm)"
  "${sudo_cmd[@]}" npm install -g --no-audit --no-fund --loglevel=error "@redocly/cli@$redocly_version"
fi
