#!/usr/bin/env bash
# test.sh - installs what is missing, builds, and runs every test: the unit and end-to-end tests,
# then the sanitizer and fuzzing stages (deploy/sanitize.sh).
# Exit status is non-zero when any test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
deploy/install-deps.sh
deploy/build.sh
jobs="$(nproc 2>/dev/null || echo 2)"

# The sanitizer builds compile at the lowest priority while the tests run: the end-to-end cases
# spend most of their time waiting on SIP timers, and at nice 19 the compiler gets only the CPU
# they leave idle, so it costs them no time and the suite minutes.
mkdir -p build
nice -n 19 deploy/sanitize.sh build > build/sanitize-build.log 2>&1 &
sanitize_build=$!
tests=0
# The soak runs on its own once the background compiler is done (below): it times API writes
# that wait for the disk's sync, and the compiler's object files share that disk.
soak='^e2e\.soak_short$'
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 -E "$soak" || tests=$?
# The Debian package, installed on this machine and purged again: after the other tests, since it
# binds the example configuration's ports (5060, 8090) and changes /usr and /etc while it runs.
if ((tests == 0)); then
  python3 tests/e2e/test_e2e.py --b2bua build/bin/b2bua package_install || tests=$?
fi
built=0
wait "$sanitize_build" || built=$?
cat build/sanitize-build.log
if ((tests == 0)); then
  ctest --test-dir build --output-on-failure --timeout 600 -R "$soak" || tests=$?
fi
if ((tests != 0)); then exit "$tests"; fi
if ((built != 0)); then
  echo "test.sh: the sanitizer builds failed (above)" >&2
  exit "$built"
fi
deploy/sanitize.sh run
