"""End-to-end cases over TCP: a call whose connection is gone mid-call (RFC 3261 §18.1.1, §18.2.2).

The PBX (127.0.0.1) and the trunk (127.0.0.2) are raw Python TCP sockets: each listens on its
Contact's port and talks to the b2bua over connections whose life the case controls. Loaded by
test_e2e.py, which puts its helpers (check, Session, config_yaml, md5_proxy_authorization...) in
this module's namespace.
"""

from __future__ import annotations

import re
import socket
import time

import harness
from harness import HOST, TRUNK_HOST, header_values, start_line

SDP = ("v=0\r\no=peer 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class Stream:
    """One TCP connection carrying SIP: messages cut by Content-Length, CRLF keep-alives skipped."""

    def __init__(self, sock: socket.socket, name: str):
        self.sock = sock
        self.name = name
        self.buf = b""

    def send(self, text: str):
        self.sock.sendall(text.encode())

    def recv(self, timeout: float) -> str | None:
        """The next message, or None at end of stream or after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end >= 0:
                head = self.buf[:head_end].decode(errors="replace")
                m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                total = head_end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return msg.decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65535)
            except socket.timeout:
                return None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk

    def expect(self, prefix: str, timeout: float = 5) -> str:
        """The next message that is not a 100 Trying (unless asked for); it must start with `prefix`."""
        while True:
            msg = self.recv(timeout)
            check(msg is not None, f"{self.name}: expected {prefix}, got nothing within {timeout} s")
            if start_line(msg).startswith("SIP/2.0 100") and not prefix.startswith("SIP/2.0 100"):
                continue
            check(start_line(msg).startswith(prefix), f"{self.name}: expected {prefix}, got {start_line(msg)!r}")
            return msg

    def at_eof(self, timeout: float) -> bool:
        """True when the peer closed the connection within `timeout` seconds (nothing else came)."""
        return self.recv(timeout) is None and self._closed()

    def _closed(self) -> bool:
        self.sock.settimeout(0.01)
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def listener(host: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(4)
    return s


def accept(sock: socket.socket, name: str, timeout: float = 5) -> Stream:
    sock.settimeout(timeout)
    try:
        conn, _ = sock.accept()
    except socket.timeout:
        raise harness.HarnessError(f"{name}: the b2bua opened no connection within {timeout} s") from None
    return Stream(conn, name)


def connect(source_host: str, to: tuple[str, int], name: str) -> Stream:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source_host, 0))
    s.settimeout(5)
    s.connect(to)
    return Stream(s, name)


def b2bua_side_open(local: tuple[str, int], remote: tuple[str, int]) -> bool:
    """The b2bua's end of a connection (its address `local`, the peer's `remote`) is still open:
    ESTABLISHED or CLOSE_WAIT in /proc/net/tcp."""
    def hexed(ep: tuple[str, int]) -> str:
        return f"{harness._proc_net_address(ep[0])}:{ep[1]:04X}"
    needle = f"{hexed(local)} {hexed(remote)} "
    with open("/proc/net/tcp") as f:
        return any(needle in line and line.split()[3] in ("01", "08") for line in f)


def uri_in(value: str) -> str:
    m = re.search(r"<([^>]+)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def tag_of(value: str) -> str:
    m = re.search(r";\s*tag=([^;>\s]+)", value)
    return m.group(1) if m else ""


def response_to(request: str, status: int, reason: str, to_tag: str = "", extra: str = "", body: str = "") -> str:
    """A response as a UAS writes it: the request's Via, From, To (with `to_tag`), Call-ID, CSeq."""
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {v}" for v in header_values(request, "via", "v")]
    lines.append(f"From: {header_values(request, 'from', 'f')[0]}")
    to = header_values(request, "to", "t")[0]
    if to_tag and not tag_of(to):
        to += f";tag={to_tag}"
    lines.append(f"To: {to}")
    lines.append(f"Call-ID: {header_values(request, 'call-id', 'i')[0]}")
    lines.append(f"CSeq: {header_values(request, 'cseq')[0]}")
    text = "\r\n".join(lines) + "\r\n" + extra
    if body:
        text += "Content-Type: application/sdp\r\n"
    return text + f"Content-Length: {len(body)}\r\n\r\n{body}"


class TcpCall:
    """One call PBX -> b2bua -> trunk, both legs over TCP, every message written here."""

    def __init__(self, sip: int, pbx_port: int, trunk_port: int):
        self.sip = sip
        self.pbx_port = pbx_port
        self.trunk_port = trunk_port
        self.pbx_contact = f"sip:200@{HOST}:{pbx_port};transport=tcp"
        self.trunk_contact = f"sip:gw@{TRUNK_HOST}:{trunk_port};transport=tcp"
        self.uri = f"sip:1000@{HOST}:{sip}"
        self.call_id = f"tcp-reconnect-{time.monotonic_ns()}@{HOST}"
        self.from_tag = "pbxtag1"
        self.cseq = 0
        self.n = 0
        self.branch = ""           # of the PBX's last request
        self.pbx_to = ""           # To of the confirmed dialog, as the PBX writes it (with the b2bua's tag)
        self.b2bua_contact_a = ""  # the b2bua's Contact on leg A (Request-URI of the PBX's requests)
        self.trunk_invite = ""     # the INVITE as the trunk got it

    def pbx_request(self, method: str, to: str, uri: str | None = None, extra: str = "", body: str = "",
                    cseq: int | None = None, branch: str | None = None) -> str:
        """A request of the PBX, with a new branch unless `branch` is given (the ACK of a non-2xx)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        if branch is None:
            self.n += 1
            branch = f"z9hG4bK-pbx-{self.n}"
        self.branch = branch
        text = (f"{method} {uri or self.uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/TCP {HOST}:{self.pbx_port};branch={branch}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: \"pbx\" <sip:200@{HOST}>;tag={self.from_tag}\r\n"
                f"To: {to}\r\n"
                f"Call-ID: {self.call_id}\r\n"
                f"CSeq: {cseq} {method}\r\n"
                f"Contact: <{self.pbx_contact}>\r\n" + extra)
        if body:
            text += "Content-Type: application/sdp\r\n"
        return text + f"Content-Length: {len(body)}\r\n\r\n{body}"

    def trunk_bye(self) -> str:
        inv = self.trunk_invite
        return (f"BYE {uri_in(header_values(inv, 'contact', 'm')[0])} SIP/2.0\r\n"
                f"Via: SIP/2.0/TCP {TRUNK_HOST}:{self.trunk_port};branch=z9hG4bK-trunk-bye\r\n"
                "Max-Forwards: 70\r\n"
                f"From: {header_values(inv, 'to', 't')[0]};tag=trunktag1\r\n"
                f"To: {header_values(inv, 'from', 'f')[0]}\r\n"
                f"Call-ID: {header_values(inv, 'call-id', 'i')[0]}\r\n"
                "CSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n")

    def set_up(self, pbx: Stream, trunk_listener: socket.socket) -> Stream:
        """INVITE, 407, ACK, INVITE with credentials; the trunk answers 200; ACK. Returns the trunk's
        end of the connection the b2bua opened to it."""
        body = SDP.format(host=HOST)
        pbx.send(self.pbx_request("INVITE", f"<{self.uri}>", body=body))
        challenge = pbx.expect("SIP/2.0 407")
        # §17.1.1.3: the ACK of a non-2xx is in the INVITE's transaction (its branch).
        pbx.send(self.pbx_request("ACK", header_values(challenge, "to", "t")[0], cseq=self.cseq, branch=self.branch))
        answer = md5_proxy_authorization(header_values(challenge, "proxy-authenticate")[0], "INVITE", self.uri,
                                         "pbxuser", "pbxpass", "0a4f113b")
        pbx.send(self.pbx_request("INVITE", f"<{self.uri}>", extra=f"Proxy-Authorization: {answer}\r\n", body=body))
        trunk = accept(trunk_listener, "trunk")
        self.trunk_invite = trunk.expect("INVITE")
        trunk.send(response_to(self.trunk_invite, 200, "OK", "trunktag1", f"Contact: <{self.trunk_contact}>\r\n",
                               SDP.format(host=TRUNK_HOST)))
        ok = pbx.expect("SIP/2.0 200")
        self.pbx_to = header_values(ok, "to", "t")[0]
        self.b2bua_contact_a = uri_in(header_values(ok, "contact", "m")[0])
        pbx.send(self.pbx_request("ACK", self.pbx_to, uri=self.b2bua_contact_a, cseq=self.cseq))
        trunk.expect("ACK")
        return trunk


def tcp_config(sip: int, http: int, trunk_port: int, idle_s: int | None = None) -> str:
    config = config_yaml(sip, http, trunk_port, tcp=True, trunk_transport="tcp")
    if idle_s is not None:
        config = config.replace("sip:\n  listen:", f"sip:\n  tcp: {{ idle_timeout_s: {idle_s} }}\n  listen:", 1)
    return config


def wait_call_ended(proc, http: int):
    harness.wait_until(lambda: harness.metric(harness.scrape(http), "b2bua_active_calls") == 0, 5,
                       "b2bua_active_calls to be 0")
    # The one call's id: 1, or 2 when a second worker took it (B2B_E2E_WORKERS).
    check(re.search(r"call [12] end", proc.log()) is not None, f"no end of the call in the log:\n{proc.log()[-2000:]}")


def case_tcp_idle_call_bye_reaches_pbx(binary):
    """sip.tcp.idle_timeout_s: 2, a call over TCP on both legs left silent: the b2bua closes both
    connections. The trunk then hangs up on a new connection of its own: its BYE gets 200, and the
    b2bua opens a new connection to the PBX's Contact (RFC 3261 §18.1.1, §12.2.1.1) that carries BYE
    in leg A's dialog; the PBX's 200 on it ends the call."""
    sip, http, _, _ = ports()
    pbx_port = free_port((socket.SOCK_STREAM,))
    trunk_port = free_port((socket.SOCK_STREAM,), host=TRUNK_HOST)
    with Session(binary) as s, listener(HOST, pbx_port) as pbx_listen, listener(TRUNK_HOST, trunk_port) as trunk_listen:
        proc = s.start_b2bua(tcp_config(sip, http, trunk_port, idle_s=2), sip, http, tcp=True)
        call = TcpCall(sip, pbx_port, trunk_port)
        pbx = connect(HOST, (HOST, sip), "pbx")
        trunk = call.set_up(pbx, trunk_listen)
        pbx_ep = pbx.sock.getsockname()
        trunk_peer = trunk.sock.getpeername()  # the b2bua's end of its connection to the trunk
        silent = time.monotonic()
        harness.wait_until(lambda: not b2bua_side_open((HOST, sip), pbx_ep)
                           and not b2bua_side_open(trunk_peer, (TRUNK_HOST, trunk_port)), 8,
                           "the b2bua to close both idle connections")
        idle_closed = time.monotonic() - silent
        check(pbx.at_eof(1) and trunk.at_eof(1), "both peers see their connection closed by the b2bua")
        pbx.close()
        trunk.close()

        again = connect(TRUNK_HOST, (HOST, sip), "trunk (new connection)")
        again.send(call.trunk_bye())
        again.expect("SIP/2.0 200")
        reopened = accept(pbx_listen, "pbx (new connection)")
        bye = reopened.expect("BYE")
        check(start_line(bye) == f"BYE {call.pbx_contact} SIP/2.0", f"BYE to the PBX's Contact: {start_line(bye)!r}")
        check(header_values(bye, "call-id", "i")[0] == call.call_id, "the BYE is in leg A's dialog (its Call-ID)")
        check(tag_of(header_values(bye, "to", "t")[0]) == call.from_tag, "the BYE's To tag is the PBX's")
        check(header_values(bye, "via", "v")[0].startswith("SIP/2.0/TCP "), "the BYE's Via names TCP")
        reopened.send(response_to(bye, 200, "OK"))
        wait_call_ended(proc, http)
        check("is gone: sending on connection" in proc.log(), "the new connection is logged")
        again.close()
        reopened.close()
    print(f"tcp_idle_call_bye_reaches_pbx: both idle connections closed {idle_closed:.1f} s after the ACK; "
          "the trunk's BYE reached the PBX on a new connection to its Contact and the call ended")


def case_tcp_pbx_bye_reaches_trunk_after_close(binary):
    """The trunk closes the connection the b2bua opened to it, mid-call. The PBX hangs up on its own
    connection: 200 at once, and the b2bua opens a new connection to the trunk's Contact for the BYE
    in leg B's dialog; the trunk's 200 on it ends the call."""
    sip, http, _, _ = ports()
    pbx_port = free_port((socket.SOCK_STREAM,))
    trunk_port = free_port((socket.SOCK_STREAM,), host=TRUNK_HOST)
    with Session(binary) as s, listener(HOST, pbx_port) as _, listener(TRUNK_HOST, trunk_port) as trunk_listen:
        proc = s.start_b2bua(tcp_config(sip, http, trunk_port), sip, http, tcp=True)
        call = TcpCall(sip, pbx_port, trunk_port)
        pbx = connect(HOST, (HOST, sip), "pbx")
        trunk = call.set_up(pbx, trunk_listen)
        b2bua_end = trunk.sock.getpeername()
        trunk.close()
        harness.wait_until(lambda: not b2bua_side_open(b2bua_end, (TRUNK_HOST, trunk_port)), 5,
                           "the b2bua to see the trunk's connection closed")

        pbx.send(call.pbx_request("BYE", call.pbx_to, uri=call.b2bua_contact_a))
        pbx.expect("SIP/2.0 200")
        reopened = accept(trunk_listen, "trunk (new connection)")
        bye = reopened.expect("BYE")
        check(start_line(bye) == f"BYE {call.trunk_contact} SIP/2.0", f"BYE to the trunk's Contact: {start_line(bye)!r}")
        check(header_values(bye, "call-id", "i")[0] == header_values(call.trunk_invite, "call-id", "i")[0],
              "the BYE is in leg B's dialog (its Call-ID)")
        check(tag_of(header_values(bye, "to", "t")[0]) == "trunktag1", "the BYE's To tag is the trunk's")
        reopened.send(response_to(bye, 200, "OK"))
        wait_call_ended(proc, http)
        pbx.close()
        reopened.close()
    print("tcp_pbx_bye_reaches_trunk_after_close: the PBX's BYE reached the trunk on a new connection to its "
          "Contact after the trunk closed the first one; the call ended")
