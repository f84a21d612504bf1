#!/usr/bin/env bash
# package.sh [BUILD_DIR] - builds the Debian package from an existing build (deploy/build.sh):
# sets the install prefix to /usr (nothing recompiles: only the install rules change) and runs
# cpack. Prints the path of the .deb. Needs dpkg-dev (dpkg-shlibdeps) for the dependencies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="$(realpath -m "${1:-build}")"
cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr > /dev/null
cmake --build "$build" --target b2bua b2buactl > /dev/null
rm -rf "$build/package"
(cd "$build" && cpack -G DEB > package.log 2>&1) || { cat "$build/package.log" >&2; exit 1; }
ls "$build"/package/b2bua_*.deb
