"""Authentication under abuse (issue 10, part "auth"): stateless challenges, user enumeration,
attacker-sized fields in the log, rate-limited failure lines, no product header.

Runs inside test_e2e.py's namespace (check, Session, ports, config_yaml, harness...). The attacker
sends from its own loopback address (127.0.0.66...), the PBX would be 127.0.0.1, the trunk 127.0.0.2.
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import harness
from harness import HOST

# Part A's gate would drop sipvicious by its User-Agent and rate-limit a fast scan: off here, so
# that what is measured is what the authentication answers reveal, not whether they are sent.
# The source gate (cases_security_gate.py) out of the way: these cases measure what the digest
# answers and the log do with an attacker's requests, not how soon the gate stops them.
_OPEN_GATE = """security:
  scanner_user_agents: []
  max_requests_per_second: 0
  ban: { failures: 1000 }
"""


def _request(method: str, sock: harness.RawUdp, sip: int, user: str, n: int, extra: str = "",
             from_display: str = "") -> str:
    uri = f"sip:{user}@{HOST}:{sip}"
    body = "" if method != "INVITE" else (
        f"v=0\r\no=x 1 1 IN IP4 {sock.host}\r\ns=-\r\nc=IN IP4 {sock.host}\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\n")
    display = f'"{from_display}" ' if from_display else ""
    return (f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {sock.host}:{sock.port};branch=z9hG4bK-auth-{n}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: {display}<sip:{user}@{sock.host}>;tag=f{n}\r\n"
            f"To: <{uri}>\r\n"
            f"Call-ID: auth-{n}@{sock.host}\r\n"
            f"CSeq: 1 {method}\r\n"
            f"Contact: <sip:{user}@{sock.host}:{sock.port}>\r\n"
            + extra
            + ("Content-Type: application/sdp\r\n" if body else "")
            + f"Content-Length: {len(body)}\r\n\r\n{body}")


def _drain(sock: harness.RawUdp, seconds: float) -> list[str]:
    """Everything that reaches `sock` within `seconds`."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        m = sock.recv(left)
        if m is None:
            break
        got.append(m)
    return got


def _ack_for(response: str, sock: harness.RawUdp, sip: int, n: int) -> str:
    to = header_values(response, "to", "t")[0]
    return (f"ACK sip:x@{HOST}:{sip} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {sock.host}:{sock.port};branch=z9hG4bK-auth-{n}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:x@{sock.host}>;tag=f{n}\r\nTo: {to}\r\nCall-ID: auth-{n}@{sock.host}\r\n"
            "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")


def case_auth_stateless_challenge(binary: Path):
    """One spoofed INVITE draws exactly one 407 (it drew 11 over 32 s with an INVITE server transaction),
    no transaction is held for it (nor for a REGISTER's 401), its ACK is absorbed, a retransmission is
    challenged again; bytes out per byte in measured for a plain INVITE and for one with 60 KB in From (copied into the answer)."""
    sip, http, trunk_port, _ = ports()
    figures = []
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=_OPEN_GATE), sip, http)
        with harness.RawUdp("127.0.0.66") as attacker:
            for n, (what, display) in enumerate([("plain INVITE", ""), ("60 KB From", "x" * 60000)], start=1):
                invite = _request("INVITE", attacker, sip, "1000", n, from_display=display)
                attacker.send(invite, (HOST, sip))
                # Timer G would have re-sent a stateful 407 at 0.5, 1.5 and 3.5 s.
                got = _drain(attacker, 4.0)
                statuses_seen = [start_line(m) for m in got]
                check(len(got) == 1 and statuses_seen[0].startswith("SIP/2.0 407"),
                      f"{what}: expected exactly one 407 in 4 s, got {statuses_seen}")
                held = metric(scrape(http), "b2bua_sip_transactions", kind="server")
                check(held == 0, f"{what}: {held:.0f} server transactions held after a stateless challenge")
                out_bytes = len(got[0].encode())
                figures.append(f"{what}: {len(invite.encode())} B in, {out_bytes} B out "
                               f"({out_bytes / len(invite.encode()):.2f} per byte)")
                # The ACK for the 407 matches nothing and is absorbed: no answer.
                attacker.send(_ack_for(got[0], attacker, sip, n), (HOST, sip))
                stray = _drain(attacker, 1.0)
                check(not stray, f"{what}: the ACK for the 407 drew {[start_line(m) for m in stray]}")
                # A retransmission of the INVITE is simply challenged again, once.
                attacker.send(invite, (HOST, sip))
                again = _drain(attacker, 1.0)
                check(len(again) == 1 and start_line(again[0]).startswith("SIP/2.0 407"),
                      f"{what}: the retransmitted INVITE drew {[start_line(m) for m in again]}")
                nonces = {digest_params(header_values(m, "proxy-authenticate")[0])["nonce"] for m in got + again}
                check(len(nonces) == 2, f"{what}: the second challenge repeated the first's nonce")
            # A REGISTER's 401 is stateless too: no Timer J holding 32 s of state for it.
            attacker.send(_request("REGISTER", attacker, sip, "pbxuser", 9), (HOST, sip))
            got = _drain(attacker, 1.0)
            check(len(got) == 1 and start_line(got[0]).startswith("SIP/2.0 401"),
                  f"REGISTER: expected one 401, got {[start_line(m) for m in got]}")
            held = metric(scrape(http), "b2bua_sip_transactions", kind="server")
            check(held == 0, f"REGISTER: {held:.0f} server transactions held after its stateless 401")
        text = scrape(http)
        challenges = metric(text, "b2bua_auth_challenges_total", direction="downstream")
        check(challenges == 5, f"b2bua_auth_challenges_total = {challenges:.0f}, expected 5")
    print("auth_stateless_challenge: one 407 per INVITE (no retransmission over 4 s, 0 server transactions, "
          "ACK absorbed, retransmission challenged afresh), one 401 per REGISTER (0 held); " + "; ".join(figures))


def _shape(response: str) -> tuple:
    """What a response reveals apart from its random values: the status line, the header names in
    order, and each challenge with its nonce taken out."""
    names = []
    challenges = []
    for line in response.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        name, _, value = line.partition(":")
        names.append(name.strip().lower())
        if name.strip().lower() in ("www-authenticate", "proxy-authenticate"):
            challenges.append(re.sub(r'nonce="[^"]*"', 'nonce=""', value.strip()))
    return start_line(response), tuple(names), tuple(challenges)


def case_auth_svwar(binary: Path):
    """sipvicious_svwar cannot tell the configured user from unknown ones: it gives up at its sanity check
    (an unknown extension is challenged), and forced on it reports every name alike; measured by hand, the
    answers to REGISTER, INVITE and OPTIONS for a known and an unknown user have the same shape."""
    sip, http, trunk_port, _ = ports()
    known, unknown = "pbxuser", ["alice", "1000", "admin", "200", "nosuchuser"]
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=_OPEN_GATE), sip, http)
        dictionary = s.workdir / "users.txt"
        dictionary.write_text("\n".join([known, *unknown]) + "\n")
        reports = {}
        for method in ("REGISTER", "INVITE", "OPTIONS"):
            runs = {}
            for force in (False, True):
                args = ["svwar", "-v", "-d", str(dictionary), "-m", method, "-b", "127.0.0.67", "--maximumtime", "3",
                        "-p", str(sip), HOST] + (["--force"] if force else [])
                r = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=s.workdir)
                runs[force] = r.stdout + r.stderr
            plain = runs[False]
            if method != "OPTIONS":
                check("authentication request for an unknown extension" in plain,
                      f"svwar -m {method}: expected it to give up at its sanity check:\n{plain[-2000:]}")
            forced = runs[True]
            listed = {name for name in [known, *unknown] if re.search(rf"\|\s*{re.escape(name)}\s*\|", forced)}
            # It ran (a scan that never started would list nothing too) and told no name apart.
            check("found nothing" in forced or listed == {known, *unknown},
                  f"svwar -m {method} --force told some names apart: it listed {sorted(listed)}:\n{forced[-2000:]}")
            reports[method] = ("gave up; forced, " if method != "OPTIONS" else "") + (
                f"listed all {len(listed)} names alike" if listed else "found nothing")
        # By hand: the same answer shape for a known and an unknown user.
        with harness.RawUdp("127.0.0.68") as probe:
            n = 100
            for method in ("REGISTER", "INVITE", "OPTIONS"):
                shapes = {}
                for user in (known, "nosuchuser"):
                    n += 1
                    probe.send(_request(method, probe, sip, user, n), (HOST, sip))
                    answer = probe.recv(3, f"auth-{n}@{probe.host}")
                    check(answer is not None, f"no answer to {method} for {user}")
                    shapes[user] = _shape(answer)
                check(shapes[known] == shapes["nosuchuser"],
                      f"{method}: known and unknown users answered differently:\n{shapes}")
    print("auth_svwar: svwar " + ", ".join(f"{m} {r}" for m, r in reports.items()) +
          "; REGISTER/INVITE/OPTIONS for a known and an unknown user: the same status, headers and challenge")


def case_auth_log_bounded(binary: Path):
    """Requests with a 60 KB user name and a 4 KB User-Agent, from one attacker address: the log grows by a
    few hundred bytes per MB sent (the fields cut, three failure lines per interval, then one summary)."""
    sip, http, trunk_port, _ = ports()
    extra = _OPEN_GATE + "  failure_log_interval_s: 3\n"
    huge_user = "u" * 60000
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=extra), sip, http)
        time.sleep(0.5)
        before = len(b2bua.log().encode())
        sent = 0
        requests = 50
        with harness.RawUdp("127.0.0.69") as attacker:
            for n in range(requests):
                forged = (f'Proxy-Authorization: Digest username="{huge_user}", realm="pbx.local", '
                          f'nonce="forged{n}", uri="sip:1000@{HOST}:{sip}", response="{"0" * 32}", '
                          f'algorithm=MD5, cnonce="c", qop=auth, nc=00000001\r\n'
                          f"User-Agent: {'A' * 4000}\r\n")
                invite = _request("INVITE", attacker, sip, "1000", 1000 + n, extra=forged)
                sent += len(invite.encode())
                attacker.send(invite, (HOST, sip))
                check(attacker.recv(3, f"auth-{1000 + n}@{attacker.host}") is not None, f"no answer to request {n}")
        text = scrape(http)
        failures = metric(text, "b2bua_auth_failures_total", direction="downstream", reason="invalid_nonce")
        check(failures == requests, f"invalid_nonce = {failures:.0f}, expected {requests}: each one counted")
        harness.wait_until(lambda: "more in the last 3 s not logged" in b2bua.log(), 10, "the summary line")
        log = b2bua.log()
        grown = len(log.encode()) - before
        lines = [line for line in log.splitlines() if "auth failure downstream" in line]
        check(len(lines) == 3, f"{len(lines)} failure lines for {requests} failures from one source, expected 3")
        check(all(len(line) < 600 for line in lines), f"a failure line of {max(map(len, lines))} bytes")
        summaries = [line for line in log.splitlines() if "more in the last 3 s not logged" in line]
        check(len(summaries) == 1 and "127.0.0.69: 47 more" in summaries[0], f"summary lines: {summaries}")
        per_mb = grown / (sent / 1e6)
        check(per_mb < 2000, f"the log grew {grown} B for {sent} B of requests ({per_mb:.0f} B per MB)")
    print(f"auth_log_bounded: {requests} requests, {sent / 1e6:.1f} MB (60 KB user, 4 KB User-Agent) -> log +{grown} B "
          f"({per_mb:.0f} B per MB): 3 failure lines with the user cut to 64 bytes, then 1 summary line (47 more)")


def case_auth_no_product_header(binary: Path):
    """Nothing we send names the product unless security.server_header says so: the OPTIONS answer and
    the challenge to a stranger, and the trunk's OPTIONS probe; configured, each carries it."""
    sip, http, trunk_port, _ = ports()
    probe_extra = "      options_interval_s: 1\n"
    results = {}
    for header in ("", "Acme SBC"):
        extra = _OPEN_GATE + (f'  server_header: "{header}"\n' if header else "")
        with Session(binary) as s, harness.RawUdp("127.0.0.2", trunk_port) as trunk:
            s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=extra,
                                      trunk_extra=probe_extra), sip, http)
            seen = []
            with harness.RawUdp("127.0.0.70") as stranger:
                for n, method in enumerate(("OPTIONS", "INVITE", "REGISTER"), start=200):
                    stranger.send(_request(method, stranger, sip, "1000", n), (HOST, sip))
                    answer = stranger.recv(3, f"auth-{n}@{stranger.host}")
                    check(answer is not None, f"no answer to {method}")
                    seen.append(("answer to " + method, answer))
            probe = trunk.recv(5)
            check(probe is not None and start_line(probe).startswith("OPTIONS"),
                  f"expected the trunk's OPTIONS probe, got {probe!r}")
            seen.append(("OPTIONS probe to the trunk", probe))
            for what, m in seen:
                named = header_values(m, "server") + header_values(m, "user-agent")
                if header:
                    check(named == [header], f"{what}: product header {named}, expected [{header!r}]")
                else:
                    check(not named, f"{what} names a product: {named}")
            results[header or "(unset)"] = len(seen)
    print("auth_no_product_header: unset, no Server/User-Agent in the OPTIONS answer, the 407, the 401 to "
          "REGISTER or the trunk probe; set, each carries exactly the configured value")
