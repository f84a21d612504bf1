"""The HTTP server (issue 9): on its own thread, with a connection budget per client address and a
bound on the header section, so slow clients from one address neither take /metrics down nor
touch SIP; HTTPS with a certificate from the config.

Loaded by test_e2e.py, which puts its helpers (check, Session, HOST, config_yaml, options_status...)
in this module's namespace. Every peer is on 127.0.0.0/8; every wait is bounded; every socket closed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import harness
from harness import HOST, Session, metric, scrape

SLOW_SOURCE = "127.0.0.5"
SCRAPE_SOURCE = "127.0.0.6"


def _with_http_keys(config: str, http_port: int, keys: str) -> str:
    """`config` (from config_yaml) with more keys in its http section, given as YAML lines."""
    listen = f'http:\n  listen: "{HOST}:{http_port}"\n'
    check(listen in config, "config_yaml's http section moved")
    return config.replace(listen, listen + keys)


def _get(port: int, path: str, source: str, context: ssl.SSLContext | None = None,
         timeout: float = 5) -> tuple[int, str]:
    """GET `path` from `source` (plain HTTP, or HTTPS with `context`); returns status and body."""
    if context is None:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=(source, 0))
    else:
        conn = http.client.HTTPSConnection(HOST, port, timeout=timeout, source_address=(source, 0), context=context)
    try:
        conn.request("GET", path)
        res = conn.getresponse()
        return res.status, res.read().decode(errors="replace")
    finally:
        conn.close()


class _SlowClients:
    """`count` connections from `source`, each sending one byte of a request's header section a
    second from a thread of its own, until the server closes it or `bound` seconds have passed.
    Records when each was closed and whether any got an HTTP answer."""

    HEADER = b"GET /metrics HTTP/1.1\r\nHost: b2bua\r\nX-Slow: " + b"a" * 200

    def __init__(self, port: int, source: str, count: int, bound: float):
        self.socks: list[socket.socket] = []
        self.closed_after: dict[int, float] = {}
        self.answered = 0
        self.bound = bound
        self._stop = threading.Event()
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.socks.append(s)
            s.bind((source, 0))
            s.settimeout(5)
            s.connect((HOST, port))
            s.setblocking(False)
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _ended(self, i: int, s: socket.socket) -> bool:
        """Whether the server has closed connection `i` (reading what it sent, if anything)."""
        try:
            data = s.recv(4096)
        except BlockingIOError:
            return False
        except OSError:
            return True
        if data.startswith(b"HTTP/"):
            self.answered += 1
        return data == b""

    def _trickle(self):
        deadline = self.t0 + self.bound
        position = 0
        while not self._stop.is_set() and time.monotonic() < deadline and len(self.closed_after) < len(self.socks):
            byte = self.HEADER[position % len(self.HEADER):position % len(self.HEADER) + 1]
            position += 1
            for i, s in enumerate(self.socks):
                if i in self.closed_after:
                    continue
                ended = self._ended(i, s)
                if not ended:
                    try:
                        s.send(byte)
                    except OSError:
                        ended = True
                if ended:
                    self.closed_after[i] = time.monotonic() - self.t0
            self._stop.wait(1.0)

    def wait(self):
        self._thread.join(self.bound + 5)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        for s in self.socks:
            s.close()


def case_http_slow_clients(binary):
    """256 slow clients on 127.0.0.5, each sending one header byte a second (http.header_timeout_s: 4,
    default budgets: 256 in all, 16 per address): 16 are held until the header bound cuts them, 240
    are closed at once (source_limit); meanwhile 32 scrapes of /metrics from 127.0.0.6 all succeed and
    the PBX's OPTIONS are answered. No slow client gets an answer."""
    sip, http_port, trunk_port, _ = ports()
    config = _with_http_keys(config_yaml(sip, http_port, trunk_port), http_port, "  header_timeout_s: 4\n")
    with Session(binary) as s:
        s.start_b2bua(config, sip, http_port)
        slow = _SlowClients(http_port, SLOW_SOURCE, 256, bound=20)
        try:
            scrapes = []
            options = []
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as pbx:
                pbx.bind((HOST, 0))
                pbx.settimeout(3)
                for n in range(32):
                    t = time.monotonic()
                    try:
                        status, body = _get(http_port, "/metrics", SCRAPE_SOURCE)
                    except OSError as e:
                        status, body = 0, repr(e)
                    scrapes.append((status, time.monotonic() - t, body))
                    if n % 8 == 0:
                        options.append(options_status(pbx, sip, n + 1))
                    time.sleep(0.1)
            slow.wait()
        finally:
            slow.close()

        failed = [(st, round(d, 2), b[:80]) for st, d, b in scrapes if st != 200 or "b2bua_" not in b]
        check(not failed, f"{len(failed)} of 32 scrapes from {SCRAPE_SOURCE} failed: {failed[:3]}")
        check(all(o == "SIP/2.0 200 OK" for o in options), f"the PBX's OPTIONS during the slow clients: {options}")
        check(slow.answered == 0, f"{slow.answered} slow clients got an HTTP answer")
        check(len(slow.closed_after) == 256,
              f"{256 - len(slow.closed_after)} slow clients still open after {slow.bound} s")
        held = sorted(slow.closed_after.values())[-16:]
        text = scrape(http_port)
        refused = metric(text, "b2bua_http_connections_refused_total", reason="source_limit")
        header_cut = metric(text, "b2bua_http_timeouts_total", phase="header")
        check(metric(text, "b2bua_http_connections_refused_total", reason="max_connections") == 0,
              "connections were refused as over the total budget")
        check(refused == 240, f"b2bua_http_connections_refused_total{{reason=source_limit}} is {refused}, expected 240")
        check(header_cut == 16, f"b2bua_http_timeouts_total{{phase=header}} is {header_cut}, expected 16")
    slowest = max(d for _, d, _ in scrapes)
    print(f"http_slow_clients: 256 slow clients from {SLOW_SOURCE}: 240 refused at once, 16 cut by the header bound "
          f"after {held[0]:.1f}-{held[-1]:.1f} s; 32/32 scrapes from {SCRAPE_SOURCE} (slowest {slowest * 1000:.0f} ms) "
          f"and {len(options)} OPTIONS answered meanwhile")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1 and its key, made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    cnf, cert, key = directory / "openssl.cnf", directory / "https.pem", directory / "https.key"
    cnf.write_text("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=b2bua e2e https", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-config", str(cnf), "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"openssl req failed: {r.stderr}")
    return cert, key


def case_http_tls_scrape(binary):
    """admin.tls with a certificate made by the test: /metrics answers over HTTPS (verified against
    that certificate, TLS 1.2 or later) and not over plain HTTP; a key file that is missing stops the
    start with an error naming admin.tls and the file."""
    sip, http_port, trunk_port, _ = ports()
    with Session(binary) as s:
        cert, key = _self_signed(s.workdir / "https")
        base = config_yaml(sip, http_port, trunk_port)
        tls = f'admin:\n  tls: {{ certificate: "{cert}", key: "{key}" }}\n'
        b2bua = s.start_b2bua(base + tls, sip, http_port)
        context = ssl.create_default_context(cafile=str(cert))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        status, body = _get(http_port, "/metrics", HOST, context=context)
        check(status == 200 and "b2bua_http_connections_refused_total" in body,
              f"HTTPS scrape: {status} {body[:200]!r}")
        status, body = _get(http_port, "/healthz", HOST, context=context)
        check((status, body) == (200, "ok\n"), f"HTTPS /healthz: {status} {body!r}")
        try:
            plain = _get(http_port, "/metrics", HOST, timeout=3)
        except (OSError, http.client.HTTPException) as e:
            plain = repr(e)
        check(not (isinstance(plain, tuple) and plain[0] == 200), f"plain HTTP on the HTTPS port was answered: {plain}")
        check(f"listening on https://{HOST}:{http_port}" in b2bua.log(), "no 'listening on https://' in the log")
        s.stop(b2bua)

        missing = s.workdir / "https" / "missing.key"
        bad = s.workdir / "bad.yaml"
        bad.write_text(base + f'admin:\n  tls: {{ certificate: "{cert}", key: "{missing}" }}\n'
                       f'data_dir: "{s.workdir / "data"}"\n')
        r = subprocess.run([str(binary), "--config", str(bad)], capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        check(r.returncode != 0, f"the b2bua started with a missing key file:\n{out[-2000:]}")
        check("admin.tls" in out and str(missing) in out, f"the start error does not name admin.tls and the file:\n"
              f"{out[-2000:]}")
    print(f"http_tls_scrape: /metrics and /healthz over HTTPS with a test certificate; plain HTTP refused ({plain}); "
          "a missing key file stops the start naming it")
