"""SIP over TLS (RFC 3261 §26): a PBX on a tls:// listener, providers reached over TLS and verified
against a test CA made here with the openssl CLI, certificates reloaded on SIGHUP.

Loaded by test_e2e.py, which puts its helpers (check, Session, HOST, header_values, ...) in this
module's namespace. Every peer is on 127.0.0.0/8; every wait is bounded.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import harness
from harness import HOST, Session, free_port, header_values, metric, scrape, start_line

FAILURES = "b2bua_tls_handshake_failures_total"
EXPIRY = "b2bua_tls_certificate_expiry_timestamp_seconds"


# ---------------------------------------------------------------------- the test CA (openssl CLI)
class TestCa:
    """A CA made for one test in `directory`, and leaf certificates it signs (EC P-256 keys).
    Nothing is read from or written to the system's store."""

    _CNF = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"

    def __init__(self, directory: Path, name: str = "ca"):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cnf = self.dir / "openssl.cnf"
        self.cnf.write_text(self._CNF)
        self.cert = self.dir / f"{name}.pem"
        self.key = self.dir / f"{name}.key"
        self._openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", str(self.key), "-out", str(self.cert), "-days", "30",
                       "-subj", f"/CN=b2bua e2e {name}", "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def _openssl(self, args: list[str]):
        r = subprocess.run(["openssl", *args, "-config", str(self.cnf)], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"openssl {' '.join(args[:2])} failed: {r.stderr}")

    def leaf(self, name: str, sans: str, days: int) -> tuple[Path, Path]:
        """A server certificate for `sans` (e.g. "IP:127.0.0.1,DNS:b2bua.test") good for `days`;
        returns (certificate, key)."""
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        self._openssl(["req", "-x509", "-CA", str(self.cert), "-CAkey", str(self.key), "-newkey", "ec",
                       "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
                       "-days", str(days), "-subj", f"/CN={name}", "-addext", f"subjectAltName={sans}",
                       "-addext", "basicConstraints=critical,CA:FALSE",
                       "-addext", "extendedKeyUsage=serverAuth,clientAuth"])
        return cert, key


def not_after(cert: Path) -> int:
    """The certificate's notAfter as Unix time, read by openssl (not by the product)."""
    r = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(cert)], capture_output=True, text=True,
                       timeout=10, check=True)
    return int(ssl.cert_time_to_seconds(r.stdout.strip().split("=", 1)[1]))


# ---------------------------------------------------------------------- a SIP peer over TLS
class TlsSip:
    """One TLS connection to the b2bua, verified against `ca` (host name or IP address checked by
    Python's ssl module), carrying SIP framed by Content-Length. Every receive is bounded."""

    def __init__(self, port: int, ca: Path, server_hostname: str = HOST):
        ctx = ssl.create_default_context(cafile=str(ca))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection((HOST, port), timeout=5)
        self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname)
        self.host, self.port = self.sock.getsockname()
        self.buf = b""
        self.requests: list[str] = []  # requests from the b2bua, seen while waiting for responses

    def __enter__(self) -> "TlsSip":
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def peer_not_after(self) -> int:
        return int(ssl.cert_time_to_seconds(self.sock.getpeercert()["notAfter"]))

    def send(self, text: str):
        self.sock.sendall(text.encode())

    def _frame(self) -> str | None:
        self.buf = self.buf.lstrip(b"\r\n")  # CRLF keep-alive pongs
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode(errors="replace")
        m = re.search(r"^(?:content-length|l)\s*:\s*(\d+)", head, re.I | re.M)
        length = int(m.group(1)) if m else 0
        if len(self.buf) < end + 4 + length:
            return None
        msg = self.buf[:end + 4 + length].decode(errors="replace")
        self.buf = self.buf[end + 4 + length:]
        return msg

    def recv(self, timeout: float) -> str | None:
        """The next message within `timeout` seconds; None on timeout or when the b2bua closed."""
        deadline = time.monotonic() + timeout
        while (msg := self._frame()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535)
            except (socket.timeout, TimeoutError):
                return None
            if not data:
                return None
            self.buf += data
        return msg

    def recv_final(self, timeout: float, call_id: str) -> str | None:
        """The first final response for `call_id`, skipping 1xx; requests are kept in `requests`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = self.recv(left)
            if msg is None:
                return None
            first = start_line(msg)
            if not first.startswith("SIP/2.0 "):
                self.requests.append(msg)
                continue
            if call_id in header_values(msg, "call-id", "i") and int(first.split()[1]) >= 200:
                return msg
        return None

    def options(self, b2bua_port: int, n: int) -> str | None:
        call_id = f"tls-options-{n}-{os.getpid()}@{self.host}"
        self.send(f"OPTIONS sip:{HOST}:{b2bua_port};transport=tls SIP/2.0\r\n"
                  f"Via: SIP/2.0/TLS {self.host}:{self.port};branch=z9hG4bK-tlsopt-{n}-{os.getpid()}\r\n"
                  f"Max-Forwards: 70\r\nTo: <sip:{HOST}:{b2bua_port}>\r\n"
                  f"From: <sip:probe@{self.host}>;tag=tlsopt{n}\r\nCall-ID: {call_id}\r\n"
                  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        answer = self.recv_final(5, call_id)
        return start_line(answer) if answer else None


class TlsUac:
    """A PBX placing calls over one `TlsSip` connection, its requests written out by hand."""

    def __init__(self, conn: TlsSip, b2bua_port: int, name: str):
        self.c = conn
        self.uri = f"sip:1000@{HOST}:{b2bua_port};transport=tls"
        self.name = name
        self.n = 0

    def new_call(self) -> dict:
        self.n += 1
        tag = f"{self.name}{self.n}-{os.getpid()}"
        return {"call_id": f"{tag}@{self.c.host}", "from_tag": f"ft{tag}", "cseq": 0}

    def request(self, call: dict, method: str, to: str, extra: str = "", uri: str | None = None,
                cseq: int | None = None, branch: str | None = None) -> str:
        if cseq is None:
            call["cseq"] += 1
            cseq = call["cseq"]
        branch = branch or f"z9hG4bK-{call['from_tag']}-{method.lower()}-{cseq}"
        body = "" if method != "INVITE" else (
            f"v=0\r\no=pbx 1 1 IN IP4 {self.c.host}\r\ns=-\r\nc=IN IP4 {self.c.host}\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        text = (f"{method} {uri or self.uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/TLS {self.c.host}:{self.c.port};branch={branch}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: \"pbx\" <sip:pbx@{self.c.host}>;tag={call['from_tag']}\r\n"
                f"To: {to}\r\nCall-ID: {call['call_id']}\r\nCSeq: {cseq} {method}\r\n"
                f"Contact: <sip:pbx@{self.c.host}:{self.c.port};transport=tls>\r\n"
                + extra + ("Content-Type: application/sdp\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.c.send(text)
        return text

    def invite(self, call: dict, authorization: str | None = None) -> str:
        """INVITE; returns its final response. ACKs a non-2xx."""
        extra = f"Proxy-Authorization: {authorization}\r\n" if authorization else ""
        request = self.request(call, "INVITE", f"<{self.uri}>", extra)
        branch = harness.branch_of(header_values(request, "via")[0])
        final = self.c.recv_final(20, call["call_id"])
        check(final is not None, f"{self.name}: no final response to INVITE over TLS")
        if not start_line(final).startswith("SIP/2.0 2"):
            self.request(call, "ACK", header_values(final, "to", "t")[0], cseq=call["cseq"], branch=branch)
        return final


def tls_config(sip: int, tls: int, http: int, certs: dict, trunks: list[str], routes: list[str],
               extra: str = "") -> str:
    """The b2bua on udp:// and tls:// 127.0.0.1 with `certs` (certificate, key, ca) as sip.tls."""
    trunk_lines = "".join(f"    - {t}\n" for t in trunks)
    route_lines = "".join(f"  - {r}\n" for r in routes)
    return f"""# generated by tests/e2e/cases_tls.py
sip:
  listen: [ "udp://{HOST}:{sip}", "tls://{HOST}:{tls}" ]
  tls: {{ certificate: "{certs['certificate']}", key: "{certs['key']}", ca: "{certs['ca']}" }}
downstream:
  realm: pbx.local
  users:
    - {{ username: pbxuser, password: pbxpass }}
upstream:
  trunks:
{trunk_lines}routes:
{route_lines}http:
  listen: "{HOST}:{http}"
log:
  level: info
{extra}"""


def start_tls_b2bua(s: Session, config: str, sip: int, tls: int, http: int):
    b2bua = s.start_b2bua(config, sip, http)
    harness.wait_until(lambda: harness.tcp_listening(tls), 10, "the b2bua's tls:// listener")
    return b2bua


def tls_ports() -> tuple[int, int, int]:
    return free_port(), free_port((socket.SOCK_STREAM,)), free_port((socket.SOCK_STREAM,))


# ---------------------------------------------------------------------- cases
def case_tls_pbx_call(binary: Path):
    """A PBX over TLS (Python ssl, verifying the b2bua's certificate for 127.0.0.1 against the test CA)
    places a call: INVITE, 407, INVITE with credentials, on to a SIPp trunk over UDP (which challenges
    with 401, answered by the b2bua), 200, ACK, BYE, 200: every response on the PBX's one connection,
    with our Via and a Contact that says transport=tls; a CRLFCRLF keep-alive on it gets its pong."""
    sip, tls, http = tls_ports()
    trunk_port = free_port()
    with Session(binary) as s:
        ca = TestCa(s.workdir / "pki")
        cert, key = ca.leaf("b2bua", "IP:127.0.0.1,DNS:b2bua.test", 20)
        certs = {"certificate": cert, "key": key, "ca": ca.cert}
        config = tls_config(sip, tls, http, certs,
                            [f'{{ name: carrier, uri: "sip:{harness.TRUNK_HOST}:{trunk_port}", username: trunkuser, '
                             'password: trunkpass }'], ['{ prefix: "", trunk: carrier }'])
        start_tls_b2bua(s, config, sip, tls, http)
        trunk = s.start_sipp_server("trunk", harness.SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port,
                                    ["-m", "1"], local_ip=harness.TRUNK_HOST)
        with TlsSip(tls, ca.cert) as conn:
            # RFC 5626 §3.5.1 over TLS as over TCP: a CRLFCRLF ping gets a CRLF pong.
            conn.sock.settimeout(3)
            conn.send("\r\n\r\n")
            pong = conn.sock.recv(16)
            check(pong == b"\r\n", f"keep-alive over TLS answered with {pong!r}, expected a CRLF pong")
            uac = TlsUac(conn, tls, "tlspbx")
            call = uac.new_call()
            challenge = uac.invite(call)
            check(start_line(challenge).startswith("SIP/2.0 407"), f"first INVITE over TLS -> {challenge[:200]!r}")
            vias = header_values(challenge, "via", "v")
            check(len(vias) == 1 and vias[0].startswith(f"SIP/2.0/TLS {conn.host}:{conn.port}"),
                   f"the 407 must carry the PBX's own TLS Via: {vias}")
            auth = md5_proxy_authorization(header_values(challenge, "proxy-authenticate")[0], "INVITE", uac.uri,
                                           "pbxuser", "pbxpass", "0a4f113b")
            ok = uac.invite(call, auth)
            check(start_line(ok).startswith("SIP/2.0 200"), f"authenticated INVITE over TLS -> {ok[:200]!r}")
            contact = header_values(ok, "contact", "m")[0]
            check(contact == f"<sip:b2bua@{HOST}:{tls};transport=tls>", f"Contact of our 200 on the TLS leg: {contact}")
            to = header_values(ok, "to", "t")[0]
            target = re.search(r"<([^>]+)>", contact).group(1)
            uac.request(call, "ACK", to, uri=target, cseq=call["cseq"])
            uac.request(call, "BYE", to, uri=target)
            bye = conn.recv_final(10, call["call_id"])
            check(bye is not None and start_line(bye).startswith("SIP/2.0 200"), f"BYE over TLS -> {bye!r}")
            check(conn.requests == [], f"unexpected requests on the PBX's connection: {conn.requests}")
        s.wait_sipp(trunk, 20)
        r = s.sipp_result(trunk)
        check(r.successful == 1 and r.failed == 0, f"trunk: {r.successful} ok, {r.failed} failed\n{r.errors}")
        invites = [m for d, m in r.messages if d == "received" and start_line(m).startswith("INVITE")]
        check(len(invites) == 2 and all(header_values(m, "via")[0].startswith("SIP/2.0/UDP") for m in invites),
               "leg B must be plain UDP: two INVITEs (401 answered) with our UDP Via")
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", direction="outbound", trunk="carrier", result="answered") == 1,
               "one answered call counted")
        check(metric(text, FAILURES) == 0, "no TLS handshake failure")
        check(metric(text, EXPIRY, listener=f"tls://{HOST}:{tls}") == not_after(cert),
               "the expiry gauge is the certificate's notAfter")
    print("tls_pbx_call: INVITE/407/INVITE/200/ACK/BYE/200 over one verified TLS connection, leg B over UDP")


PROVIDER_TLS_HOST = "127.0.0.2"


def start_tls_provider(s: Session, udp_port: int, tls_port: int, uas_port: int, cert: Path, key: Path):
    """Kamailio (tests/e2e/kamailio/provider.cfg with TLS_LISTEN) on udp and tls 127.0.0.2, presenting
    `cert`; it challenges with 401 and forwards to a SIPp UAS on 127.0.0.2:`uas_port` over UDP."""
    exe = shutil.which("kamailio")
    check(exe is not None, "kamailio is not installed (deploy/install-deps.sh installs it)")
    run = s.workdir / "kamailio"
    run.mkdir()
    tls_cfg = run / "tls.cfg"
    tls_cfg.write_text("[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"
                       f"certificate = {cert}\nprivate_key = {key}\n\n"
                       "[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n")
    proc = s.start_process("kamailio", [
        exe, "-f", str(PROVIDER_CFG), "-DD", "-E", "-m", "32", "-M", "8", "-Y", str(run), "-w", str(run),
        "-A", f"LISTEN_SOCKET=udp:{PROVIDER_TLS_HOST}:{udp_port}",
        "-A", f"TLS_LISTEN=tls:{PROVIDER_TLS_HOST}:{tls_port}", "-A", f'TLS_CONFIG="{tls_cfg}"',
        "-A", f'UAS_HOSTPORT="{PROVIDER_TLS_HOST}:{uas_port}"', "-A", "NONCE_EXPIRE=300"], cwd=run)
    wait_for_kamailio(proc, "kamailio", PROVIDER_TLS_HOST, udp_port, "127.0.0.3")
    harness.wait_until(lambda: harness.tcp_listening(tls_port, PROVIDER_TLS_HOST), 10, "kamailio's TLS listener")
    return proc


def case_tls_kamailio_provider(binary: Path):
    """Kamailio as the provider over TLS (its certificate for 127.0.0.2 from the test CA, verified by
    the b2bua with the host name check): 3 calls from a SIPp PBX over UDP, each INVITE and BYE
    challenged by Kamailio and answered; at Kamailio every request arrives over TLS with our TLS Via
    and a Request-URI with transport=tls. Each SIP worker opens at most one connection to the
    trunk and reuses it for every call it carries: no more connections than workers, and fewer
    than calls."""
    sip, tls, http = tls_ports()
    pbx_port, kam_udp, uas_port = free_port(), free_port(), free_port()
    kam_tls = free_port((socket.SOCK_STREAM,), host=PROVIDER_TLS_HOST)
    calls = 6
    with Session(binary) as s:
        ca = TestCa(s.workdir / "pki")
        ours, our_key = ca.leaf("b2bua", "IP:127.0.0.1", 20)
        theirs, their_key = ca.leaf("provider", "IP:127.0.0.2,DNS:provider.test", 20)
        kam = start_tls_provider(s, kam_udp, kam_tls, uas_port, theirs, their_key)
        uas = s.start_sipp_server("uas", harness.SHARED_SCENARIOS / "uas_plain.xml", uas_port, ["-m", str(calls)],
                                  local_ip=PROVIDER_TLS_HOST)
        config = tls_config(sip, tls, http, {"certificate": ours, "key": our_key, "ca": ca.cert},
                            [f'{{ name: carrier, uri: "sip:{PROVIDER_TLS_HOST}:{kam_tls};transport=tls", '
                             'username: trunkuser, password: trunkpass }'], ['{ prefix: "", trunk: carrier }'])
        b2bua = start_tls_b2bua(s, config, sip, tls, http)
        workers = int(re.search(r"SIP workers: (\d+)", b2bua.log()).group(1))
        pbx = sipp_calls(s, "pbx", harness.SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, calls, 4, PBX_AUTH,
                         timeout=60)
        check(pbx.successful == calls and pbx.failed == 0, f"pbx: {pbx.successful} ok, {pbx.failed} failed\n{pbx.errors}")
        s.wait_sipp(uas, 20)
        u = s.sipp_result(uas)
        check(u.successful == calls, f"provider's switch: {u.successful} ok\n{u.errors}")
        seen = provider_log(kam.log())
        ours_rx = [(src, m) for src, m in seen["rx"] if src.startswith(f"{HOST}:")]
        invites = [m for _, m in ours_rx if start_line(m).startswith("INVITE")]
        byes = [m for _, m in ours_rx if start_line(m).startswith("BYE")]
        check(len(invites) == 2 * calls and len(byes) == 2 * calls,
               f"at kamailio: {len(invites)} INVITEs, {len(byes)} BYEs (expected {2 * calls} each: challenged once)")
        for m in invites + byes:
            check(header_values(m, "via", "v")[0].startswith(f"SIP/2.0/TLS {HOST}:{tls}"), f"not our TLS Via:\n{m}")
        for m in invites:
            check(start_line(m).split()[1].endswith(f"@{PROVIDER_TLS_HOST}:{kam_tls};transport=tls"),
                   f"Request-URI without transport=tls: {start_line(m)}")
            check(f"<sip:b2bua@{HOST}:{tls};transport=tls>" in header_values(m, "contact", "m"),
                   f"Contact on the TLS leg: {header_values(m, 'contact', 'm')}")
        sources = {src for src, _ in ours_rx}
        check(len(sources) <= min(workers, calls - 1),
              f"at most one TLS connection per worker ({workers}), each reused for its calls; saw sources {sources}")
        text = scrape(http)
        check(metric(text, FAILURES) == 0, "no TLS handshake failure")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls, "answered calls")
    print(f"tls_kamailio_provider: {calls} calls over {len(sources)} verified TLS connection(s) to Kamailio "
          f"({workers} worker(s)), INVITE and BYE challenged and answered")


class TlsServer:
    """A provider that only shakes hands: a TLS server socket on `host` presenting `cert`, counting
    handshakes that fail and succeed. Runs in a thread; stopped on exit."""

    def __init__(self, host: str, cert: Path, key: Path):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.failed: list[str] = []
        self.completed = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with self.ctx.wrap_socket(conn, server_side=True):
                    self.completed += 1
            except (ssl.SSLError, OSError) as e:
                self.failed.append(str(e))

    def __enter__(self) -> "TlsServer":
        return self

    def __exit__(self, *exc):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()
        return False


def case_tls_trunk_not_verified(binary: Path):
    """Two TLS trunks whose certificates do not verify: one signed by another CA, one for another host
    name (provider.test only, while the trunk is 127.0.0.3). Each call fails over past both (no
    message sent to them) to a backup SIPp trunk over UDP, which answers; each refusal is counted as
    b2bua_tls_handshake_failures_total{direction="outbound",reason="verify_failed"} and logged."""
    sip, tls, http = tls_ports()
    pbx_port, backup_port = free_port(), free_port(host="127.0.0.4")
    calls = 2
    with Session(binary) as s:
        ca = TestCa(s.workdir / "pki")
        other = TestCa(s.workdir / "pki-other", "other")
        ours, our_key = ca.leaf("b2bua", "IP:127.0.0.1", 20)
        stranger, stranger_key = other.leaf("stranger", "IP:127.0.0.2", 20)
        misnamed, misnamed_key = ca.leaf("misnamed", "DNS:provider.test", 20)
        with TlsServer("127.0.0.2", stranger, stranger_key) as wrong_ca, \
                TlsServer("127.0.0.3", misnamed, misnamed_key) as wrong_name:
            config = tls_config(
                sip, tls, http, {"certificate": ours, "key": our_key, "ca": ca.cert},
                [f'{{ name: wrongca, uri: "sip:127.0.0.2:{wrong_ca.port};transport=tls", username: u, password: p }}',
                 f'{{ name: wrongname, uri: "sips:127.0.0.3:{wrong_name.port}", username: u, password: p }}',
                 f'{{ name: backup, uri: "sip:127.0.0.4:{backup_port}", username: trunkuser, password: trunkpass }}'],
                ['{ prefix: "", trunks: [ wrongca, wrongname, backup ] }'])
            b2bua = start_tls_b2bua(s, config, sip, tls, http)
            text = scrape(http)
            for d in ("inbound", "outbound"):
                for reason in ("verify_failed", "handshake", "timeout"):
                    check(metric(text, FAILURES, direction=d, reason=reason) == 0, f"{d}/{reason} at zero from start")
            backup = s.start_sipp_server("backup", harness.SHARED_SCENARIOS / "trunk_uas_auth.xml", backup_port,
                                         ["-m", str(calls)], local_ip="127.0.0.4")
            pbx = sipp_calls(s, "pbx", harness.SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, calls, 1,
                             PBX_AUTH, timeout=60)
            check(pbx.successful == calls and pbx.failed == 0,
                   f"pbx: {pbx.successful} ok, {pbx.failed} failed\n{pbx.errors}")
            s.wait_sipp(backup, 20)
            text = scrape(http)
            refused = metric(text, FAILURES, direction="outbound", reason="verify_failed")
            # The connection that failed is not kept: each call tries (and refuses) each bad trunk again.
            check(refused == 2 * calls, f"verify_failed counted {refused}, expected {2 * calls}")
            check(metric(text, "b2bua_trunk_failovers_total", **{"from": "wrongca", "to": "wrongname"}) == calls
                   and metric(text, "b2bua_trunk_failovers_total", **{"from": "wrongname", "to": "backup"}) == calls,
                   "each call failed over wrongca -> wrongname -> backup")
            check(len(wrong_ca.failed) >= calls and len(wrong_name.failed) >= calls
                   and wrong_ca.completed == 0 and wrong_name.completed == 0,
                   f"the bad providers saw handshakes fail: {wrong_ca.failed} / {wrong_name.failed}")
            logged = b2bua.log().count("handshake failed (verify_failed)")
            check(logged == 2 * calls, f"{logged} refusals logged:\n{b2bua.log()[-2000:]}")
    print(f"tls_trunk_not_verified: {calls} calls refused a wrong-CA and a wrong-name provider "
          f"({int(refused)} verify_failed), answered by the backup")


def case_tls_sighup_reload(binary: Path):
    """SIGHUP with a new certificate and key in the configured files: a TLS connection made before
    keeps working (OPTIONS answered 200 on it after the reload), a new connection gets the new
    certificate, and the expiry gauge moves from the old notAfter to the new one."""
    sip, tls, http = tls_ports()
    with Session(binary) as s:
        ca = TestCa(s.workdir / "pki")
        old_cert, old_key = ca.leaf("old", "IP:127.0.0.1", 10)
        new_cert, new_key = ca.leaf("new", "IP:127.0.0.1", 25)
        live_cert, live_key = s.workdir / "live.pem", s.workdir / "live.key"
        shutil.copyfile(old_cert, live_cert)
        shutil.copyfile(old_key, live_key)
        config = tls_config(sip, tls, http, {"certificate": live_cert, "key": live_key, "ca": ca.cert},
                            [f'{{ name: carrier, uri: "sip:{harness.TRUNK_HOST}:{free_port()}" }}'],
                            ['{ prefix: "", trunk: carrier }'])
        b2bua = start_tls_b2bua(s, config, sip, tls, http)
        gauge = {"listener": f"tls://{HOST}:{tls}"}
        check(metric(scrape(http), EXPIRY, **gauge) == not_after(old_cert), "gauge = the first certificate's notAfter")
        with TlsSip(tls, ca.cert) as before:
            check(before.peer_not_after() == not_after(old_cert), "the first connection sees the first certificate")
            check(before.options(tls, 1) == "SIP/2.0 200 OK", "OPTIONS before SIGHUP")
            shutil.copyfile(new_cert, live_cert)
            shutil.copyfile(new_key, live_key)
            os.kill(b2bua.pid, signal.SIGHUP)
            harness.wait_until(lambda: "TLS certificate reloaded" in b2bua.log() or not b2bua.alive(), 10,
                               "the reload to be logged")
            check(b2bua.alive(), f"b2bua died on SIGHUP:\n{b2bua.log()[-2000:]}")
            check(before.options(tls, 2) == "SIP/2.0 200 OK", "OPTIONS on the connection made before SIGHUP")
            with TlsSip(tls, ca.cert) as after:
                check(after.peer_not_after() == not_after(new_cert), "a new connection sees the new certificate")
                check(after.options(tls, 3) == "SIP/2.0 200 OK", "OPTIONS on a new connection")
            check(before.options(tls, 4) == "SIP/2.0 200 OK", "the old connection still works")
        check(metric(scrape(http), EXPIRY, **gauge) == not_after(new_cert), "gauge = the new certificate's notAfter")
        # A broken file on the next SIGHUP keeps the loaded certificate, and says why.
        live_key.write_text("not a key\n")
        os.kill(b2bua.pid, signal.SIGHUP)
        harness.wait_until(lambda: "TLS reload failed" in b2bua.log() or not b2bua.alive(), 10, "the failed reload")
        with TlsSip(tls, ca.cert) as third:
            check(third.peer_not_after() == not_after(new_cert), "after a failed reload the loaded certificate stays")
        check(metric(scrape(http), EXPIRY, **gauge) == not_after(new_cert), "gauge unchanged by a failed reload")
    print("tls_sighup_reload: connection kept across SIGHUP, new connections get the new certificate, gauge moved")
