"""End-to-end case for the Grafana dashboard (deploy/grafana). Grafana itself is not packaged in
Debian 12, so the dashboard is checked as Grafana would use it: its JSON model and the provisioning
files are checked for structure, and every query of every panel runs against a real Prometheus
scraping a real b2bua after test traffic (registrations both ways, answered calls, a failover on a
trunk refusing our credentials, a wrong PBX password).

Loaded by test_e2e.py, which puts its helpers (check, Session, start_registrar, sipp_calls...) in this
module's namespace. Prometheus comes from the Debian package (deploy/install-deps.sh).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import socket
import time
from pathlib import Path

import yaml

import harness
from harness import HOST

PROMETHEUS = "/usr/bin/prometheus"
GRAFANA_DIR = harness.ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "b2bua.json"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA_DIR / "provisioning" / "dashboards" / "b2bua.yml"
# Where deploy/docker/compose.yml mounts deploy/grafana/dashboards in the Grafana container.
DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards"

# Panels without queries of their own.
LAYOUT_PANELS = {"row", "text"}
# Label names Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance"}
# PromQL words that are neither a function nor a metric (https://prometheus.io/docs/prometheus/latest/querying/).
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
                   "group_right", "inf", "nan"}
PROMQL_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
PROMQL_FUNCTIONS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_quantile",
    "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10",
    "minute", "month", "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt",
    "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
    "present_over_time",
}

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<range>\[[^\]]*\])
  | (?P<punct>=~|!~|!=|==|<=|>=|[-+*/%^(){},=<>])
)""", re.X)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        check(m is not None and m.end() > pos, f"cannot read PromQL at {expr[pos:pos + 30]!r} in {expr!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def promql_parts(expr: str) -> tuple[list[tuple[str, list[tuple[str, str, str]]]], set[str], set[str]]:
    """What a PromQL expression names: its selectors (metric name, [(label, op, value)]), the label
    names of its by/without/on/ignoring/group_* clauses, and its functions."""
    toks = _tokens(expr)
    selectors: list[tuple[str, list[tuple[str, str, str]]]] = []
    grouping: set[str] = set()
    functions: set[str] = set()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "ident" and text in PROMQL_GROUPING and nxt == "(":
            j = i + 2
            while toks[j][1] != ")":
                if toks[j][0] == "ident":
                    grouping.add(toks[j][1])
                j += 1
            i = j + 1
            continue
        if kind == "ident" and (nxt == "(" or (text in PROMQL_FUNCTIONS and nxt in ("by", "without"))):
            functions.add(text)
            i += 1
            continue
        if kind == "ident" and text.lower() not in PROMQL_KEYWORDS:
            matchers: list[tuple[str, str, str]] = []
            i += 1
            if i < len(toks) and toks[i][1] == "{":
                i += 1
                while toks[i][1] != "}":
                    if toks[i][1] == ",":
                        i += 1
                        continue
                    label, op, value = toks[i][1], toks[i + 1][1], toks[i + 2][1]
                    check(toks[i][0] == "ident" and op in ("=", "!=", "=~", "!~") and toks[i + 2][0] == "string",
                          f"unreadable matcher {label}{op}{value} in {expr!r}")
                    matchers.append((label, op, json.loads(value) if value.startswith('"') else value[1:-1]))
                    i += 3
                i += 1
            selectors.append((text, matchers))
            continue
        check(not (kind == "punct" and text == "{"), f"a selector without a metric name in {expr!r}")
        i += 1
    return selectors, grouping, functions


def exposition_labels(text: str) -> dict[str, dict[str, set[str]]]:
    """Every sample name of a /metrics text -> its label names -> the values seen."""
    out: dict[str, dict[str, set[str]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s", line)
        check(m is not None, f"unreadable /metrics line {line!r}")
        labels = out.setdefault(m.group(1), {})
        for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""):
            labels.setdefault(k, set()).add(v)
    return out


# ---------------------------------------------------------------------------- structure
def check_dashboard_structure(dash: dict) -> list[dict]:
    """Grafana's JSON model as provisioning loads it; returns the panels that query."""
    check(isinstance(dash.get("schemaVersion"), int) and 36 <= dash["schemaVersion"] <= 39,
          f"schemaVersion {dash.get('schemaVersion')}, expected Grafana 9/10's (36-39)")
    check(dash.get("uid") and len(dash["uid"]) <= 40 and dash.get("title"), "dashboard uid or title missing")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    check(set(variables) == {"datasource", "trunk"}, f"template variables {sorted(variables)}")
    ds = variables["datasource"]
    check(ds["type"] == "datasource" and ds["query"] == "prometheus", f"$datasource is {ds}")
    trunk = variables["trunk"]
    check(trunk["type"] == "query" and trunk["datasource"] == {"type": "prometheus", "uid": "${datasource}"},
          f"$trunk is not a query of $datasource: {trunk}")
    check(trunk.get("includeAll") and trunk.get("multi"), "$trunk does not offer All and several trunks")
    panels = dash.get("panels")
    check(isinstance(panels, list) and panels, "no panels")
    flat = []
    for p in panels:
        flat.append(p)
        flat.extend(p.get("panels", []))  # a collapsed row keeps its panels inside
    ids = [p.get("id") for p in flat]
    check(all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids), f"panel ids not unique integers: {ids}")
    querying = []
    for p in flat:
        where = f"panel {p.get('id')} {p.get('title')!r}"
        check(p.get("title") and p.get("type"), f"{where}: no title or type")
        g = p.get("gridPos", {})
        check(all(isinstance(g.get(k), int) for k in ("h", "w", "x", "y")) and g["x"] + g["w"] <= 24 and g["w"] > 0,
              f"{where}: gridPos {g}")
        if p["type"] in LAYOUT_PANELS:
            continue
        check(p.get("datasource") == {"type": "prometheus", "uid": "${datasource}"},
              f"{where}: datasource {p.get('datasource')} is not the $datasource variable")
        targets = p.get("targets") or []
        check(targets, f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        check(len(set(refs)) == len(refs) and all(refs), f"{where}: refIds {refs}")
        for t in targets:
            check(t.get("expr", "").strip(), f"{where}: a target without expr")
            check(t.get("datasource") in (None, p["datasource"]), f"{where}: a target of another data source")
        querying.append(p)
    # Nothing overlaps: Grafana would move panels around.
    cells: dict[tuple[int, int], int] = {}
    for p in flat:
        g = p["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for yy in range(g["y"], g["y"] + g["h"]):
                check((x, yy) not in cells, f"panel {p['id']} overlaps panel {cells.get((x, yy))}")
                cells[(x, yy)] = p["id"]
    return querying


def check_provisioning():
    """The two provisioning files Grafana reads from /etc/grafana/provisioning."""
    sources = yaml.safe_load(DATASOURCES.read_text())
    check(sources.get("apiVersion") == 1, f"{DATASOURCES.name}: apiVersion {sources.get('apiVersion')}")
    entries = sources.get("datasources")
    check(isinstance(entries, list) and len(entries) == 1, f"{DATASOURCES.name}: datasources {entries}")
    src = entries[0]
    for key in ("name", "type", "uid", "url", "access"):
        check(src.get(key), f"{DATASOURCES.name}: no {key}")
    check(src["type"] == "prometheus" and src["uid"] == "prometheus" and src["access"] == "proxy",
          f"{DATASOURCES.name}: {src}")
    check(src["url"] == "${PROMETHEUS_URL}", f"{DATASOURCES.name}: url {src['url']!r}, expected ${{PROMETHEUS_URL}}")
    dash = json.loads(DASHBOARD.read_text())
    ds_var = [v for v in dash["templating"]["list"] if v["name"] == "datasource"][0]
    check(ds_var["current"].get("value") == src["uid"], "the dashboard's default data source is not the provisioned uid")

    providers = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())
    check(providers.get("apiVersion") == 1, f"{DASHBOARD_PROVIDERS.name}: apiVersion {providers.get('apiVersion')}")
    entries = providers.get("providers")
    check(isinstance(entries, list) and len(entries) == 1, f"{DASHBOARD_PROVIDERS.name}: providers {entries}")
    p = entries[0]
    check(p.get("name") and p.get("type") == "file", f"{DASHBOARD_PROVIDERS.name}: {p}")
    check(p.get("options", {}).get("path") == DASHBOARDS_MOUNT,
          f"{DASHBOARD_PROVIDERS.name}: path {p.get('options')}, expected {DASHBOARDS_MOUNT}")
    check(isinstance(p.get("orgId", 1), int) and isinstance(p.get("updateIntervalSeconds", 10), int),
          f"{DASHBOARD_PROVIDERS.name}: orgId/updateIntervalSeconds not integers")


# ---------------------------------------------------------------------------- queries
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def substitute(expr: str, values: dict[str, str]) -> str:
    """Grafana's interpolation of the variables a query uses; an unknown one fails the test."""
    def one(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        check(name in values, f"query uses ${name}, which the test does not know: {expr!r}")
        return values[name]
    return _VARIABLE.sub(one, expr)


def _values(series: dict) -> list[float]:
    raw = series.get("values") or [series["value"]]
    return [float(v) for _, v in raw]


def check_names(expr: str, families: dict[str, dict[str, set[str]]], where: str) -> set[str]:
    """Every metric the query names is exported (or is `up`), every label it matches or groups by
    is a label of what it names, every literal value it matches exactly is a value /metrics has."""
    selectors, grouping, functions = promql_parts(expr)
    check(selectors, f"{where}: {expr!r} names no metric")
    unknown_fn = functions - PROMQL_FUNCTIONS
    check(not unknown_fn, f"{where}: unknown PromQL functions {unknown_fn}")
    names = set()
    labels_here = set(TARGET_LABELS)
    for name, matchers in selectors:
        check(name in families or name == "up", f"{where}: {name} is not exported by the b2bua's /metrics")
        names.add(name)
        known = families.get(name, {})
        labels_here |= set(known) | ({"le"} if name.endswith("_bucket") else set())
        for label, op, value in matchers:
            check(label in known or label in TARGET_LABELS,
                  f"{where}: {name} has no label {label!r} (it has {sorted(known)})")
            if op == "=" and label in known:
                check(value in known[label], f"{where}: {name}{{{label}={value!r}}} matches nothing /metrics "
                      f"exports (values: {sorted(known[label])})")
    check(grouping <= labels_here, f"{where}: grouped by {sorted(grouping - labels_here)}, labels of none of {names}")
    return names


def case_grafana_dashboard_queries(binary: Path):
    """deploy/grafana: the dashboard's JSON model (unique ids, gridPos, the $datasource variable on every
    panel, targets on every panel but rows) and the provisioning files; then a real Prometheus scraping
    every second a b2bua carrying test traffic: a trunk registering with Kamailio (refreshed), a PBX
    registering, answered calls, a call failing over from a trunk that refuses our credentials, a wrong
    PBX password (the node is a cluster of one with a real Redis, for the Cluster row). Every panel
    query, with the variables Grafana would put in ($trunk as All and as one
    trunk), is accepted by /api/v1/query and, for time series, /api/v1/query_range; names only metrics,
    labels and values the b2bua's /metrics has; the calls, authentication failure and registration
    panels return the traffic's data."""
    dash = json.loads(DASHBOARD.read_text())
    panels = check_dashboard_structure(dash)
    check_provisioning()
    check(shutil.which(PROMETHEUS), f"{PROMETHEUS} is missing: deploy/install-deps.sh installs the prometheus package")

    sip, http, _, pbx_port = ports()
    kam_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    check(kam_port != uas_port, "port clash on 127.0.0.2; rerun")
    backup_host = "127.0.0.3"
    backup_port = free_port((socket.SOCK_DGRAM,), host=backup_host)
    prom_port = free_port((socket.SOCK_STREAM,))
    answered_calls = 4
    # Kamailio grants 20 s though 60 s are asked: the refresh comes 10-16 s after the first 200.
    granted = 20
    with Session(binary) as s:
        # Prometheus first, so its first scrape (about 5 s after start) finds the b2bua's counters
        # before the traffic: increase() and rate() see every event of the test.
        cfg = s.workdir / "prometheus.yml"
        harness.prometheus_config(cfg, f"{HOST}:{http}", "tests/e2e/cases_grafana.py")
        prom = s.start_process("prometheus", [PROMETHEUS, f"--config.file={cfg}",
                                              f"--storage.tsdb.path={s.workdir / 'tsdb'}",
                                              f"--web.listen-address={HOST}:{prom_port}"], s.workdir)
        started = time.time()
        start_registrar(s, "kamailio", PROVIDER_HOST, kam_port, [f"MAX_EXPIRES={granted}", "REQUIRE_REGISTERED"],
                        uas_port)
        s.start_sipp_server("uas", SHARED_SCENARIOS / "uas_plain.xml", uas_port, local_ip=PROVIDER_HOST)
        backup = s.start_sipp_server("backup", SCENARIOS / "trunk_challenges_twice.xml", backup_port,
                                     local_ip=backup_host)
        trunks = [registered_trunk("carrier", PROVIDER_HOST, kam_port, 60),
                  f'{{ name: backup, uri: "sip:{backup_host}:{backup_port}", username: trunkuser, password: trunkpass }}']
        config = harness.trunks_config_yaml(sip, http, trunks, ['{ prefix: "9", trunks: [ backup, carrier ] }',
                                                                '{ prefix: "", trunk: carrier }'])
        config = config.replace("  realm: pbx.local\n", "  realm: pbx.local\n  registrar: { min_expires: 60 }\n"
                                "  nonce_secret: grafana-case-shared-secret-01\n")
        # A node of a cluster of one, with a real Redis, so the Cluster row's series exist too.
        redis_port, _ = harness.start_redis(s)
        config += (f'\ncluster:\n  dispatchers: [ "127.0.0.10/32" ]\n  node_id: grafana-node\n'
                   f'  redis: "{HOST}:{redis_port}"\n  lease_s: 3\n')
        s.start_b2bua(config, sip, http)
        harness.wait_until(lambda: registration_state(http, "carrier") == "registered", 10, "carrier to register")
        registered_at = time.time()

        def stored(query: str) -> bool:
            if not prom.alive():
                raise harness.HarnessError(f"prometheus exited:\n{prom.log()[-3000:]}")
            try:
                return bool(harness.prometheus_api(prom_port, "/api/v1/query", query=query)["result"])
            except (OSError, harness.HarnessError):
                return False

        harness.wait_until(lambda: stored("b2bua_calls_total"), 30, "Prometheus's first scrape of the b2bua",
                           interval=0.2)
        first_scrape = time.time()
        check(first_scrape < registered_at + 0.5 * granted,
              f"Prometheus's first scrape came {first_scrape - registered_at:.1f} s after the registration, "
              "maybe after its refresh")

        sipp_register(s, "register", "pbx_registers.xml", sip, pbx_port, 600)
        pbx = sipp_calls(s, "pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, free_port(), answered_calls, 10,
                         PBX_AUTH, timeout=20)
        check(pbx.successful == answered_calls, f"{pbx.successful} of {answered_calls} calls answered:\n{pbx.errors}")
        # A number of prefix 9: the backup first, which challenges our answer again; the carrier takes it.
        moved = s.start_sipp("moved", SHARED_SCENARIOS / "pbx_uac_auth.xml", free_port(),
                             ["-s", "9000", *PBX_AUTH, "-auth_uri", f"9000@{HOST}:{sip}", "-m", "1", "-timeout", "20s",
                              "-recv_timeout", "15000"], remote=f"{HOST}:{sip}")
        s.wait_sipp(moved, 35)
        moved_r = s.sipp_result(moved)
        check(moved_r.successful == 1, f"the call failing over to the carrier was not answered:\n{moved_r.errors}")
        wrong = sipp_calls(s, "wrong", SCENARIOS / "pbx_call_fails.xml", sip, free_port(), 1, 1,
                           ["-au", "pbxuser", "-ap", "not-the-password"], timeout=15)
        check(wrong.successful == 1 and statuses(wrong)[-1] == 403, f"wrong password: {statuses(wrong)}")
        stop_trunk(s, backup)
        harness.wait_until(lambda: registration_metric(http, "attempts_total", "carrier", outcome="registered") >= 2,
                           granted, "carrier's registration refresh")
        traffic_end = time.time()
        harness.wait_until(lambda: stored(f"timestamp(b2bua_build_info) > {traffic_end + 1:.3f}"), 15,
                           "Prometheus to scrape after the traffic", interval=0.2)

        text = scrape(http)
        families = exposition_labels(text)
        # The $trunk variable: label_values(b2bua_trunk_up, trunk), as Grafana asks Prometheus.
        var_query = [v for v in dash["templating"]["list"] if v["name"] == "trunk"][0]["query"]["query"]
        m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", var_query)
        check(m is not None, f"$trunk's query {var_query!r}")
        check(m.group(2) in families.get(m.group(1), {}), f"$trunk's query {var_query!r}: no such label")
        trunk_values = harness.prometheus_api(prom_port, f"/api/v1/label/{m.group(2)}/values", **{"match[]": m.group(1)})
        check(sorted(trunk_values) == ["backup", "carrier"], f"$trunk's values {trunk_values}")

        now = time.time()
        span = int(now - started) + 1
        common = {"datasource": "prometheus", "__rate_interval": "1m", "__interval": "1s", "__range": f"{span}s",
                  "__range_s": str(span)}
        variants = {"all": dict(common, trunk="(" + "|".join(re.escape(v) for v in trunk_values) + ")"),
                    "carrier": dict(common, trunk="carrier")}
        results: dict[str, list[tuple[dict, dict, set[str], list[dict]]]] = {k: [] for k in variants}
        queries = 0
        for p in panels:
            for t in p["targets"]:
                where = f"panel {p['id']} {p['title']!r} {t['refId']}"
                for variant, values in variants.items():
                    expr = substitute(t["expr"], values)
                    names = check_names(expr, families, where)
                    instant = harness.prometheus_api(prom_port, "/api/v1/query", query=expr, time=f"{now:.3f}")
                    queries += 1
                    check(instant["resultType"] in ("vector", "scalar"), f"{where}: result {instant['resultType']}")
                    series = instant["result"] if instant["resultType"] == "vector" else [{"metric": {}, "value": instant["result"]}]
                    if t.get("range", True) and not t.get("instant"):
                        series = harness.prometheus_api(prom_port, "/api/v1/query_range", query=expr, start=f"{started:.3f}",
                                       end=f"{now:.3f}", step="1")["result"]
                        queries += 1
                    results[variant].append((p, t, names, series))
                    for legend_label in re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")):
                        check(all(legend_label in r["metric"] for r in series),
                              f"{where}: legend {{{{{legend_label}}}}} is not a label of its series")

        def panels_naming(family: str, variant: str = "all"):
            return [(p, t, series) for p, t, names, series in results[variant] if family in names]

        def some_series(family: str, variant: str = "all", **labels: str) -> list[float]:
            """The values of every series, from a panel naming `family`, that has `labels`."""
            return [v for _, _, series in panels_naming(family, variant) for r in series
                    if all(r["metric"].get(k) == val for k, val in labels.items()) for v in _values(r)]

        for family in ("b2bua_calls_total", "b2bua_auth_failures_total", "b2bua_upstream_registration_state",
                       "b2bua_upstream_registration_attempts_total", "b2bua_downstream_registrations",
                       "b2bua_cluster_redis_up", "b2bua_cluster_trunk_leases"):
            found = panels_naming(family)
            check(found, f"no panel shows {family}")
            for p, t, series in found:
                check(series, f"panel {p['id']} {p['title']!r} {t['refId']} returned no data after the traffic")
        check(max(some_series("b2bua_cluster_redis_up"), default=0) == 1, "the Redis panel does not show it reachable")
        check(max(some_series("b2bua_cluster_trunk_leases"), default=0) == 1,
              "the leases panel does not show the lease on carrier's registration")
        check(max(some_series("b2bua_calls_total", direction="outbound", trunk="carrier"), default=0) > 0,
              "no call panel shows the calls answered through carrier")
        in_range = some_series("b2bua_calls_total", direction="outbound", trunk="carrier", result="answered")
        check(in_range and max(in_range) >= answered_calls + 1,
              f"calls answered through carrier in the time range {in_range}, expected {answered_calls + 1}")
        check(max(some_series("b2bua_auth_failures_total", peer="pbx.local", reason="wrong_password"), default=0) > 0,
              "no auth failure panel shows the wrong PBX password")
        check(max(some_series("b2bua_auth_failures_total", peer="backup", reason="rejected"), default=0) > 0,
              "no auth failure panel shows the backup refusing our credentials")
        check(max(some_series("b2bua_trunk_failovers_total", **{"from": "backup", "to": "carrier", "status": "auth"}),
                  default=0) > 0, "the failover panel does not show backup -> carrier (auth)")
        check(max(some_series("b2bua_upstream_registration_attempts_total", trunk="carrier", outcome="registered"),
                  default=0) > 0, "the REGISTER attempts panel does not show carrier's refresh")
        check(max(some_series("b2bua_downstream_registrations"), default=0) == 1, "PBX registrations panel is not 1")
        # The state timeline's encoding and its value mapping: carrier is "registered" now.
        state_panels = panels_naming("b2bua_upstream_registration_state")
        shown = []
        for p, _, series in state_panels:
            mapping = {}
            for mp in p["fieldConfig"]["defaults"].get("mappings", []):
                mapping.update({float(k): v["text"] for k, v in mp.get("options", {}).items()})
            for r in series:
                if r["metric"].get("trunk") == "carrier" and mapping:
                    shown.append(mapping.get(_values(r)[-1]))
        check("registered" in shown, f"the registration state panels show carrier as {shown}")
        setup = [v for v in some_series("b2bua_call_setup_seconds_bucket", direction="outbound") if not math.isnan(v)]
        check(setup and 0 < max(setup) <= 60, f"setup time percentiles {setup[-5:]}")
        # $trunk = carrier: no trunk-filtered panel shows backup.
        for p, t, names, series in results["carrier"]:
            if "$trunk" in t["expr"] or "${trunk}" in t["expr"]:
                for r in series:
                    for label in ("trunk", "peer", "from"):
                        check(r["metric"].get(label) != "backup",
                              f"panel {p['id']} {p['title']!r} shows backup with $trunk = carrier")
        s.stop(prom)
    print(f"grafana_dashboard_queries: {len(panels)} panels, "
          f"{sum(len(p['targets']) for p in panels)} targets, {queries} queries accepted with $trunk All and carrier; "
          f"families, labels and values all in /metrics; calls, auth failures (wrong_password, rejected), "
          f"registrations (carrier registered and refreshed, 1 PBX binding) and the failover shown")
