#!/usr/bin/env python3
"""What a held call costs in memory: SIPp places CALLS calls at RATE per second (digest on both
legs, as bench/run.sh) and holds them all; once every call is up and every transaction is gone
(Timers D, L, M: 64*T1 after the last call), the B2BUA's resident memory is read and divided by
the calls up. Loopback only.

  python3 bench/held_calls.py                       50,000 calls at 500/s (about 3 minutes)
  python3 bench/held_calls.py --calls 5000 --rate 500 --b2bua /path/to/b2bua
  python3 bench/held_calls.py --calls 5000 --heaptrack /tmp/held
      also traces the heap (heaptrack attached before the calls, the process killed once they are
      held, so what is still allocated is what the held calls and the idle process hold):
      heaptrack_print --print-leaks 1 /tmp/held.*.zst lists it by where it was allocated
  python3 bench/held_calls.py --calls 20000 --malloc-stats
      also asks glibc (gdb calls malloc_stats() in the held process) how much of its heap is in
      use and how much is free but still resident: the holes the transactions leave

Prints one line of figures (and `--json` writes them out): RSS before the calls and with them,
per call, the anonymous (heap) share, the calls and transactions the metrics count.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

import harness  # noqa: E402
from harness import HOST, SHARED_SCENARIOS, TRUNK_HOST, Session, free_port, metric, scrape  # noqa: E402

TRANSACTION_LINGER_S = 32 + 3  # 64*T1 with T1 = 500 ms, and a margin


def config(sip: int, http: int, trunk_port: int) -> str:
    text = harness.config_yaml(sip, http, trunk_port, extra=f"""security:
  trusted: [ "{HOST}/32" ]
calls:
  drain_s: 0
""").replace("  level: info\n", "  level: warn\n")
    return text


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and RssAnon (KiB) of `pid`."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0])
    return out


def malloc_stats(b2bua) -> str:
    """glibc's malloc_stats() of the running process (per arena: system bytes and in-use bytes),
    called through gdb; it writes to the process's stderr, which is its log."""
    before = len(b2bua.log())
    subprocess.run(["gdb", "-p", str(b2bua.pid), "-batch", "-nx", "-ex", "call (void)malloc_stats()"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    time.sleep(0.5)
    return b2bua.log()[before:]


def run(binary: Path, calls: int, rate: int, limit_s: float, heaptrack: Path | None = None,
        stats: bool = False) -> dict:
    ramp_s = calls / rate
    hold_ms = int((ramp_s + TRANSACTION_LINGER_S + 60) * 1000)
    sip, http, trunk_port, pbx_port = free_port(), free_port(), free_port(), free_port()
    with Session(binary) as s:
        b2bua = s.start_b2bua(config(sip, http, trunk_port), sip, http, log_level="warn")
        s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port,
                            ["-buff_size", "4194304"], local_ip=TRUNK_HOST, trace=False)
        tracer = None
        if heaptrack is not None:
            tracer = subprocess.Popen(["heaptrack", "-o", str(heaptrack), "-p", str(b2bua.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            time.sleep(8)  # gdb attaches and injects the tracer
        time.sleep(2)
        before = memory_kib(b2bua.pid)
        pbx = s.start_sipp("pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                           ["-buff_size", "4194304", "-s", "1000", "-au", "pbxuser", "-ap", "pbxpass",
                            "-auth_uri", f"1000@{HOST}:{sip}", "-m", str(calls), "-r", str(rate), "-rp", "1000",
                            "-d", str(hold_ms), "-l", str(calls + 100), "-recv_timeout", "20000"],
                           remote=f"{HOST}:{sip}", trace=False)
        started = time.monotonic()
        active = transactions = 0.0
        while time.monotonic() - started < limit_s:
            time.sleep(2)
            if not pbx.alive():
                raise RuntimeError(f"the PBX's SIPp ended early:\n{s.sipp_errors('pbx')[-2000:]}")
            text = scrape(http)
            active = metric(text, "b2bua_active_calls")
            transactions = (metric(text, "b2bua_sip_transactions", kind="client") +
                            metric(text, "b2bua_sip_transactions", kind="server"))
            if active >= calls and transactions == 0:
                break
        else:
            raise RuntimeError(f"after {limit_s:.0f} s: {active:.0f} calls up of {calls}, "
                               f"{transactions:.0f} transactions left")
        settled_s = time.monotonic() - started
        held = memory_kib(b2bua.pid)
        text = scrape(http)
        arenas = malloc_stats(b2bua) if stats else ""
        failed = sum(v for labels, v in harness.samples(text, "b2bua_calls_total")
                     if labels.get("result") not in ("answered",))
        # Killed, not stopped: a clean stop would end every held call with a BYE on both legs (the
        # drain, tested elsewhere), which takes longer than the harness waits; and a trace must end
        # with the calls still allocated.
        b2bua.popen.send_signal(signal.SIGKILL)
        b2bua.popen.wait(timeout=10)
        s.processes.remove(b2bua)
        if tracer is not None:
            tracer.wait(timeout=120)
    growth = held["VmRSS"] - before["VmRSS"]
    return {
        "calls": calls, "rate": rate, "calls_up": int(active), "transactions": int(transactions),
        "settled_after_s": round(settled_s, 1), "rss_before_kib": before["VmRSS"],
        "rss_held_kib": held["VmRSS"], "anon_held_kib": held["RssAnon"],
        "per_call_bytes": round(growth * 1024 / max(active, 1)),
        "anon_per_call_bytes": round((held["RssAnon"] - before["RssAnon"]) * 1024 / max(active, 1)),
        "calls_not_answered": int(failed), "malloc_stats": arenas,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--b2bua", type=Path, default=harness.ROOT / "build" / "bin" / "b2bua")
    p.add_argument("--calls", type=int, default=50000)
    p.add_argument("--rate", type=int, default=500)
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--heaptrack", type=Path, help="trace the heap into this file (heaptrack -o)")
    p.add_argument("--malloc-stats", action="store_true", help="print glibc's malloc_stats() once the calls are held")
    args = p.parse_args()
    limit = args.calls / args.rate + TRANSACTION_LINGER_S + 60
    r = run(args.b2bua.resolve(), args.calls, args.rate, limit, args.heaptrack, args.malloc_stats)
    print(f"held calls: {r['calls_up']} up ({r['calls']} placed at {r['rate']}/s), {r['transactions']} transactions "
          f"left after {r['settled_after_s']} s; RSS {r['rss_before_kib']} KiB before, {r['rss_held_kib']} KiB held: "
          f"{r['per_call_bytes']} bytes per call ({r['anon_per_call_bytes']} anonymous); "
          f"{r['calls_not_answered']} calls not answered")
    if r["malloc_stats"]:
        print(r["malloc_stats"].rstrip())
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")
    return 0 if r["calls_up"] >= r["calls"] and r["calls_not_answered"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
