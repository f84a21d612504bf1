#!/usr/bin/env python3
"""The cluster under load, longer than e2e.cluster: three b2bua nodes (127.0.0.11-13) behind
Kamailio's dispatcher (deploy/cluster/kamailio.cfg, 127.0.0.10) sharing a redis-server, a
registering Kamailio as the provider with a SIPp UAS behind it (127.0.0.2), and six SIPp PBXs
calling from six addresses (digest on both legs). Half-way through, the node that registers the
trunk is killed with SIGKILL. Loopback only.

  python3 bench/cluster.py                          60 calls/s for 60 s, the kill at 30 s
  python3 bench/cluster.py --rate 120 --duration 90 --kill-at 45 --b2bua /path/to/b2bua

Prints one line of figures (and `--json` writes them out): calls offered, answered and failed,
answered per node, each node's CPU per answered call (user+system of its process over the run),
the dispatcher's CPU per call (all its processes), when the dispatcher took the dead node out,
when a survivor registered the trunk, and how many calls failed at all.

Every helper is e2e.cluster's (tests/e2e/cases_cluster.py), so the bench runs what CI runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

import harness  # noqa: E402
import test_e2e  # noqa: E402

# cases_cluster.py runs with test_e2e's helpers in its namespace: take both from there.
E2E = test_e2e.CASES["cluster"].__globals__
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def family_cpu(pid: int) -> float:
    """CPU of `pid` and its children (Kamailio forks its workers)."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            total += cpu_seconds(int(child))
        except OSError:
            pass
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--b2bua", type=Path, default=Path(__file__).resolve().parents[1] / "build" / "bin" / "b2bua")
    ap.add_argument("--rate", type=int, default=60, help="calls a second, over all PBXs")
    ap.add_argument("--duration", type=int, default=60, help="seconds of calls")
    ap.add_argument("--kill-at", type=float, default=30, help="seconds into the run")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    nodes_ip, sources, dispatcher_ip = E2E["NODES"], E2E["PBX_SOURCES"], E2E["DISPATCHER"]
    free_port = harness.free_port
    node_port = E2E["_port_free_on_all"](nodes_ip)
    dispatcher_port = free_port((socket.SOCK_DGRAM,), host=dispatcher_ip)
    provider = E2E["PROVIDER_HOST"]
    kam_port, uas_port, switch_port = (free_port((socket.SOCK_DGRAM,), host=provider) for _ in range(3))
    pbx_port = free_port()
    https = [free_port((socket.SOCK_STREAM,)) for _ in nodes_ip]
    per_source = max(1, args.rate // len(sources))
    calls_each = per_source * args.duration
    out: dict = {"rate": per_source * len(sources), "duration_s": args.duration, "kill_at_s": args.kill_at}
    full_port = free_port((socket.SOCK_DGRAM,), host=provider)  # the e2e's refusing trunk: unused here
    with harness.Session(args.b2bua) as s:
        redis_port, _ = harness.start_redis(s)
        E2E["start_registrar"](s, "provider", provider, kam_port, ["NONCE_EXPIRE=300"], uas_port, switch_port)
        s.start_sipp_server("uas", harness.SHARED_SCENARIOS / "uas_plain.xml", uas_port, local_ip=provider, trace=False)
        s.start_sipp_server("pbx", harness.SHARED_SCENARIOS / "uas_plain.xml", pbx_port, trace=False)
        nodes = []
        for i in range(len(nodes_ip)):
            text = E2E["node_config"](i, node_port, https[i], dispatcher_port, redis_port, kam_port, pbx_port, full_port)
            nodes.append(s.start_b2bua(text.replace("  level: info\n", "  level: warn\n"), node_port, https[i],
                                       sip_host=nodes_ip[i], name=f"node{i + 1}"))
        dispatcher = E2E["start_dispatcher"](s, dispatcher_port, node_port)
        harness.wait_until(lambda: len(E2E["registrars"](https)) == 1, 15, "one node to register the trunk")
        owner = E2E["registrars"](https)[0]
        cpu0 = [cpu_seconds(n.pid) for n in nodes]
        kam0 = family_cpu(dispatcher.pid)

        start = time.time()
        load = []
        for n, src in enumerate(sources):
            load.append(s.start_sipp(f"load{n}", harness.SHARED_SCENARIOS / "pbx_uac_auth.xml", free_port(host=src),
                                     ["-s", "1000", "-au", "pbxuser", "-ap", "pbxpass", "-auth_uri",
                                      f"1000@{dispatcher_ip}:{dispatcher_port}", "-m", str(calls_each),
                                      "-r", str(per_source), "-timeout", f"{args.duration + 60}s",
                                      "-recv_timeout", "15000"],
                                     remote=f"{dispatcher_ip}:{dispatcher_port}", local_ip=src, trace=False))
        time.sleep(max(0.0, args.kill_at - (time.time() - start)))
        owner_cpu = cpu_seconds(nodes[owner].pid) - cpu0[owner]
        owner_answered = E2E["answered"](https[owner])
        os.kill(nodes[owner].pid, signal.SIGKILL)
        killed = time.time()
        nodes[owner].popen.wait(5)
        survivors = [i for i in range(len(nodes)) if i != owner]
        harness.wait_until(lambda: E2E["registrars"]([https[i] for i in survivors]) != [], 60,
                           "a survivor to register the trunk")
        out["registered_again_after_s"] = round(time.time() - killed, 2)
        offered = answered = failed = 0
        for r in load:
            s.wait_sipp(r, args.duration + 120)
            res = s.sipp_result(r)
            offered += calls_each
            answered += res.successful
            failed += res.failed
        cpu = {i: cpu_seconds(nodes[i].pid) - cpu0[i] for i in survivors}
        cpu[owner] = owner_cpu
        kam_cpu = family_cpu(dispatcher.pid) - kam0
        per_node = {i: E2E["answered"](https[i]) for i in survivors}
        per_node[owner] = owner_answered
        down_after = None
        for line in dispatcher.log().splitlines():
            if "CLUSTER node-down" in line or "CLUSTER node-timeout" in line:
                down_after = "seen"
                break
        out.update({
            "offered": offered, "answered": answered, "failed": failed,
            "answered_per_node": [per_node[i] for i in range(len(nodes))],
            "cpu_ms_per_call_per_node": [round(1000 * cpu[i] / per_node[i], 3) if per_node[i] else None
                                         for i in range(len(nodes))],
            "dispatcher_cpu_ms_per_call": round(1000 * kam_cpu / max(answered, 1), 3),
            "killed_node": owner + 1,
            "dispatcher_took_it_out": down_after is not None,
        })
        for i in survivors:
            os.kill(nodes[i].pid, signal.SIGTERM)
            nodes[i].popen.wait(60)
    print(" ".join(f"{k}={v}" for k, v in out.items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
