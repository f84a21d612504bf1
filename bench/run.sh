#!/usr/bin/env bash
# run.sh - measures the B2BUA with ../shared/bench/ramp.sh exactly as that harness measures
# Kamailio: same scenarios, same ports (PBX 5060, B2BUA 5070, trunk 5080), same verdicts.
#
#   bench/run.sh b2bua    RATE...   e.g. bench/run.sh b2bua 1000 2000 3000 4000 5000
#   B2BUA_BIN=/path/to/b2bua bench/run.sh b2bua 2000    another build, same harness and config
#   B2BUA_WORKERS=2 bench/run.sh b2bua 2000             the same configuration with sip.workers: 2
#   bench/run.sh kamailio RATE...   the anchor, in the same sitting (needs kamailio installed:
#                                   deploy/install-deps.sh --bench)
#
# Results go to bench/results/ (summary.tsv, one folder per step). Build first (deploy/build.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
shared="$root/../shared/bench"
target="${1:?usage: run.sh b2bua|kamailio RATE...}"
shift
export RESULTS_DIR="${RESULTS_DIR:-$here/results}"
# See sipp-wrapper/sipp: makes the digest uri equal the Request-URI for both targets.
export PATH="$here/sipp-wrapper:$PATH"
case "$target" in
  b2bua)
    # B2BUA_BIN measures another build (an earlier commit's, for a before/after in one sitting).
    bin="${B2BUA_BIN:-$root/build/bin/b2bua}"
    [[ -x "$bin" ]] || { echo "$bin missing: run deploy/build.sh" >&2; exit 1; }
    config="$here/b2bua.yaml"
    if [[ -n "${B2BUA_WORKERS:-}" ]]; then
      config="${RESULTS_DIR}/b2bua-workers-${B2BUA_WORKERS}.yaml"
      mkdir -p "$RESULTS_DIR"
      sed "s/^sip:\$/sip:\n  workers: ${B2BUA_WORKERS}/" "$here/b2bua.yaml" > "$config"
    fi
    export SERVER_CMD="$bin --config $config"
    exec "$shared/ramp.sh" server "$@" ;;
  kamailio)
    exec "$shared/ramp.sh" kamailio "$@" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
