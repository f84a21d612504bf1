"""End-to-end cases for running under systemd: the notify protocol (Type=notify, WatchdogSec=)
spoken by the real binary to a $NOTIFY_SOCKET this test binds, as systemd would.

No systemd runs on CI machines, so the socket stands in for it; deploy/systemd's unit is checked
with `systemd-analyze verify` by tests/deploy/check_systemd.sh. Loaded by test_e2e.py, which puts
its helpers (check, Session, config_yaml, ports, options_status...) in this module's namespace.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path


class NotifySocket:
    """The service manager's end: every datagram received, with the time it came."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.seen: list[tuple[float, str]] = []

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return
            self.seen.append((time.monotonic(), data.decode(errors="replace")))

    def states(self) -> list[str]:
        self.drain()
        return [s for _, s in self.seen]

    def wait_for(self, what: str, timeout: float, after: int = 0) -> int:
        """Index of the first datagram from `after` on that contains `what`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (_, s) in enumerate(self.seen[after:], start=after):
                if what in s.split("\n"):
                    return i
            self.drain()
        raise harness.HarnessError(f"no {what} on $NOTIFY_SOCKET within {timeout}s; got {self.states()}")


def case_systemd_notify(binary: Path):
    """READY=1 once SIP is answered; WATCHDOG=1 every third of WATCHDOG_USEC; SIGHUP brings
    RELOADING=1 then READY=1; SIGTERM brings STOPPING=1 and a clean exit."""
    sip, http, trunk_port, _ = ports()
    with Session(binary) as s:
        notify = NotifySocket(s.workdir / "notify.sock")
        limit_s = 0.9
        os.environ["NOTIFY_SOCKET"] = str(notify.path)
        os.environ["WATCHDOG_USEC"] = str(int(limit_s * 1e6))
        try:
            b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        finally:
            del os.environ["NOTIFY_SOCKET"], os.environ["WATCHDOG_USEC"]
        ready = notify.wait_for("READY=1", 10)
        status = [l for l in notify.states()[ready].split("\n") if l.startswith("STATUS=")]
        check(status and f"udp://{HOST}:{sip}" in status[0], f"READY=1 without the listeners in STATUS: {status}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        sock.settimeout(2)
        with sock:
            check(options_status(sock, sip, 1) == "SIP/2.0 200 OK", "OPTIONS after READY=1 not answered 200")

            # Keep-alives: about one every 0.3 s (a third of 0.9 s), never a gap near the limit.
            # Read as they come (the datagram's arrival is the time stamp), for 3 s.
            watched_from = time.monotonic()
            notify.drain()
            while time.monotonic() - watched_from < 3:
                notify.drain()
            pings = [t for t, st in notify.seen if st == "WATCHDOG=1" and t >= watched_from]
            check(len(pings) >= 7, f"{len(pings)} WATCHDOG=1 in 3 s, expected about 10")
            gaps = [b - a for a, b in zip(pings, pings[1:])]
            check(max(gaps) < limit_s, f"a gap of {max(gaps):.2f}s between keep-alives reaches the {limit_s}s limit")

            # Reload: RELOADING=1 (with MONOTONIC_USEC for systemd 253's notify-reload), then READY=1.
            mark = len(notify.states())
            os.kill(b2bua.pid, signal.SIGHUP)
            reloading = notify.wait_for("RELOADING=1", 10, mark)
            check(any(l.startswith("MONOTONIC_USEC=") for l in notify.seen[reloading][1].split("\n")),
                  f"RELOADING=1 without MONOTONIC_USEC: {notify.seen[reloading][1]!r}")
            notify.wait_for("READY=1", 10, reloading + 1)
            check(options_status(sock, sip, 2) == "SIP/2.0 200 OK", "OPTIONS after the reload not answered 200")

        # Stop: STOPPING=1 with the drain in STATUS, then exit 0 (the session checks the code).
        mark = len(notify.states())
        os.kill(b2bua.pid, signal.SIGTERM)
        stopping = notify.wait_for("STOPPING=1", 10, mark)
        check("draining" in notify.seen[stopping][1], f"STOPPING=1 without the drain: {notify.seen[stopping][1]!r}")
        code = b2bua.popen.wait(timeout=20)
        check(code == 0, f"b2bua exited with {code} after SIGTERM:\n{b2bua.log()[-2000:]}")
        check("systemd watchdog: 900 ms" in b2bua.log(), "the log does not say the watchdog is on")
        print(f"systemd_notify: READY=1 then 200 to OPTIONS; {len(pings)} keep-alives in 3 s, largest gap "
              f"{max(gaps):.2f}s of {limit_s}s; SIGHUP: RELOADING=1 then READY=1; SIGTERM: STOPPING=1, exit 0")
