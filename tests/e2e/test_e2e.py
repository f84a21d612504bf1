#!/usr/bin/env python3
"""End-to-end tests: the real b2bua between a SIPp "PBX" and a SIPp "trunk", on 127.0.0.1.

Usage: test_e2e.py --b2bua build/bin/b2bua CASE [CASE...]   (CASE "all" runs every case)
Each case starts its own processes on free ports and stops them by PID.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import (HOST, TRUNK_HOST, SCENARIOS, SHARED_SCENARIOS, HarnessError, Session, config_yaml, free_port,  # noqa: E402
                     header_values, metric, scrape, start_line, via_count)

PBX_AUTH = ["-au", "pbxuser", "-ap", "pbxpass"]


def check(cond: bool, what: str):
    if not cond:
        raise HarnessError(what)


def auth_uri(port: int) -> list[str]:
    # SIPp prefixes the value with "sip:", so the digest uri becomes sip:1000@127.0.0.1:PORT,
    # the Request-URI, as a real PBX sends it.
    return ["-auth_uri", f"1000@{HOST}:{port}"]


def ports():
    return free_port(), free_port((harness.socket.SOCK_STREAM,)), free_port(), free_port()


def sipp_calls(s: Session, name: str, scenario: Path, b2bua_port: int, pbx_port: int, calls: int, rate: int,
               auth: list[str], transport: str = "u1", timeout: float = 120) -> harness.SippResult:
    proc = s.start_sipp(name, scenario, pbx_port,
                        ["-s", "1000", *auth, *auth_uri(b2bua_port), "-m", str(calls), "-r", str(rate),
                         "-rp", "1000", "-timeout", f"{int(timeout)}s", "-recv_timeout", "15000"],
                        remote=f"{HOST}:{b2bua_port}", transport=transport)
    s.wait_sipp(proc, timeout + 15)
    return s.sipp_result(proc)


def received(result: harness.SippResult, prefix: str) -> list[str]:
    return [m for d, m in result.messages if d == "received" and start_line(m).startswith(prefix)]


def sent(result: harness.SippResult, prefix: str) -> list[str]:
    return [m for d, m in result.messages if d == "sent" and start_line(m).startswith(prefix)]


def statuses(result: harness.SippResult) -> list[int]:
    out = []
    for d, m in result.messages:
        if d == "received" and start_line(m).startswith("SIP/2.0 "):
            out.append(int(start_line(m).split()[1]))
    return out


def run_calls(s: Session, sip: int, pbx_port: int, trunk_port: int, pbx_scenario: Path, trunk_scenario: Path,
              calls: int, rate: int, transport: str = "u1"):
    """A trunk SIPp, then `calls` PBX calls through the b2bua; returns both sides' results."""
    trunk = s.start_sipp_server("trunk", trunk_scenario, trunk_port, transport=transport, local_ip=TRUNK_HOST)
    pbx = sipp_calls(s, "pbx", pbx_scenario, sip, pbx_port, calls, rate, PBX_AUTH, transport=transport)
    return pbx, stop_trunk(s, trunk)


def all_passed(pbx: harness.SippResult, trunk: harness.SippResult, calls: int):
    check(pbx.successful == calls and pbx.failed == 0,
          f"PBX side: {pbx.successful} successful, {pbx.failed} failed\n{pbx.errors[-3000:]}")
    check(trunk.successful == calls and trunk.failed == 0,
          f"trunk side: {trunk.successful} successful, {trunk.failed} failed\n{trunk.errors[-3000:]}")


def stop_trunk(s: Session, trunk):
    # The trunk SIPp runs without -m: let its last calls leave their 1 s timewait, stop it,
    # then read its statistics (written on exit).
    time.sleep(1.5)
    s.stop(trunk)
    return s.sipp_result(trunk)


# ------------------------------------------------------------------------------------ cases
def case_calls_200(binary: Path):
    """200 calls at 20 calls/s, both sides authenticated; topology hidden in both directions."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", 200, 20)
        all_passed(pbx, trunk_r, 200)

        # What reached the trunk: our single Via, new Call-IDs, no PBX address or tag.
        pbx_call_ids = {header_values(m, "call-id", "i")[0] for m in sent(pbx, "INVITE")}
        pbx_tags = {re.search(r"tag=([^;>\s]+)", header_values(m, "from", "f")[0]).group(1) for m in sent(pbx, "INVITE")}
        trunk_invites = received(trunk_r, "INVITE")
        check(len(trunk_invites) == 400, f"trunk saw {len(trunk_invites)} INVITEs, expected 400 (200 challenged)")
        trunk_call_ids = set()
        for m in [msg for d, msg in trunk_r.messages if d == "received"]:
            check(via_count(m) == 1, f"trunk received a message with {via_count(m)} Via values:\n{m}")
            via = header_values(m, "via", "v")[0]
            check(f"{HOST}:{sip}" in via, f"the Via at the trunk is not the B2BUA's: {via}")
            check(f":{pbx_port}" not in m, f"the PBX's port {pbx_port} leaked to the trunk:\n{m}")
            call_id = header_values(m, "call-id", "i")[0]
            trunk_call_ids.add(call_id)
            for tag in pbx_tags:
                check(tag not in m, f"PBX tag {tag} leaked to the trunk:\n{m}")
            check(not header_values(m, "proxy-authorization"), f"PBX credentials leaked to the trunk:\n{m}")
        check(not (pbx_call_ids & trunk_call_ids), "a PBX Call-ID reached the trunk")
        check(len(trunk_call_ids) == 200, f"expected 200 distinct leg-B Call-IDs, saw {len(trunk_call_ids)}")

        # What reached the PBX: only its own Via and Call-IDs, nothing of the trunk.
        for m in [msg for d, msg in pbx.messages if d == "received"]:
            check(via_count(m) <= 1, f"PBX received a message with {via_count(m)} Via values:\n{m}")
            check(header_values(m, "call-id", "i")[0] in pbx_call_ids, f"a foreign Call-ID reached the PBX:\n{m}")
            check(f":{trunk_port}" not in m, f"the trunk's port {trunk_port} leaked to the PBX:\n{m}")
            check("TrunkTag" not in m, f"a trunk tag leaked to the PBX:\n{m}")
            check("trunk.example" not in m, f"the trunk's realm leaked to the PBX:\n{m}")
        for m in received(pbx, "BYE") + received(pbx, "SIP/2.0 2"):
            for c in header_values(m, "contact", "m"):
                check(f"{HOST}:{sip}" in c, f"Contact at the PBX is not the B2BUA's: {c}")

        text = scrape(http)
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 200, "calls_total answered != 200")
        check(metric(text, "b2bua_auth_challenges_total", direction="downstream") == 200, "downstream challenges != 200")
        check(metric(text, "b2bua_auth_challenges_total", direction="upstream") == 200, "upstream challenges != 200")
        check(metric(text, "b2bua_auth_failures_total") == 0, "auth failures counted on good calls")
        check(metric(text, "b2bua_active_calls") == 0, "calls left active after all ended")
        print(f"calls_200: 200/200 calls, {len(trunk_call_ids)} distinct leg-B Call-IDs, one Via at the trunk")


def case_wrong_password(binary: Path):
    """A wrong PBX password gets 403, never reaches the trunk, and is counted."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        before = metric(scrape(http), "b2bua_auth_failures_total", direction="downstream", reason="wrong_password",
                        peer="pbx.local")
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1,
                         ["-au", "pbxuser", "-ap", "not-the-password"])
        trunk_r = stop_trunk(s, trunk)
        check(pbx.successful == 1, f"PBX call did not end in a failure response:\n{pbx.errors}")
        check(statuses(pbx)[-1] == 403, f"expected 403 after the wrong password, got {statuses(pbx)}")
        check(not received(trunk_r, "INVITE"), "the call reached the trunk despite the wrong password")
        text = scrape(http)
        after = metric(text, "b2bua_auth_failures_total", direction="downstream", reason="wrong_password",
                       peer="pbx.local")
        check(after == before + 1, f"wrong_password failures went {before} -> {after}, expected +1")
        check(metric(text, "b2bua_auth_failures_total", direction="downstream") == 1, "other failures counted")
        check("auth failure downstream: reason=wrong_password user=\"pbxuser\"" in s.processes[0].log(),
              "no log line for the failure")
        print(f"wrong_password: 403, b2bua_auth_failures_total{{reason=wrong_password}} {before:.0f} -> {after:.0f}")


def case_trunk_rejects(binary: Path):
    """The trunk challenges our credentials again: one answer only, 503 to the PBX, 'rejected'."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, trunk_password="stale-password"), sip, http)
        trunk = s.start_sipp_server("trunk", SCENARIOS / "trunk_challenges_twice.xml", trunk_port, local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1, PBX_AUTH)
        trunk_r = stop_trunk(s, trunk)
        check(pbx.successful == 1, f"PBX call did not end with a failure response:\n{pbx.errors}")
        check(statuses(pbx)[-1] == 503, f"expected 503 when the trunk refuses us, got {statuses(pbx)}")
        check(len(received(trunk_r, "INVITE")) == 2, "expected exactly two INVITEs at the trunk (no loop)")
        text = scrape(http)
        check(metric(text, "b2bua_auth_failures_total", direction="upstream", reason="rejected", peer="carrier") == 1,
              "upstream rejected failure not counted")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="upstream_auth_failed") == 1,
              "calls_total upstream_auth_failed not counted")
        check(metric(text, "b2bua_active_calls") == 0, "call left active")
        check("auth failure upstream: reason=rejected trunk=carrier" in s.processes[0].log(),
              "no log line for the upstream failure")
        print("trunk_rejects: 2 INVITEs at the trunk, PBX got 503, "
              "b2bua_auth_failures_total{direction=upstream,reason=rejected} 1")


def case_trunk_forbidden(binary: Path):
    """The trunk answers 403 to our credentials: relayed as 403, counted as 'forbidden'."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, trunk_password="stale-password"), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1, PBX_AUTH)
        stop_trunk(s, trunk)
        check(pbx.successful == 1, f"PBX call did not end with a failure response:\n{pbx.errors}")
        check(statuses(pbx)[-1] == 403, f"expected the trunk's 403 relayed, got {statuses(pbx)}")
        text = scrape(http)
        check(metric(text, "b2bua_auth_failures_total", direction="upstream", reason="forbidden", peer="carrier") == 1,
              "upstream forbidden failure not counted")
        check(metric(text, "b2bua_auth_failures_total", direction="upstream", reason="rejected") == 0,
              "a 403 counted as rejected")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="rejected") == 1,
              "calls_total rejected not counted")
        check(metric(text, "b2bua_active_calls") == 0, "call left active")
        check("auth failure upstream: reason=forbidden trunk=carrier" in s.processes[0].log(),
              "no log line for the 403")
        print("trunk_forbidden: PBX got 403, b2bua_auth_failures_total{direction=upstream,reason=forbidden} 1")


def case_cancel(binary: Path):
    """CANCEL before answer: 487 to the PBX, CANCEL on to the trunk, both legs end."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SCENARIOS / "pbx_cancel_while_ringing.xml",
                                 SCENARIOS / "trunk_ring_expect_cancel.xml", 5, 5)
        all_passed(pbx, trunk_r, 5)
        check(len(received(trunk_r, "CANCEL")) >= 5, "the trunk did not see the CANCELs")
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="cancelled") == 5, "cancelled calls not counted")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        print("cancel: 5 calls cancelled while ringing, 487 to the PBX, CANCEL at the trunk, no call left")


def case_trunk_bye(binary: Path):
    """The trunk hangs up: BYE reaches the PBX, both legs end."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SCENARIOS / "pbx_answered_expect_bye.xml",
                                 SCENARIOS / "trunk_answer_then_bye.xml", 5, 5)
        all_passed(pbx, trunk_r, 5)
        for bye in received(pbx, "BYE"):
            check(via_count(bye) == 1 and f"{HOST}:{sip}" in header_values(bye, "via")[0], f"BYE Via:\n{bye}")
            check("TrunkTag" not in bye, f"trunk tag in the BYE to the PBX:\n{bye}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        print("trunk_bye: 5 calls ended by the trunk, BYE relayed to the PBX, no call left")


def case_tcp(binary: Path):
    """PBX over TCP, trunk over TCP: framing, connection reuse, same call flow."""
    sip, http, trunk_port, pbx_port = ports()
    trunk_port = free_port((socket.SOCK_STREAM, socket.SOCK_DGRAM))
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, tcp=True, trunk_transport="tcp"), sip, http, tcp=True)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", 20, 10, transport="t1")
        all_passed(pbx, trunk_r, 20)
        for m in [msg for d, msg in trunk_r.messages if d == "received"]:
            check("SIP/2.0/TCP" in header_values(m, "via")[0], f"leg B not over TCP:\n{m}")
        print("tcp: 20 calls PBX -TCP-> b2bua -TCP-> trunk")


def case_malformed(binary: Path):
    """Torture messages and garbage: 400 with the parser's reason, counted, and calls still work."""
    sip, http, trunk_port, pbx_port = ports()
    corpus = harness.ROOT.parent / "shared" / "testdata" / "rfc4475"
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        sock.settimeout(2)

        def exchange(data: bytes) -> str | None:
            sock.sendto(data, (HOST, sip))
            try:
                reply, _ = sock.recvfrom(65535)
                return reply.decode(errors="replace")
            except socket.timeout:
                return None

        reply = exchange((corpus / "badinv01.dat").read_bytes())
        check(reply is not None and reply.startswith("SIP/2.0 400 "), f"badinv01 -> {reply!r}")
        reply = exchange((corpus / "badvers.dat").read_bytes())
        check(reply is not None and reply.startswith("SIP/2.0 505 "), f"badvers -> {reply!r}")
        reply = exchange((corpus / "mismatch01.dat").read_bytes())
        check(reply is not None and reply.startswith("SIP/2.0 400 "), f"mismatch01 -> {reply!r}")
        reply = exchange((corpus / "unkscm.dat").read_bytes())
        check(reply is not None and reply.startswith("SIP/2.0 416 "), f"unkscm -> {reply!r}")
        # RFC 4475 §3.3 application-layer answers.
        for name, status in (("bext01.dat", "420"), ("sdp01.dat", "406"), ("invut.dat", "415"),
                             ("novelsc.dat", "416")):
            reply = exchange((corpus / name).read_bytes())
            check(reply is not None and reply.startswith(f"SIP/2.0 {status} "), f"{name} -> {reply!r}")
        # OPTIONS with Max-Forwards 0 is for us, the endpoint: answered normally (RFC 4475 §3.3.11).
        reply = exchange((corpus / "zeromf.dat").read_bytes())
        check(reply is not None and reply.startswith("SIP/2.0 200 "), f"zeromf -> {reply!r}")
        # Every corpus file and some garbage: whatever the answer, the process stays up.
        for f in sorted(corpus.glob("*.dat")):
            sock.sendto(f.read_bytes(), (HOST, sip))
        for junk in (b"\x00" * 100, b"INVITE", b"SIP/2.0 200 OK\r\n\r\n", bytes(range(256)) * 4):
            sock.sendto(junk, (HOST, sip))
        time.sleep(0.5)
        check(b2bua.alive(), "b2bua died on malformed input")
        text = scrape(http)
        errors = metric(text, "b2bua_sip_parse_errors_total")
        check(errors >= 20, f"b2bua_sip_parse_errors_total = {errors}, expected >= 20")
        # And real calls still go through.
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, 5, 5, PBX_AUTH)
        stop_trunk(s, trunk)
        check(pbx.successful == 5, f"calls after malformed input: {pbx.successful}/5\n{pbx.errors}")
        print(f"malformed: 400/505/416/420/406/415 answers, {errors:.0f} parse errors counted, calls still pass")


def options_status(sock: socket.socket, sip_port: int, n: int) -> str | None:
    """Sends an out-of-dialog OPTIONS to the b2bua and returns the start line of its answer."""
    local = sock.getsockname()[1]
    msg = (f"OPTIONS sip:{HOST}:{sip_port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {HOST}:{local};branch=z9hG4bK-sighup-{n}\r\n"
           "Max-Forwards: 70\r\n"
           f"To: <sip:{HOST}:{sip_port}>\r\n"
           f"From: <sip:probe@{HOST}:{local}>;tag=sighup{n}\r\n"
           f"Call-ID: sighup-{n}@{HOST}\r\n"
           f"CSeq: {n} OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n")
    sock.sendto(msg.encode(), (HOST, sip_port))
    try:
        reply, _ = sock.recvfrom(65535)
    except socket.timeout:
        return None
    return start_line(reply.decode(errors="replace"))


def case_sighup(binary: Path):
    """SIGHUP reloads (the store's trunks, users and routes, the log level) and keeps the process
    running and answering, twice over; it never ends a call or the process."""
    sip, http, trunk_port, _ = ports()
    warning = "SIGHUP: reloaded: "
    # "b2bua 0.1.0 (commit 4f54b097a1eb)": the start logs the same words.
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10,
                             check=True).stdout.strip().removeprefix("b2bua ")
    # Leaving the session sends SIGTERM and requires exit 0: SIGTERM still works after SIGHUP.
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        log = b2bua.log()
        check(f"b2bua {version} starting" in log, f"no version line for {version} at start:\n{log}")
        check(f"listen udp://{HOST}:{sip}" in log and "1 trunk(s), 1 route(s), 0 inbound route(s), 1 user(s)" in log
              and 'realm "pbx.local"' in log and "challenge 407" in log, f"no configuration summary:\n{log}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        sock.settimeout(2)
        with sock:
            check(options_status(sock, sip, 1) == "SIP/2.0 200 OK", "OPTIONS before SIGHUP not answered 200")
            # Twice, each after the previous one was handled: the signal wait must be re-armed.
            for n in (1, 2):
                os.kill(b2bua.pid, signal.SIGHUP)
                harness.wait_until(lambda: b2bua.log().count(warning) >= n or not b2bua.alive(), 10,
                                   f"warning for SIGHUP #{n}")
                check(b2bua.alive(), f"b2bua died on SIGHUP #{n}:\n{b2bua.log()[-3000:]}")
                reply = options_status(sock, sip, n + 1)
                check(reply == "SIP/2.0 200 OK", f"OPTIONS after SIGHUP #{n} -> {reply!r}")
        lines = [l for l in b2bua.log().splitlines() if warning in l]
        check(len(lines) == 2 and all(" info [b2bua] " in l and "log.level" in l for l in lines),
              f"expected two info-level SIGHUP reload lines, got {lines}")
        check("shutting down" not in b2bua.log(), "SIGHUP started a shutdown")
        print("sighup: two SIGHUPs reloaded (log.level), OPTIONS answered 200 after each")


def in_dialog_request(method: str, client: harness.RawUdp, sip_port: int, n: int) -> str:
    """An in-dialog request (To with a tag) for a dialog that never existed."""
    return (f"{method} sip:pbx@{HOST}:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {client.host}:{client.port};branch=z9hG4bK-nodlg-{method.lower()}-{n}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:1000@{client.host}>;tag=from-{method.lower()}-{n}\r\n"
            f"To: \"far\" <sip:2000@{HOST}:{sip_port}>;tag=to-{method.lower()}-{n}\r\n"
            f"Call-ID: nodialog-{method.lower()}-{n}-{os.getpid()}@{client.host}\r\n"
            f"CSeq: {4710 + n} {method}\r\n"
            f"Contact: <sip:1000@{client.host}:{client.port}>\r\n"
            + ("Content-Type: application/dtmf-relay\r\nContent-Length: 10\r\n\r\nSignal=5\r\n"
               if method == "INFO" else "Content-Length: 0\r\n\r\n"))


def case_unknown_dialog_481(binary: Path):
    """BYE, INFO and OPTIONS inside a dialog we do not have: 481 echoing the request's identifiers."""
    sip, http, trunk_port, _ = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        before = metric(scrape(http), "b2bua_sip_responses_total", direction="out", code="481")
        # Whatever the b2bua might forward would land on the trunk port: listen there.
        with harness.RawUdp(TRUNK_HOST, trunk_port) as trunk, harness.RawUdp() as client:
            for n, method in enumerate(("BYE", "INFO", "OPTIONS", "BYE")):
                request = in_dialog_request(method, client, sip, n)
                call_id = header_values(request, "call-id")[0]
                client.send(request, (HOST, sip))
                reply = client.recv(5, call_id)
                check(reply is not None, f"no answer to the {method} for an unknown dialog")
                check(start_line(reply).startswith("SIP/2.0 481 "), f"{method} -> {start_line(reply)!r}\n{reply}")
                for name in ("call-id", "cseq"):
                    check(header_values(reply, name) == header_values(request, name),
                          f"{method}: 481 {name} {header_values(reply, name)} != {header_values(request, name)}")
                check(via_count(reply) == 1, f"{method}: 481 has {via_count(reply)} Via values:\n{reply}")
                want_branch = harness.branch_of(header_values(request, "via")[0])
                got_branch = harness.branch_of(header_values(reply, "via", "v")[0])
                check(got_branch == want_branch, f"{method}: 481 Via branch {got_branch} != {want_branch}")
                for name, short in (("from", "f"), ("to", "t")):
                    got = header_values(reply, name, short)
                    check(len(got) == 1, f"{method}: 481 has {len(got)} {name} headers:\n{reply}")
                    want_tag = harness.tag_of(header_values(request, name)[0])
                    check(harness.tag_of(got[0]) == want_tag and got[0].count("tag=") == 1,
                          f"{method}: 481 {name} {got[0]!r}, expected exactly the tag {want_tag}")
                # A retransmission (same branch) is answered the same way, not by a new transaction.
                if method == "BYE" and n == 0:
                    client.send(request, (HOST, sip))
                    again = client.recv(5, call_id)
                    check(again is not None and start_line(again) == start_line(reply)
                          and header_values(again, "to") == header_values(reply, "to"),
                          f"retransmitted BYE -> {again!r}, first answer was {start_line(reply)!r}")
            leaked = trunk.recv(0.5)
            check(leaked is None, f"a request for an unknown dialog reached the trunk:\n{leaked}")
        text = scrape(http)
        after = metric(text, "b2bua_sip_responses_total", direction="out", code="481")
        check(after == before + 4, f"b2bua_sip_responses_total{{code=481,direction=out}} {before:.0f} -> {after:.0f}, "
              "expected +4 (the retransmission answered from the transaction, not counted again)")
        check(metric(text, "b2bua_sip_requests_total", direction="out") == 0, "the b2bua sent a request on")
        check(metric(text, "b2bua_active_calls") == 0, "an unknown-dialog request created a call")
        print("unknown_dialog_481: BYE, INFO, OPTIONS with a To tag -> 481 with their own Call-ID, tags, CSeq, "
              "branch; retransmission answered again; nothing reached the trunk")


def record_routes(msg: str) -> list[str]:
    """The Record-Route entries of a message, in order, one per name-addr (headers or commas)."""
    out = []
    for value in header_values(msg, "record-route"):
        out += [v.strip() for v in re.findall(r"<[^>]*>[^,]*|[^,<]+", value) if v.strip()]
    return out


def case_pbx_record_route(binary: Path):
    """The PBX's Record-Route comes back in 183, 180 and 200 (§12.1.1); the trunk's never does."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SCENARIOS / "pbx_behind_edge_record_route.xml",
                                 SCENARIOS / "trunk_record_route_183_180_200.xml", 3, 3)
        all_passed(pbx, trunk_r, 3)
        invites = [m for m in sent(pbx, "INVITE") if header_values(m, "proxy-authorization")]
        check(len(invites) == 3, f"expected 3 authenticated INVITEs from the PBX, saw {len(invites)}")
        by_call = {header_values(m, "call-id")[0]: record_routes(m) for m in invites}
        check(all(len(rr) == 2 for rr in by_call.values()), f"the PBX INVITEs' Record-Route: {by_call}")
        seen = {183: 0, 180: 0, 200: 0}
        for m in received(pbx, "SIP/2.0 "):
            code = int(start_line(m).split()[1])
            cseq = header_values(m, "cseq")[0]
            if code not in seen or not cseq.endswith("INVITE") or cseq.split()[0] != "2":
                continue
            seen[code] += 1
            want = by_call[header_values(m, "call-id", "i")[0]]
            got = record_routes(m)
            check(got == want, f"{code} at the PBX carries Record-Route {got}, expected the INVITE's {want}:\n{m}")
            contacts = header_values(m, "contact", "m")
            check(len(contacts) == 1 and f"{HOST}:{sip}" in contacts[0],
                  f"{code} at the PBX: Contact {contacts} is not the B2BUA's")
        check(seen[183] >= 3 and seen[180] >= 3 and seen[200] >= 3, f"responses seen at the PBX: {seen}")
        for m in [msg for d, msg in pbx.messages if d == "received"]:
            check("trunkrr" not in m and f":{trunk_port}" not in m and "TrunkTag" not in m,
                  f"the trunk's Record-Route, Contact or tag reached the PBX:\n{m}")
        # ... and the PBX's edge proxy never reaches the trunk.
        for m in [msg for d, msg in trunk_r.messages if d == "received"]:
            check("edge=" not in m and f":{pbx_port}" not in m, f"the PBX's Record-Route reached the trunk:\n{m}")
        # Leg B follows the trunk's Record-Route: its ACK and BYE carry it as Route.
        for method in ("ACK", "BYE"):
            leg_b = [m for m in received(trunk_r, method) if header_values(m, "cseq")[0].split()[0] != "1"]
            check(len(leg_b) >= 3 and all(any("trunkrr=sbc" in r for r in header_values(m, "route")) for m in leg_b),
                  f"leg-B {method}s without the trunk's Route:\n" + "\n".join(leg_b))
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 3, "answered calls != 3")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        print(f"pbx_record_route: 3 calls; 183/180/200 at the PBX {seen} carry the PBX's two Record-Route entries "
              "in order, nothing of the trunk's; leg B routes by the trunk's")


def digest_params(challenge: str) -> dict[str, str]:
    """The parameters of a `Digest ...` challenge value (quoted or token values)."""
    body = challenge.split(None, 1)[1] if challenge.lower().startswith("digest") else challenge
    return {k.lower(): (q if q or not t else t) for k, q, t in
            re.findall(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', body)}


def md5_proxy_authorization(challenge: str, method: str, uri: str, user: str, password: str,
                            cnonce: str, nc: str = "00000001") -> str:
    """An RFC 2617/7616 MD5 qop=auth answer to `challenge`, computed here, not by the product."""
    p = digest_params(challenge)
    check(p.get("algorithm", "MD5").upper() == "MD5" and "auth" in p.get("qop", "").split(","),
          f"expected an MD5 challenge with qop=auth: {challenge}")

    def h(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = h(f"{user}:{p['realm']}:{password}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{p['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    value = (f'Digest username="{user}", realm="{p["realm"]}", nonce="{p["nonce"]}", uri="{uri}", '
             f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc={nc}')
    if "opaque" in p:
        value += f', opaque="{p["opaque"]}"'
    return value


def top_branch(msg: str) -> str | None:
    vias = header_values(msg, "via", "v")
    return harness.branch_of(vias[0]) if vias else None


class RawUac:
    """A minimal PBX on one raw UDP socket: INVITEs, ACKs and BYEs written out by hand."""

    def __init__(self, client: harness.RawUdp, b2bua_port: int, name: str):
        self.c = client
        self.dest = (HOST, b2bua_port)
        self.uri = f"sip:1000@{HOST}:{b2bua_port}"
        self.name = name
        self.n = 0

    def new_call(self) -> dict:
        self.n += 1
        tag = f"{self.name}{self.n}-{os.getpid()}"
        return {"call_id": f"{tag}@{self.c.host}", "from_tag": f"ft{tag}", "cseq": 0}

    def _request(self, call: dict, method: str, branch: str, to: str, extra: str = "", uri: str | None = None,
                 cseq: int | None = None) -> str:
        if cseq is None:
            call["cseq"] += 1
            cseq = call["cseq"]
        body = "" if method != "INVITE" else (
            f"v=0\r\no=pbx 1 1 IN IP4 {self.c.host}\r\ns=-\r\nc=IN IP4 {self.c.host}\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        return (f"{method} {uri or self.uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.c.host}:{self.c.port};branch={branch}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: \"pbx\" <sip:pbx@{self.c.host}>;tag={call['from_tag']}\r\n"
                f"To: {to}\r\n"
                f"Call-ID: {call['call_id']}\r\n"
                f"CSeq: {cseq} {method}\r\n"
                f"Contact: <sip:pbx@{self.c.host}:{self.c.port}>\r\n"
                + extra
                + ("Content-Type: application/sdp\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}")

    def invite_request(self, call: dict, authorization: str | None = None) -> str:
        """The call's next INVITE (new branch, next CSeq), not sent yet."""
        branch = f"z9hG4bK-{call['from_tag']}-{call['cseq'] + 1}"
        extra = f"Proxy-Authorization: {authorization}\r\n" if authorization else ""
        return self._request(call, "INVITE", branch, f"<{self.uri}>", extra)

    def invite(self, call: dict, authorization: str | None = None) -> tuple[str, str]:
        """Sends an INVITE (new branch), returns (the request, its final response); ACKs a non-2xx."""
        request = self.invite_request(call, authorization)
        branch = top_branch(request)
        self.c.send(request, self.dest)
        final = self.c.recv_final(20, call["call_id"])
        check(final is not None, f"{self.name}: no final response to INVITE {call['call_id']}")
        if not start_line(final).startswith("SIP/2.0 2"):
            to = header_values(final, "to", "t")[0]
            self.c.send(self._request(call, "ACK", branch, to, cseq=call["cseq"]), self.dest)
        return request, final

    def ack_and_bye(self, call: dict, ok: str):
        """ACK a 2xx (new transaction, to its Contact), then BYE; waits for the BYE's 200."""
        to = header_values(ok, "to", "t")[0]
        contact = re.search(r"<([^>]+)>", header_values(ok, "contact", "m")[0]).group(1)
        self.c.send(self._request(call, "ACK", f"z9hG4bK-{call['from_tag']}-ack", to, uri=contact,
                                  cseq=call["cseq"]), self.dest)
        self.c.send(self._request(call, "BYE", f"z9hG4bK-{call['from_tag']}-bye", to, uri=contact), self.dest)
        final = self.c.recv_final(10, call["call_id"])
        check(final is not None and start_line(final).startswith("SIP/2.0 200"), f"BYE -> {final!r}")


def case_replay_refused(binary: Path):
    """A captured correct Proxy-Authorization replayed on a new INVITE never reaches the trunk."""
    sip, http, trunk_port, _ = ports()
    failures = dict(direction="downstream", peer="pbx.local", reason="replayed_nonce")
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]"), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        with harness.RawUdp(HOST) as sock, harness.RawUdp("127.0.0.3") as other:
            pbx = RawUac(sock, sip, "pbx")
            # 1. A genuine call: challenged, answered with a digest computed here, reaches the trunk.
            call = pbx.new_call()
            _, challenge = pbx.invite(call)
            check(start_line(challenge).startswith("SIP/2.0 407"), f"first INVITE -> {start_line(challenge)}")
            offer = header_values(challenge, "proxy-authenticate")
            check(len(offer) == 1, f"expected one MD5 offer, got {offer}")
            captured = md5_proxy_authorization(offer[0], "INVITE", pbx.uri, "pbxuser", "pbxpass", "0a4f113b")
            _, ok = pbx.invite(call, captured)
            check(start_line(ok).startswith("SIP/2.0 200"), f"authenticated INVITE -> {ok}")
            pbx.ack_and_bye(call, ok)
            before = metric(scrape(http), "b2bua_auth_failures_total", **failures)
            replayed_nonce = digest_params(captured)["nonce"]

            def refused(uac: RawUac, where: str):
                # New Call-ID, branch and From tag; the captured header byte for byte.
                replay = uac.new_call()
                request, answer = uac.invite(replay, captured)
                check(header_values(request, "proxy-authorization") == [captured], "replay not sent verbatim")
                check(start_line(answer).startswith("SIP/2.0 407"),
                      f"replay {where} -> {start_line(answer)!r}, expected a new 407:\n{answer}")
                fresh = [digest_params(v) for v in header_values(answer, "proxy-authenticate")]
                check(fresh and all(p["nonce"] != replayed_nonce for p in fresh),
                      f"replay {where}: the 407 repeats the replayed nonce: {fresh}")
                check(all(p.get("stale", "false").lower() != "true" for p in fresh),
                      f"replay {where}: stale=true would tell a replayer its digest was right: {fresh}")

            # 2a. Replayed from the address that was challenged.
            refused(pbx, "from 127.0.0.1")
            mid = metric(scrape(http), "b2bua_auth_failures_total", **failures)
            check(mid == before + 1, f"replayed_nonce {before:.0f} -> {mid:.0f} after the replay from 127.0.0.1")
            # 2b. Replayed from another address.
            refused(RawUac(other, sip, "other"), "from 127.0.0.3")
            after = metric(scrape(http), "b2bua_auth_failures_total", **failures)
            check(after == mid + 1, f"replayed_nonce {mid:.0f} -> {after:.0f} after the replay from 127.0.0.3")
        trunk_r = stop_trunk(s, trunk)
        invites = received(trunk_r, "INVITE")
        check(len(invites) == 2, f"the trunk saw {len(invites)} INVITEs; expected 2 (the genuine call, challenged "
              "once by the trunk), none for the replays")
        check(trunk_r.successful == 1 and trunk_r.failed == 0, f"trunk: {trunk_r.successful} ok, {trunk_r.failed} failed")
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 1, "the genuine call not answered")
        check(metric(text, "b2bua_auth_successes_total", direction="downstream", peer="pbx.local") == 1,
              "a replay counted as a downstream auth success")
        check(metric(text, "b2bua_auth_failures_total", direction="downstream") == after,
              "failures other than replayed_nonce counted")
        check(b2bua.log().count("reason=replayed_nonce") == 2, "expected two log lines with reason=replayed_nonce")
        print(f"replay_refused: genuine call answered; the captured digest replayed from 127.0.0.1 and 127.0.0.3 got "
              f"fresh 407s, never reached the trunk; replayed_nonce {before:.0f} -> {after:.0f}")


BARESIP_MODULES = Path("/usr/lib/baresip/modules")


def baresip_config(sip_listen: int, dns_port: int, rtp_ports: str) -> str:
    """A headless baresip 1.0.0: loopback only, no audio device, no STUN/ICE, DNS to a dead end."""
    modules = ["g711.so", "ausine.so", "account.so", "menu.so"]
    missing = [m for m in modules if not (BARESIP_MODULES / m).exists()]
    check(not missing, f"baresip modules missing from {BARESIP_MODULES}: {missing}")
    return f"""# generated by tests/e2e/test_e2e.py
poll_method\tepoll
sip_listen\t{HOST}:{sip_listen}
sip_trans_def\tudp
net_interface\t{HOST}
dns_server\t{HOST}:{dns_port}
call_local_timeout\t30
call_max_calls\t1
# A 440 Hz tone as microphone (ausine only does 48 kHz stereo); no player, no alert device.
audio_source\tausine,440
ausrc_srate\t48000
ausrc_channels\t2
rtp_ports\t{rtp_ports}
module_path\t{BARESIP_MODULES}
module\tg711.so
module\tausine.so
module_tmp\taccount.so
module_app\tmenu.so
"""


def case_baresip_pbx(binary: Path):
    """baresip 1.0.0 as the PBX against the default downstream offer: one call, answered, ended."""
    exe = shutil.which("baresip")
    check(exe is not None, "baresip is not installed (deploy/install-deps.sh installs it)")
    sip, http, trunk_port, _ = ports()
    phone_port = free_port()
    rtp = free_port()
    with Session(binary) as s:
        # No `algorithms`: the default offer is what a PBX like baresip has to answer.
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms=None), sip, http)
        trunk = s.start_sipp_server("trunk", SCENARIOS / "trunk_answer_then_bye.xml", trunk_port, local_ip=TRUNK_HOST)
        home = s.workdir / "baresip"
        home.mkdir()
        # Anything baresip would resolve goes to this socket, and nothing must.
        with harness.RawUdp(HOST, free_port()) as dns:
            (home / "config").write_text(baresip_config(phone_port, dns.port, f"{rtp}-{rtp + 1}"))
            (home / "accounts").write_text(f"<sip:pbxuser@{HOST}:{sip}>;auth_pass=pbxpass;regint=0\n")
            phone = s.start_process("baresip", [exe, "-f", str(home), "-s", "-t", "30",
                                                "-e", f"/dial sip:1000@{HOST}:{sip}"], cwd=home)

            def call_over() -> bool:
                check(phone.alive(), f"baresip exited early ({phone.popen.returncode}):\n{phone.log()[-4000:]}")
                text = scrape(http)
                return (metric(text, "b2bua_calls_total") >= 1 and metric(text, "b2bua_active_calls") == 0
                        and "session closed" in phone.log())

            harness.wait_until(call_over, 20, "baresip's call to be answered and ended")
            check(dns.recv(0.2) is None, "baresip sent a DNS query")
        out = phone.log()
        check(s.stop(phone) is not None and not phone.alive(), "baresip did not stop")
        trunk_r = stop_trunk(s, trunk)

        # What baresip was offered and answered (its own SIP trace, -s).
        challenge = re.search(r"SIP/2.0 407 .*?\r?\n\r?\n", out, re.S)
        check(challenge is not None, f"baresip never saw a 407:\n{out[-4000:]}")
        offers = header_values(challenge.group(0), "proxy-authenticate")
        check(len(offers) == 1 and "algorithm=MD5" in offers[0], f"the default offer is not MD5 only: {offers}")
        check("Proxy-Authorization: Digest username=\"pbxuser\"" in out, "baresip did not answer the challenge")
        check("Call established" in out, f"baresip's call was not established:\n{out[-4000:]}")
        check(re.search(r"\nBYE sip:\S+ SIP/2.0", out) is not None and "session closed" in out,
              f"the trunk's BYE did not end baresip's call:\n{out[-4000:]}")

        # The trunk: our credentials (checked by <verifyauth>), answered, hung up, all in one call.
        check(trunk_r.successful == 1 and trunk_r.failed == 0,
              f"trunk: {trunk_r.successful} ok, {trunk_r.failed} failed\n{trunk_r.errors[-3000:]}")
        authed = [m for m in received(trunk_r, "INVITE") if header_values(m, "authorization")]
        check(len(authed) == 1 and 'username="trunkuser"' in header_values(authed[0], "authorization")[0]
              and not header_values(authed[0], "proxy-authorization") and 'username="pbxuser"' not in authed[0],
              f"trunk INVITEs with credentials (ours only, nothing of the PBX's): {authed}")

        text = scrape(http)
        answered = metric(text, "b2bua_calls_total", direction="outbound", trunk="carrier", result="answered")
        check(answered == 1, f"b2bua_calls_total{{direction=outbound,trunk=carrier,result=answered}} = {answered}")
        check(metric(text, "b2bua_calls_total") == 1, "more than one call attempt counted")
        failures = metric(text, "b2bua_auth_failures_total", direction="downstream")
        check(failures == 0, f"downstream auth failures with baresip: {failures}\n{b2bua.log()[-3000:]}")
        check(metric(text, "b2bua_auth_successes_total", direction="downstream", peer="pbx.local") >= 1,
              "no downstream auth success counted")
        print(f"baresip_pbx: baresip answered the default {offers[0].split('algorithm=')[1].split(',')[0]} "
              "challenge, call answered by the trunk and ended by its BYE; 0 downstream auth failures")


PROVIDER_HOST = "127.0.0.2"
PROVIDER_CFG = harness.ROOT / "tests" / "e2e" / "kamailio" / "provider.cfg"
PROVIDER_REALM = "provider.example"


def wait_for_kamailio(proc: harness.Process, name: str, host: str, port: int, probe_host: str):
    """Until the Kamailio `proc` on udp:`host`:`port` answers an OPTIONS from `probe_host` with 200
    (at most 8 s; it must not exit meanwhile)."""
    with harness.RawUdp(probe_host) as probe:
        n = 0

        def answers() -> bool:
            nonlocal n
            check(proc.alive(), f"{name} exited with {proc.popen.returncode}:\n{proc.log()[-3000:]}")
            n += 1
            call_id = f"probe{n}-{os.getpid()}@{probe_host}"
            probe.send(f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP {probe_host}:{probe.port};branch=z9hG4bK-probe{n}\r\nMax-Forwards: 70\r\n"
                       f"From: <sip:probe@{probe_host}>;tag=probe{n}\r\nTo: <sip:{host}:{port}>\r\n"
                       f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", (host, port))
            answer = probe.recv(0.3, call_id)
            return answer is not None and start_line(answer).startswith("SIP/2.0 200")

        harness.wait_until(answers, 8, f"{name} to answer OPTIONS")


def start_provider(s: Session, port: int, uas_port: int, proxy_challenge: bool = False) -> harness.Process:
    """Kamailio (tests/e2e/kamailio/provider.cfg) on udp:127.0.0.2:`port`, in the foreground (-DD),
    logging to stderr (-E); its runtime and working directory are in the session's temp dir.
    Ready once it answers an OPTIONS from 127.0.0.3. It challenges with 401 WWW-Authenticate, or
    with 407 Proxy-Authenticate when `proxy_challenge`."""
    exe = shutil.which("kamailio")
    check(exe is not None, "kamailio is not installed (deploy/install-deps.sh installs it)")
    run = s.workdir / "kamailio"
    run.mkdir()
    proc = s.start_process("kamailio", [
        exe, "-f", str(PROVIDER_CFG), "-DD", "-E", "-m", "32", "-M", "8", "-Y", str(run), "-w", str(run),
        "-A", f"LISTEN_SOCKET=udp:{PROVIDER_HOST}:{port}", "-A", f'UAS_HOSTPORT="{PROVIDER_HOST}:{uas_port}"',
        "-A", "NONCE_EXPIRE=300"] + (["-A", "PROXY_CHALLENGE"] if proxy_challenge else []), cwd=run)
    wait_for_kamailio(proc, "kamailio", PROVIDER_HOST, port, "127.0.0.3")
    with harness.RawUdp("127.0.0.3") as probe:
        # What a customer gets for an INVITE without credentials: 401, MD5, qop=auth, our realm.
        call_id = f"probe-invite-{os.getpid()}@127.0.0.3"
        via = f"Via: SIP/2.0/UDP 127.0.0.3:{probe.port};branch=z9hG4bK-probe-invite\r\n"
        head = (f"sip:1000@{PROVIDER_HOST}:{port} SIP/2.0\r\n{via}Max-Forwards: 70\r\n"
                f"From: <sip:probe@127.0.0.3>;tag=probe-invite\r\n")
        probe.send(f"INVITE {head}To: <sip:1000@{PROVIDER_HOST}:{port}>\r\nCall-ID: {call_id}\r\n"
                   f"CSeq: 1 INVITE\r\nContact: <sip:probe@127.0.0.3:{probe.port}>\r\nContent-Length: 0\r\n\r\n",
                   (PROVIDER_HOST, port))
        answer = probe.recv_final(5, call_id)
        code, header = ("407", "proxy-authenticate") if proxy_challenge else ("401", "www-authenticate")
        check(answer is not None and start_line(answer).startswith(f"SIP/2.0 {code}"),
              f"kamailio answered an INVITE without credentials with {answer!r}")
        offer = [digest_params(v) for v in header_values(answer, header)]
        check(len(offer) == 1 and offer[0].get("realm") == PROVIDER_REALM and offer[0].get("qop") == "auth"
              and offer[0].get("algorithm", "MD5") == "MD5", f"kamailio's challenge: {offer}")
        probe.send(f"ACK {head}To: {header_values(answer, 'to')[0]}\r\nCall-ID: {call_id}\r\n"
                   "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", (PROVIDER_HOST, port))
    return proc


_PROVIDER_LINE = re.compile(r"PROVIDER-(RX|REPLY|CHALLENGE|AUTHOK|FORBIDDEN) (.*)$", re.M)


def provider_log(text: str) -> dict:
    """Kamailio's PROVIDER-* lines: requests and replies received (source, text), challenges,
    acceptances."""
    out = {"rx": [], "reply": [], "challenge": [], "authok": [], "forbidden": []}
    for kind, rest in _PROVIDER_LINE.findall(text):
        fields = dict(re.findall(r"(\w+)=(\S*)", rest))
        if kind in ("RX", "REPLY"):
            out[kind.lower()].append((fields["src"], base64.b64decode(fields["b64"]).decode(errors="replace")))
        else:
            out[kind.lower()].append(fields)
    return out


def cseq_number(msg: str) -> str:
    return header_values(msg, "cseq")[0].split()[0]


def provider_run(binary: Path, reuse_nonce: bool, calls: int, rate: int) -> dict:
    """`calls` PBX calls through the b2bua to Kamailio as the provider and on to a SIPp UAS.
    Checks what must hold with or without nonce reuse; returns what it measured."""
    sip, http, _, pbx_port = ports()
    kam_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    while uas_port == kam_port:
        uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    label = "reuse_nonce" if reuse_nonce else "no reuse"
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, 0, trunk_uri=f"sip:{PROVIDER_HOST}:{kam_port}",
                                          trunk_extra="      reuse_nonce: true\n" if reuse_nonce else ""),
                              sip, http)
        uas = s.start_sipp_server("uas", SHARED_SCENARIOS / "uas_plain.xml", uas_port, local_ip=PROVIDER_HOST)
        kam = start_provider(s, kam_port, uas_port)
        pbx = sipp_calls(s, "pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, calls, rate, PBX_AUTH,
                         timeout=15)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        uas_r = stop_trunk(s, uas)
        log = provider_log(kam.log())
        text = scrape(http)
        where = f"[{label}] "

        check(pbx.successful == calls and pbx.failed == 0,
              f"{where}PBX: {pbx.successful} successful, {pbx.failed} failed\n{pbx.errors[-3000:]}\n"
              f"kamailio:\n{kam.log()[-3000:]}")
        check(uas_r.successful == calls and uas_r.failed == 0,
              f"{where}provider's UAS: {uas_r.successful} successful, {uas_r.failed} failed\n{uas_r.errors[-3000:]}")
        check(not log["forbidden"], f"{where}kamailio refused a username: {log['forbidden']}")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls,
              f"{where}b2bua_calls_total answered != {calls}")

        # Everything the provider received from the b2bua: nothing of the PBX, our one Via.
        ours = [m for src, m in log["rx"] if src == f"{HOST}:{sip}"]
        others = {src for src, _ in log["rx"] if src != f"{HOST}:{sip}"}
        check(all(src.startswith("127.0.0.3:") for src in others),
              f"{where}kamailio received requests from sources other than the b2bua and the probe: {others}")
        check(all(start_line(m).split()[0] in ("OPTIONS", "INVITE", "ACK") for src, m in log["rx"] if src in others),
              f"{where}the probe sent something other than OPTIONS, INVITE, ACK")
        pbx_invites = sent(pbx, "INVITE")
        pbx_call_ids = {header_values(m, "call-id", "i")[0] for m in pbx_invites}
        pbx_tags = {harness.tag_of(header_values(m, "from", "f")[0]) for m in pbx_invites}
        for m in ours:
            check(via_count(m) == 1 and f"{HOST}:{sip}" in header_values(m, "via", "v")[0],
                  f"{where}the provider got a request whose Via is not just the b2bua's:\n{m}")
            check(header_values(m, "call-id", "i")[0] not in pbx_call_ids,
                  f"{where}a PBX Call-ID reached Kamailio:\n{m}")
            for tag in pbx_tags:
                check(tag not in m, f"{where}PBX tag {tag} reached Kamailio:\n{m}")
            check(f"{HOST}:{pbx_port}" not in m,
                  f"{where}the PBX's address {HOST}:{pbx_port} reached Kamailio:\n{m}")
            check(not header_values(m, "proxy-authorization") and "pbxuser" not in m and "pbx.local" not in m,
                  f"{where}PBX credentials reached Kamailio:\n{m}")
            for value in header_values(m, "authorization"):
                p = digest_params(value)
                check(p.get("username") == "trunkuser" and p.get("realm") == PROVIDER_REALM,
                      f"{where}credentials at Kamailio are not the trunk's: {value}")

        def requests(method: str) -> list[str]:
            return [m for m in ours if start_line(m).startswith(method + " ")]

        invites, byes = requests("INVITE"), requests("BYE")
        check(len({header_values(m, "call-id")[0] for m in invites}) == calls,
              f"{where}expected {calls} leg-B Call-IDs at Kamailio")
        # Challenges per transaction (Call-ID, CSeq): a retransmission of a challenged request
        # gets the 401 again from Kamailio, but it is one challenge for the b2bua.
        challenged = {(c["method"], c["callid"], c["cseq"]) for c in log["challenge"]
                      if not c["callid"].endswith("@127.0.0.3")}
        accepted = {(c["method"], c["callid"]) for c in log["authok"]}
        for method in ("INVITE", "BYE"):
            got = {cid for m, cid in accepted if m == method}
            check(len(got) == calls,
                  f"{where}Kamailio accepted credentials on {len(got)} {method}s, expected {calls}")
        upstream = metric(text, "b2bua_auth_challenges_total", direction="upstream", peer="carrier")
        check(upstream == len(challenged),
              f"{where}b2bua_auth_challenges_total{{direction=upstream,peer=carrier}} = {upstream:.0f}, "
              f"Kamailio sent {len(challenged)} challenges")
        failures = metric(text, "b2bua_auth_failures_total", direction="upstream")
        check(failures == 0, f"{where}upstream auth failures: {failures:.0f}\n{b2bua.log()[-3000:]}")

        # Credentials answering a challenge (the previous CSeq of that method and Call-ID was
        # challenged) start at nc 1; credentials sent unasked reuse an earlier nonce, and each
        # such (nonce, nc) names one request only (RFC 7616 §3.4: nc grows per nonce). Kamailio
        # gives every challenge within one second the same nonce, so several answers may carry
        # the same nonce with nc 1: that is the provider's choice, not a reuse by the b2bua.
        reuses: dict[tuple[str, str], set] = {}
        answers = 0
        for m in invites + byes:
            method, call_id, cseq = start_line(m).split()[0], header_values(m, "call-id")[0], cseq_number(m)
            for value in header_values(m, "authorization"):
                p = digest_params(value)
                if (method, call_id, str(int(cseq) - 1)) in challenged:
                    answers += 1
                    check(p.get("nc") == "00000001",
                          f"{where}an answer to a fresh challenge with nc {p.get('nc')}:\n{m}")
                else:
                    reuses.setdefault((p["nonce"], p.get("nc", "")), set()).add((call_id, cseq))
        check(answers == len(challenged), f"{where}{len(challenged)} challenges, {answers} answers at Kamailio")
        doubled = {k: v for k, v in reuses.items() if len(v) > 1}
        check(not doubled, f"{where}one nonce and nc sent unasked on several requests: {doubled}")
        return {
            "invite_challenges": len([c for c in challenged if c[0] == "INVITE"]),
            "bye_challenges": len([c for c in challenged if c[0] == "BYE"]),
            "challenges": len(challenged),
            "challenge_codes": sorted({c["rc"] for c in log["challenge"] if not c["callid"].endswith("@127.0.0.3")}),
            "reuses": sum(len(v) for v in reuses.values()),
            "reused_nonces": len({n for n, _ in reuses}),
            "max_nc": max((int(nc, 16) for _, nc in reuses if nc), default=1),
            "upstream_successes": metric(text, "b2bua_auth_successes_total", direction="upstream", peer="carrier"),
        }


def case_kamailio_provider(binary: Path):
    """Kamailio 5.6 as a real trunk provider (401, qop=auth, MD5) in front of a SIPp UAS: 20 calls
    without and with reuse_nonce; challenges counted at Kamailio and in the b2bua's metrics."""
    calls, rate = 20, 10
    plain = provider_run(binary, False, calls, rate)
    reuse = provider_run(binary, True, calls, rate)
    summary = (f"without reuse_nonce {plain['invite_challenges']} INVITE + {plain['bye_challenges']} BYE challenges "
               f"(rc {plain['challenge_codes']}), {plain['reuses']} unasked credentials, upstream successes "
               f"{plain['upstream_successes']:.0f}; with reuse_nonce {reuse['invite_challenges']} INVITE + "
               f"{reuse['bye_challenges']} BYE challenges (rc {reuse['challenge_codes']}), {reuse['reuses']} requests "
               f"on {reuse['reused_nonces']} reused nonce(s) up to nc {reuse['max_nc']}, upstream successes "
               f"{reuse['upstream_successes']:.0f}")
    print(f"kamailio_provider: {summary}")
    # (a) Without reuse: every INVITE and every BYE challenged exactly once, answered with nc 1.
    check(plain["invite_challenges"] == calls and plain["bye_challenges"] == calls,
          f"without reuse_nonce Kamailio should challenge each of the {calls} INVITEs and BYEs once: {summary}")
    check(plain["challenge_codes"] == ["-5"],
          f"without reuse_nonce a challenge other than 'no credentials': {summary}")
    check(plain["reuses"] == 0, f"without reuse_nonce credentials were sent unasked: {summary}")
    # (b) With reuse: the provider's nonce carries later calls; far fewer challenges than calls.
    check(reuse["invite_challenges"] < calls // 4,
          f"with reuse_nonce Kamailio still challenged {reuse['invite_challenges']} of {calls} INVITEs: {summary}")
    check(reuse["reuses"] > 0 and reuse["max_nc"] > 1, f"with reuse_nonce no nonce was used again: {summary}")
    # Accepted answers to challenges count as upstream successes.
    check(plain["upstream_successes"] == plain["challenges"],
          f"b2bua_auth_successes_total{{direction=upstream,peer=carrier}} = {plain['upstream_successes']:.0f} "
          f"after {plain['challenges']} challenges answered and accepted by Kamailio: {summary}")
    check(reuse["upstream_successes"] >= reuse["challenges"] and reuse["upstream_successes"] > 0,
          f"with reuse_nonce b2bua_auth_successes_total{{direction=upstream}} = {reuse['upstream_successes']:.0f}: "
          f"{summary}")


def case_kamailio_in_dialog(binary: Path):
    """Kamailio as a record-routing provider that challenges with 407, in front of a SIPp far end:
    leg B's in-dialog requests (ACK, the PBX's hold re-INVITE, BYE) carry Kamailio's Record-Route
    as Route and go through it, challenged and answered; the far end's re-INVITE through Kamailio
    reaches the PBX and the answer goes back through Kamailio."""
    calls = 3
    sip, http, _, pbx_port = ports()
    kam_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    while uas_port == kam_port:
        uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    kamailio_at, b2bua_at, far_at = f"{PROVIDER_HOST}:{kam_port}", f"{HOST}:{sip}", f"{PROVIDER_HOST}:{uas_port}"
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, 0, trunk_uri=f"sip:{kamailio_at}"), sip, http)
        uas = s.start_sipp_server("uas", SCENARIOS / "far_end_reinvites_behind_provider.xml", uas_port,
                                  local_ip=PROVIDER_HOST)
        kam = start_provider(s, kam_port, uas_port, proxy_challenge=True)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_holds_then_answers_reinvite.xml", sip, pbx_port, calls, calls,
                         PBX_AUTH, timeout=20)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        uas_r = stop_trunk(s, uas)
        text = scrape(http)
        log = provider_log(kam.log())
        check(pbx.successful == calls and pbx.failed == 0,
              f"PBX: {pbx.successful} ok, {pbx.failed} failed\n{pbx.errors[-3000:]}\nkamailio:\n{kam.log()[-3000:]}"
              f"\nb2bua:\n{b2bua.log()[-2000:]}")
        check(uas_r.successful == calls and uas_r.failed == 0,
              f"far end: {uas_r.successful} ok, {uas_r.failed} failed\n{uas_r.errors[-3000:]}")

        ours = [m for src, m in log["rx"] if src == b2bua_at]
        from_far = [m for src, m in log["rx"] if src == far_at]
        # Kamailio's Record-Route, as its switch received it on each call's first INVITE.
        rr_by_call = {}
        for call_id, msgs in per_call(uas_r).items():
            first = [m for d, m in msgs if d == "received" and start_line(m).startswith("INVITE ")][0]
            rr = record_routes(first)
            check(len(rr) == 1 and kamailio_at in rr[0] and ";lr" in rr[0],
                  f"far end {call_id}: Kamailio's Record-Route {rr}, expected one entry for {kamailio_at}")
            rr_by_call[call_id] = rr
        check(len(rr_by_call) == calls, f"the far end saw {len(rr_by_call)} calls, expected {calls}")

        for call_id, rr in rr_by_call.items():
            mine = [m for m in ours if call_id_of(m) == call_id]
            in_dialog = [m for m in mine if harness.tag_of(header_values(m, "to", "t")[0])]
            far_contact = [uri_of(header_values(m, "contact", "m")[0]) for d, m in per_call(uas_r)[call_id]
                           if d == "sent" and start_line(m).startswith("SIP/2.0 200") and cseq_of(m)[1] == "INVITE"][0]
            # (1) Every request we sent in leg B's dialog reached Kamailio, routed by its Record-Route
            # (§12.2.1.1: Route = the record-route set, Request-URI = the far end's Contact).
            methods = sorted({start_line(m).split()[0] for m in in_dialog
                              if cseq_of(m)[0] > min(cseq_of(x)[0] for x in mine)})
            check(methods == ["ACK", "BYE", "INVITE"],
                  f"leg B {call_id}: in-dialog requests at Kamailio {methods}, expected ACK, BYE and the re-INVITE")
            for m in in_dialog:
                if start_line(m).startswith("ACK ") and not header_values(m, "route"):
                    # The ACK of a 407 belongs to the INVITE's transaction: hop by hop, same branch.
                    continue
                check(header_values(m, "route") == rr,
                      f"leg B {call_id}: {start_line(m)} carries Route {header_values(m, 'route')}, expected {rr}:\n{m}")
                check(start_line(m).split()[1] == far_contact,
                      f"leg B {call_id}: {start_line(m)}: Request-URI is not the far end's Contact {far_contact}")
            # (2) The hold re-INVITE and the BYE were challenged (407) and answered with our credentials.
            for method, want in (("INVITE", 2), ("BYE", 1)):
                ok = [a for a in log["authok"] if a["callid"] == call_id and a["method"] == method]
                asked = [c for c in log["challenge"] if c["callid"] == call_id and c["method"] == method]
                check(len(ok) == want and len(asked) >= want,
                      f"leg B {call_id}: {len(asked)} challenges and {len(ok)} accepted credentials on {method}, "
                      f"expected {want} of each")
            for m in in_dialog:
                if start_line(m).startswith(("INVITE ", "BYE ")) and header_values(m, "proxy-authorization"):
                    p = digest_params(header_values(m, "proxy-authorization")[0])
                    check(p.get("username") == "trunkuser" and p.get("realm") == PROVIDER_REALM,
                          f"leg B {call_id}: credentials {p}")
            # (3) Our re-INVITE and BYE reached the far end through Kamailio: its Via on top of ours.
            at_far = [m for d, m in per_call(uas_r)[call_id] if d == "received"
                      and start_line(m).startswith(("INVITE ", "BYE ")) and harness.tag_of(header_values(m, "to", "t")[0])]
            check(len(at_far) >= 2 and all(via_count(m) == 2 and kamailio_at in header_values(m, "via", "v")[0]
                                           for m in at_far),
                  f"leg B {call_id}: the re-INVITE and BYE did not reach the far end through Kamailio: {at_far}")
            # (4) The far end's re-INVITE went through Kamailio (unchallenged: its own switch) to us,
            # and our 200 to it came back through Kamailio.
            far_reinvites = [m for m in from_far if call_id_of(m) == call_id and start_line(m).startswith("INVITE ")]
            check(len(far_reinvites) >= 1 and all(cseq_of(m) == (101, "INVITE") for m in far_reinvites),
                  f"leg B {call_id}: the far end's re-INVITE did not pass Kamailio: {far_reinvites}")
            check(not [c for c in log["challenge"] if c["callid"] == call_id and c["cseq"] == "101"],
                  f"leg B {call_id}: Kamailio challenged its own switch's re-INVITE")
            answers = [m for src, m in log["reply"] if src == b2bua_at and call_id_of(m) == call_id
                       and cseq_of(m) == (101, "INVITE")]
            oks = [m for m in answers if start_line(m).startswith("SIP/2.0 200")]
            check(oks and all("a=recvonly" in body_of(m).splitlines() for m in oks),
                  f"leg B {call_id}: our answer to the far end's re-INVITE did not come back through Kamailio: "
                  f"{[start_line(m) for m in answers]}")
            acks = [m for m in from_far if call_id_of(m) == call_id and cseq_of(m) == (101, "ACK")]
            check(acks, f"leg B {call_id}: the far end's ACK did not pass Kamailio")

        # (5) The PBX got the far end's hold in its own dialog, with nothing of the provider.
        for call_id, msgs in per_call(pbx).items():
            reinvites = first_sent(msgs, "received", "INVITE ")
            check(len(reinvites) == 1 and "o=far 8001 3 " in body_of(reinvites[0]) + " "
                  and "a=sendonly" in body_of(reinvites[0]).splitlines(),
                  f"PBX {call_id}: the far end's re-INVITE did not arrive with its offer: {reinvites}")
        for m in [msg for d, msg in pbx.messages if d == "received"]:
            # The SDP passes untouched (its media address is the far end's); the signalling does not.
            head = m.replace("\r\n", "\n").split("\n\n", 1)[0]
            check(PROVIDER_HOST not in head and "FarTag" not in head and "ftag=" not in head,
                  f"something of the provider reached the PBX:\n{m}")
        pbx_call_ids = set(per_call(pbx))
        for m in ours:
            check(via_count(m) == 1 and b2bua_at in header_values(m, "via", "v")[0],
                  f"Kamailio got a request whose Via is not just the b2bua's:\n{m}")
            check(call_id_of(m) not in pbx_call_ids and f"{HOST}:{pbx_port}" not in m and "PbxTag" not in m,
                  f"something of the PBX reached Kamailio:\n{m}")
        check(metric(text, "b2bua_auth_failures_total", direction="upstream") == 0, "upstream auth failures")
        challenged = {(c["method"], c["callid"], c["cseq"]) for c in log["challenge"]
                      if not c["callid"].endswith("@127.0.0.3")}
        check(metric(text, "b2bua_auth_challenges_total", direction="upstream", peer="carrier") == len(challenged),
              f"upstream challenges counted {metric(text, 'b2bua_auth_challenges_total', direction='upstream')} "
              f"!= {len(challenged)} sent by Kamailio")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls, "answered calls")
        print(f"kamailio_in_dialog: {calls} calls through Kamailio (407, record-routed); leg B's ACK, re-INVITE and "
              f"BYE carried its Route and passed it, re-INVITE and BYE challenged and answered ({len(challenged)} "
              "challenges); the far end's re-INVITE reached the PBX through it and our 200 went back through it")


# ------------------------------------------------------------------ requests inside a call
def body_of(msg: str) -> str:
    """The body of a logged message, line endings normalised, surrounding blank lines dropped."""
    text = msg.replace("\r\n", "\n")
    return text.split("\n\n", 1)[1].strip() if "\n\n" in text else ""


def cseq_of(msg: str) -> tuple[int, str]:
    number, method = header_values(msg, "cseq")[0].split()
    return int(number), method


def call_id_of(msg: str) -> str:
    return header_values(msg, "call-id", "i")[0]


def per_call(result: harness.SippResult) -> dict[str, list[tuple[str, str]]]:
    """A SIPp side's logged messages, (direction, text) in order, by Call-ID."""
    out: dict[str, list[tuple[str, str]]] = {}
    for d, m in result.messages:
        out.setdefault(call_id_of(m), []).append((d, m))
    return out


def uri_of(value: str) -> str:
    m = re.search(r"<([^>]+)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def in_dialog_setup(binary: Path, pbx_scenario: str, trunk_scenario: str, calls: int):
    """Runs `calls` authenticated calls through a fresh b2bua; returns (ports, pbx, trunk, metrics text)."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        trunk = s.start_sipp_server("trunk", SCENARIOS / trunk_scenario, trunk_port, local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / pbx_scenario, sip, pbx_port, calls, calls, PBX_AUTH, timeout=20)
        trunk_r = stop_trunk(s, trunk)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        text = scrape(http)
        all_passed(pbx, trunk_r, calls)
    return (sip, trunk_port, pbx_port), pbx, trunk_r, text


def leg_b_dialogs(trunk_r: harness.SippResult, calls: int) -> dict[str, dict]:
    """For each leg-B call at the trunk: the tags and target set up by its answered INVITE."""
    out = {}
    for call_id, msgs in per_call(trunk_r).items():
        ok = [m for d, m in msgs if d == "sent" and start_line(m).startswith("SIP/2.0 200")
              and cseq_of(m)[1] == "INVITE"]
        invites = [m for d, m in msgs if d == "received" and start_line(m).startswith("INVITE ")]
        check(ok and invites, f"leg B {call_id}: no answered INVITE at the trunk")
        out[call_id] = {
            "msgs": msgs,
            "b2bua_tag": harness.tag_of(header_values(invites[0], "from", "f")[0]),
            "trunk_tag": harness.tag_of(header_values(ok[0], "to", "t")[0]),
            "trunk_contact": uri_of(header_values(ok[0], "contact", "m")[0]),
            "setup_cseq": cseq_of(ok[0])[0],
        }
    check(len(out) == calls, f"expected {calls} leg-B Call-IDs at the trunk, saw {len(out)}")
    return out


def check_leg_b_request(m: str, dialog: dict, sip: int, what: str):
    """A request the b2bua sent the trunk inside leg B's dialog: leg B's identifiers and ours only."""
    check(start_line(m).split()[1] == dialog["trunk_contact"],
          f"{what}: Request-URI is not the trunk's Contact {dialog['trunk_contact']}:\n{m}")
    check(harness.tag_of(header_values(m, "to", "t")[0]) == dialog["trunk_tag"],
          f"{what}: To tag is not the trunk's {dialog['trunk_tag']}:\n{m}")
    check(harness.tag_of(header_values(m, "from", "f")[0]) == dialog["b2bua_tag"],
          f"{what}: From tag is not leg B's {dialog['b2bua_tag']}:\n{m}")
    check(via_count(m) == 1 and f"{HOST}:{sip}" in header_values(m, "via", "v")[0],
          f"{what}: Via is not just the b2bua's:\n{m}")


def check_pbx_hidden(pbx: harness.SippResult, trunk_r: harness.SippResult, ports3: tuple[int, int, int]):
    """Nothing of the PBX at the trunk, nothing of the trunk at the PBX, in any message."""
    sip, trunk_port, pbx_port = ports3
    pbx_calls = per_call(pbx)
    trunk_calls = per_call(trunk_r)
    pbx_tags = {harness.tag_of(header_values(m, "from", "f")[0]) for m in sent(pbx, "INVITE")}
    for m in [msg for d, msg in trunk_r.messages if d == "received"]:
        check(call_id_of(m) not in pbx_calls, f"a PBX Call-ID reached the trunk:\n{m}")
        check(f":{pbx_port}" not in m and "PbxTag" not in m and not any(t in m for t in pbx_tags),
              f"the PBX's port or tag reached the trunk:\n{m}")
        check("X-Pbx-Internal" not in m and "hold-by-ext" not in m and "pbxuser" not in m,
              f"a PBX header that describes no body reached the trunk:\n{m}")
    for m in [msg for d, msg in pbx.messages if d == "received"]:
        check(call_id_of(m) not in trunk_calls, f"a trunk Call-ID reached the PBX:\n{m}")
        check(f":{trunk_port}" not in m and "TrunkTag" not in m and "sip:trunk@" not in m,
              f"the trunk's port, tag or Contact reached the PBX:\n{m}")
        check(via_count(m) <= 1, f"PBX received a message with {via_count(m)} Via values:\n{m}")
        for c in header_values(m, "contact", "m"):
            check(f"{HOST}:{sip}" in c, f"Contact at the PBX is not the B2BUA's: {c}\n{m}")


def case_hold_from_pbx(binary: Path):
    """The PBX holds (re-INVITE a=sendonly) and resumes (a=sendrecv): both re-INVITEs and their ACKs
    reach the trunk in leg B's dialog with the PBX's SDP; the trunk's answers reach the PBX."""
    calls = 5
    ports3, pbx, trunk_r, text = in_dialog_setup(binary, "pbx_holds_then_resumes.xml",
                                                 "trunk_answers_hold_and_resume.xml", calls)
    sip = ports3[0]
    check_pbx_hidden(pbx, trunk_r, ports3)

    # The PBX's offers, by direction attribute: what the trunk must receive, body for body.
    pbx_offers = {}
    for m in sent(pbx, "INVITE"):
        if cseq_of(m)[0] in (3, 4):
            pbx_offers.setdefault(cseq_of(m)[0], set()).add(body_of(m))
    check(set(pbx_offers) == {3, 4}, f"the PBX sent no re-INVITEs: {sorted(pbx_offers)}")

    for call_id, dlg in leg_b_dialogs(trunk_r, calls).items():
        got = [m for d, m in dlg["msgs"] if d == "received"]
        # First transmissions only: a retransmission repeats CSeq and branch.
        seen, requests = set(), []
        for m in got:
            key = (start_line(m), harness.branch_of(header_values(m, "via", "v")[0]))
            if key not in seen:
                seen.add(key)
                requests.append(m)
        reinvites = [m for m in requests if start_line(m).startswith("INVITE ") and cseq_of(m)[0] > dlg["setup_cseq"]]
        check(len(reinvites) == 2, f"leg B {call_id}: {len(reinvites)} re-INVITEs at the trunk, expected 2")
        for m, attr, pbx_cseq in zip(reinvites, ("a=sendonly", "a=sendrecv"), (3, 4)):
            what = f"leg B {call_id} re-INVITE {attr}"
            check_leg_b_request(m, dlg, sip, what)
            check(attr in body_of(m).splitlines(), f"{what}: SDP lacks {attr}:\n{m}")
            check(body_of(m) in pbx_offers[pbx_cseq], f"{what}: the body is not the PBX's offer:\n{m}")
            check(header_values(m, "content-type", "c") == ["application/sdp"], f"{what}: Content-Type:\n{m}")
            contacts = header_values(m, "contact", "m")
            check(len(contacts) == 1 and f"{HOST}:{sip}" in contacts[0], f"{what}: Contact is not the b2bua's:\n{m}")
            acks = [a for a in requests if start_line(a).startswith("ACK ") and cseq_of(a) == (cseq_of(m)[0], "ACK")]
            check(len(acks) == 1, f"{what}: {len(acks)} ACKs with CSeq {cseq_of(m)[0]} at the trunk")
            check_leg_b_request(acks[0], dlg, sip, f"{what}: its ACK")
        non_ack = [cseq_of(m)[0] for m in requests if not start_line(m).startswith("ACK ")]
        check(all(a < b for a, b in zip(non_ack, non_ack[1:])),
              f"leg B {call_id}: CSeq of the b2bua's requests do not increase: {non_ack}")
        bye = [m for m in requests if start_line(m).startswith("BYE ")]
        check(len(bye) == 1, f"leg B {call_id}: {len(bye)} BYEs at the trunk")
        check_leg_b_request(bye[0], dlg, sip, f"leg B {call_id} BYE")

    # At the PBX: each re-INVITE answered by a 200 carrying the trunk's SDP answer.
    trunk_answers = {body_of(m) for m in sent(trunk_r, "SIP/2.0 200") if cseq_of(m)[1] == "INVITE"}
    for call_id, msgs in per_call(pbx).items():
        for cseq, attr in ((3, "a=recvonly"), (4, "a=sendrecv")):
            oks = [m for d, m in msgs if d == "received" and start_line(m).startswith("SIP/2.0 200")
                   and cseq_of(m) == (cseq, "INVITE")]
            check(oks, f"PBX {call_id}: no 200 to its re-INVITE CSeq {cseq}")
            body = body_of(oks[0])
            check(attr in body.splitlines() and body.startswith("v=0") and "o=trunk 9001" in body,
                  f"PBX {call_id}: the 200 to re-INVITE {cseq} lacks the trunk's {attr} answer:\n{oks[0]}")
            check(body in trunk_answers, f"PBX {call_id}: the 200's body is not the trunk's:\n{oks[0]}")
    check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls, "answered calls")
    print(f"hold_from_pbx: {calls} calls held and resumed; re-INVITEs CSeq > setup in leg B's dialog with the "
          "PBX's SDP, their ACKs relayed, trunk's answers at the PBX, nothing of either side leaked")


def leg_a_dialogs(pbx: harness.SippResult, calls: int) -> dict[str, dict]:
    """For each PBX call: the tags set up by its answered INVITE and the PBX's Contact."""
    out = {}
    for call_id, msgs in per_call(pbx).items():
        ok = [m for d, m in msgs if d == "received" and start_line(m).startswith("SIP/2.0 200")
              and cseq_of(m) == (2, "INVITE")]
        invite = [m for d, m in msgs if d == "sent" and start_line(m).startswith("INVITE ") and cseq_of(m)[0] == 2]
        check(ok and invite, f"PBX {call_id}: no answered INVITE")
        out[call_id] = {
            "msgs": msgs,
            "b2bua_tag": harness.tag_of(header_values(ok[0], "to", "t")[0]),
            "pbx_tag": harness.tag_of(header_values(invite[0], "from", "f")[0]),
            "pbx_contact": uri_of(header_values(invite[0], "contact", "m")[0]),
        }
    check(len(out) == calls, f"expected {calls} PBX calls, saw {len(out)}")
    return out


def check_leg_a_request(m: str, dialog: dict, sip: int, what: str):
    """A request the b2bua sent the PBX inside leg A's dialog: leg A's identifiers and ours only."""
    check(start_line(m).split()[1] == dialog["pbx_contact"],
          f"{what}: Request-URI is not the PBX's Contact {dialog['pbx_contact']}:\n{m}")
    check(harness.tag_of(header_values(m, "from", "f")[0]) == dialog["b2bua_tag"],
          f"{what}: From tag is not ours in leg A, {dialog['b2bua_tag']}:\n{m}")
    check(harness.tag_of(header_values(m, "to", "t")[0]) == dialog["pbx_tag"],
          f"{what}: To tag is not the PBX's {dialog['pbx_tag']}:\n{m}")
    check(via_count(m) == 1 and f"{HOST}:{sip}" in header_values(m, "via", "v")[0],
          f"{what}: Via is not just the b2bua's:\n{m}")


def first_sent(msgs: list[tuple[str, str]], direction: str, prefix: str, cseq: tuple[int, str] | None = None) -> list[str]:
    """Messages of one call in `direction` starting with `prefix` (and of CSeq `cseq`), retransmissions dropped."""
    seen, out = set(), []
    for d, m in msgs:
        if d != direction or not start_line(m).startswith(prefix) or (cseq and cseq_of(m) != cseq):
            continue
        key = (start_line(m), header_values(m, "cseq")[0], harness.branch_of(header_values(m, "via", "v")[0]))
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def case_hold_from_trunk_without_sdp(binary: Path):
    """The trunk re-INVITEs without SDP: the PBX's offer comes back in the 200, the trunk's answer
    goes on in the ACK; each in the other leg's dialog."""
    calls = 5
    ports3, pbx, trunk_r, text = in_dialog_setup(binary, "pbx_answers_offerless_reinvite.xml",
                                                 "trunk_reinvites_without_sdp.xml", calls)
    sip = ports3[0]
    check_pbx_hidden(pbx, trunk_r, ports3)
    pbx_offers = {body_of(m) for m in sent(pbx, "SIP/2.0 200") if cseq_of(m)[1] == "INVITE"}
    trunk_answers = {body_of(m) for m in sent(trunk_r, "ACK") if body_of(m)}
    check(len(pbx_offers) == 1 and len(trunk_answers) == 1, f"offers {pbx_offers}, answers {trunk_answers}")

    for call_id, dlg in leg_a_dialogs(pbx, calls).items():
        reinvites = first_sent(dlg["msgs"], "received", "INVITE ")
        check(len(reinvites) == 1, f"PBX {call_id}: {len(reinvites)} re-INVITEs received, expected 1")
        m = reinvites[0]
        what = f"PBX {call_id}: re-INVITE"
        check_leg_a_request(m, dlg, sip, what)
        check(body_of(m) == "" and header_values(m, "content-length", "l") == ["0"]
              and not header_values(m, "content-type", "c"), f"{what} carries a body, the trunk's had none:\n{m}")
        contacts = header_values(m, "contact", "m")
        check(len(contacts) == 1 and f"{HOST}:{sip}" in contacts[0], f"{what}: Contact is not the b2bua's:\n{m}")
        acks = first_sent(dlg["msgs"], "received", "ACK ", (cseq_of(m)[0], "ACK"))
        check(len(acks) == 1, f"{what}: {len(acks)} ACKs for it at the PBX, expected 1")
        check_leg_a_request(acks[0], dlg, sip, f"{what}: its ACK")
        check(body_of(acks[0]) in trunk_answers and header_values(acks[0], "content-type", "c") == ["application/sdp"],
              f"{what}: the ACK does not carry the trunk's SDP answer:\n{acks[0]}")
        byes = first_sent(dlg["msgs"], "sent", "BYE ")
        check(len(byes) == 1 and first_sent(dlg["msgs"], "received", "SIP/2.0 200", (cseq_of(byes[0])[0], "BYE")),
              f"PBX {call_id}: BYE not answered 200")

    for call_id, dlg in leg_b_dialogs(trunk_r, calls).items():
        oks = first_sent(dlg["msgs"], "received", "SIP/2.0 200", (101, "INVITE"))
        check(len(oks) == 1, f"leg B {call_id}: no 200 to the trunk's re-INVITE")
        ok = oks[0]
        check(body_of(ok) in pbx_offers and header_values(ok, "content-type", "c") == ["application/sdp"],
              f"leg B {call_id}: the 200 does not carry the PBX's SDP offer:\n{ok}")
        check(harness.tag_of(header_values(ok, "to", "t")[0]) == dlg["b2bua_tag"]
              and harness.tag_of(header_values(ok, "from", "f")[0]) == dlg["trunk_tag"],
              f"leg B {call_id}: the 200's tags are not leg B's:\n{ok}")
        contacts = header_values(ok, "contact", "m")
        check(len(contacts) == 1 and f"{HOST}:{sip}" in contacts[0], f"leg B {call_id}: 200 Contact:\n{ok}")
        byes = first_sent(dlg["msgs"], "received", "BYE ")
        check(len(byes) == 1, f"leg B {call_id}: {len(byes)} BYEs at the trunk")
        check_leg_b_request(byes[0], dlg, sip, f"leg B {call_id} BYE")
        check(cseq_of(byes[0])[0] > dlg["setup_cseq"], f"leg B {call_id}: BYE CSeq not above the INVITE's")
    check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls, "answered calls")
    print(f"hold_from_trunk_without_sdp: {calls} calls; offerless re-INVITE from the trunk reached the PBX in leg A's "
          "dialog without a body, the PBX's offer came back in the 200, the trunk's answer went on in the ACK")


DTMF_BODY = "Signal=5\r\nDuration=160\r\n"


def case_info_and_refer(binary: Path):
    """INFO (application/dtmf-relay) crosses to the trunk with its body and type and its 200 comes
    back; REFER is answered 403 by the b2bua and never reaches the trunk."""
    calls = 5
    ports3, pbx, trunk_r, text = in_dialog_setup(binary, "pbx_sends_info_then_refer.xml", "trunk_answers_info.xml",
                                                 calls)
    sip = ports3[0]
    check_pbx_hidden(pbx, trunk_r, ports3)
    want_body = DTMF_BODY.replace("\r\n", "\n").strip()
    want_length = str(len(DTMF_BODY.encode()))

    for call_id, dlg in leg_a_dialogs(pbx, calls).items():
        infos = first_sent(dlg["msgs"], "sent", "INFO ")
        check(len(infos) == 1 and body_of(infos[0]) == want_body
              and header_values(infos[0], "content-length", "l") == [want_length],
              f"PBX {call_id}: the scenario did not send the DTMF INFO as specified:\n{infos}")
        answers = first_sent(dlg["msgs"], "received", "SIP/2.0 ", (3, "INFO"))
        check([start_line(m).split()[1] for m in answers] == ["200"],
              f"PBX {call_id}: answers to INFO: {[start_line(m) for m in answers]}, expected one 200")
        answers = first_sent(dlg["msgs"], "received", "SIP/2.0 ", (4, "REFER"))
        check([start_line(m).split()[1] for m in answers] == ["403"],
              f"PBX {call_id}: answers to REFER: {[start_line(m) for m in answers]}, expected one 403")
        check(harness.tag_of(header_values(answers[0], "to", "t")[0]) == dlg["b2bua_tag"]
              and harness.tag_of(header_values(answers[0], "from", "f")[0]) == dlg["pbx_tag"],
              f"PBX {call_id}: the 403's tags are not leg A's:\n{answers[0]}")
        check(first_sent(dlg["msgs"], "received", "SIP/2.0 200", (5, "BYE")), f"PBX {call_id}: BYE not answered 200")

    for call_id, dlg in leg_b_dialogs(trunk_r, calls).items():
        infos = first_sent(dlg["msgs"], "received", "INFO ")
        check(len(infos) == 1, f"leg B {call_id}: {len(infos)} INFOs at the trunk, expected 1")
        m = infos[0]
        what = f"leg B {call_id} INFO"
        check_leg_b_request(m, dlg, sip, what)
        check(cseq_of(m)[0] > dlg["setup_cseq"], f"{what}: CSeq {cseq_of(m)[0]} not above the INVITE's")
        check(header_values(m, "content-type", "c") == ["application/dtmf-relay"],
              f"{what}: Content-Type {header_values(m, 'content-type', 'c')}:\n{m}")
        check(body_of(m) == want_body and header_values(m, "content-length", "l") == [want_length],
              f"{what}: the body is not the PBX's {DTMF_BODY!r}:\n{m}")
        byes = first_sent(dlg["msgs"], "received", "BYE ")
        check(len(byes) == 1 and cseq_of(byes[0])[0] > cseq_of(m)[0],
              f"leg B {call_id}: BYEs {[header_values(b, 'cseq') for b in byes]} after INFO CSeq {cseq_of(m)[0]}")
        check_leg_b_request(byes[0], dlg, sip, f"leg B {call_id} BYE")
    for d, m in trunk_r.messages:
        check(not start_line(m).startswith("REFER ") and not header_values(m, "refer-to", "r")
              and "10.0.0.1" not in m and "Referred-By" not in m, f"the REFER reached the trunk:\n{m}")
    check(metric(text, "b2bua_sip_responses_total", direction="out", code="403") == calls,
          "expected one 403 sent per REFER and no other")
    check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls, "answered calls")
    print(f"info_and_refer: {calls} calls; INFO application/dtmf-relay at the trunk in leg B's dialog with the "
          "PBX's body, 200 back; REFER answered 403, never at the trunk")


def case_caller_identity(binary: Path):
    """5 calls whose INVITEs carry P-Asserted-Identity, Privacy and Diversion naming the PBX's host:
    the trunk (from_user set, asserted_identity pass) sees our From user, the asserted and diverting
    numbers on our host, Privacy as sent, and nothing of the PBX's address."""
    calls = 5
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, trunk_extra='      from_user: "+4930999000"\n'), sip, http)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SCENARIOS / "pbx_sends_identity.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", calls, 5)
        all_passed(pbx, trunk_r, calls)
    invites = received(trunk_r, "INVITE ")
    check(len(invites) >= calls, f"{len(invites)} INVITEs at the trunk")
    for m in invites:
        head = m.replace("\r\n", "\n").split("\n\n", 1)[0]
        frm = header_values(m, "from", "f")[0]
        check(uri_of(frm) == f"sip:+4930999000@{HOST}:{sip}", f"From is not the trunk's from_user on our host: {frm}")
        check(header_values(m, "p-asserted-identity") == [f'"Front Desk" <sip:+4930555100@{HOST}:{sip}>'],
              f"P-Asserted-Identity: {header_values(m, 'p-asserted-identity')}")
        check(header_values(m, "privacy") == ["id"], f"Privacy: {header_values(m, 'privacy')}")
        check(header_values(m, "diversion") == [f"<sip:+4930555199@{HOST}:{sip}>;reason=unconditional;counter=1"],
              f"Diversion: {header_values(m, 'diversion')}")
        check(f":{pbx_port}" not in head, f"the PBX's port reached the trunk:\n{m}")
    print(f"caller_identity: {calls} calls; From +4930999000, PAI/Diversion numbers on our host, Privacy id passed")


# ------------------------------------------------------------------ calls from a trunk to the PBX
def case_inbound_call(binary: Path):
    """20 calls from the trunk (SIPp UAC on 127.0.0.2, no credentials) to a DID: routed by
    inbound_routes (strip 3, prepend 0) to the PBX (SIPp UAS on 127.0.0.1), unchallenged, with
    nothing of either side on the other; a PBX-looking source outside allowed_sources gets 403."""
    calls = 20
    sip, http, trunk_port, pbx_port = ports()
    extra = (f'inbound_routes:\n  - {{ prefix: "+4930", to: "sip:{HOST}:{pbx_port}", name: office, strip: 3, '
             f'prepend: "0" }}\n')
    text = config_yaml(sip, http, trunk_port, extra=extra)
    text = text.replace("  realm: pbx.local\n", "  realm: pbx.local\n  allowed_sources: [ 127.0.0.1/32 ]\n")
    with Session(binary) as s:
        s.start_b2bua(text, sip, http)
        pbx = s.start_sipp_server("pbx", SHARED_SCENARIOS / "uas_plain.xml", pbx_port, local_ip=HOST)
        trunk = s.start_sipp("trunk", SHARED_SCENARIOS / "uac_plain.xml", trunk_port,
                             ["-s", "+4930111", "-m", str(calls), "-r", "10", "-d", "200"],
                             remote=f"{HOST}:{sip}", local_ip=TRUNK_HOST)
        rc = s.wait_sipp(trunk, 60)
        trunk_r = s.sipp_result(trunk)
        pbx_r = stop_trunk(s, pbx)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls", direction="inbound") == 0, 10,
                           "inbound calls to end")
        # A source that is neither a trunk nor in allowed_sources: 403, no challenge.
        with harness.RawUdp("127.0.0.3") as stranger:
            stranger.send((f"OPTIONS sip:{HOST}:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3:{stranger.port};"
                           f"branch=z9hG4bK-scan-1\r\nFrom: <sip:scan@127.0.0.3>;tag=s1\r\nTo: <sip:{HOST}:{sip}>\r\n"
                           f"Call-ID: scan-1@127.0.0.3\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                           f"Content-Length: 0\r\n\r\n"), (HOST, sip))
            answer = stranger.recv(5)
        metrics_text = scrape(http)
    check(rc == 0 and trunk_r.successful == calls and trunk_r.failed == 0,
          f"trunk side: rc {rc}, {trunk_r.successful} successful, {trunk_r.failed} failed\n{trunk_r.errors[-3000:]}")
    check(pbx_r.successful == calls and pbx_r.failed == 0,
          f"PBX side: {pbx_r.successful} successful, {pbx_r.failed} failed\n{pbx_r.errors[-3000:]}")
    check(answer is not None and start_line(answer).startswith("SIP/2.0 403"), f"stranger's OPTIONS got {answer!r}")
    trunk_calls = per_call(trunk_r)
    pbx_calls = per_call(pbx_r)
    invites = received(pbx_r, "INVITE ")
    check(len(invites) == calls, f"{len(invites)} INVITEs at the PBX, expected {calls}")
    for m in invites:
        check(start_line(m).split()[1] == f"sip:030111@{HOST}:{pbx_port}",
              f"the PBX got Request-URI {start_line(m).split()[1]}, expected sip:030111@{HOST}:{pbx_port}:\n{m}")
        check("Proxy-Authorization" not in m and "Authorization" not in m, f"credentials at the PBX:\n{m}")
    for d, m in pbx_r.messages:
        if d != "received":
            continue
        check(call_id_of(m) not in trunk_calls, f"a trunk Call-ID reached the PBX:\n{m}")
        # The SDP body passes untouched (each side's media address is its own): headers only.
        head = m.replace("\r\n", "\n").split("\n\n", 1)[0]
        check(TRUNK_HOST not in head and f":{trunk_port}" not in head and "PbxTag" not in head,
              f"the trunk's address, port or tag reached the PBX:\n{m}")
        check(via_count(m) <= 1, f"the PBX received {via_count(m)} Via values:\n{m}")
    for d, m in trunk_r.messages:
        if d != "received":
            continue
        check(call_id_of(m) not in pbx_calls, f"a PBX Call-ID reached the trunk:\n{m}")
        check(f":{pbx_port}" not in m and "TrunkTag" not in m and "sip:trunk@" not in m,
              f"the PBX's port, tag or Contact reached the trunk:\n{m}")
        check(not start_line(m).startswith("SIP/2.0 407") and not start_line(m).startswith("SIP/2.0 401"),
              f"the trunk was challenged:\n{m}")
        for c in header_values(m, "contact", "m"):
            check(f"{HOST}:{sip}" in c, f"Contact at the trunk is not the B2BUA's: {c}\n{m}")
    answered = metric(metrics_text, "b2bua_calls_total", direction="inbound", trunk="carrier", result="answered")
    check(answered == calls, f"b2bua_calls_total{{direction=inbound,trunk=carrier,result=answered}} = {answered}")
    check(metric(metrics_text, "b2bua_auth_challenges_total", direction="downstream") == 0, "a challenge was sent")
    refused = metric(metrics_text, "b2bua_auth_failures_total", direction="downstream", reason="source_not_allowed")
    check(refused == 1, f"source_not_allowed = {refused}, expected 1")
    print(f"inbound_call: {calls} calls trunk -> PBX unchallenged, Request-URI sip:030111@..., topology hidden both "
          f"ways; a stranger's OPTIONS got 403 (source_not_allowed = 1)")
# ------------------------------------------------------------------ trunk selection and failover
CARRIER_IP = "127.0.0.2"
BACKUP_IP = "127.0.0.3"


def trunk_entry(name: str, ip: str, port: int, extra: str = "") -> str:
    return (f'{{ name: {name}, uri: "sip:{ip}:{port}", username: trunkuser, password: trunkpass'
            + (f", {extra}" if extra else "") + " }")


FAILOVER_ROUTE = '{ prefix: "", trunks: [ carrier, backup ] }'


def failover_ports():
    sip, http, _, pbx_port = ports()
    return sip, http, free_port(host=CARRIER_IP), free_port(host=BACKUP_IP), pbx_port


def authed_invite(uac: RawUac, call: dict) -> tuple[str, str]:
    """INVITE, 407, INVITE with an MD5 answer computed here: (the second request, its final response)."""
    _, challenge = uac.invite(call)
    check(start_line(challenge).startswith("SIP/2.0 407"), f"first INVITE -> {start_line(challenge)}")
    offer = [v for v in header_values(challenge, "proxy-authenticate") if "MD5" in v.upper()][0]
    return uac.invite(call, md5_proxy_authorization(offer, "INVITE", uac.uri, "pbxuser", "pbxpass", "0a4f113b"))


def failovers(text: str, status: str) -> float:
    return metric(text, "b2bua_trunk_failovers_total", **{"from": "carrier", "to": "backup", "status": status})


def case_failover_503(binary: Path):
    """The carrier (127.0.0.2) answers 503: each call goes on to the backup (127.0.0.3) as a new dialog."""
    sip, http, carrier_port, backup_port, pbx_port = failover_ports()
    calls = 3
    with Session(binary) as s:
        s.start_b2bua(harness.trunks_config_yaml(sip, http, [trunk_entry("carrier", CARRIER_IP, carrier_port),
                                                             trunk_entry("backup", BACKUP_IP, backup_port)],
                                                 [FAILOVER_ROUTE]), sip, http)
        carrier = s.start_sipp_server("carrier", SCENARIOS / "trunk_answers_503.xml", carrier_port, local_ip=CARRIER_IP)
        backup = s.start_sipp_server("backup", SHARED_SCENARIOS / "trunk_uas_auth.xml", backup_port, local_ip=BACKUP_IP)
        check(metric(scrape(http), "b2bua_trunk_failovers_total") == 0, "failovers before any call")
        pbx = sipp_calls(s, "pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, calls, 5, PBX_AUTH)
        carrier_r, backup_r = stop_trunk(s, carrier), stop_trunk(s, backup)
        all_passed(pbx, backup_r, calls)
        check(carrier_r.successful == calls, f"carrier: {carrier_r.successful} calls answered 503, expected {calls}")
        carrier_ids = {header_values(m, "call-id", "i")[0] for m in received(carrier_r, "INVITE")}
        backup_ids = {header_values(m, "call-id", "i")[0] for m in received(backup_r, "INVITE")}
        check(len(carrier_ids) == calls and len(backup_ids) == calls, f"Call-IDs {carrier_ids} / {backup_ids}")
        check(not carrier_ids & backup_ids, "an attempt's Call-ID was reused on the next trunk")
        for m in received(backup_r, "INVITE"):
            for tag in (harness.tag_of(header_values(c, "from", "f")[0]) for c in received(carrier_r, "INVITE")):
                check(tag not in m, f"the first attempt's From tag {tag} reached the backup:\n{m}")
        check(not any(start_line(m).startswith("SIP/2.0 503") for d, m in pbx.messages if d == "received"),
              "the carrier's 503 reached the PBX")
        text = scrape(http)
        check(failovers(text, "503") == calls, f"failovers{{status=503}} = {failovers(text, '503')}, expected {calls}")
        check(metric(text, "b2bua_calls_total", trunk="backup", result="answered") == calls, "backup answered")
        check(s.processes[0].log().count("failover from trunk carrier (503) to trunk backup") == calls,
              "expected one log line per failover")
        print(f"failover_503: {calls} calls, 503 at 127.0.0.2, answered at 127.0.0.3 in new dialogs; "
              f"b2bua_trunk_failovers_total{{status=503}} {calls}")


def case_failover_no_answer(binary: Path):
    """The carrier never answers: the call moves to the backup once invite_timeout_ms has passed."""
    sip, http, carrier_port, backup_port, _ = failover_ports()
    timeout_ms = 1000
    with Session(binary) as s:
        s.start_b2bua(harness.trunks_config_yaml(
            sip, http, [trunk_entry("carrier", CARRIER_IP, carrier_port, f"invite_timeout_ms: {timeout_ms}"),
                        trunk_entry("backup", BACKUP_IP, backup_port)], [FAILOVER_ROUTE]), sip, http)
        backup = s.start_sipp_server("backup", SHARED_SCENARIOS / "trunk_uas_auth.xml", backup_port, local_ip=BACKUP_IP)
        with harness.RawUdp(HOST) as sock, harness.RawUdp(CARRIER_IP, carrier_port) as silent:
            uac = RawUac(sock, sip, "pbx")
            call = uac.new_call()
            t0 = time.monotonic()
            _, ok = authed_invite(uac, call)
            elapsed = time.monotonic() - t0
            check(start_line(ok).startswith("SIP/2.0 200"), f"the call was not answered by the backup: {ok}")
            uac.ack_and_bye(call, ok)
            # What the silent carrier got: the INVITE and its retransmissions until the give-up,
            # then nothing (§9.1: no CANCEL without a provisional).
            got = []
            while (m := silent.recv(2.0)) is not None:
                got.append(m)
        backup_r = stop_trunk(s, backup)
        check(backup_r.successful == 1, f"backup: {backup_r.successful} calls")
        check(got and all(start_line(m).startswith("INVITE ") for m in got),
              f"the silent carrier got {[start_line(m) for m in got]}")
        check(len(got) <= 2, f"{len(got)} INVITEs at the silent carrier: retransmissions went on after the give-up")
        check(timeout_ms / 1000 <= elapsed < timeout_ms / 1000 + 1.5,
              f"answered after {elapsed:.2f}s; expected just over invite_timeout_ms = {timeout_ms} ms")
        text = scrape(http)
        check(failovers(text, "timeout") == 1, "failovers{status=timeout} != 1")
        check(metric(text, "b2bua_calls_total", trunk="backup", result="answered") == 1, "backup answered")
        print(f"failover_no_answer: silent carrier given up after {timeout_ms} ms ({len(got)} INVITE sends), "
              f"answered by the backup {elapsed:.2f}s after the authenticated INVITE")


def case_failover_none_on_486(binary: Path):
    """486 from the carrier describes the call: relayed to the PBX, the backup never tried."""
    sip, http, carrier_port, backup_port, pbx_port = failover_ports()
    with Session(binary) as s:
        s.start_b2bua(harness.trunks_config_yaml(sip, http, [trunk_entry("carrier", CARRIER_IP, carrier_port),
                                                             trunk_entry("backup", BACKUP_IP, backup_port)],
                                                 [FAILOVER_ROUTE]), sip, http)
        carrier = s.start_sipp_server("carrier", SCENARIOS / "trunk_answers_486.xml", carrier_port, local_ip=CARRIER_IP)
        backup = s.start_sipp_server("backup", SHARED_SCENARIOS / "trunk_uas_auth.xml", backup_port, local_ip=BACKUP_IP)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 2, 2, PBX_AUTH)
        carrier_r, backup_r = stop_trunk(s, carrier), stop_trunk(s, backup)
        check(pbx.successful == 2, f"PBX calls did not end in a failure response:\n{pbx.errors}")
        check([c for c in statuses(pbx) if c >= 200 and c != 407] == [486, 486], f"PBX statuses {statuses(pbx)}")
        check(len(received(carrier_r, "INVITE")) == 2, "the carrier did not get both calls")
        check(not received(backup_r, "INVITE"), "a 486 failed over to the backup")
        text = scrape(http)
        check(metric(text, "b2bua_trunk_failovers_total") == 0, "a failover was counted")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="rejected") == 2, "rejected calls not counted")
        print("failover_none_on_486: 486 relayed twice, the backup never saw an INVITE, no failover counted")


def case_failover_max_calls(binary: Path):
    """The carrier takes one call at a time (max_calls: 1): calls beyond it go to the backup."""
    sip, http, carrier_port, backup_port, pbx_port = failover_ports()
    calls = 4
    with Session(binary) as s:
        s.start_b2bua(harness.trunks_config_yaml(
            sip, http, [trunk_entry("carrier", CARRIER_IP, carrier_port, "max_calls: 1"),
                        trunk_entry("backup", BACKUP_IP, backup_port)], [FAILOVER_ROUTE]), sip, http)
        carrier = s.start_sipp_server("carrier", SHARED_SCENARIOS / "trunk_uas_auth.xml", carrier_port,
                                      local_ip=CARRIER_IP)
        backup = s.start_sipp_server("backup", SHARED_SCENARIOS / "trunk_uas_auth.xml", backup_port, local_ip=BACKUP_IP)
        # Each call is held 3 s and they start 0.1 s apart: all overlap with the first.
        proc = s.start_sipp("pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                            ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", str(calls), "-r", "10", "-d", "3000",
                             "-timeout", "60s", "-recv_timeout", "15000"], remote=f"{HOST}:{sip}")
        s.wait_sipp(proc, 75)
        pbx = s.sipp_result(proc)
        carrier_r, backup_r = stop_trunk(s, carrier), stop_trunk(s, backup)
        check(pbx.successful == calls and pbx.failed == 0, f"PBX: {pbx.successful} ok, {pbx.failed} failed")
        check(carrier_r.successful == 1, f"the carrier carried {carrier_r.successful} calls, expected 1 (max_calls)")
        check(backup_r.successful == calls - 1, f"the backup carried {backup_r.successful} calls")
        text = scrape(http)
        check(failovers(text, "limit") == calls - 1, f"failovers{{status=limit}} = {failovers(text, 'limit')}")
        print(f"failover_max_calls: {calls} overlapping calls, 1 on the carrier (max_calls 1), {calls - 1} on the "
              "backup, counted as status=limit")


def wait_trunk_up(http: int, value: int, timeout: float):
    harness.wait_until(lambda: metric(scrape(http), "b2bua_trunk_up", trunk="carrier") == value, timeout,
                       f"b2bua_trunk_up{{trunk=carrier}} to become {value}", interval=0.2)


def one_call(uac: RawUac) -> str:
    """One authenticated call; ends it (ACK + BYE) when answered. Returns the final status line."""
    call = uac.new_call()
    _, final = authed_invite(uac, call)
    if start_line(final).startswith("SIP/2.0 200"):
        uac.ack_and_bye(call, final)
    return start_line(final)


def case_trunk_down_and_up(binary: Path):
    """OPTIONS health: the carrier answers pings (up), is stopped (down: calls go to the backup), restarts (up)."""
    sip, http, carrier_port, backup_port, _ = failover_ports()
    with Session(binary) as s:
        b2bua = s.start_b2bua(harness.trunks_config_yaml(
            sip, http, [trunk_entry("carrier", CARRIER_IP, carrier_port,
                                    "options_interval_s: 1, down_after: 2, up_after: 2"),
                        trunk_entry("backup", BACKUP_IP, backup_port)], [FAILOVER_ROUTE]), sip, http)
        text = scrape(http)
        check(metric(text, "b2bua_trunk_up", trunk="carrier") == 1 and metric(text, "b2bua_trunk_up", trunk="backup") == 1,
              "trunks not up at start")
        scenario = SCENARIOS / "trunk_answers_options_rejects_invite.xml"
        carrier = s.start_sipp_server("carrier", scenario, carrier_port, local_ip=CARRIER_IP)
        time.sleep(2.5)  # a few pings answered
        check(metric(scrape(http), "b2bua_trunk_up", trunk="carrier") == 1, "carrier not up while answering")
        s.stop(carrier)
        first = s.sipp_result(carrier)
        check(received(first, "OPTIONS"), "the carrier got no OPTIONS ping")
        ping = received(first, "OPTIONS")[0]
        check(f"{HOST}:{sip}" in header_values(ping, "via", "v")[0], f"ping Via is not the b2bua's:\n{ping}")
        t_stop = time.monotonic()
        wait_trunk_up(http, 0, 10)
        down_after = time.monotonic() - t_stop
        check("trunk carrier is down" in b2bua.log(), "no log line for the carrier going down")
        backup = s.start_sipp_server("backup", SHARED_SCENARIOS / "trunk_uas_auth.xml", backup_port, local_ip=BACKUP_IP)
        with harness.RawUdp(HOST) as sock:
            uac = RawUac(sock, sip, "pbx")
            status = one_call(uac)
            check(status.startswith("SIP/2.0 200"), f"call while the carrier is down -> {status}")
            check(failovers(scrape(http), "down") == 1, "the down carrier was not skipped (status=down)")
            carrier2 = s.start_sipp_server("carrier2", scenario, carrier_port, local_ip=CARRIER_IP)
            t_start = time.monotonic()
            wait_trunk_up(http, 1, 10)
            up_after = time.monotonic() - t_start
            check("trunk carrier is up" in b2bua.log(), "no log line for the carrier coming back up")
            status = one_call(uac)
            check(status.startswith("SIP/2.0 486"), f"call once the carrier is up -> {status} (expected its 486)")
        second = stop_trunk(s, carrier2)
        backup_r = stop_trunk(s, backup)
        check(len(received(second, "INVITE")) == 1, "the carrier did not get the call once it was up")
        check(backup_r.successful == 1, f"the backup carried {backup_r.successful} calls, expected 1")
        check(failovers(scrape(http), "down") == 1, "a second down failover was counted")
        print(f"trunk_down_and_up: carrier pinged, stopped -> b2bua_trunk_up 0 after {down_after:.1f}s, call to the "
              f"backup (status=down), restarted -> 1 after {up_after:.1f}s, next call at the carrier")

# ------------------------------------------------------------------ shutdown and races
TRUNK_HOST = "127.0.0.2"  # the trunk's own loopback address; the PBX is 127.0.0.1


def healthz(http_port: int) -> tuple[int, str]:
    """GET /healthz: (status, body)."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{http_port}/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def drain_session_start(s: Session, drain_s: int, pbx_scenario: Path, hold_ms: int = 0):
    """A b2bua with calls.drain_s, a trunk SIPp on 127.0.0.2 and one PBX call from 127.0.0.1,
    up to the moment the call is answered. Returns (ports, b2bua, trunk, pbx)."""
    sip, http, _, pbx_port = ports()
    trunk_port = free_port(host=TRUNK_HOST)
    b2bua = s.start_b2bua(config_yaml(sip, http, 0, trunk_uri=f"sip:{TRUNK_HOST}:{trunk_port}",
                                      extra=f"calls:\n  drain_s: {drain_s}\n"), sip, http)
    trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
    pbx = s.start_sipp("pbx", pbx_scenario, pbx_port,
                       ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", "1", "-d", str(hold_ms), "-timeout", "40s",
                        "-recv_timeout", "30000"], remote=f"{HOST}:{sip}")
    harness.wait_until(lambda: metric(scrape(http), "b2bua_calls_total", result="answered") == 1, 10,
                       "the call to be answered")
    harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 1, 5, "the call to be up")
    return (sip, http, trunk_port, pbx_port), b2bua, trunk, pbx


def exits_within(proc: harness.Process, timeout: float) -> int:
    try:
        return proc.popen.wait(timeout=timeout)
    except harness.subprocess.TimeoutExpired:
        raise HarnessError(f"{proc.name} still running {timeout:.0f}s later:\n{proc.log()[-3000:]}")


def check_refused_while_draining(sip: int, http: int, deadline_s: float):
    """/healthz says draining; a new INVITE and an OPTIONS get 503 with Retry-After."""
    status, body = healthz(http)
    check(status == 503 and body.strip() == "draining", f"/healthz while draining: {status} {body!r}")
    before = metric(scrape(http), "b2bua_calls_total", trunk="", result="draining")
    with harness.RawUdp(HOST) as sock:
        uac = RawUac(sock, sip, "late")
        _, final = uac.invite(uac.new_call())
        check(start_line(final).startswith("SIP/2.0 503"), f"a new INVITE while draining -> {start_line(final)}")
        retry = header_values(final, "retry-after")
        check(len(retry) == 1 and 1 <= int(retry[0]) <= deadline_s + 4,
              f"503 Retry-After {retry}, expected 1..{deadline_s + 4:.0f} (the time left, with the linger bound)")
        check(not header_values(final, "proxy-authenticate"), "a challenge while draining")
        sock.sock.settimeout(2)
        reply = options_status(sock.sock, sip, 7)
        check(reply is not None and reply.startswith("SIP/2.0 503"), f"OPTIONS while draining -> {reply!r}")
    after = metric(scrape(http), "b2bua_calls_total", trunk="", result="draining")
    check(after == before + 1, f"b2bua_calls_total{{result=draining}} {before:.0f} -> {after:.0f}, expected +1")


def case_sigterm_drain(binary: Path):
    """SIGTERM: new calls 503, /healthz 503 "draining"; (a) a call that ends by itself lets the
    process exit 0 at once; (b) one that outlives calls.drain_s (3) gets BYE on both legs, then exit 0."""
    # (a) drain_s 20, the PBX hangs up 4 s after the answer: exit right after its BYE.
    with Session(binary) as s:
        (sip, http, _, _), b2bua, trunk, pbx = drain_session_start(s, 20, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                                                   hold_ms=4000)
        t0 = time.monotonic()
        os.kill(b2bua.pid, signal.SIGTERM)
        harness.wait_until(lambda: "shutting down" in b2bua.log(), 5, "the drain to start")
        check_refused_while_draining(sip, http, 20)
        check(b2bua.alive(), "b2bua exited with a call in progress")
        s.wait_sipp(pbx, 20)
        pbx_r = s.sipp_result(pbx)
        check(pbx_r.successful == 1 and pbx_r.failed == 0, f"the call in progress did not finish:\n{pbx_r.errors}")
        code = exits_within(b2bua, 5)
        took = time.monotonic() - t0
        check(code == 0, f"b2bua exited with {code}")
        check(took < 12, f"b2bua took {took:.1f}s to exit after its last call ended; drain_s is 20")
        check(not received(pbx_r, "BYE"), "the PBX got a BYE although it hung up itself")
        trunk_r = stop_trunk(s, trunk)
        check(len(received(trunk_r, "BYE")) == 1, "the trunk did not get the PBX's BYE")
        log = b2bua.log()
        check("drained: 0 call(s) left" in log and "call refused: shutting down (draining)" in log,
              f"drain log lines missing:\n{log[-3000:]}")
        print(f"sigterm_drain (a): new INVITE and OPTIONS 503 with Retry-After, /healthz 503 draining; the call "
              f"ended by the PBX; exit 0 {took:.1f}s after SIGTERM")

    # (b) drain_s 3, nobody hangs up: BYE on both legs at 3 s, exit 0 once they are answered.
    with Session(binary) as s:
        (sip, http, _, _), b2bua, trunk, pbx = drain_session_start(s, 3, SCENARIOS / "pbx_answered_expect_bye.xml")
        t0 = time.monotonic()
        os.kill(b2bua.pid, signal.SIGTERM)
        harness.wait_until(lambda: "shutting down" in b2bua.log(), 5, "the drain to start")
        check_refused_while_draining(sip, http, 3)
        time.sleep(max(0.0, 2.5 - (time.monotonic() - t0)))
        check(b2bua.alive() and metric(scrape(http), "b2bua_active_calls") == 1,
              "the call was ended before calls.drain_s")
        code = exits_within(b2bua, 3 + 4 + 3)
        took = time.monotonic() - t0
        check(code == 0, f"b2bua exited with {code}")
        check(2.8 <= took <= 3 + 4 + 3, f"exit {took:.1f}s after SIGTERM with drain_s 3")
        s.wait_sipp(pbx, 10)
        pbx_r = s.sipp_result(pbx)
        check(pbx_r.successful == 1 and len(received(pbx_r, "BYE")) >= 1,
              f"the PBX did not get its BYE:\n{pbx_r.errors}")
        trunk_r = stop_trunk(s, trunk)
        check(trunk_r.successful == 1 and len(received(trunk_r, "BYE")) >= 1,
              f"the trunk did not get its BYE:\n{trunk_r.errors}")
        log = b2bua.log()
        check("ending 1 call(s) (drain time over)" in log and "drained: 0 call(s) left" in log,
              f"drain log lines missing:\n{log[-3000:]}")
        print(f"sigterm_drain (b): the call outlived drain_s 3: BYE to the PBX and the trunk, exit 0 {took:.1f}s "
              "after SIGTERM")


def case_sigterm_twice(binary: Path):
    """A second SIGTERM ends the calls at once: BYE on both legs, exit 0, without waiting for drain_s."""
    with Session(binary) as s:
        (sip, http, _, _), b2bua, trunk, pbx = drain_session_start(s, 60, SCENARIOS / "pbx_answered_expect_bye.xml")
        os.kill(b2bua.pid, signal.SIGTERM)
        harness.wait_until(lambda: "shutting down" in b2bua.log(), 5, "the drain to start")
        time.sleep(0.5)
        check(b2bua.alive() and metric(scrape(http), "b2bua_active_calls") == 1, "the call ended on the first SIGTERM")
        t0 = time.monotonic()
        os.kill(b2bua.pid, signal.SIGTERM)
        code = exits_within(b2bua, 5)
        took = time.monotonic() - t0
        check(code == 0, f"b2bua exited with {code}")
        s.wait_sipp(pbx, 10)
        pbx_r = s.sipp_result(pbx)
        check(pbx_r.successful == 1 and len(received(pbx_r, "BYE")) >= 1, f"the PBX got no BYE:\n{pbx_r.errors}")
        trunk_r = stop_trunk(s, trunk)
        check(trunk_r.successful == 1 and len(received(trunk_r, "BYE")) >= 1, f"the trunk got no BYE:\n{trunk_r.errors}")
        log = b2bua.log()
        check("shutting down now: ending 1 call(s)" in log and "drained: 0 call(s) left" in log,
              f"log lines missing:\n{log[-3000:]}")
        print(f"sigterm_twice: the second SIGTERM ended the call with BYE on both legs; exit 0 {took:.1f}s later "
              "(drain_s 60)")


def case_cancel_crosses_answer(binary: Path):
    """The trunk answers 200 after our CANCEL (it answered the CANCEL 200 too): the PBX has its 487,
    the trunk leg is ACKed and then ended with a BYE; counted as cancelled, not answered."""
    calls = 5
    sip, http, _, pbx_port = ports()
    trunk_port = free_port(host=TRUNK_HOST)
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, 0, trunk_uri=f"sip:{TRUNK_HOST}:{trunk_port}"), sip, http)
        trunk = s.start_sipp_server("trunk", SCENARIOS / "trunk_answers_despite_cancel.xml", trunk_port,
                                    local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_cancel_while_ringing.xml", sip, pbx_port, calls, calls, PBX_AUTH,
                         timeout=20)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        trunk_r = stop_trunk(s, trunk)
        all_passed(pbx, trunk_r, calls)
        for call_id, msgs in per_call(pbx).items():
            finals = [int(start_line(m).split()[1]) for d, m in msgs if d == "received"
                      and start_line(m).startswith("SIP/2.0 ") and cseq_of(m) == (2, "INVITE")
                      and int(start_line(m).split()[1]) >= 200]
            check(finals and set(finals) == {487}, f"PBX {call_id}: final answers to its INVITE {finals}, expected 487")
        for call_id, dlg in leg_b_dialogs(trunk_r, calls).items():
            got = [start_line(m).split()[0] for d, m in dlg["msgs"] if d == "received"
                   and cseq_of(m)[0] >= dlg["setup_cseq"]]
            check("CANCEL" in got and "ACK" in got and "BYE" in got
                  and got.index("CANCEL") < got.index("ACK") < got.index("BYE"),
                  f"leg B {call_id}: requests after the answered INVITE {got}, expected CANCEL, ACK, BYE in order")
            acks = first_sent(dlg["msgs"], "received", "ACK ", (dlg["setup_cseq"], "ACK"))
            check(len(acks) == 1 and harness.tag_of(header_values(acks[0], "to", "t")[0]) == dlg["trunk_tag"],
                  f"leg B {call_id}: the ACK of the 2xx is not in its dialog: {acks}")
            byes = first_sent(dlg["msgs"], "received", "BYE ")
            check(len(byes) == 1, f"leg B {call_id}: {len(byes)} BYEs")
            check_leg_b_request(byes[0], dlg, sip, f"leg B {call_id} BYE")
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="cancelled") == calls, "cancelled calls")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 0, "a cancelled call counted answered")
        print(f"cancel_crosses_answer: {calls} calls; the trunk's 200 after the CANCEL was ACKed and ended with a BYE "
              "in leg B's dialog; the PBX got 487 only")
# ------------------------------------------------------------------ session timers (RFC 4028)
TRUNK_HOST = "127.0.0.2"  # the trunk at its own address, as trunks are recognised by address


def session_timer_call(binary: Path, pbx_scenario: str, trunk_scenario: str, wait: float):
    """One call between a PBX on 127.0.0.1 and a trunk on 127.0.0.2, left to run its course
    (SIPp without a global receive timeout: the scenarios wait for refreshes per message).
    Returns (pbx, trunk, b2bua log, metrics text, seconds the PBX side took)."""
    sip, http, pbx_port = free_port(), free_port((harness.socket.SOCK_STREAM,)), free_port()
    trunk_port = free_port(host=TRUNK_HOST)
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, trunk_uri=f"sip:{TRUNK_HOST}:{trunk_port}"), sip, http)
        trunk = s.start_sipp_server("trunk", SCENARIOS / trunk_scenario, trunk_port, local_ip=TRUNK_HOST)
        t0 = time.monotonic()
        pbx_proc = s.start_sipp("pbx", SCENARIOS / pbx_scenario, pbx_port,
                                ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", "1", "-timeout", f"{int(wait)}s"],
                                remote=f"{HOST}:{sip}")
        s.wait_sipp(pbx_proc, wait + 15)
        took = time.monotonic() - t0
        pbx = s.sipp_result(pbx_proc)
        trunk_r = stop_trunk(s, trunk)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the call to end")
        text = scrape(http)
        log = b2bua.log()
        all_passed(pbx, trunk_r, 1)
    return pbx, trunk_r, log, text, took


def case_session_refreshed(binary: Path):
    """A 90 s session timer on both legs with the b2bua as refresher: the PBX (no UPDATE in its
    Allow) gets re-INVITEs, the trunk (UPDATE allowed) UPDATEs, at half the interval; the call
    outlives one whole interval and ends with the PBX's BYE."""
    pbx, trunk_r, log, text, took = session_timer_call(binary, "pbx_asks_b2bua_to_refresh.xml",
                                                       "trunk_refreshed_by_update.xml", 150)
    check(took > 90, f"the call lasted {took:.0f} s, not past one 90 s session interval")
    reinvites = [m for m in received(pbx, "INVITE ")]
    check(len({cseq_of(m) for m in reinvites}) == 2, f"PBX: {len(reinvites)} refresh re-INVITEs, expected 2")
    for m in reinvites:
        check(header_values(m, "session-expires", "x") == ["90;refresher=uac"], f"PBX refresh:\n{m}")
        check(body_of(m).startswith("v=0") and "o=trunk 9001 1" in body_of(m),
              f"the refresh re-INVITE does not offer what the PBX last got (the trunk's SDP):\n{m}")
    check(len(received(pbx, "ACK ")) >= 2, "PBX: the refresh 2xx were not ACKed")
    updates = received(trunk_r, "UPDATE ")
    check(len({cseq_of(m) for m in updates}) == 2, f"trunk: {len(updates)} refresh UPDATEs, expected 2")
    for m in updates:
        check(header_values(m, "session-expires", "x") == ["90;refresher=uac"] and not body_of(m),
              f"trunk refresh:\n{m}")
    check(len(received(trunk_r, "BYE ")) == 1, "the trunk did not get the PBX's BYE")
    check("session expired" not in log, "a session expired:\n" + log[-2000:])
    check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 1, "answered calls")
    print(f"session_refreshed: call of {took:.0f} s; 2 re-INVITE refreshes at the PBX, 2 UPDATE refreshes "
          "at the trunk, each Session-Expires: 90;refresher=uac; ended by the PBX's BYE")


def case_session_expired(binary: Path):
    """The PBX asks to be the refresher (90 s), refreshes once with UPDATE (relayed, refreshing
    the trunk's leg too), then stops: 60 s later (90 - min(32, 90/3), RFC 4028 §10) both legs get BYE."""
    pbx, trunk_r, log, text, took = session_timer_call(binary, "pbx_refreshes_once_then_stops.xml",
                                                       "trunk_refreshed_until_bye.xml", 130)
    check(85 < took < 110, f"the b2bua's BYE came after {took:.0f} s, expected about 30 + 60 s")
    check(len(received(pbx, "BYE ")) >= 1, "the PBX got no BYE")
    check(len(received(trunk_r, "BYE ")) >= 1, "the trunk got no BYE")
    updates = {cseq_of(m): m for m in received(trunk_r, "UPDATE ")}
    check(len(updates) == 2, f"trunk: {len(updates)} UPDATEs, expected the relayed one and our refresh")
    for m in updates.values():
        check(header_values(m, "session-expires", "x") == ["90;refresher=uac"], f"trunk UPDATE:\n{m}")
    check("session expired on the inbound leg" in log, "no session expiry in the log:\n" + log[-2000:])
    check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 1, "answered calls")
    print(f"session_expired: the PBX stopped refreshing; BYE on both legs {took:.0f} s after the call began")
# ------------------------------------------------------- reliable provisionals (RFC 3262)
PRACK_TRUNK_HOST = "127.0.0.2"  # the trunk has an address of its own, as in a real network


def unique_requests(msgs: list[tuple[str, str]], direction: str, method: str) -> list[str]:
    """First transmissions only of `method` requests: a retransmission repeats start line and branch."""
    seen, out = set(), []
    for d, m in msgs:
        if d != direction or not start_line(m).startswith(method + " "):
            continue
        key = (start_line(m), harness.branch_of(header_values(m, "via", "v")[0]))
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def prack_run(binary: Path, pbx_scenario: str, trunk_scenario: str, offer_in_183: bool):
    """Runs 5 calls of a 100rel pair of scenarios (trunk on 127.0.0.2) and checks both legs' PRACKs.
    `offer_in_183`: the PBX's INVITE has no offer, the trunk's reliable 183 has it, and the answer
    travels in the PBX's PRACK, then in ours (RFC 3262 §5)."""
    calls = 5
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, trunk_uri=f"sip:{PRACK_TRUNK_HOST}:{trunk_port}"), sip, http)
        trunk = s.start_sipp_server("trunk", SCENARIOS / trunk_scenario, trunk_port, local_ip=PRACK_TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / pbx_scenario, sip, pbx_port, calls, calls, PBX_AUTH, timeout=20)
        trunk_r = stop_trunk(s, trunk)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "calls to end")
        text = scrape(http)
        all_passed(pbx, trunk_r, calls)
    check_pbx_hidden(pbx, trunk_r, (sip, trunk_port, pbx_port))
    for m in [msg for d, msg in pbx.messages if d == "received"]:
        # The SDP passes through untouched (media addresses are each side's own); the SIP head must not.
        head = m.replace("\r\n", "\n").split("\n\n", 1)[0]
        check(PRACK_TRUNK_HOST not in head, f"the trunk's address reached the PBX:\n{m}")

    # Leg A: a reliable 183 with our RSeq, the PBX's PRACK answered 200, the 2xx after that PRACK.
    pbx_calls = per_call(pbx)
    check(len(pbx_calls) == calls, f"expected {calls} PBX calls, saw {len(pbx_calls)}")
    for call_id, msgs in pbx_calls.items():
        progress = [m for d, m in msgs if d == "received" and start_line(m).startswith("SIP/2.0 183")]
        check(progress, f"PBX {call_id}: no 183")
        check(header_values(progress[0], "require") == ["100rel"], f"PBX {call_id}: the 183 is not reliable:\n{progress[0]}")
        rseqs = {tuple(header_values(m, "rseq")) for m in progress}
        check(len(rseqs) == 1 and len(next(iter(rseqs))) == 1, f"PBX {call_id}: RSeq values {rseqs}")
        rseq = int(next(iter(rseqs))[0])
        check(1 <= rseq <= 2**31 - 1, f"PBX {call_id}: RSeq {rseq} outside 1..2^31-1 (RFC 3262 §3)")
        check("o=trunk" in body_of(progress[0]), f"PBX {call_id}: the 183 lacks the trunk's SDP:\n{progress[0]}")
        pracks = unique_requests(msgs, "sent", "PRACK")
        check(len(pracks) == 1 and header_values(pracks[0], "rack") == [f"{rseq} 2 INVITE"],
              f"PBX {call_id}: its PRACK does not carry RAck {rseq} 2 INVITE:\n{pracks}")
        answers = [m for d, m in msgs if d == "received" and start_line(m).startswith("SIP/2.0 ")
                   and cseq_of(m) == (3, "PRACK")]
        check(answers and all(start_line(m).startswith("SIP/2.0 200") for m in answers),
              f"PBX {call_id}: answers to its PRACK: {[start_line(m) for m in answers]}")
        order = [(d, start_line(m), cseq_of(m)) for d, m in msgs]
        ok_at = order.index(("received", "SIP/2.0 200 OK", (2, "INVITE")))
        prack_at = next(i for i, o in enumerate(order) if o[0] == "sent" and o[1].startswith("PRACK "))
        check(prack_at < ok_at, f"PBX {call_id}: the 2xx came before its PRACK of the 183 with SDP (§3)")
        check(("o=pbx 7002" in body_of(pracks[0])) == offer_in_183,
              f"PBX {call_id}: the scenario's PRACK {'lacks' if offer_in_183 else 'has'} an SDP answer")

    # Leg B: our INVITE offers 100rel; the PRACK goes in the trunk's early dialog with its RAck.
    for call_id, dlg in leg_b_dialogs(trunk_r, calls).items():
        invites = unique_requests(dlg["msgs"], "received", "INVITE")
        check(invites and all("100rel" in ",".join(header_values(m, "supported", "k")) for m in invites)
              and not any(header_values(m, "require") for m in invites),
              f"leg B {call_id}: our INVITE does not offer (only offer) 100rel:\n{invites[-1] if invites else ''}")
        invite_cseq = cseq_of(invites[-1])[0]
        pracks = unique_requests(dlg["msgs"], "received", "PRACK")
        check(len(pracks) == 1, f"leg B {call_id}: {len(pracks)} PRACKs at the trunk, expected 1")
        what = f"leg B {call_id} PRACK"
        check_leg_b_request(pracks[0], dlg, sip, what)
        check(header_values(pracks[0], "rack") == [f"4711 {invite_cseq} INVITE"],
              f"{what}: RAck {header_values(pracks[0], 'rack')}, expected 4711 {invite_cseq} INVITE")
        check(cseq_of(pracks[0]) == (invite_cseq + 1, "PRACK"), f"{what}: CSeq {cseq_of(pracks[0])}")
        check(call_id_of(pracks[0]) == call_id_of(invites[-1]), f"{what}: not in the INVITE's Call-ID")
        if offer_in_183:
            check(not body_of(invites[-1]), f"leg B {call_id}: the INVITE has an offer:\n{invites[-1]}")
            check("o=pbx 7002" in body_of(pracks[0])
                  and header_values(pracks[0], "content-type", "c") == ["application/sdp"],
                  f"{what}: the PBX's SDP answer is not in it (§5):\n{pracks[0]}")
        else:
            check(not body_of(pracks[0]), f"{what}: a body in a PRACK that answers nothing:\n{pracks[0]}")
        byes = unique_requests(dlg["msgs"], "received", "BYE")
        check(len(byes) == 1 and cseq_of(byes[0])[0] > invite_cseq + 1,
              f"leg B {call_id}: the BYE's CSeq is not above the PRACK's")
        check_leg_b_request(byes[0], dlg, sip, f"leg B {call_id} BYE")
    check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == calls, "answered calls")
    return calls


def case_prack(binary: Path):
    """100rel on both sides: the trunk (on 127.0.0.2) sends a reliable 183 (RSeq 4711) and gets a
    PRACK from the b2bua in leg B's early dialog with RAck "4711 <CSeq> INVITE"; the PBX gets the 183
    reliably with the b2bua's own RSeq, PRACKs it with the matching RAck and gets 200; then the call
    is answered and hung up. Nothing of either leg reaches the other."""
    calls = prack_run(binary, "pbx_pracks_reliable_183.xml", "trunk_sends_reliable_183.xml", False)
    print(f"prack: {calls} calls; trunk's reliable 183 PRACKed with RAck 4711 <CSeq> INVITE in leg B's early "
          "dialog, the PBX's 183 reliable with the b2bua's RSeq and PRACKed with it, 2xx after the PRACK, "
          "nothing of either leg leaked")


def case_prack_offer_in_183(binary: Path):
    """An INVITE without an offer: the trunk's offer comes in its reliable 183, the PBX answers it in
    its PRACK, and that answer reaches the trunk inside the b2bua's PRACK (RFC 3262 §5)."""
    calls = prack_run(binary, "pbx_answers_183_offer_in_prack.xml", "trunk_offers_in_reliable_183.xml", True)
    print(f"prack_offer_in_183: {calls} calls; the trunk's offer in a reliable 183 answered by the PBX's PRACK, "
          "carried in the b2bua's PRACK to the trunk with RAck 4711 <CSeq> INVITE")


# ------------------------------------------------------------------ glare (RFC 3261 §14.1)
def glare_sdp(user: str, host: str, port: int, version: int, direction: str) -> str:
    """`user`'s SDP; each new one of a session a higher o= version (RFC 3264 §8)."""
    return (f"v=0\r\no={user} 1 {version} IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n")


def carries(msg: str, body: str) -> bool:
    """`msg` has `body` as its body (line endings and surrounding blank lines aside)."""
    return body_of(msg) == body_of("\r\n\r\n" + body)


class RawDialog:
    """One side's dialog with the b2bua on a raw socket, written by hand: glare needs both sides to act
    in one exact interleaving, which two SIPp processes cannot be made to keep.

    `local`/`remote` are the whole From/To values of this side's requests (tags included), `target`
    the Request-URI (the b2bua's Contact on this leg); set by `established_as_uac`/`_as_uas`.
    Receives skip 100 Trying and retransmissions (the same start line, CSeq and branch seen before);
    every receive is bounded.
    """

    def __init__(self, sock: harness.RawUdp, b2bua_port: int, name: str):
        self.sock, self.dest, self.name = sock, (HOST, b2bua_port), name
        self.call_id = self.local = self.remote = self.target = ""
        self.cseq = 0
        self.contact = f"<sip:{name}@{sock.host}:{sock.port}>"
        self.seen: set[tuple[str, str, str | None]] = set()
        self.n = 0

    def established_as_uac(self, invite: str, ok: str):
        """The dialog our `invite` made with its 2xx `ok` (§12.1.2)."""
        self.call_id = header_values(invite, "call-id", "i")[0]
        self.local, self.remote = header_values(invite, "from", "f")[0], header_values(ok, "to", "t")[0]
        self.target = re.search(r"<([^>]+)>", header_values(ok, "contact", "m")[0]).group(1)
        self.cseq = cseq_of(invite)[0]

    def established_as_uas(self, invite: str, tag: str, cseq: int):
        """The dialog we make by answering `invite` with To tag `tag` (§12.1.1); our CSeq starts at `cseq`."""
        self.call_id = header_values(invite, "call-id", "i")[0]
        self.local = header_values(invite, "to", "t")[0] + f";tag={tag}"
        self.remote = header_values(invite, "from", "f")[0]
        self.target = re.search(r"<([^>]+)>", header_values(invite, "contact", "m")[0]).group(1)
        self.cseq = cseq

    def request(self, method: str, body: str = "", cseq: int | None = None, branch: str | None = None,
                to: str | None = None, uri: str | None = None) -> str:
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        self.n += 1
        branch = branch or f"z9hG4bK-{self.name}-{os.getpid()}-{self.n}"
        text = (f"{method} {uri or self.target} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.sock.host}:{self.sock.port};branch={branch}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: {self.local}\r\n"
                f"To: {to or self.remote}\r\n"
                f"Call-ID: {self.call_id}\r\n"
                f"CSeq: {cseq} {method}\r\n"
                + (f"Contact: {self.contact}\r\n" if method == "INVITE" else "")
                + ("Content-Type: application/sdp\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.sock.send(text, self.dest)
        return text

    def ack_failure(self, invite: str, response: str):
        """§17.1.1.3: the ACK of a non-2xx is in the INVITE's transaction (its branch, Request-URI, CSeq)."""
        self.request("ACK", cseq=cseq_of(invite)[0], branch=top_branch(invite),
                     to=header_values(response, "to", "t")[0], uri=start_line(invite).split()[1])

    def respond(self, req: str, code: int, reason: str, body: str = "", to_tag: str | None = None) -> str:
        """Our answer to `req`: its Vias, From, To (+ our tag), Call-ID and CSeq; a Contact on a 2xx to INVITE."""
        to = header_values(req, "to", "t")[0]
        if to_tag is not None and harness.tag_of(to) is None:
            to += f";tag={to_tag}"
        head = "".join(f"Via: {v}\r\n" for v in header_values(req, "via", "v"))
        text = (f"SIP/2.0 {code} {reason}\r\n{head}"
                f"From: {header_values(req, 'from', 'f')[0]}\r\nTo: {to}\r\n"
                f"Call-ID: {header_values(req, 'call-id', 'i')[0]}\r\nCSeq: {header_values(req, 'cseq')[0]}\r\n"
                + (f"Contact: {self.contact}\r\n" if 200 <= code < 300 and cseq_of(req)[1] == "INVITE" else "")
                + ("Content-Type: application/sdp\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.sock.send(text, self.dest)
        return text

    def _next(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = self.sock.recv(left)
            if msg is None:
                return None
            key = (start_line(msg), " ".join(header_values(msg, "cseq")), top_branch(msg))
            if key in self.seen or start_line(msg).startswith("SIP/2.0 100 "):
                continue
            self.seen.add(key)
            return msg
        return None

    def expect(self, prefix: str, what: str, timeout: float = 5) -> str:
        msg = self._next(timeout)
        check(msg is not None, f"{self.name}: nothing within {timeout:.0f}s, expected {prefix} ({what})")
        check(start_line(msg).startswith(prefix),
              f"{self.name}: got {start_line(msg)!r}, expected {prefix} ({what}):\n{msg}")
        return msg

    def quiet(self, seconds: float) -> list[str]:
        """Everything new (but 100 Trying and retransmissions) that arrives within `seconds`."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            msg = self._next(left)
            if msg is None:
                break
            got.append(msg)
        return got


def check_in_dialog(msg: str, d: RawDialog, what: str, *, request: str | None = None, response_to: str | None = None):
    """`msg` is in `d`'s dialog: a request from the b2bua (its From is our To, its To our From) or the
    b2bua's response to our `response_to` (its Via, From, To tag, Call-ID, CSeq)."""
    check(header_values(msg, "call-id", "i") == [d.call_id], f"{what}: Call-ID {header_values(msg, 'call-id', 'i')}, "
          f"expected {d.call_id}:\n{msg}")
    frm, to = header_values(msg, "from", "f")[0], header_values(msg, "to", "t")[0]
    if response_to is not None:
        check(harness.tag_of(frm) == harness.tag_of(d.local) and harness.tag_of(to) == harness.tag_of(d.remote),
              f"{what}: tags From {harness.tag_of(frm)} To {harness.tag_of(to)}, expected From "
              f"{harness.tag_of(d.local)} To {harness.tag_of(d.remote)}:\n{msg}")
        check(header_values(msg, "via", "v") == header_values(response_to, "via", "v"),
              f"{what}: Via {header_values(msg, 'via', 'v')}, expected ours {header_values(response_to, 'via', 'v')}")
        check(cseq_of(msg) == cseq_of(response_to), f"{what}: CSeq {cseq_of(msg)}, expected {cseq_of(response_to)}")
    else:
        check(harness.tag_of(frm) == harness.tag_of(d.remote) and harness.tag_of(to) == harness.tag_of(d.local),
              f"{what}: tags From {harness.tag_of(frm)} To {harness.tag_of(to)}, expected From "
              f"{harness.tag_of(d.remote)} To {harness.tag_of(d.local)}:\n{msg}")
        uri = re.search(r"<([^>]+)>", d.contact).group(1)
        check(start_line(msg).split()[1] == uri, f"{what}: Request-URI {start_line(msg).split()[1]}, expected {uri}")
        check(via_count(msg) == 1, f"{what}: {via_count(msg)} Vias, expected the b2bua's one")
        if request is not None:
            check(cseq_of(msg)[1] == request, f"{what}: CSeq {cseq_of(msg)}, expected method {request}")


def check_nothing_of(msg: str, other: RawDialog, what: str):
    """No identifier or address of the other leg in `msg`: its Call-ID, either tag, its host:port."""
    for needle in (other.call_id, harness.tag_of(other.local), harness.tag_of(other.remote),
                   f"{other.sock.host}:{other.sock.port}"):
        check(needle not in msg, f"{what}: {needle!r} of the other leg is in it:\n{msg}")


def case_glare(binary: Path):
    """RFC 3261 §14.1 glare, on both legs: each side re-INVITEs while the b2bua's re-INVITE to it is
    pending; the b2bua answers 491 in that side's own dialog, the other side never hears of it, and the
    pending re-INVITE completes (200 relayed, ACK relayed). PBX on 127.0.0.1, trunk on 127.0.0.2, both
    raw sockets driven in one order."""
    sip, http, _, _ = ports()
    trunk_port = free_port(host=TRUNK_HOST)

    def count_491(direction: str) -> float:
        try:
            return metric(scrape(http), "b2bua_sip_responses_total", direction=direction, code="491")
        except HarnessError:
            return 0.0  # the series appears on first use

    with Session(binary) as s:
        # The trunk without credentials: its requests come from its own address and are never challenged.
        carrier = f'{{ name: carrier, uri: "sip:{TRUNK_HOST}:{trunk_port}" }}'
        s.start_b2bua(harness.trunks_config_yaml(sip, http, [carrier], ['{ prefix: "", trunk: carrier }']), sip, http)
        with harness.RawUdp(HOST) as pbx_sock, harness.RawUdp(TRUNK_HOST, trunk_port) as trunk_sock:
            # --- the call: the PBX authenticates (407, MD5 answer computed here), the trunk answers 200.
            uac = RawUac(pbx_sock, sip, "pbx")
            call = uac.new_call()
            _, challenge = uac.invite(call)
            check(start_line(challenge).startswith("SIP/2.0 407"), f"first INVITE -> {start_line(challenge)}")
            offer = [v for v in header_values(challenge, "proxy-authenticate") if "MD5" in v.upper()][0]
            # Sent without waiting for its answer: the trunk answers it first.
            invite = uac.invite_request(call, md5_proxy_authorization(offer, "INVITE", uac.uri, "pbxuser", "pbxpass",
                                                                      "0a4f113b"))
            pbx, trunk = RawDialog(pbx_sock, sip, "pbx"), RawDialog(trunk_sock, sip, "trunk")
            pbx_sock.send(invite, (HOST, sip))
            leg_b_invite = trunk.expect("INVITE ", "the call at the trunk")
            trunk.established_as_uas(leg_b_invite, f"trunk-{os.getpid()}", 7000)
            trunk.respond(leg_b_invite, 200, "OK", glare_sdp("trunk", TRUNK_HOST, 30000, 1, "sendrecv"),
                          to_tag=harness.tag_of(trunk.local))
            ok = pbx.expect("SIP/2.0 200", "the call answered")
            pbx.established_as_uac(invite, ok)
            pbx.request("ACK", cseq=pbx.cseq)
            check_in_dialog(trunk.expect("ACK ", "the ACK of the trunk's 200"), trunk, "leg B ACK", request="ACK")
            check(count_491("out") == 0, "a 491 sent before any glare")

            # --- 1. The trunk's hold re-INVITE is relayed to the PBX, which has not answered it when it
            # sends its own: that one loses (§14.1), answered 491 on leg A.
            t_hold = trunk.request("INVITE", glare_sdp("trunk", TRUNK_HOST, 30000, 2, "sendonly"))
            relayed = pbx.expect("INVITE ", "the trunk's re-INVITE relayed")
            check_in_dialog(relayed, pbx, "leg A re-INVITE", request="INVITE")
            check(carries(relayed, glare_sdp("trunk", TRUNK_HOST, 30000, 2, "sendonly")),
                  f"the trunk's offer not relayed:\n{relayed}")
            check_nothing_of(relayed, trunk, "the re-INVITE at the PBX")
            pbx.respond(relayed, 100, "Trying")  # ends the b2bua's retransmissions; no answer yet
            p_glare = pbx.request("INVITE", glare_sdp("pbx", HOST, 40000, 2, "sendonly"))
            refused = pbx.expect("SIP/2.0 491", "the PBX's crossing re-INVITE")
            check_in_dialog(refused, pbx, "491 on leg A", response_to=p_glare)
            check_nothing_of(refused, trunk, "the 491 to the PBX")
            check(TRUNK_HOST not in refused and not body_of(refused), f"the 491 to the PBX carries more:\n{refused}")
            pbx.ack_failure(p_glare, refused)
            leaked = trunk.quiet(0.7)
            check(not leaked, f"the trunk heard of the PBX's refused re-INVITE: {[start_line(m) for m in leaked]}")
            check(count_491("out") == 1, f"b2bua_sip_responses_total{{out,491}} = {count_491('out')}, expected 1")
            # The PBX answers the pending one: the trunk's re-INVITE completes on leg B.
            pbx.respond(relayed, 200, "OK", glare_sdp("pbx", HOST, 40000, 3, "recvonly"))
            t_ok = trunk.expect("SIP/2.0 200", "the PBX's answer relayed")
            check_in_dialog(t_ok, trunk, "200 on leg B", response_to=t_hold)
            check(carries(t_ok, glare_sdp("pbx", HOST, 40000, 3, "recvonly")),
                  f"the PBX's answer not relayed:\n{t_ok}")
            check_nothing_of(t_ok, pbx, "the 200 to the trunk")
            trunk.request("ACK", cseq=cseq_of(t_hold)[0],
                          uri=re.search(r"<([^>]+)>", header_values(t_ok, "contact", "m")[0]).group(1))
            p_ack = pbx.expect("ACK ", "the trunk's ACK relayed")
            check_in_dialog(p_ack, pbx, "leg A ACK", request="ACK")
            check(cseq_of(p_ack)[0] == cseq_of(relayed)[0],
                  f"leg A ACK CSeq {cseq_of(p_ack)}, expected {cseq_of(relayed)}")

            # --- 2. The other way: the PBX's resume re-INVITE is relayed to the trunk, which sends its
            # own before answering: 491 on leg B.
            p_resume = pbx.request("INVITE", glare_sdp("pbx", HOST, 40000, 4, "sendrecv"))
            at_trunk = trunk.expect("INVITE ", "the PBX's re-INVITE relayed")
            check_in_dialog(at_trunk, trunk, "leg B re-INVITE", request="INVITE")
            check(carries(at_trunk, glare_sdp("pbx", HOST, 40000, 4, "sendrecv")),
                  f"the PBX's offer not relayed:\n{at_trunk}")
            check_nothing_of(at_trunk, pbx, "the re-INVITE at the trunk")
            trunk.respond(at_trunk, 100, "Trying")
            t_glare = trunk.request("INVITE", glare_sdp("trunk", TRUNK_HOST, 30000, 3, "sendrecv"))
            refused_b = trunk.expect("SIP/2.0 491", "the trunk's crossing re-INVITE")
            check_in_dialog(refused_b, trunk, "491 on leg B", response_to=t_glare)
            check_nothing_of(refused_b, pbx, "the 491 to the trunk")
            check(not body_of(refused_b), f"the 491 to the trunk carries a body:\n{refused_b}")
            trunk.ack_failure(t_glare, refused_b)
            leaked = pbx.quiet(0.7)
            check(not leaked, f"the PBX heard of the trunk's refused re-INVITE: {[start_line(m) for m in leaked]}")
            check(count_491("out") == 2, f"b2bua_sip_responses_total{{out,491}} = {count_491('out')}, expected 2")
            trunk.respond(at_trunk, 200, "OK", glare_sdp("trunk", TRUNK_HOST, 30000, 4, "sendrecv"))
            p_ok = pbx.expect("SIP/2.0 200", "the trunk's answer relayed")
            check_in_dialog(p_ok, pbx, "200 on leg A", response_to=p_resume)
            check(carries(p_ok, glare_sdp("trunk", TRUNK_HOST, 30000, 4, "sendrecv")),
                  f"the trunk's answer not relayed:\n{p_ok}")
            check_nothing_of(p_ok, trunk, "the 200 to the PBX")
            pbx.request("ACK", cseq=cseq_of(p_resume)[0],
                        uri=re.search(r"<([^>]+)>", header_values(p_ok, "contact", "m")[0]).group(1))
            t_ack = trunk.expect("ACK ", "the PBX's ACK relayed")
            check_in_dialog(t_ack, trunk, "leg B ACK", request="ACK")
            check(cseq_of(t_ack)[0] == cseq_of(at_trunk)[0],
                  f"leg B ACK CSeq {cseq_of(t_ack)}, expected {cseq_of(at_trunk)}")

            # --- The PBX hangs up: BYE on both legs.
            p_bye = pbx.request("BYE")
            t_bye = trunk.expect("BYE ", "the PBX's BYE relayed")
            check_in_dialog(t_bye, trunk, "leg B BYE", request="BYE")
            trunk.respond(t_bye, 200, "OK")
            bye_ok = pbx.expect("SIP/2.0 200", "the answer to the PBX's BYE")
            check_in_dialog(bye_ok, pbx, "200 to BYE", response_to=p_bye)
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the call to end")
        text = scrape(http)
        check(count_491("out") == 2,
              f"b2bua_sip_responses_total{{out,491}} = {count_491('out')} at the end, expected 2")
        check(metric(text, "b2bua_calls_total", trunk="carrier", result="answered") == 1, "the call not answered")
        print("glare: the PBX's re-INVITE crossing the trunk's relayed one got 491 in leg A's dialog and the trunk's "
              "crossing the PBX's got 491 in leg B's; neither reached the other side, both pending re-INVITEs "
              "completed (200 and ACK relayed); b2bua_sip_responses_total{out,491} = 2")


# ------------------------------------------------------------------ the registrar for the PBX (issue 7)
REGISTERED_ROUTE = 'inbound_routes:\n  - { prefix: "", to: { registered: pbxuser } }\n'


def registrar_config(sip: int, http: int, trunk_port: int, registrar: str, algorithms: str | None = "[MD5]",
                     more_users: str = "") -> str:
    """`config_yaml` with downstream.registrar `registrar` (a YAML flow mapping), every inbound call routed to
    the bindings of pbxuser, and `more_users` (YAML lines) after pbxuser in downstream.users."""
    text = config_yaml(sip, http, trunk_port, algorithms=algorithms, extra=REGISTERED_ROUTE)
    user = "    - { username: pbxuser, password: pbxpass }\n"
    text = text.replace("  realm: pbx.local\n", f"  realm: pbx.local\n  registrar: {registrar}\n")
    return text.replace(user, user + more_users)


def registrations(http: int) -> float:
    return metric(scrape(http), "b2bua_downstream_registrations")


def bindings_of(response: str) -> list[tuple[str, int]]:
    """(Contact URI, expires) of every binding a REGISTER's 2xx lists (RFC 3261 §10.3 step 8)."""
    return [(uri, int(expires)) for value in header_values(response, "contact", "m")
            for uri, expires in re.findall(r"<([^>]+)>[^,<]*?;\s*expires=(\d+)", value)]


def challenge_form(response: str) -> list[dict[str, str]]:
    """The WWW-Authenticate offers of a 401, each as its parameters but the nonce (fresh per challenge)."""
    return [{k: v for k, v in digest_params(value).items() if k != "nonce"}
            for value in header_values(response, "www-authenticate")]


def md5_offers(response: str) -> list[str]:
    """The WWW-Authenticate values of a 401 that offer MD5 (the default algorithm, RFC 7616 §3.3)."""
    return [v for v in header_values(response, "www-authenticate")
            if digest_params(v).get("algorithm", "MD5").upper() == "MD5"]


class KeepaliveCountingUdp(harness.RawUdp):
    """A RawUdp that takes CRLF keep-alives (RFC 5626 §4.4.1, "\r\n\r\n") off the stream of SIP messages
    and records when each arrived; anything else is returned as RawUdp returns it."""

    def __init__(self, host: str = HOST, port: int = 0):
        super().__init__(host, port)
        self.keepalives: list[float] = []

    def accept(self, data: bytes) -> bool:
        if data == b"\r\n\r\n":
            self.keepalives.append(time.monotonic())
            return False
        return True
        return None


class RawRegistration:
    """A PBX's registration written by hand on one raw UDP socket: one Call-ID and From tag, CSeq + 1 per
    REGISTER (RFC 3261 §10.2). `contact` is the address the PBX believes it has (behind NAT, not the
    socket's); by default the socket's own; "*" (with Expires: 0) removes all of the account's (§10.2.2)."""

    def __init__(self, sock: harness.RawUdp, b2bua_port: int, user: str, contact: str | None = None):
        self.sock, self.dest, self.user = sock, (HOST, b2bua_port), user
        self.registrar = f"sip:{HOST}:{b2bua_port}"
        self.aor = f"sip:{user}@{HOST}:{b2bua_port}"
        self.contact = contact or f"sip:{user}@{sock.host}:{sock.port}"
        # A registration of its own: a new Call-ID, so the registrar's CSeq ordering (RFC 3261 §10.3 step 7)
        # does not take a second one on the same socket for a retransmission.
        self.tag = f"reg{sock.port}-{os.urandom(4).hex()}"
        self.call_id = f"{self.tag}-{user}@{sock.host}"
        self.cseq = 0

    def send(self, expires: int, authorization: str | None = None) -> str:
        """One REGISTER (new branch, next CSeq) and its final response, within 5 s."""
        self.cseq += 1
        self.sock.send(f"REGISTER {self.registrar} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP {self.sock.host}:{self.sock.port};branch=z9hG4bK-{self.tag}-{self.cseq}\r\n"
                       "Max-Forwards: 70\r\n"
                       f"From: <{self.aor}>;tag={self.tag}\r\n"
                       f"To: <{self.aor}>\r\n"
                       f"Call-ID: {self.call_id}\r\n"
                       f"CSeq: {self.cseq} REGISTER\r\n"
                       f"Contact: {'*' if self.contact == '*' else f'<{self.contact}>'}\r\n"
                       f"Expires: {expires}\r\n"
                       + (f"Authorization: {authorization}\r\n" if authorization else "")
                       + "Content-Length: 0\r\n\r\n", self.dest)
        final = self.sock.recv_final(5, self.call_id)
        check(final is not None, f"{self.user}: no final response to REGISTER (CSeq {self.cseq})")
        return final

    def register(self, password: str, expires: int, auth_user: str | None = None) -> tuple[str, str]:
        """REGISTER, its 401, REGISTER with the MD5 answer computed here (as `auth_user`, by default the
        account registered): (the 401, the final response)."""
        challenge = self.send(expires)
        check(start_line(challenge).startswith("SIP/2.0 401"),
              f"{self.user}: REGISTER without credentials -> {start_line(challenge)!r}, expected 401:\n{challenge}")
        offers = md5_offers(challenge)
        check(len(offers) == 1, f"{self.user}: expected one MD5 WWW-Authenticate, got {offers}")
        # An Authorization answers a WWW-Authenticate exactly as a Proxy-Authorization answers a
        # Proxy-Authenticate (RFC 3261 §22.4): the same credentials value.
        answer = md5_proxy_authorization(offers[0], "REGISTER", self.registrar, auth_user or self.user, password,
                                         f"c{self.tag}{self.cseq}")
        return challenge, self.send(expires, answer)


def sipp_register(s: Session, name: str, scenario: str, b2bua_port: int, pbx_port: int, expires: int | None = None,
                  password: str = "pbxpass") -> harness.SippResult:
    """One SIPp registration (pbx_registers.xml with -key expires, or pbx_unregisters.xml) of pbxuser from
    127.0.0.1:`pbx_port`; waits for SIPp to finish (bounded) and checks it passed."""
    args = ["-s", "pbxuser", "-au", "pbxuser", "-ap", password, "-m", "1", "-timeout", "20s", "-recv_timeout", "10000"]
    if expires is not None:
        args += ["-key", "expires", str(expires)]
    proc = s.start_sipp(name, SCENARIOS / scenario, pbx_port, args, remote=f"{HOST}:{b2bua_port}")
    rc = s.wait_sipp(proc, 30)
    result = s.sipp_result(proc)
    check(rc == 0 and result.successful == 1,
          f"{name} ({scenario}): rc {rc}, {result.successful} successful\n{result.errors[-3000:]}")
    return result


def check_registered_by_sipp(reg: harness.SippResult, pbx_port: int, expires: int):
    """SIPp's exchange: challenged once with 401 (realm pbx.local), then one binding, ours, granted `expires`."""
    by_cseq: dict[tuple[int, str], str] = {}
    for d, m in reg.messages:  # one per CSeq: a retransmitted answer counts once
        if d == "received" and not start_line(m).startswith("SIP/2.0 1"):
            by_cseq.setdefault(cseq_of(m), m)
    finals = list(by_cseq.values())
    check([start_line(m).split()[1] for m in finals] == ["401", "200"],
          f"REGISTER answers {[start_line(m) for m in finals]}, expected 401 then 200")
    offer = challenge_form(finals[0])
    check(offer and all(p.get("realm") == "pbx.local" for p in offer), f"the 401 offers {offer}")
    authorized = [m for m in sent(reg, "REGISTER") if header_values(m, "authorization")]
    check(len(authorized) == 1, f"{len(authorized)} REGISTERs with Authorization, expected 1")
    contact = f"sip:pbxuser@{HOST}:{pbx_port}"
    bound = bindings_of(finals[1])
    # The time left, as the registrar counts it when it answers: the interval asked, or a second less.
    check(len(bound) == 1 and bound[0][0] == contact and expires - 1 <= bound[0][1] <= expires,
          f"the 200 lists {bound}, expected [({contact!r}, {expires})]:\n{finals[1]}")


def sipp_received_at(s: Session, name: str, prefix: str) -> float:
    """When (time.time()) SIPp `name` logged receiving its first message starting with `prefix`."""
    log = (s.workdir / f"{name}_msg.log").read_text(errors="replace")
    m = re.search(r"-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\r?\n\S+ message received[^\n]*\n\s*"
                  + re.escape(prefix), log)
    check(m is not None, f"{name} logged no received {prefix!r}")
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()


def trunk_call_not_registered(sip: int) -> str:
    """An INVITE from the trunk (127.0.0.2) while pbxuser has no binding: its final response's start line."""
    with harness.RawUdp(TRUNK_HOST) as sock:
        uac = RawUac(sock, sip, "trunk")
        _, final = uac.invite(uac.new_call())
    return start_line(final)


def case_registrar_sipp(binary: Path):
    """The registrar for the PBX (RFC 3261 §10.3): a SIPp PBX on 127.0.0.1 registers with digest (401 first;
    an unknown user gets the same challenge, then 403 like a wrong password and like another account's
    credentials); a call from the trunk
    (127.0.0.2) goes to the registered Contact and is answered; Expires: 0 removes the binding and the
    next call gets 480 (result="not_registered")."""
    sip, http, trunk_port, pbx_port = ports()
    registrar = "{ min_expires: 60, max_expires: 3600, default_expires: 600, keepalive_s: 30 }"
    with Session(binary) as s:
        s.start_b2bua(registrar_config(sip, http, trunk_port, registrar,
                                       more_users="    - { username: pbx2, password: pbx2pass }\n"), sip, http)
        check(registrations(http) == 0, "bindings before any REGISTER")
        # 1. No user enumeration: an unknown user's REGISTER gets the challenge a known user gets.
        with harness.RawUdp(HOST) as sock:
            known = RawRegistration(sock, sip, "pbxuser").send(600)
            unknown_reg = RawRegistration(sock, sip, "nosuchuser")
            unknown = unknown_reg.send(600)
            for who, answer in (("pbxuser", known), ("nosuchuser", unknown)):
                check(start_line(answer) == "SIP/2.0 401 Unauthorized",
                      f"REGISTER for {who} without credentials -> {start_line(answer)!r}:\n{answer}")
            check(challenge_form(known) and challenge_form(unknown) == challenge_form(known),
                  f"unknown user's challenge {challenge_form(unknown)} differs from a known user's "
                  f"{challenge_form(known)}")
            offer = md5_offers(unknown)[0]
            answered = unknown_reg.send(600, md5_proxy_authorization(offer, "REGISTER", unknown_reg.registrar,
                                                                     "nosuchuser", "pbxpass", "c0ffee01"))
            check(start_line(answered).startswith("SIP/2.0 403"), f"unknown user's answer -> {start_line(answered)!r}")
            _, wrong = RawRegistration(sock, sip, "pbxuser").register("not-the-password", 600)
            check(start_line(wrong).startswith("SIP/2.0 403"), f"wrong password -> {start_line(wrong)!r}")
            # One account's credentials do not register another's address (its calls would follow).
            _, hijack = RawRegistration(sock, sip, "pbxuser").register("pbx2pass", 600, auth_user="pbx2")
            check(start_line(hijack).startswith("SIP/2.0 403"),
                  f"pbxuser's address registered with pbx2's credentials -> {start_line(hijack)!r}")
        check(registrations(http) == 0, "a binding made by a refused REGISTER")
        text = scrape(http)
        for reason in ("unknown_user", "wrong_password"):
            n = metric(text, "b2bua_auth_failures_total", direction="downstream", peer="pbx.local", reason=reason)
            check(n == 1, f"b2bua_auth_failures_total{{reason={reason}}} = {n} after one such REGISTER, expected 1")

        # 2. SIPp registers: 401, then 200 listing its Contact with the interval asked.
        check_registered_by_sipp(sipp_register(s, "register", "pbx_registers.xml", sip, pbx_port, 600), pbx_port, 600)
        check(registrations(http) == 1, f"b2bua_downstream_registrations = {registrations(http)}, expected 1")

        # 3. A call from the trunk reaches the binding (Request-URI = the Contact), answered, ended by BYE.
        pbx = s.start_sipp_server("pbx", SCENARIOS / "pbx_answers_registered_call.xml", pbx_port,
                                  ["-s", "pbxuser", "-m", "1", "-timeout", "30s"])
        trunk = s.start_sipp("trunk", SHARED_SCENARIOS / "uac_plain.xml", free_port(host=TRUNK_HOST),
                             ["-s", "+4930111", "-m", "1", "-d", "300", "-timeout", "30s", "-recv_timeout", "10000"],
                             remote=f"{HOST}:{sip}", local_ip=TRUNK_HOST)
        trunk_rc, pbx_rc = s.wait_sipp(trunk, 40), s.wait_sipp(pbx, 40)
        trunk_r, pbx_r = s.sipp_result(trunk), s.sipp_result(pbx)
        check(trunk_rc == 0 and trunk_r.successful == 1,
              f"trunk: rc {trunk_rc}, {trunk_r.successful} successful\n{trunk_r.errors[-3000:]}")
        check(pbx_rc == 0 and pbx_r.successful == 1,
              f"PBX: rc {pbx_rc}, {pbx_r.successful} successful\n{pbx_r.errors[-3000:]}")
        invites = received(pbx_r, "INVITE ")
        check(len(invites) == 1 and start_line(invites[0]).split()[1] == f"sip:pbxuser@{HOST}:{pbx_port}",
              f"INVITEs at the PBX: {[start_line(m) for m in invites]}, expected one to sip:pbxuser@{HOST}:{pbx_port}")
        check(received(pbx_r, "BYE "), "the trunk's BYE did not reach the PBX")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the call to end")
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", direction="inbound", trunk="carrier", result="answered") == 1,
              "the inbound call not counted answered")

        # 4. Expires: 0 removes the binding; the next call finds none: 480, counted not_registered.
        sipp_register(s, "unregister", "pbx_unregisters.xml", sip, pbx_port)
        check(registrations(http) == 0, f"b2bua_downstream_registrations = {registrations(http)} after Expires: 0")
        status = trunk_call_not_registered(sip)
        check(status.startswith("SIP/2.0 480"), f"a call with no binding -> {status!r}, expected 480")
        text = scrape(http)
        refused = metric(text, "b2bua_calls_total", direction="inbound", result="not_registered")
        check(refused == 1, f"b2bua_calls_total{{direction=inbound,result=not_registered}} = {refused}, expected 1")
        check(metric(text, "b2bua_calls_total", direction="inbound", trunk="carrier", result="answered") == 1,
              "answered calls changed")
    print("registrar_sipp: unknown user challenged like pbxuser then 403, wrong password and pbx2's credentials 403; "
          "SIPp registered "
          f"(401, 200 with <sip:pbxuser@{HOST}:{pbx_port}>;expires=600), gauge 1; the trunk's call reached that "
          "Contact and was answered; Expires: 0 -> gauge 0, next call 480 (not_registered = 1)")


def case_registrar_binding_expires(binary: Path):
    """A binding not refreshed expires (min_expires 2): 423 with Min-Expires below it, then Expires: 3 granted;
    the gauge drops to 0 after about 3 s and a call from the trunk gets 480; above max_expires (1800) the
    registrar grants 1800."""
    sip, http, trunk_port, pbx_port = ports()
    registrar = "{ min_expires: 2, max_expires: 1800, default_expires: 600, keepalive_s: 0 }"
    with Session(binary) as s:
        s.start_b2bua(registrar_config(sip, http, trunk_port, registrar), sip, http)
        # 1. Under the minimum: 423 Interval Too Brief naming it (RFC 3261 §10.3 step 7), nothing bound.
        with harness.RawUdp(HOST) as sock:
            _, brief = RawRegistration(sock, sip, "pbxuser").register("pbxpass", 1)
        check(start_line(brief).startswith("SIP/2.0 423"), f"Expires: 1 -> {start_line(brief)!r}, expected 423")
        check(header_values(brief, "min-expires") == ["2"], f"Min-Expires {header_values(brief, 'min-expires')}")
        check(registrations(http) == 0, "a binding made by a 423")
        # 2. Expires: 3, granted as asked; gone once it has run out.
        check_registered_by_sipp(sipp_register(s, "register", "pbx_registers.xml", sip, pbx_port, 3), pbx_port, 3)
        check(registrations(http) == 1, "no binding after the 200")
        harness.wait_until(lambda: registrations(http) == 0, 10, "the binding to expire")
        # From the 200 as SIPp logged it (the binding was made before it) to seeing the gauge at 0.
        lasted = time.time() - sipp_received_at(s, "register", "SIP/2.0 200")
        check(lasted >= 2.5, f"the binding went {lasted:.1f}s after its 200, before its 3 s")
        status = trunk_call_not_registered(sip)
        check(status.startswith("SIP/2.0 480"), f"a call after the expiry -> {status!r}, expected 480")
        refused = metric(scrape(http), "b2bua_calls_total", direction="inbound", result="not_registered")
        check(refused == 1, f"b2bua_calls_total{{direction=inbound,result=not_registered}} = {refused}, expected 1")
        # 3. Above the maximum: granted max_expires (§10.3 step 7 lets the registrar shorten it).
        with harness.RawUdp(HOST) as sock:
            long_reg = RawRegistration(sock, sip, "pbxuser")
            _, ok = long_reg.register("pbxpass", 7200)
        check(start_line(ok).startswith("SIP/2.0 200") and bindings_of(ok) == [(long_reg.contact, 1800)],
              f"Expires: 7200 with max_expires 1800 -> {start_line(ok)!r} listing {bindings_of(ok)}")
    print(f"registrar_binding_expires: Expires 1 -> 423 Min-Expires 2; Expires 3 granted, binding gone "
          f"{lasted:.1f}s after its 200; the next call got 480 (not_registered = 1); Expires 7200 granted 1800")


def case_registrar_nat_keepalive(binary: Path):
    """A PBX behind NAT (RFC 3581 style): registered from 127.0.0.1 with Contact sip:pbxuser@127.0.0.99:5999,
    which nothing listens on. Its socket gets a CRLF keep-alive every keepalive_s (1 s) and the call from the
    trunk, Request-URI the registered Contact, and the whole dialog (ACK, BYE) comes there too; a PBX
    whose Contact is its source (pbx2) gets no keep-alive. Contact: * then removes pbxuser's binding only."""
    sip, http, trunk_port, _ = ports()
    private = "sip:pbxuser@127.0.0.99:5999"
    registrar = "{ min_expires: 60, max_expires: 3600, default_expires: 600, keepalive_s: 1 }"
    pbx2 = "    - { username: pbx2, password: pbx2pass }\n"
    with Session(binary) as s:
        s.start_b2bua(registrar_config(sip, http, trunk_port, registrar, more_users=pbx2), sip, http)
        with KeepaliveCountingUdp(HOST) as pbx_sock, KeepaliveCountingUdp(HOST) as direct_sock, \
                harness.RawUdp(TRUNK_HOST) as trunk_sock:
            _, ok = RawRegistration(pbx_sock, sip, "pbxuser", private).register("pbxpass", 600)
            check(start_line(ok).startswith("SIP/2.0 200"), f"REGISTER from behind NAT -> {start_line(ok)!r}")
            check([uri for uri, _ in bindings_of(ok)] == [private],
                  f"the 200 lists {bindings_of(ok)}, expected {private} alone")
            direct = RawRegistration(direct_sock, sip, "pbx2")
            _, ok2 = direct.register("pbx2pass", 600)
            check([uri for uri, _ in bindings_of(ok2)] == [direct.contact], f"pbx2's 200 lists {bindings_of(ok2)}")
            check(registrations(http) == 2, f"b2bua_downstream_registrations = {registrations(http)}, expected 2")

            # 1. Keep-alives, to the source only, for the binding behind NAT only.
            stray = pbx_sock.recv(3.5)
            check(stray is None, f"the PBX got a SIP message instead of keep-alives:\n{stray}")
            check(direct_sock.recv(0.1) is None, "pbx2 got a SIP message")
            got = len(pbx_sock.keepalives)
            check(2 <= got <= 6, f"{got} CRLF keep-alives in 3.5 s with keepalive_s 1, expected 2 to 6")
            check(not direct_sock.keepalives, f"{len(direct_sock.keepalives)} keep-alives to pbx2, whose Contact "
                  "is its source")

            # 2. The call from the trunk goes to the source, with the Contact as Request-URI.
            uac = RawUac(trunk_sock, sip, "trunk")
            invite = uac.invite_request(uac.new_call())
            trunk_sock.send(invite, (HOST, sip))
            pbx, trunk = RawDialog(pbx_sock, sip, "pbx"), RawDialog(trunk_sock, sip, "trunk")
            pbx.contact = f"<{private}>"  # what a PBX behind NAT puts in its answers too
            leg_a = pbx.expect("INVITE ", "the trunk's call at the PBX's source address", timeout=10)
            check(start_line(leg_a).split()[1] == private,
                  f"Request-URI {start_line(leg_a).split()[1]}, expected the registered Contact {private}")
            pbx.established_as_uas(leg_a, f"pbx-{os.getpid()}", 1)
            tag = harness.tag_of(pbx.local)
            pbx.respond(leg_a, 180, "Ringing", to_tag=tag)
            pbx.respond(leg_a, 200, "OK", glare_sdp("pbx", HOST, 40000, 1, "sendrecv"), to_tag=tag)
            trunk.expect("SIP/2.0 180", "the PBX's 180 relayed")
            answered = trunk.expect("SIP/2.0 200", "the PBX's 200 relayed")
            trunk.established_as_uac(invite, answered)
            trunk.request("ACK", cseq=trunk.cseq)
            # 3. In the dialog too, requests to the PBX go to its source, not to its Contact.
            check_in_dialog(pbx.expect("ACK ", "the ACK of the PBX's 200, at its source"), pbx, "leg A ACK",
                            request="ACK")
            trunk.request("BYE")
            bye = pbx.expect("BYE ", "the trunk's BYE, at the PBX's source")
            check_in_dialog(bye, pbx, "leg A BYE", request="BYE")
            pbx.respond(bye, 200, "OK")
            trunk.expect("SIP/2.0 200", "the answer to the trunk's BYE")
            check(direct_sock.recv(0.1) is None, "pbx2 got part of pbxuser's call")

            # 4. Contact: * with Expires: 0 removes pbxuser's bindings, not pbx2's (RFC 3261 §10.2.2).
            _, removed = RawRegistration(pbx_sock, sip, "pbxuser", "*").register("pbxpass", 0)
            check(start_line(removed).startswith("SIP/2.0 200") and not bindings_of(removed),
                  f"Contact: * -> {start_line(removed)!r} listing {bindings_of(removed)}, expected 200 with none")
            check(registrations(http) == 1, f"b2bua_downstream_registrations = {registrations(http)} after "
                  "Contact: *, expected 1 (pbx2's)")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the call to end")
        check(metric(scrape(http), "b2bua_calls_total", direction="inbound", trunk="carrier", result="answered") == 1,
              "the call not counted answered")
    print(f"registrar_nat_keepalive: Contact {private} registered from {HOST}:{pbx_sock.port}: {got} keep-alives in "
          f"3.5 s (none to pbx2), INVITE to {private} at the source, ACK and BYE there too; Contact: * removed "
          "pbxuser's binding only")


def case_registrar_baresip(binary: Path):
    """baresip 1.0.0 as the PBX registers with digest (regint 60) and auto-answers a call from the trunk
    (SIPp UAC on 127.0.0.2) delivered to its binding; the trunk hangs up; stopped, baresip unregisters."""
    exe = shutil.which("baresip")
    check(exe is not None, "baresip is not installed (deploy/install-deps.sh installs it)")
    sip, http, trunk_port, _ = ports()
    phone_port, rtp = free_port(), free_port()
    registrar = "{ min_expires: 60, max_expires: 3600, default_expires: 600, keepalive_s: 30 }"
    with Session(binary) as s:
        # No `algorithms`: the default offer, which baresip has to answer.
        b2bua = s.start_b2bua(registrar_config(sip, http, trunk_port, registrar, algorithms=None), sip, http)
        home = s.workdir / "baresip"
        home.mkdir()
        with harness.RawUdp(HOST, free_port()) as dns:
            (home / "config").write_text(baresip_config(phone_port, dns.port, f"{rtp}-{rtp + 1}"))
            (home / "accounts").write_text(f"<sip:pbxuser@{HOST}:{sip}>;auth_pass=pbxpass;regint=60;"
                                           "answermode=auto\n")
            phone = s.start_process("baresip", [exe, "-f", str(home), "-s", "-t", "60"], cwd=home)

            def registered() -> bool:
                check(phone.alive(), f"baresip exited early ({phone.popen.returncode}):\n{phone.log()[-4000:]}")
                return registrations(http) == 1

            harness.wait_until(registered, 15, "baresip to register")
            trunk = s.start_sipp("trunk", SHARED_SCENARIOS / "uac_plain.xml", free_port(host=TRUNK_HOST),
                                 ["-s", "+4930111", "-m", "1", "-d", "1000", "-timeout", "30s",
                                  "-recv_timeout", "10000"], remote=f"{HOST}:{sip}", local_ip=TRUNK_HOST)
            trunk_rc = s.wait_sipp(trunk, 40)
            trunk_r = s.sipp_result(trunk)
            harness.wait_until(lambda: "session closed" in phone.log(), 10, "baresip to end the call")
            check(dns.recv(0.2) is None, "baresip sent a DNS query")
        check(s.stop(phone) is not None and not phone.alive(), "baresip did not stop")
        out = phone.log()
        # On SIGTERM baresip removes its binding (Contact ...;expires=0) before it exits.
        check(re.search(r";expires=0\b", out) is not None, f"baresip sent no REGISTER with expires=0:\n{out[-3000:]}")
        harness.wait_until(lambda: registrations(http) == 0, 5, "baresip's binding to be removed")

        # baresip's own SIP trace (-s): REGISTER challenged with 401, answered, 200 with its binding.
        register = re.search(r"\nREGISTER (\S+) SIP/2.0.*?\r?\n\r?\n", out, re.S)
        check(register is not None, f"baresip sent no REGISTER:\n{out[-4000:]}")
        contacts = header_values(register.group(0), "contact", "m")
        check(len(contacts) == 1, f"baresip's REGISTER Contact {contacts}")
        contact = re.search(r"<([^>]+)>", contacts[0]).group(1)
        challenge = re.search(r"SIP/2.0 401 .*?\r?\n\r?\n", out, re.S)
        check(challenge is not None and header_values(challenge.group(0), "www-authenticate"),
              f"baresip's REGISTER was not challenged with 401 WWW-Authenticate:\n{out[-4000:]}")
        check("Authorization: Digest username=\"pbxuser\"" in out, "baresip did not answer the challenge")
        ok = [m for m in re.findall(r"SIP/2.0 200 .*?\r?\n\r?\n", out, re.S) if "REGISTER" in " ".join(
            header_values(m, "cseq"))]
        check(ok and any(uri == contact for uri, _ in bindings_of(ok[0])),
              f"the REGISTER's 200 does not list baresip's Contact {contact}:\n{ok[:1]}")
        invite = re.search(r"\nINVITE (\S+) SIP/2.0", out)
        check(invite is not None and invite.group(1) == contact,
              f"baresip's INVITE has Request-URI {invite.group(1) if invite else None}, expected its Contact {contact}")
        check("Call established" in out, f"baresip did not answer the call:\n{out[-4000:]}")
        check(re.search(r"\nBYE sip:\S+ SIP/2.0", out) is not None, "the trunk's BYE did not reach baresip")

        check(trunk_rc == 0 and trunk_r.successful == 1,
              f"trunk: rc {trunk_rc}, {trunk_r.successful} successful\n{trunk_r.errors[-3000:]}")
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", direction="inbound", trunk="carrier", result="answered") == 1,
              "the inbound call not counted answered")
        failures = metric(text, "b2bua_auth_failures_total", direction="downstream")
        check(failures == 0, f"downstream auth failures with baresip: {failures}\n{b2bua.log()[-3000:]}")
    print(f"registrar_baresip: baresip registered {contact} (401, digest, 200), auto-answered the trunk's call "
          "delivered there, ended by the trunk's BYE; its expires=0 on exit removed the binding")


# ------------------------------------------------------------------ registration to a trunk (Kamailio registrar)
REGISTRAR_CFG = harness.ROOT / "tests" / "e2e" / "kamailio" / "registrar.cfg"
# The account registrar.cfg knows (TRUNK_USER / TRUNK_PASS there).
REG_USER, REG_PASS = "trunkuser", "trunkpass"


def start_registrar(s: Session, name: str, host: str, port: int, defines: list[str], uas_port: int = 0,
                    switch_port: int = 0) -> harness.Process:
    """Kamailio (tests/e2e/kamailio/registrar.cfg) as a registering provider on udp:`host`:`port`,
    in the foreground (-DD), logging to stderr (-E), with `defines` (-A each: "REFUSE_403",
    "NONCE_EXPIRE=5", ...); customer calls go on to `host`:`uas_port`, calls from
    `host`:`switch_port` go to the registered Contact. Ready once it answers an OPTIONS."""
    exe = shutil.which("kamailio")
    check(exe is not None, "kamailio is not installed (deploy/install-deps.sh installs it)")
    run = s.workdir / name
    run.mkdir()
    args = [exe, "-f", str(REGISTRAR_CFG), "-DD", "-E", "-m", "32", "-M", "8", "-Y", str(run), "-w", str(run),
            "-A", f"LISTEN_SOCKET=udp:{host}:{port}"]
    if uas_port:
        args += ["-A", f'UAS_HOSTPORT="{host}:{uas_port}"']
    if switch_port:
        args += ["-A", f'SWITCH_HOSTPORT="{host}:{switch_port}"']
    for d in defines:
        args += ["-A", d]
    proc = s.start_process(name, args, cwd=run)
    wait_for_kamailio(proc, name, host, port, HOST)
    return proc


_REGISTRAR_LINE = re.compile(r"PROVIDER-(RX|TX|REPLY|CHALLENGE|AUTHOK|REFUSED|INBOUND) (.*)$", re.M)


def registrar_log(text: str) -> dict:
    """registrar.cfg's PROVIDER-* lines: requests received (t, source, text), replies it sent
    (t, text), replies received, challenges (rc -4: stale), acceptances, refusals, calls looked up."""
    out = {k: [] for k in ("rx", "tx", "reply", "challenge", "authok", "refused", "inbound")}
    for kind, rest in _REGISTRAR_LINE.findall(text):
        fields = dict(re.findall(r"(\w+)=(\S*)", rest))
        if kind == "RX":
            out["rx"].append((float(fields["t"]), fields["src"],
                              base64.b64decode(fields["b64"]).decode(errors="replace")))
        elif kind in ("TX", "REPLY"):
            out[kind.lower()].append((float(fields["t"]), base64.b64decode(fields["b64"]).decode(errors="replace")))
        else:
            out[kind.lower()].append(fields)
    # Kamailio's children write their lines as they go: a line of one may overtake an earlier one
    # of another. The times order them, but a reply's line is written after it was sent, so a child
    # held up there may stamp its reply after the next request's: causal order is a request's line
    # before its reply, not one reply before the next request's reply (see register_replies).
    out["rx"].sort(key=lambda e: e[0])
    out["tx"].sort(key=lambda e: e[0])
    out["reply"].sort(key=lambda e: e[0])
    return out


def registers_from(log: dict, src: str) -> list[tuple[float, str]]:
    """The REGISTERs Kamailio received from `src`, (first arrival, text), one per transaction:
    a retransmission (same CSeq and branch) is left out."""
    seen, out = set(), []
    for t, s_, m in log["rx"]:
        if s_ != src or not start_line(m).startswith("REGISTER "):
            continue
        key = (cseq_of(m), top_branch(m))
        if key not in seen:
            seen.add(key)
            out.append((t, m))
    return out


def register_retransmissions(log: dict, src: str, cseq: int) -> int:
    return sum(1 for _, s_, m in log["rx"] if s_ == src and start_line(m).startswith("REGISTER ")
               and cseq_of(m)[0] == cseq)


def register_replies(log: dict, call_id: str) -> list[tuple[float, int, int, str]]:
    """Replies Kamailio sent to REGISTERs of `call_id`: (t, CSeq number, status, text), first of each
    (CSeq, status), in CSeq order (their times may be out of order by the time a line takes)."""
    seen, out = set(), []
    for t, m in log["tx"]:
        cseq = cseq_of(m)
        if cseq[1] != "REGISTER" or call_id_of(m) != call_id:
            continue
        status = int(start_line(m).split()[1])
        if (cseq[0], status) not in seen:
            seen.add((cseq[0], status))
            out.append((t, cseq[0], status, m))
    return sorted(out, key=lambda e: e[1])


def contact_expires(msg: str) -> list[int]:
    """The expires parameter of each Contact of a REGISTER's 200 (the bindings it lists)."""
    out = []
    for value in header_values(msg, "contact", "m"):
        for item in value.split(","):
            m = re.search(r";\s*expires=(\d+)", item)
            if m:
                out.append(int(m.group(1)))
    return out


def register_expires(msg: str) -> int | None:
    """What a REGISTER asks: the Contact's expires parameter, else its Expires header."""
    for value in header_values(msg, "contact", "m"):
        m = re.search(r";\s*expires=(\d+)", value)
        if m:
            return int(m.group(1))
    values = header_values(msg, "expires")
    return int(values[0]) if values else None


def contact_token(trunk: str, username: str, password: str) -> str:
    """The Contact user SPEC.md promises for a trunk: 32 hex digits of HMAC-SHA256 keyed by
    username:password over the trunk's name (computed here, not by the product)."""
    import hmac  # only here: the one HMAC of the e2e tests
    return hmac.new(f"{username}:{password}".encode(), trunk.encode(), hashlib.sha256).hexdigest()[:32]


def registration_metric(http: int, name: str, trunk: str, **labels: str) -> float:
    return metric(scrape(http), f"b2bua_upstream_registration_{name}", trunk=trunk, **labels)


def registration_state(http: int, trunk: str) -> str | None:
    return registration_state_in(scrape(http), trunk)


def registration_state_in(text: str, trunk: str) -> str | None:
    """The state whose b2bua_upstream_registration_state series is 1 (None when none or several)."""
    on = [st for st in ("unregistered", "registering", "registered", "failing")
          if metric(text, "b2bua_upstream_registration_state", trunk=trunk, state=st) == 1]
    return on[0] if len(on) == 1 else None


def registration_config(sip: int, http: int, trunks: list[str], route_trunk: str, extra: str = "") -> str:
    return harness.trunks_config_yaml(sip, http, trunks, [f'{{ prefix: "", trunk: {route_trunk} }}'], extra)


def registered_trunk(name: str, host: str, port: int, expires: int, extra: str = "") -> str:
    return (f'{{ name: {name}, uri: "sip:{host}:{port}", username: {REG_USER}, password: {REG_PASS}, '
            f"register: true, register_expires: {expires}" + (f", {extra}" if extra else "") + " }")


def check_one_registration(regs: list[tuple[float, str]], what: str):
    """Every REGISTER of one registration: one Call-ID and From tag, CSeq rising by transaction
    (RFC 3261 §10.2.4), To and From the account's AOR."""
    check(regs, f"{what}: no REGISTER")
    call_ids = {call_id_of(m) for _, m in regs}
    tags = {harness.tag_of(header_values(m, "from", "f")[0]) for _, m in regs}
    check(len(call_ids) == 1 and len(tags) == 1 and None not in tags,
          f"{what}: REGISTERs with Call-IDs {call_ids} and From tags {tags}, expected one of each")
    cseqs = [cseq_of(m)[0] for _, m in regs]
    check(all(a < b for a, b in zip(cseqs, cseqs[1:])), f"{what}: REGISTER CSeqs {cseqs} do not rise")
    for _, m in regs:
        for h in ("to", "from"):
            check(f"sip:{REG_USER}@" in uri_of(header_values(m, h)[0]),
                  f"{what}: {h} of a REGISTER is not the AOR:\n{m}")


def bindings_granted(log: dict, src: str) -> int:
    """How many REGISTERs from `src` Kamailio answered 200 listing a binding."""
    regs = registers_from(log, src)
    return len([m for _, _, st, m in register_replies(log, call_id_of(regs[0][1])) if st == 200 and contact_expires(m)]
               ) if regs else 0


def removal_answered(log: dict, src: str) -> bool:
    """Kamailio answered 200, listing no binding, a REGISTER with Expires: 0 from `src` (or a later one)."""
    regs = registers_from(log, src)
    removal = [cseq_of(m)[0] for _, m in regs if register_expires(m) == 0]
    return bool(removal) and any(st == 200 and cseq >= removal[0] and not contact_expires(m)
                                 for _, cseq, st, m in register_replies(log, call_id_of(regs[0][1])))


def registration_run(binary: Path, algorithm: str) -> str:
    """The b2bua registers trunk carrier with Kamailio (registrar.cfg, digest `algorithm`, nonces good
    for 5 s, a binding granted at most 20 s though 60 s are asked), refreshes it, and, with MD5, makes
    a call each way and removes the binding on SIGTERM. Returns a summary."""
    full = algorithm == "MD5"
    sip, http, _, pbx_port = ports()
    kam_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    switch_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    check(len({kam_port, uas_port, switch_port}) == 3, "port clash on 127.0.0.2; rerun")
    granted = 20
    defines = [f'ALGORITHM="{algorithm}"', "NONCE_EXPIRE=5", f"MAX_EXPIRES={granted}"]
    if full:
        defines.append("REQUIRE_REGISTERED")
    src = f"{HOST}:{sip}"
    with Session(binary) as s:
        kam = start_registrar(s, "kamailio", PROVIDER_HOST, kam_port, defines, uas_port, switch_port)
        if full:
            # The provider's gate works: good credentials of an account with no binding get 403.
            with harness.RawUdp(HOST) as probe:
                uac = RawUac(probe, kam_port, "unregistered")
                uac.dest, uac.uri = (PROVIDER_HOST, kam_port), f"sip:4930111@{PROVIDER_HOST}:{kam_port}"
                call = uac.new_call()
                probe_call_id = call["call_id"]
                _, challenge = uac.invite(call)
                check(start_line(challenge).startswith("SIP/2.0 401"), f"Kamailio's answer to an INVITE: {challenge}")
                auth = md5_proxy_authorization(header_values(challenge, "www-authenticate")[0], "INVITE", uac.uri,
                                               REG_USER, REG_PASS, "0a4f113b")
                request = uac.invite_request(call).replace("Content-Type:", f"Authorization: {auth}\r\nContent-Type:")
                probe.send(request, uac.dest)
                final = probe.recv_final(5, call["call_id"])
                check(final is not None and start_line(final) == "SIP/2.0 403 Not Registered",
                      f"Kamailio (REQUIRE_REGISTERED) let an unregistered account's INVITE through: {final!r}")
            uas = s.start_sipp_server("uas", SHARED_SCENARIOS / "uas_plain.xml", uas_port, local_ip=PROVIDER_HOST)
            pbx = s.start_sipp_server("pbx", SHARED_SCENARIOS / "uas_plain.xml", pbx_port, local_ip=HOST)
        trunk = registered_trunk("carrier", PROVIDER_HOST, kam_port, 60, "reuse_nonce: true, identify_by: none")
        extra = f'inbound_routes:\n  - {{ prefix: "", to: "sip:{HOST}:{pbx_port}" }}\n'
        b2bua = s.start_b2bua(registration_config(sip, http, [trunk], "carrier", extra), sip, http)
        harness.wait_until(lambda: registration_state(http, "carrier") == "registered", 10,
                           "carrier to be registered")
        check(re.search(r"trunk=carrier\b.*state=registered", b2bua.log()),
              f"no state-change line for carrier -> registered:\n{b2bua.log()[-3000:]}")
        # A refresh: the second 200 (50-80 % of 20 s after the first), with its stale challenge first.
        harness.wait_until(lambda: registration_metric(http, "attempts_total", "carrier", outcome="registered") >= 2,
                           granted + 5, "a refresh of the registration")
        text = scrape(http)
        # Kamailio writes a reply's line after sending it: wait for the two 200s in its log.
        harness.wait_until(lambda: bindings_granted(registrar_log(kam.log()), src) >= 2, 5,
                           "Kamailio's two 200s in its log")
        check(registration_state(http, "carrier") == "registered", "carrier not registered after its refresh")
        check(0 < metric(text, "b2bua_upstream_registration_expires_seconds", trunk="carrier") <= granted,
              "expires_seconds not within the 20 s granted")
        next_s = metric(text, "b2bua_upstream_registration_next_attempt_seconds", trunk="carrier")
        check(0 < next_s <= 0.8 * granted, f"next_attempt_seconds {next_s} after a refresh granted {granted} s")
        for outcome in ("auth_failed", "forbidden", "timeout", "transport_error", "interval_too_brief", "error"):
            check(metric(text, "b2bua_upstream_registration_attempts_total", trunk="carrier", outcome=outcome) == 0,
                  f"attempts_total{{outcome={outcome}}} is not 0")
        check(metric(text, "b2bua_auth_failures_total", direction="upstream") == 0, "an upstream auth failure")

        if full:
            # (a) A call from the PBX: the provider takes it only from a registered account.
            pbx_calls = sipp_calls(s, "pbxuac", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, free_port(), 1, 1,
                                   PBX_AUTH, timeout=15)
            check(pbx_calls.successful == 1, f"the PBX's call through the registered trunk failed:\n"
                  f"{pbx_calls.errors[-2000:]}\nkamailio:\n{kam.log()[-3000:]}")
            # (b) A call from the provider's switch for a DID: to our registered Contact, then the PBX.
            switch = s.start_sipp("switch", SHARED_SCENARIOS / "uac_plain.xml", switch_port,
                                  ["-s", "4930555", "-m", "1", "-d", "200", "-timeout", "15s"],
                                  remote=f"{PROVIDER_HOST}:{kam_port}", local_ip=PROVIDER_HOST)
            s.wait_sipp(switch, 25)
            switch_r = s.sipp_result(switch)
            check(switch_r.successful == 1, f"the switch's call to the DID failed:\n{switch_r.errors[-2000:]}\n"
                  f"b2bua:\n{b2bua.log()[-3000:]}")
            harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the calls to end")
            pbx_r = stop_trunk(s, pbx)
            uas_r = stop_trunk(s, uas)
            check(uas_r.successful == 1, f"the provider's switch UAS: {uas_r.successful} calls")
            inbound = received(pbx_r, "INVITE ")
            check(len(inbound) == 1 and "4930555" in start_line(inbound[0]),
                  f"the PBX got {[start_line(m) for m in inbound]}, expected one INVITE for 4930555")
            text = scrape(http)
            check(metric(text, "b2bua_calls_total", direction="inbound", trunk="carrier", result="answered") == 1,
                  "the inbound call is not counted answered for trunk carrier")
            # (c) SIGTERM: our binding is removed (Expires: 0, answered) before the b2bua exits.
            os.kill(b2bua.pid, signal.SIGTERM)
            rc = exits_within(b2bua, 20)
            exited = time.time()
            check(rc == 0, f"b2bua exited with {rc} on SIGTERM")
            # Kamailio writes a reply's line after sending it: the b2bua may be gone before it is there.
            harness.wait_until(lambda: removal_answered(registrar_log(kam.log()), src), 5,
                               f"Kamailio's 200 to an Expires: 0 REGISTER in its log:\n{b2bua.log()[-2500:]}")
        kam_text = kam.log()

    log = registrar_log(kam_text)
    regs = registers_from(log, src)
    check_one_registration(regs, "carrier")
    call_id = call_id_of(regs[0][1])
    token = contact_token("carrier", REG_USER, REG_PASS)
    for _, m in regs:
        contacts = [uri_of(c).split(";")[0].lower() for c in header_values(m, "contact", "m")]
        check(contacts == [f"sip:{token}@{HOST}:{sip}"],
              f"Contact of a REGISTER {contacts}, expected sip:{token}@{HOST}:{sip} (SPEC.md's token)")
    asked = {register_expires(m) for _, m in regs} - {0}
    check(asked == {60}, f"the REGISTERs asked {asked} s, expected 60 (register_expires) every time")
    replies = register_replies(log, call_id)
    oks = [(t, cseq, m) for t, cseq, st, m in replies if st == 200 and contact_expires(m)]
    check(len(oks) >= 2, f"{len(oks)} 200s with a binding, expected the registration and a refresh")
    check(all(e <= granted for _, _, m in oks for e in contact_expires(m)), "Kamailio granted more than MAX_EXPIRES")
    # The refresh: its first REGISTER between 50 % and 80 % of the granted 20 s after the first 200,
    # measured from the REGISTER that got it (its line is written before the 200 is sent).
    _, cseq_ok, _ = oks[0]
    t_ok = [t for t, m in regs if cseq_of(m)[0] == cseq_ok][0]
    refresh = [(t, m) for t, m in regs if cseq_of(m)[0] > cseq_ok]
    delay = refresh[0][0] - t_ok
    check(0.5 * granted - 0.3 <= delay <= 0.8 * granted + 0.5,
          f"refresh sent {delay:.1f} s after the 200 granting {granted} s; expected 50-80 % of it")
    # The refresh presented the nonce of 5+ s ago (reuse_nonce): Kamailio said stale=true; answered.
    stale = [c for c in log["challenge"] if c["callid"] == call_id and c["rc"] == "-4"]
    check(stale, f"no stale challenge to a refresh: {log['challenge']}")
    stale_tx = [m for _, cseq, st, m in replies if st == 401 and "stale=true" in m.replace(" ", "").lower()]
    check(stale_tx, "Kamailio's rc -4 challenge did not carry stale=true on the wire")
    challenges = [m for _, _, st, m in replies if st == 401]
    algos = {digest_params(header_values(m, "www-authenticate")[0]).get("algorithm", "MD5") for m in challenges}
    check(algos == {algorithm}, f"Kamailio challenged with {algos}, expected {algorithm}")
    answers = [digest_params(v) for _, m in regs for v in header_values(m, "authorization")]
    check(answers and all(a.get("algorithm", "MD5") == algorithm and a.get("username") == REG_USER for a in answers),
          f"credentials of the REGISTERs: {answers}")
    summary = (f"{len(regs)} REGISTERs (one Call-ID and From tag, CSeq {cseq_of(regs[0][1])[0]}.."
               f"{cseq_of(regs[-1][1])[0]}), {len(challenges)} challenges ({len(stale_tx)} stale) answered with "
               f"{algorithm}; asked 60 s, granted {granted} s, refreshed {delay:.1f} s after the 200")
    if full:
        check(any(c["method"] == "INVITE" for c in log["authok"]) and not
              [r for r in log["refused"] if r["callid"] != probe_call_id],
              f"the registered account's INVITE was refused: {log['refused']}")
        check([i for i in log["inbound"] if i["did"] == "4930555" and int(i["rc"]) > 0],
              f"the switch's call found no binding: {log['inbound']}")
        removal = [(t, m) for t, m in regs if register_expires(m) == 0]
        check(removal, "no REGISTER with Expires: 0 reached Kamailio on SIGTERM")
        check(removal[0][0] <= exited, "the Expires: 0 REGISTER reached Kamailio after the b2bua exited")
        removed = [m for _, cseq, st, m in replies if st == 200 and cseq >= cseq_of(removal[0][1])[0]]
        check(removed and not contact_expires(removed[-1]),
              "the Expires: 0 REGISTER was not answered 200 with no binding left")
        summary += ("; the provider (REQUIRE_REGISTERED) took the PBX's call, its switch's call for 4930555 reached "
                    "the PBX through our Contact (identify_by: none), SIGTERM removed the binding before exit")
    return summary


def case_registration_kamailio_md5(binary: Path):
    """Kamailio (registrar.cfg) as a provider with a registrar: MD5 digest, nonces of 5 s, 20 s granted
    though 60 s asked. The b2bua registers, refreshes at 50-80 % (same Call-ID and From tag, higher
    CSeq, the stale challenge answered), calls out through a provider that takes calls only from a
    registered account, receives the provider's call at its registered Contact (identify_by: none), and
    removes its binding (Expires: 0) on SIGTERM before it exits."""
    print(f"registration_kamailio_md5: {registration_run(binary, 'MD5')}")


def case_registration_kamailio_sha256(binary: Path):
    """As registration_kamailio_md5 (registration and refresh), with Kamailio's auth module set to
    algorithm SHA-256: the challenges say algorithm=SHA-256 and the b2bua answers with SHA-256."""
    print(f"registration_kamailio_sha256: {registration_run(binary, 'SHA-256')}")


def case_registration_interval_too_brief(binary: Path):
    """Kamailio's registrar with min_expires 40 and min_expires_mode 1 (MIN_EXPIRES=40); the b2bua
    asks 20 s: 423 Interval Too Brief with Min-Expires: 40, then at once a REGISTER asking 40 s,
    registered for 40 s; attempts_total{interval_too_brief} = 1 (RFC 3261 §10.2.8)."""
    sip, http, _, _ = ports()
    kam_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    src = f"{HOST}:{sip}"
    with Session(binary) as s:
        kam = start_registrar(s, "kamailio", PROVIDER_HOST, kam_port, ["MIN_EXPIRES=40"])
        s.start_b2bua(registration_config(sip, http, [registered_trunk("carrier", PROVIDER_HOST, kam_port, 20)],
                                          "carrier"), sip, http)
        harness.wait_until(lambda: registration_state(http, "carrier") == "registered", 10, "carrier to be registered")
        text = scrape(http)
        # Kamailio writes a reply's line after sending it: wait for its 200 in its log.
        harness.wait_until(lambda: bindings_granted(registrar_log(kam.log()), src) >= 1, 5, "Kamailio's 200 in its log")
        kam_text = kam.log()
    attempts = {o: metric(text, "b2bua_upstream_registration_attempts_total", trunk="carrier", outcome=o)
                for o in ("registered", "auth_failed", "forbidden", "timeout", "transport_error", "interval_too_brief",
                          "error")}
    check(attempts == {"registered": 1, "auth_failed": 0, "forbidden": 0, "timeout": 0, "transport_error": 0,
                       "interval_too_brief": 1, "error": 0}, f"attempts_total: {attempts}")
    expires_s = metric(text, "b2bua_upstream_registration_expires_seconds", trunk="carrier")
    check(30 < expires_s <= 40, f"expires_seconds {expires_s}, expected the 40 s granted (less the time since)")
    check(metric(text, "b2bua_auth_failures_total", direction="upstream") == 0, "an upstream auth failure")
    log = registrar_log(kam_text)
    regs = registers_from(log, src)
    check_one_registration(regs, "carrier")
    replies = register_replies(log, call_id_of(regs[0][1]))
    brief = [(t, cseq, m) for t, cseq, st, m in replies if st == 423]
    check(len(brief) == 1 and header_values(brief[0][2], "min-expires") == ["40"],
          f"expected one 423 with Min-Expires: 40, Kamailio sent {[start_line(m) for *_, m in replies]}")
    _, cseq_423, _ = brief[0]
    # "at once": timed from the REGISTER that got the 423 (its line is written before the 423 is sent)
    t_423 = [t for t, m in regs if cseq_of(m)[0] == cseq_423][0]
    before = [register_expires(m) for _, m in regs if cseq_of(m)[0] <= cseq_423]
    after = [(t, m) for t, m in regs if cseq_of(m)[0] > cseq_423]
    check(before and all(e == 20 for e in before), f"REGISTERs before the 423 asked {before}, expected 20")
    check(after and all(register_expires(m) == 40 for _, m in after),
          f"REGISTERs after the 423 asked {[register_expires(m) for _, m in after]}, expected 40")
    check(after[0][0] - t_423 < 1.0,
          f"the REGISTER asking 40 s came {after[0][0] - t_423:.2f} s after the one that got the 423")
    oks = [m for _, cseq, st, m in replies if st == 200 and cseq > cseq_423]
    check(oks and contact_expires(oks[0]) == [40], f"the 200 after the 423 granted {oks and contact_expires(oks[0])}")
    print(f"registration_interval_too_brief: asked 20 s, 423 Min-Expires: 40, the next REGISTER "
          f"{after[0][0] - t_423:.2f} s after the refused one asked 40 s and got 200 expires=40; {len(regs)} "
          "REGISTERs in one registration; attempts registered=1 interval_too_brief=1")


def check_credential_failure(http: int, b2bua: harness.Process, trunk: str, status: int, outcome: str,
                             reason: str):
    """`trunk`'s registration fails on its credentials (`status`): failing with `outcome`, counted once
    in attempts and in b2bua_auth_failures_total{reason}, next attempt ~10 min away, one log line."""
    harness.wait_until(lambda: registration_state(http, trunk) == "failing", 10, f"trunk {trunk} to fail")
    text = scrape(http)
    attempts = metric(text, "b2bua_upstream_registration_attempts_total", trunk=trunk, outcome=outcome)
    check(attempts == 1, f"attempts_total{{{trunk},{outcome}}} = {attempts}, expected 1")
    failures = metric(text, "b2bua_auth_failures_total", direction="upstream", peer=trunk, reason=reason)
    check(failures == 1, f"auth_failures_total{{upstream,{trunk},{reason}}} = {failures}, expected 1")
    next_s = metric(text, "b2bua_upstream_registration_next_attempt_seconds", trunk=trunk)
    check(500 <= next_s <= 700, f"next_attempt_seconds{{{trunk}}} = {next_s}, expected 540-660 less a second")
    check(re.search(rf"trunk={trunk}\b.*state=failing.*status={status}.*failure={outcome}", b2bua.log()),
          f"no state-change line for {trunk} -> failing ({status}, {outcome}):\n{b2bua.log()[-3000:]}")


def check_one_challenged_attempt(kamailio_log: str, src: str, trunk: str, final: int):
    """In the whole run the provider got exactly one attempt of `trunk`: the REGISTER without
    credentials (401), then the one with them, answered `final`."""
    log = registrar_log(kamailio_log)
    regs = registers_from(log, src)
    check_one_registration(regs, trunk)
    replies = [(cseq, st) for _, cseq, st, _ in register_replies(log, call_id_of(regs[0][1]))]
    check(len(regs) == 2 and not header_values(regs[0][1], "authorization")
          and header_values(regs[1][1], "authorization")
          and replies == [(cseq_of(regs[0][1])[0], 401), (cseq_of(regs[1][1])[0], final)],
          f"{trunk}: the provider got {len(regs)} REGISTERs (replies {replies}) in 70 s; expected 2: 401, {final}")


def case_registration_refused_and_dropped(binary: Path):
    """One b2bua, two trunks with register: true, for a minute and more: Kamailio on 127.0.0.2 answers
    every REGISTER with good credentials 403 (REFUSE_403): exactly two REGISTERs in the whole time
    (the first, challenged, and the one with credentials), the trunk failing (forbidden), its next
    attempt 10 min away (500-700 s); Kamailio on 127.0.0.3 drops every REGISTER (DROP_REGISTER): the
    first one retransmitted until Timer F (32 s) ends it (timeout, failing), a second attempt ~5 s
    later (new CSeq, same Call-ID), and no third before 70 s. And the most common "401 Unauthorized":
    a trunk with a wrong password to an accepting Kamailio on 127.0.0.4: challenged, challenged again
    (no stale), failing with auth_failed, two REGISTERs in the whole time, next attempt ~10 min."""
    sip, http, _, _ = ports()
    refusing_port = free_port((socket.SOCK_DGRAM,), host="127.0.0.2")
    dropping_port = free_port((socket.SOCK_DGRAM,), host="127.0.0.3")
    wrong_port = free_port((socket.SOCK_DGRAM,), host="127.0.0.4")
    src = f"{HOST}:{sip}"
    with Session(binary) as s:
        refusing = start_registrar(s, "kamailio_refusing", "127.0.0.2", refusing_port, ["REFUSE_403"])
        dropping = start_registrar(s, "kamailio_dropping", "127.0.0.3", dropping_port, ["DROP_REGISTER"])
        accepting = start_registrar(s, "kamailio_accepting", "127.0.0.4", wrong_port, [])
        trunks = [registered_trunk("refusing", "127.0.0.2", refusing_port, 60),
                  registered_trunk("dropping", "127.0.0.3", dropping_port, 60),
                  registered_trunk("wrongpass", "127.0.0.4", wrong_port, 60).replace(
                      f"password: {REG_PASS},", "password: not-the-password,")]
        b2bua = s.start_b2bua(registration_config(sip, http, trunks, "refusing"), sip, http)
        started = time.time()

        # The 403 and the wrong password (challenged again without stale=true): credential
        # failures, retried in 10 min (+-10 %), not at once.
        check_credential_failure(http, b2bua, "refusing", 403, "forbidden", "forbidden")
        check_credential_failure(http, b2bua, "wrongpass", 401, "auth_failed", "rejected")
        # Meanwhile the dropped REGISTER is under way until Timer F.
        check(registration_state(http, "dropping") == "registering", "trunk dropping not registering before Timer F")

        harness.wait_until(lambda: registration_state(http, "dropping") == "failing", 40,
                           "trunk dropping to fail (Timer F, 32 s)")
        failed_after = time.time() - started
        text = scrape(http)
        timeouts = metric(text, "b2bua_upstream_registration_attempts_total", trunk="dropping", outcome="timeout")
        check(timeouts == 1, f"attempts_total{{dropping,timeout}} = {timeouts}, expected 1")
        next_s = metric(text, "b2bua_upstream_registration_next_attempt_seconds", trunk="dropping")
        check(0 < next_s <= 6, f"next_attempt_seconds{{dropping}} = {next_s} after Timer F, expected about 5")

        first_at = registers_from(registrar_log(dropping.log()), src)[0][0]
        harness.wait_until(lambda: time.time() >= first_at + 70, 75, "70 s after the first REGISTER")
        text = scrape(http)
        refusing_text, dropping_text, accepting_text = refusing.log(), dropping.log(), accepting.log()

    check(registration_state_in(text, "refusing") == "failing", "trunk refusing not failing at the end")
    check(metric(text, "b2bua_upstream_registration_attempts_total", trunk="refusing", outcome="forbidden") == 1,
          "more than one forbidden attempt in the minute")
    check(registration_state_in(text, "dropping") in ("failing", "registering"), "trunk dropping registered?")
    check(metric(text, "b2bua_upstream_registration_attempts_total", trunk="dropping", outcome="timeout") >= 1,
          "no timeout counted for trunk dropping")

    check(metric(text, "b2bua_upstream_registration_attempts_total", trunk="wrongpass", outcome="auth_failed") == 1,
          "more than one auth_failed attempt in the minute")
    check_one_challenged_attempt(refusing_text, src, "refusing", 403)
    check_one_challenged_attempt(accepting_text, src, "wrongpass", 401)

    log = registrar_log(dropping_text)
    regs = registers_from(log, src)
    check_one_registration(regs, "dropping")
    check(len(regs) == 2, f"the dropping provider got {len(regs)} REGISTER transactions in 70 s, expected 2 "
          f"(the first, and one retry ~5 s after Timer F): at {[round(t - first_at, 1) for t, _ in regs]} s")
    copies = register_retransmissions(log, src, cseq_of(regs[0][1])[0])
    check(copies >= 8, f"the first REGISTER arrived {copies} times; UDP retransmits it until Timer F (11 times)")
    gap = regs[1][0] - first_at
    check(32 + 4.5 - 0.5 <= gap <= 32 + 5.5 + 1.5,
          f"the retry came {gap:.1f} s after the first REGISTER; expected Timer F (32 s) + 5 s +-10 %")
    print(f"registration_refused_and_dropped: 403 provider got 2 REGISTERs in 70 s (401, 403), failing/forbidden, "
          f"wrong password 2 REGISTERs (401, 401), failing/auth_failed; "
          f"next attempt ~10 min; dropping provider got the first REGISTER {copies} times, the trunk failed "
          f"{failed_after:.1f} s after start, the retry {gap:.1f} s after the first, no third by 70 s")

def case_via_received_rport(binary: Path):
    """RFC 3581 §4 / RFC 3261 §18.2.1: a PBX behind NAT (its Via names a LAN address and asks for
    rport) learns where its requests come from: the 200 to its OPTIONS and the 407 to its INVITE
    (a server transaction's answer) carry received=<source address>;rport=<source port> in the
    top Via, and go to that source; a Via without rport naming the source gets nothing added."""
    sip, http, trunk_port, _ = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        with harness.RawUdp(HOST) as pbx:
            def ask(method: str, via_sent_by: str, rport: bool, n: int) -> str:
                call_id = f"nat-{n}@192.168.1.50"
                pbx.send(f"{method} sip:1000@{HOST}:{sip} SIP/2.0\r\n"
                         f"Via: SIP/2.0/UDP {via_sent_by};branch=z9hG4bK-nat-{n}{';rport' if rport else ''}\r\n"
                         f"Max-Forwards: 70\r\nTo: <sip:1000@{HOST}:{sip}>\r\n"
                         f"From: <sip:200@192.168.1.50>;tag=nat{n}\r\nCall-ID: {call_id}\r\n"
                         f"CSeq: 1 {method}\r\nContact: <sip:200@{via_sent_by}>\r\nContent-Length: 0\r\n\r\n",
                         (HOST, sip))
                answer = pbx.recv_final(5, call_id)
                check(answer is not None, f"no final answer to the {method} (it must come to the source port)")
                return header_values(answer, "via", "v")[0]

            via = ask("OPTIONS", "192.168.1.50:5060", True, 1)
            check(via == f"SIP/2.0/UDP 192.168.1.50:5060;branch=z9hG4bK-nat-1;received={HOST};rport={pbx.port}",
                  f"top Via of the 200 to OPTIONS: {via}")
            via = ask("INVITE", "192.168.1.50:5060", True, 2)
            check(via == f"SIP/2.0/UDP 192.168.1.50:5060;branch=z9hG4bK-nat-2;received={HOST};rport={pbx.port}",
                  f"top Via of the 407 to INVITE: {via}")
            via = ask("OPTIONS", f"{HOST}:{pbx.port}", False, 3)
            check(via == f"SIP/2.0/UDP {HOST}:{pbx.port};branch=z9hG4bK-nat-3", f"a Via naming its source: {via}")
    print(f"via_received_rport: received={HOST};rport={pbx.port} on the 200 and the 407, nothing added to a Via "
          "already naming its source")


def case_tcp_keepalive_idle(binary: Path):
    """sip.tcp.idle_timeout_s: 2. A PBX's TCP connection that sends only CRLF keep-alives (RFC 5626
    §3.5.1, every second for 5 s: each answered with a CRLF pong) stays open past the idle timeout
    and still carries an OPTIONS; once it falls silent the b2bua closes it after about 2 s."""
    sip, http, trunk_port, _ = ports()
    config = config_yaml(sip, http, trunk_port, tcp=True).replace(
        "sip:\n  listen:", "sip:\n  tcp: { idle_timeout_s: 2 }\n  listen:", 1)
    with Session(binary) as s:
        s.start_b2bua(config, sip, http, tcp=True)
        with socket.create_connection((HOST, sip), timeout=5) as conn:
            local = conn.getsockname()[1]
            opened = time.monotonic()
            for _ in range(5):
                conn.sendall(b"\r\n\r\n")
                conn.settimeout(1.5)
                pong = conn.recv(16)
                check(pong == b"\r\n", f"keep-alive answered with {pong!r}, expected a CRLF pong")
                time.sleep(1.0)
            held = time.monotonic() - opened
            conn.sendall((f"OPTIONS sip:{HOST}:{sip};transport=tcp SIP/2.0\r\n"
                          f"Via: SIP/2.0/TCP {HOST}:{local};branch=z9hG4bK-ka-1\r\nMax-Forwards: 70\r\n"
                          f"To: <sip:{HOST}:{sip}>\r\nFrom: <sip:ka@{HOST}>;tag=ka1\r\nCall-ID: ka-1@{HOST}\r\n"
                          "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
            conn.settimeout(3)
            answer = conn.recv(65535).decode(errors="replace")
            check(answer.startswith("SIP/2.0 200"), f"OPTIONS after {held:.1f} s of keep-alives: {answer[:80]!r}")
            silent = time.monotonic()
            conn.settimeout(6)
            try:
                rest = conn.recv(65535)
            except ConnectionResetError:
                rest = b""
            closed_after = time.monotonic() - silent
            check(rest == b"", f"expected the b2bua to close the silent connection, got {rest[:80]!r}")
            check(1.5 <= closed_after <= 4.5, f"the silent connection was closed after {closed_after:.1f} s, "
                  "expected about the 2 s idle timeout")
    print(f"tcp_keepalive_idle: {held:.1f} s of CRLF keep-alives kept the connection past a 2 s idle timeout "
          f"(each ponged, OPTIONS answered after them); closed {closed_after:.1f} s after falling silent")


def _case_modules():
    """Cases kept in tests/e2e/cases_*.py, one file per subject. Each runs with this module's helpers
    (check, Session, config builders...) already in its namespace, as if written here."""
    shared = {k: v for k, v in globals().items() if not k.startswith("__")}
    for path in sorted(Path(__file__).resolve().parent.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        module.__dict__.update(shared)
        spec.loader.exec_module(module)
        yield from ((n, f) for n, f in vars(module).items() if n.startswith("case_") and callable(f))


CASES = {name[len("case_"):]: fn
         for name, fn in sorted([*globals().items(), *_case_modules()]) if name.startswith("case_")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--b2bua", required=True, type=Path)
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    names = list(CASES) if args.cases == ["all"] else args.cases
    failed = 0
    for name in names:
        if name not in CASES:
            print(f"unknown case {name}; known: {', '.join(CASES)}")
            return 2
        t0 = time.monotonic()
        try:
            CASES[name](args.b2bua.resolve())
            print(f"PASS {name} ({time.monotonic() - t0:.1f}s)")
        except Exception as e:  # noqa: BLE001 - report any failure of the case
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
