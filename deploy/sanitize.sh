#!/usr/bin/env bash
# sanitize.sh - the sanitizer and fuzzing stages (README "Fuzzing and sanitizers"), each in its
# own build folder with clang, each building only what it runs:
#   build-asan/: everything with AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer
#     targets (B2B_FUZZ=ON); every unit test and a representative set of the end-to-end cases
#     run against that b2bua, then each fuzz target for B2B_FUZZ_SECONDS (default 5) on its
#     seed corpus (fuzz/corpus/);
#   build-tsan/: the unit tests of the threaded parts (the HTTP server and its hand-off of async
#     answers between threads, the store's backup thread and its own thread, the transport on its
#     own thread, the limits every SIP worker shares, the cluster link's thread and its hand-off of
#     reports to its owner's loop) under ThreadSanitizer.
# Prints how long each step took. Exit status is non-zero when any step fails.
#   deploy/sanitize.sh              build, then run
#   deploy/sanitize.sh build        configure and build both folders (deploy/test.sh runs this
#                                   at nice 19 while the other tests run)
#   deploy/sanitize.sh run          the tests and fuzz runs on what build built
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc 2>/dev/null || echo 2)"
phases=("$@")
if ((${#phases[@]} == 0)); then phases=(build run); fi

# The end-to-end cases run under ASan+UBSan: calls with digest both ways, UDP, TCP, TLS and
# IPv6, malformed and replayed input, CANCEL, PRACK, glare, re-INVITEs, the registrar,
# failover, the drain on SIGTERM, the admin API, the source gate and stateless challenges
# under attack, two SIP workers (calls, the admin API, limits and bans over both; a PBX registered
# over TCP reached by both), and every README configuration.
e2e_cases='calls_200|wrong_password|malformed|tcp|replay_refused|cancel|prack|glare|hold_from_pbx|inbound_call'
e2e_cases+='|registrar_sipp|failover_503|tls_pbx_call|ipv6_udp|sigterm_drain|admin_api_resources|unknown_dialog_481'
e2e_cases+='|tcp_peer_never_reads|security_svcrack_banned|auth_stateless_challenge|security_user_limits'
e2e_cases+='|workers_calls|workers_registrar_tcp'

# Sanitizer reports fail the test that triggered them; leaks are reported at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

configure() {  # folder, cmake options...
  local dir="$1"
  shift
  # -O1 and line tables only: about as fast to run as -O2 under a sanitizer, quicker to build,
  # and every report still names file and line.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DB2B_WARNINGS_AS_ERRORS=ON -DCMAKE_CXX_COMPILER=clang++ -DB2B_BUILD_BENCHMARKS=OFF "$@" >/dev/null
}

timed() {  # label, command...
  local label="$1" start=$SECONDS
  shift
  "$@"
  echo "sanitize.sh: $label took $((SECONDS - start)) s"
}

build() {
  configure build-asan -DB2B_FUZZ=ON
  timed "asan build" cmake --build build-asan -j "$jobs"
  configure build-tsan -DB2B_SANITIZE_THREAD=ON
  timed "tsan build" cmake --build build-tsan -j "$jobs" --target http_tests admin_tests sip_transport_tests routing_tests cluster_tests
}

run() {
  timed "asan unit tests" ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600 -L unit
  timed "asan e2e cases" ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600 \
    -R "^(e2e\.($e2e_cases)|readme\.configs)\$"
  # Every unit test of the five programs built (the others are registered but not built).
  timed "tsan unit tests" ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 600 -L unit -E '_NOT_BUILT$'
  timed "fuzz runs" ctest --test-dir build-asan --output-on-failure -j "$jobs" -L fuzz
}

for p in "${phases[@]}"; do
  case "$p" in
    build | run) "$p" ;;
    *) echo "sanitize.sh: unknown phase $p (build, run)" >&2; exit 2 ;;
  esac
done
