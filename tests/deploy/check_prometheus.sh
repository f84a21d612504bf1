#!/bin/sh
# The Prometheus files of deploy/prometheus checked with the Debian prometheus package's promtool
# (deploy/install-deps.sh installs it). One check per ctest:
#   check_prometheus.sh config  SOURCE_DIR   promtool check config: the scrape config, and the rule
#                                            files it loads by a path relative to itself
#   check_prometheus.sh rules   SOURCE_DIR   promtool check rules, then check_prometheus_rules.py
#                                            (severity, summary, description, tests of both kinds)
#   check_prometheus.sh test    SOURCE_DIR   promtool test rules: the alerts' unit tests
set -eu
what=${1:?usage: check_prometheus.sh config|rules|test SOURCE_DIR}
src=${2:?usage: check_prometheus.sh config|rules|test SOURCE_DIR}
promtool=${PROMTOOL:-promtool}
if ! command -v "$promtool" >/dev/null 2>&1; then
    echo "promtool is not installed: run deploy/install-deps.sh (Debian package prometheus)" >&2
    exit 1
fi
dir=$src/deploy/prometheus
case $what in
config)
    # From another directory, so a rule_files path relative to the working directory would fail.
    cd /
    out=$("$promtool" check config "$dir/prometheus.yml" 2>&1) || { echo "$out" >&2; exit 1; }
    echo "$out"
    # It must load our rules, not match nothing.
    echo "$out" | grep -q "SUCCESS: [1-9][0-9]* rule files found" || {
        echo "prometheus.yml loads no rule file" >&2
        exit 1
    }
    ;;
rules)
    "$promtool" check rules "$dir"/rules/*.yml
    python3 "$src/tests/deploy/check_prometheus_rules.py" "$dir/rules/b2bua-alerts.yml" "$dir/tests/b2bua-alerts.test.yml"
    ;;
test)
    cd /
    "$promtool" test rules "$dir"/tests/*.test.yml
    ;;
*)
    echo "unknown check $what: config, rules or test" >&2
    exit 2
    ;;
esac
