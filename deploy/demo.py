#!/usr/bin/env python3
"""The demo: a SIPp PBX calls through the real b2bua to a SIPp trunk, on 127.0.0.1.

A batch of calls passes (digest auth on both legs), then one call with a wrong PBX password
is refused with 403, and the relevant lines of /metrics are printed. Every process started
here is stopped by PID before the script exits.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import harness  # noqa: E402

SIP, HTTP, TRUNK, PBX = 5070, 9090, 5080, 5060


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--b2bua", type=Path, default=ROOT / "build" / "bin" / "b2bua")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--rate", type=int, default=10)
    args = ap.parse_args()

    for port, host in ((SIP, "127.0.0.1"), (TRUNK, harness.TRUNK_HOST), (PBX, "127.0.0.1")):
        if harness.udp_bound(port, host):
            print(f"UDP port {port} is already in use on {host}; stop what holds it and retry")
            return 1
    if harness.tcp_listening(HTTP):
        print(f"TCP port {HTTP} is already in use on 127.0.0.1")
        return 1

    with harness.Session(args.b2bua.resolve()) as s:
        b2bua = s.start_b2bua((ROOT / "deploy" / "demo.yaml").read_text(), SIP, HTTP, tcp=True)
        print(f"b2bua started (pid {b2bua.pid}): SIP on udp/tcp 127.0.0.1:{SIP}, metrics on http://127.0.0.1:{HTTP}/metrics")
        trunk = s.start_sipp_server("trunk", harness.SHARED_SCENARIOS / "trunk_uas_auth.xml", TRUNK,
                                    local_ip=harness.TRUNK_HOST)
        print(f"trunk (SIPp, pid {trunk.pid}) on {harness.TRUNK_HOST}:{TRUNK}: challenges with 401, checks trunkuser/trunkpass")

        print(f"\n1) PBX (SIPp) places {args.calls} calls at {args.rate}/s as pbxuser/pbxpass ...")
        good = s.start_sipp("pbx", harness.SHARED_SCENARIOS / "pbx_uac_auth.xml", PBX,
                            ["-s", "1000", "-au", "pbxuser", "-ap", "pbxpass", "-auth_uri", f"1000@127.0.0.1:{SIP}",
                             "-m", str(args.calls), "-r", str(args.rate), "-rp", "1000", "-timeout", "120s"],
                            remote=f"127.0.0.1:{SIP}")
        s.wait_sipp(good, 150)
        r = s.sipp_result(good)
        print(f"   PBX side: {r.successful} calls answered and hung up, {r.failed} failed")

        print("\n2) PBX places one call with a WRONG password ...")
        bad = s.start_sipp("pbx_bad", harness.ROOT / "tests" / "e2e" / "sipp" / "pbx_call_fails.xml", PBX,
                           ["-s", "1000", "-au", "pbxuser", "-ap", "wrong-password", "-auth_uri",
                            f"1000@127.0.0.1:{SIP}", "-m", "1", "-timeout", "30s"],
                           remote=f"127.0.0.1:{SIP}")
        s.wait_sipp(bad, 45)
        b = s.sipp_result(bad)
        finals = [harness.start_line(m) for d, m in b.messages if d == "received"
                  and harness.start_line(m).startswith("SIP/2.0 ") and not harness.start_line(m).startswith("SIP/2.0 1")]
        print(f"   answers the PBX got: {', '.join(finals)}")

        time.sleep(1.5)  # the trunk scenario keeps each call 1 s in timewait before counting it
        s.stop(trunk)
        t = s.sipp_result(trunk)
        print(f"   trunk side: {t.successful} calls completed, {t.failed} failed (the bad call never reached it)")

        metrics = harness.scrape(HTTP)
        print("\nb2bua log (auth failure line):")
        for line in b2bua.log().splitlines():
            if "auth failure" in line:
                print("   " + line)
        print(f"\nRelevant lines of http://127.0.0.1:{HTTP}/metrics:")
        wanted = ("b2bua_auth_", "b2bua_calls_total", "b2bua_active_calls", "b2bua_sip_parse_errors_total")
        for line in sorted(l for l in metrics.splitlines() if l.startswith(wanted)):
            print("   " + line)

        ok = r.successful == args.calls and r.failed == 0 and finals[-1:] == ["SIP/2.0 403 Forbidden"]
        print("\nDemo " + ("OK" if ok else "FAILED") + ": all processes are stopped on exit.")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
