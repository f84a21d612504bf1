#!/usr/bin/env python3
"""What promtool does not check about deploy/prometheus: every alert has a severity of page, warning
or info and a summary and description, reads at least one b2bua metric, and has promtool unit tests
of both kinds in the test file: one where it fires (exp_alerts listing it with its severity, summary
and description) and one where it stays quiet (exp_alerts: []) while the test's input holds a series
its expression reads.

Usage: check_prometheus_rules.py RULES.yml TESTS.test.yml   (exit 0, or 1 naming each problem)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prometheus_rules import SYNTHETIC, PromqlError, load_alerts, selectors, self_test  # noqa: E402

SEVERITIES = ("page", "warning", "info")


def metric_of(series: str) -> str:
    return series.split("{", 1)[0].strip()


def main(rules_path: Path, tests_path: Path) -> list[str]:
    problems = []
    rules = load_alerts(rules_path)
    alerts = {}
    for r in rules:
        name = r.get("alert")
        if name is None:
            problems.append(f"{r.get('record')}: a recording rule; this file holds alerts only")
            continue
        if name in alerts:
            problems.append(f"{name}: defined twice")
        alerts[name] = r
        severity = r.get("labels", {}).get("severity")
        if severity not in SEVERITIES:
            problems.append(f"{name}: severity {severity!r}, expected one of {', '.join(SEVERITIES)}")
        for key in ("summary", "description"):
            if not str(r.get("annotations", {}).get(key, "")).strip():
                problems.append(f"{name}: no {key} annotation")
        try:
            metrics = {s.metric for s in selectors(r["expr"])}
        except PromqlError as e:
            problems.append(f"{name}: {e}")
            continue
        if not metrics:
            problems.append(f"{name}: its expression reads no series")
        r["metrics"] = metrics

    doc = yaml.safe_load(tests_path.read_text())
    fires: dict[str, int] = {}
    quiet: dict[str, int] = {}
    for group in doc.get("tests", []):
        present = {metric_of(s["series"]) for s in group.get("input_series", [])}
        for t in group.get("alert_rule_test", []):
            name = t.get("alertname")
            rule = alerts.get(name)
            if rule is None:
                problems.append(f"test {group.get('name')!r} at {t.get('eval_time')}: no alert {name} in the rules")
                continue
            expected = t.get("exp_alerts") or []
            if not expected:
                # Quiet only counts where the series the alert reads are there to be read.
                if rule.get("metrics", set()) & present:
                    quiet[name] = quiet.get(name, 0) + 1
                continue
            fires[name] = fires.get(name, 0) + 1
            for e in expected:
                labels, notes = e.get("exp_labels", {}), e.get("exp_annotations", {})
                if labels.get("severity") != rule.get("labels", {}).get("severity"):
                    problems.append(f"{name}: a firing test at {t.get('eval_time')} without its severity label")
                if not notes.get("summary") or not notes.get("description"):
                    problems.append(f"{name}: a firing test at {t.get('eval_time')} does not check summary and "
                                    "description")
    for name, rule in alerts.items():
        if not fires.get(name):
            problems.append(f"{name}: no test where it fires")
        if not quiet.get(name):
            problems.append(f"{name}: no test where it stays quiet (exp_alerts: []) beside a series of "
                            f"{', '.join(sorted(rule.get('metrics', set()) - SYNTHETIC) or sorted(rule.get('metrics', set())))}")
    print(f"{len(alerts)} alerts in {rules_path.name}; tests firing {sum(fires.values())}, quiet {sum(quiet.values())}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    self_test()
    found = main(Path(sys.argv[1]), Path(sys.argv[2]))
    for p in found:
        print(f"FAIL {p}", file=sys.stderr)
    sys.exit(1 if found else 0)
