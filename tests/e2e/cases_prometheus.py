"""End-to-end cases for /metrics as Prometheus itself sees it: the exposition passes
`promtool check metrics` (the Debian prometheus package's linter), and a real Prometheus server
scraping the b2bua stores an authentication failure with its reason and peer.

Loaded by test_e2e.py, which puts its helpers (check, Session, config_yaml, run_calls...) in this
module's namespace. Prometheus and promtool come from the Debian package (deploy/install-deps.sh).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import harness
from harness import HOST, TRUNK_HOST

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"

# Families the metrics must have on a live scrape, whatever the traffic.
EXPECTED_FAMILIES = (
    "b2bua_build_info", "b2bua_call_setup_seconds", "b2bua_call_duration_seconds", "b2bua_sip_transactions",
    "b2bua_auth_failures_total", "b2bua_sip_connections", "process_cpu_seconds_total",
    "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
    "process_start_time_seconds",
)


def _tool(path: str) -> str:
    check(shutil.which(path) is not None, f"{path} is missing: deploy/install-deps.sh installs the prometheus package")
    return path


def _families(text: str) -> dict[str, str]:
    """The `# TYPE` lines of an exposition: family name -> type."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out


def case_promtool_check_metrics(binary: Path):
    """A live scrape, after a call was answered and ended, passes `promtool check metrics` with no
    lint line; the process_* families, build info and call histograms are in it."""
    promtool = _tool(PROMTOOL)
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", 2, 2)
        all_passed(pbx, trunk_r, 2)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        text = scrape(http)
        lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        report = (lint.stdout + lint.stderr).strip()
        check(lint.returncode == 0 and report == "",
              f"promtool check metrics exited {lint.returncode}:\n{report}")

        kinds = _families(text)
        for name in EXPECTED_FAMILIES:
            check(name in kinds, f"no family {name} in /metrics")
        check(kinds["b2bua_call_setup_seconds"] == "histogram", "b2bua_call_setup_seconds is not a histogram")
        check(kinds["process_cpu_seconds_total"] == "counter", "process_cpu_seconds_total is not a counter")
        check(metric(text, "b2bua_call_setup_seconds_count", direction="outbound") == 2, "setup times observed != 2")
        check(metric(text, "b2bua_call_duration_seconds_count", direction="outbound") == 2, "durations observed != 2")
        check(metric(text, "b2bua_build_info") == 1, "b2bua_build_info is not 1")
        check(re.search(r'^b2bua_build_info\{[^}]*version="\d+\.\d+\.\d+"', text, re.M) is not None,
              "b2bua_build_info has no version label")
        pid = s.processes[0].pid
        open_fds = metric(text, "process_open_fds")
        check(open_fds >= 3, f"process_open_fds {open_fds}")
        start = metric(text, "process_start_time_seconds")
        check(time.time() - 120 < start <= time.time() + 1, f"process_start_time_seconds {start} is not in the last 2 minutes")
        check(metric(text, "process_resident_memory_bytes") > 1 << 20, "process_resident_memory_bytes under 1 MiB")
        print(f"promtool_check_metrics: {len(kinds)} families, promtool silent; pid {pid} "
              f"open fds {open_fds:.0f}, max {metric(text, 'process_max_fds'):.0f}")



def case_prometheus_scrapes_auth_failure(binary: Path):
    """A real Prometheus scrapes the b2bua every second: its query API has
    b2bua_auth_failures_total{reason="wrong_password"} at 0 before any call and at 1 after a call
    with a wrong password, with peer=pbx.local (the realm) and direction=downstream; its target is
    up with no scrape error."""
    prometheus = _tool(PROMETHEUS)
    sip, http, trunk_port, pbx_port = ports()
    prom_port = free_port((harness.socket.SOCK_STREAM,))
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        cfg = s.workdir / "prometheus.yml"
        harness.prometheus_config(cfg, f"{HOST}:{http}", "tests/e2e/cases_prometheus.py")
        prom = s.start_process("prometheus", [prometheus, f"--config.file={cfg}",
                                              f"--storage.tsdb.path={s.workdir / 'tsdb'}",
                                              f"--web.listen-address={HOST}:{prom_port}"], s.workdir)

        def ready():
            if not prom.alive():
                raise harness.HarnessError(f"prometheus exited with {prom.popen.returncode}:\n{prom.log()[-3000:]}")
            return harness.prometheus_ready(prom_port)

        harness.wait_until(ready, 30, "Prometheus to be ready", interval=0.2)
        query = 'b2bua_auth_failures_total{reason="wrong_password"}'

        def series(at_least: float) -> list[dict]:
            return [r for r in harness.prometheus_api(prom_port, "/api/v1/query", query=query)["result"]
                    if float(r["value"][1]) >= at_least]

        # Before any call the series is already stored, at 0 (Prometheus's first scrape comes after
        # its target discovery's first update, about 5 s).
        harness.wait_until(lambda: bool(series(0)), 30, f"Prometheus to store {query} at 0", interval=0.5)
        check(not series(1), f"{query} above 0 before any call: {series(0)}")

        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1,
                         ["-au", "pbxuser", "-ap", "not-the-password"])
        t0 = time.monotonic()
        stop_trunk(s, trunk)
        check(pbx.successful == 1, f"PBX call did not end in a failure response:\n{pbx.errors}")
        check(statuses(pbx)[-1] == 403, f"expected 403 after the wrong password, got {statuses(pbx)}")

        found: list[dict] = []

        def stored():
            found[:] = series(1)
            return bool(found)

        harness.wait_until(stored, 30, f"Prometheus to return {query} >= 1", interval=0.5)
        waited = time.monotonic() - t0
        check(len(found) == 1, f"expected one failing series, got {found}")
        labels = found[0]["metric"]
        check(labels.get("peer") == "pbx.local", f"peer is {labels.get('peer')!r}, expected the realm pbx.local")
        check(labels.get("direction") == "downstream", f"direction is {labels.get('direction')!r}")
        check(labels.get("job") == "b2bua" and labels.get("instance") == f"{HOST}:{http}", f"labels {labels}")
        check(float(found[0]["value"][1]) == 1, f"value {found[0]['value'][1]}, expected 1")
        # Every other reason exists at zero (known from the first scrape), not absent.
        zero = harness.prometheus_api(prom_port, "/api/v1/query",
                    query='b2bua_auth_failures_total{direction="downstream",peer="pbx.local",reason="unknown_user"}')
        check(len(zero["result"]) == 1 and float(zero["result"][0]["value"][1]) == 0,
              f"unknown_user not exported at 0: {zero}")

        targets = harness.prometheus_api(prom_port, "/api/v1/targets")["activeTargets"]
        check(len(targets) == 1, f"expected one target, got {targets}")
        check(targets[0]["health"] == "up" and targets[0]["lastError"] == "",
              f"the b2bua target is {targets[0]['health']}: {targets[0]['lastError']}")
        s.stop(prom)
        print(f"prometheus_scrapes_auth_failure: {query} = {found[0]['value'][1]} {{peer={labels['peer']}, "
              f"direction={labels['direction']}}} in Prometheus {waited:.1f} s after the call")
