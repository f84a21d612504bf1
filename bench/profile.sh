#!/usr/bin/env bash
# profile.sh - where the B2BUA's CPU goes under load: runs bench/run.sh b2bua RATE and samples the
# server with `perf record -e cpu-clock` (these VMs have no hardware counters) for SECONDS in the
# middle of the run, then prints the top entries by shared object and by symbol.
#
#   bench/profile.sh [RATE] [SECONDS]       2000 and 6 by default
#   B2BUA_BIN=/work/wt-base/build/bin/b2bua bench/profile.sh 2000     another build
#
# The samples stay in bench/results/profile-<time>.data (perf report -i FILE for more).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rate="${1:-2000}"
seconds="${2:-6}"
command -v perf >/dev/null || { echo "perf missing: apt-get install linux-perf" >&2; exit 1; }
mkdir -p "$here/results"
out="$here/results/profile-$(date -u +%Y%m%dT%H%M%SZ).data"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# run.sh starts the server as "<binary> --config <this folder>/b2bua.yaml": find that process.
RESULTS_DIR="$here/results" "$here/run.sh" b2bua "$rate" > "$log" 2>&1 &
run_pid=$!

server=""
for _ in $(seq 1 100); do
  server="$(pgrep -n -f -- "--config .*(b2bua\.yaml|b2bua-workers-[0-9]+\.yaml)" || true)"
  [[ -n "$server" ]] && break
  sleep 0.1
done
[[ -n "$server" ]] || { cat "$log" >&2; echo "the server did not start" >&2; exit 1; }
sleep 2  # past the start of the load
perf record -e cpu-clock -F 999 -g -p "$server" -o "$out" -- sleep "$seconds" 2>/dev/null
wait "$run_pid" || true
grep -E "achieved_cps|failed_calls|cpu_|verdict" "$log" || cat "$log"
echo "=== by shared object"
perf report -i "$out" --stdio --no-children -g none --sort dso 2>/dev/null | grep -E "^ +[0-9]" | head -12
echo "=== by symbol"
perf report -i "$out" --stdio --no-children -g none --sort dso,sym 2>/dev/null | grep -E "^ +[0-9]" | head -40
echo "samples: $out"
