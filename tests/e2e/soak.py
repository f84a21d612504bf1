#!/usr/bin/env python3
"""Soak: SIPp calls held for a while at a steady rate, with a password-guessing attacker and admin
API writes running at the same time, on loopback only.

What it proves: no legitimate call fails; resident memory is flat once the held calls have
reached their steady number (the curve is written out); the descriptor count does not grow.

  python3 tests/e2e/soak.py --b2bua build/bin/b2bua --duration 600 --rate 1000 --hold-ms 5000
      the long run (bench/soak.sh; figures in bench/README.md)
  the e2e case `soak_short` runs it in `.ci/run`: 30 s measured after the warm-up, at a lower rate.

The PBX (SIPp, 127.0.0.1) is in `security.trusted`, as the README says a busy PBX should be; the
attacker guesses passwords with svcrack from addresses of its own (127.0.0.100 onwards), one
after another as each is banned (with the scanner User-Agent list emptied, so its guesses reach
digest authentication); the admin API is written to every half second.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import HOST, SHARED_SCENARIOS, TRUNK_HOST, Session, free_port, metric, scrape  # noqa: E402

TOKEN = "soak-admin-token-0123456789"
# SIPp's socket buffers, as ../shared/bench/run-anchor.sh sets them (its default, 64 KB, drops
# datagrams at 1,000 calls/s whenever SIPp stalls for a few ms; capped by net.core.rmem_max).
SIPP_BUFFER = "4194304"


@dataclass
class Sample:
    t: float
    rss_kib: int
    fds: int
    active_calls: float
    banned: float


@dataclass
class SoakResult:
    duration_s: int
    rate: int
    hold_ms: int
    successful: int = 0
    failed: int = 0
    samples: list[Sample] = field(default_factory=list)
    api_writes: int = 0
    api_failures: int = 0
    attackers: int = 0
    warmup_s: float = 0.0
    cpu_s: float = 0.0
    # What the b2bua counted at the end, for telling a failed call's cause: its call results
    # other than answered, its limit hits and its dropped requests, each by label value.
    outcomes: dict[str, float] = field(default_factory=dict)
    # Datagrams the kernel dropped because a receiver's socket buffer was full, per receiver: a
    # lost ACK makes the trunk's SIPp give up a call (its scenario has no retransmission), so a
    # failure is only ours if the loss is.
    udp_drops: dict[str, int] = field(default_factory=dict)
    sipp_errors: list[str] = field(default_factory=list)
    # The slowest /metrics answer: the HTTP thread also writes the store (CDRs every second,
    # each commit synced), so a slow disk shows here first.
    slowest_scrape_s: float = 0.0
    # Moments this harness's own clock thread woke late (wall time, seconds late): a process
    # other than the b2bua that stalls too says the machine stalled, not the b2bua.
    box_stalls: list[tuple[float, float]] = field(default_factory=list)
    # The b2bua's overload episodes from its log: (wall time, ms late, its account of the time).
    overloads: list[tuple[float, int, str]] = field(default_factory=list)

    def box_stall_near(self, when: float, late_ms: int) -> float:
        """The longest stall of this harness's clock thread around an overload the b2bua logged
        at `when` (it logs once the late tick has run, so the stall ends at or before `when`)."""
        window_start, window_end = when - late_ms / 1000 - 1.0, when + 1.0
        return max((late for t, late in self.box_stalls if window_start <= t <= window_end), default=0.0)

    def overload_refusals(self) -> float:
        return self.outcomes.get("calls overload", 0.0)

    def failures_from_box_stalls(self) -> bool:
        """Every failed call was refused by the overload guard, and every overload episode came
        with a stall of the machine that this harness saw too (at least half as long)."""
        if not self.failed or not self.overloads:
            return False
        if self.failed > self.overload_refusals() or self.successful + self.failed != self.duration_s * self.rate:
            return False
        return all(self.box_stall_near(t, ms) >= ms / 2000 for t, ms, _ in self.overloads)

    def after_warmup(self) -> list[Sample]:
        return [s for s in self.samples if s.t >= self.warmup_s]

    def rss_growth(self) -> float:
        """Mean RSS of the last quarter over that of the first quarter after warm-up, minus 1."""
        steady = self.after_warmup()
        if len(steady) < 4:
            return 0.0
        q = max(1, len(steady) // 4)
        first = sum(s.rss_kib for s in steady[:q]) / q
        last = sum(s.rss_kib for s in steady[-q:]) / q
        return last / first - 1.0

    def fd_growth(self) -> int:
        steady = self.after_warmup()
        if not steady:
            return 0
        return max(s.fds for s in steady) - steady[0].fds


def by_label(text: str, name: str, label: str) -> dict[str, float]:
    """The samples of `name` summed by the value of `label` (zeros left out)."""
    out: dict[str, float] = {}
    for labels, value in harness.samples(text, name):
        out[labels.get(label, "")] = out.get(labels.get(label, ""), 0.0) + value
    return {k: v for k, v in out.items() if v}


def outcomes(text: str) -> dict[str, float]:
    results = by_label(text, "b2bua_calls_total", "result")
    results.pop("answered", None)
    found = {f"calls {k}": v for k, v in results.items()}
    found.update({f"limit {k}": v for k, v in by_label(text, "b2bua_limit_hits_total", "limit").items()})
    found.update({f"dropped {k}": v for k, v in by_label(text, "b2bua_requests_dropped_total", "reason").items()})
    return found


def udp_drops(ports: dict[str, int]) -> dict[str, int]:
    """The `drops` column of /proc/net/udp for the sockets bound to each named local port."""
    wanted = {port: name for name, port in ports.items()}
    out = {name: 0 for name in ports}
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        port = int(fields[1].split(":")[1], 16)
        if port in wanted:
            out[wanted[port]] += int(fields[-1])
    return out


def proc_status(pid: int) -> tuple[int, int]:
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def api(http: int, method: str, path: str, body: dict) -> int:
    req = urllib.request.Request(f"http://{HOST}:{http}{path}", data=json.dumps(body).encode(), method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def timed_scrape(http: int, r: SoakResult) -> str:
    """/metrics, allowed 30 s (a CI machine's disk can hold a synced commit for seconds while a
    sanitizer build writes beside it; Prometheus's own default timeout is 10 s): the time it
    took is kept, and the summary says the slowest."""
    t0 = time.monotonic()
    text = scrape(http, timeout=30)
    r.slowest_scrape_s = max(r.slowest_scrape_s, time.monotonic() - t0)
    return text


def soak_config(sip: int, http: int, trunk_port: int, t1_ms: int) -> str:
    text = harness.config_yaml(sip, http, trunk_port, extra=f"""admin:
  token: "{TOKEN}"
security:
  trusted: [ "{HOST}/32" ]
  scanner_user_agents: []   # svcrack says it is friendly-scanner: let its guesses reach digest
calls:
  drain_s: 0
overload:
  # The soak looks for leaks and failed calls under attack, not for the overload guard (the
  # overload cases test that): on a shared 2-core machine a 100 ms stall of the whole box would
  # otherwise turn into refused calls that say nothing about the B2BUA.
  max_loop_delay_ms: 1000
""").replace("  level: info\n", "  level: warn\n")
    return text.replace("\ndownstream:", f"\n  t1_ms: {t1_ms}\ndownstream:", 1)


def run(binary: Path, duration_s: int, rate: int, hold_ms: int, curve: Path | None = None,
        keep: bool = False, attack: bool = True, api_writes: bool = True, t1_ms: int = 500) -> SoakResult:
    result = SoakResult(duration_s=duration_s, rate=rate, hold_ms=hold_ms)
    # The steady state: held calls reach their number after one hold time, and finished
    # transactions linger before they go: 64*T1 (Timers H, J), and a challenged INVITE's client
    # transaction at least 32 s over UDP (Timer D, RFC 3261 §17.1.1.2).
    result.warmup_s = max(32, 64 * t1_ms / 1000) + hold_ms / 1000 + 5
    sip, http, trunk_port, pbx_port = free_port(), free_port(), free_port(), free_port()
    with Session(binary, keep=keep) as s:
        b2bua = s.start_b2bua(soak_config(sip, http, trunk_port, t1_ms), sip, http, log_level="warn")
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port,
                                    ["-buff_size", SIPP_BUFFER], local_ip=TRUNK_HOST, trace=False)
        calls = duration_s * rate
        pbx = s.start_sipp("pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                           ["-buff_size", SIPP_BUFFER, "-s", "1000", "-au", "pbxuser", "-ap", "pbxpass", "-auth_uri", f"1000@{HOST}:{sip}",
                            "-m", str(calls), "-r", str(rate), "-rp", "1000", "-d", str(hold_ms),
                            "-l", str(rate * (hold_ms // 1000 + 5)), "-timeout", f"{duration_s + 120}s",
                            "-recv_timeout", "20000"],
                           remote=f"{HOST}:{sip}", trace=False)
        stop = threading.Event()

        def attacker():
            # svcrack guesses pbxuser's password from one address until that address is
            # banned (it then hears nothing and gives up after --maximumtime), then the next.
            n = 0
            while not stop.is_set() and n < 150:
                source = f"127.0.0.{100 + n}"
                n += 1
                result.attackers = n
                p = subprocess.Popen(harness.sipvicious_command("svcrack", source, [
                                         "-u", "pbxuser", "-r", "1-99999", "-p", str(sip), "--maximumtime", "3",
                                         "-q", HOST]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
                try:
                    while p.poll() is None and not stop.is_set():
                        time.sleep(0.2)
                finally:
                    if p.poll() is None:
                        p.kill()
                    p.wait(timeout=10)

        def writer():
            n = 0
            while not stop.is_set():
                if n % 2 == 0:
                    code = api(http, "PATCH", "/api/v1/trunks/carrier", {"max_calls": 100000 + n})
                else:
                    code = api(http, "PUT", "/api/v1/users/branch", {"username": "branch", "password": f"p{n}"})
                result.api_writes += 1
                if not 200 <= code < 300:
                    result.api_failures += 1
                n += 1
                stop.wait(0.5)

        def clock_probe():
            # Sleeps 10 ms at a time and notes when it wakes more than 200 ms late.
            while not stop.is_set():
                before = time.monotonic()
                time.sleep(0.01)
                late = time.monotonic() - before - 0.01
                if late > 0.2:
                    result.box_stalls.append((time.time(), late))

        def note_drops():
            # Counted per socket while it is open: the PBX's SIPp takes its socket with it.
            for name, n in udp_drops({"b2bua": sip, "trunk sipp": trunk_port, "pbx sipp": pbx_port}).items():
                result.udp_drops[name] = max(n, result.udp_drops.get(name, 0))

        threads = [threading.Thread(target=clock_probe, daemon=True)] + (
            [threading.Thread(target=attacker, daemon=True)] if attack else []) + (
            [threading.Thread(target=writer, daemon=True)] if api_writes else [])
        for t in threads:
            t.start()
        start = time.monotonic()
        cpu0 = cpu_seconds(b2bua.pid)
        try:
            deadline = start + duration_s + 150
            while pbx.alive() and time.monotonic() < deadline:
                rss, fds = proc_status(b2bua.pid)
                note_drops()
                text = timed_scrape(http, result)
                result.samples.append(Sample(round(time.monotonic() - start, 1), rss, fds,
                                             metric(text, "b2bua_active_calls"),
                                             metric(text, "b2bua_banned_sources") if "\nb2bua_banned_sources " in text else 0))
                time.sleep(2)
            result.cpu_s = cpu_seconds(b2bua.pid) - cpu0
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=20)
        s.wait_sipp(pbx, 30)
        r = s.sipp_result(pbx)
        result.successful, result.failed = r.successful, r.failed
        result.outcomes = outcomes(timed_scrape(http, result))
        note_drops()
        result.overloads = overload_episodes(b2bua.log())
        if result.failed:
            # Keep the files, and name what SIPp saw go wrong (its error log, distinct lines).
            s.keep = True
            for name in ("pbx", "trunk"):
                log = s.workdir / f"{name}_err.log"
                lines = log.read_text(errors="replace").splitlines() if log.exists() else []
                seen = sorted({re.sub(r"\d{4}-\d\d-\d\d\s+[\d:.]+\s+[\d.]+:?\s*", "", x).strip() for x in lines})
                result.sipp_errors += [f"{name}: {x}" for x in seen if x][:10]
        s.stop(trunk)
        if curve is not None:
            curve.write_text("t_s\trss_kib\tfds\tactive_calls\tbanned_sources\n" + "".join(
                f"{x.t}\t{x.rss_kib}\t{x.fds}\t{x.active_calls:.0f}\t{x.banned:.0f}\n" for x in result.samples))
    return result


def overload_episodes(log: str) -> list[tuple[float, int, str]]:
    """The b2bua's "overload: the SIP event loop runs N ms late" lines: (wall time, N, the rest)."""
    found = []
    for m in re.finditer(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) \w+ \[b2bua\] overload: the SIP event loop "
                         r"runs (\d+) ms late[^\n]*?(?:; (in its last [^\n]*))?$", log, re.M):
        # The log's time is the process's local time, as datetime's naive parse reads it.
        when = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
        found.append((when, int(m.group(2)), m.group(3) or ""))
    return found


def summary(r: SoakResult) -> str:
    steady = r.after_warmup()
    rss = [s.rss_kib for s in steady] or [0]
    peak_calls = max((s.active_calls for s in r.samples), default=0)
    return (f"soak: {r.duration_s} s at {r.rate} calls/s held {r.hold_ms} ms: {r.successful} successful, "
            f"{r.failed} failed; up to {peak_calls:.0f} calls at once; RSS after {r.warmup_s:.0f} s warm-up "
            f"{min(rss) / 1024:.1f}-{max(rss) / 1024:.1f} MiB (growth {100 * r.rss_growth():+.1f} % first to last "
            f"quarter); descriptors +{r.fd_growth()}; {r.attackers} attacker address(es); "
            f"{r.api_writes} API writes, {r.api_failures} failed; b2bua CPU {r.cpu_s:.1f} s "
            f"({1e6 * r.cpu_s / max(1, r.successful):.0f} us per call); slowest /metrics {r.slowest_scrape_s:.2f} s; "
            f"UDP receive drops "
            + ", ".join(f"{k} {v}" for k, v in r.udp_drops.items()) + "; b2bua counted "
            + (", ".join(f"{k} {v:.0f}" for k, v in sorted(r.outcomes.items())) or "nothing but answered calls")
            + "".join(f"; overload at {datetime.datetime.fromtimestamp(t).strftime('%H:%M:%S.%f')[:-3]}: {ms} ms late, "
                      f"the harness's clock thread {1000 * r.box_stall_near(t, ms):.0f} ms late then ({why or 'no account'})"
                      for t, ms, why in r.overloads)
            + (f"; the harness's clock thread woke late {len(r.box_stalls)} time(s), at most "
               f"{1000 * max(late for _, late in r.box_stalls):.0f} ms" if r.box_stalls else ""))


def verdict(r: SoakResult, max_rss_growth: float) -> list[str]:
    problems = []
    if r.failures_from_box_stalls():
        # The machine stalled (another process on it stalled as long), the overload guard did
        # its job: these refusals say nothing about the b2bua. summary() lists each episode.
        pass
    elif r.failed or r.successful != r.duration_s * r.rate:
        problems.append(f"{r.failed} failed, {r.successful} of {r.duration_s * r.rate} successful")
    if r.rss_growth() > max_rss_growth:
        problems.append(f"RSS grew {100 * r.rss_growth():.1f} % after warm-up (limit {100 * max_rss_growth:.0f} %)")
    if r.fd_growth() > 8:
        problems.append(f"descriptors grew by {r.fd_growth()}")
    if r.api_failures:
        problems.append(f"{r.api_failures} of {r.api_writes} API writes failed")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--b2bua", type=Path, default=harness.ROOT / "build" / "bin" / "b2bua")
    p.add_argument("--duration", type=int, default=600)
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--hold-ms", type=int, default=5000)
    p.add_argument("--curve", type=Path, help="write the RSS/descriptor curve here (TSV)")
    p.add_argument("--max-rss-growth", type=float, default=0.10)
    p.add_argument("--no-attack", action="store_true", help="no svcrack attacker (to tell its cost apart)")
    p.add_argument("--no-api", action="store_true", help="no admin API writes")
    p.add_argument("--t1-ms", type=int, default=500, help="SIP T1: 64*T1 is how long finished transactions linger")
    args = p.parse_args()
    r = run(args.b2bua.resolve(), args.duration, args.rate, args.hold_ms, args.curve, attack=not args.no_attack,
            api_writes=not args.no_api, t1_ms=args.t1_ms)
    print(summary(r))
    problems = verdict(r, args.max_rss_growth)
    for problem in problems:
        print("FAIL:", problem)
    for line in r.sipp_errors:
        print("  sipp", line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
