"""The source gate (issue 10, part A): brute force banned, scanners and floods dropped unanswered,
a banned TCP source cut off, the ban list in the admin API and b2buactl.

Runs inside test_e2e.py's namespace (check, Session, ports, config_yaml, harness...). The PBX is
127.0.0.1, the trunk 127.0.0.2; each attacker has an address of its own (127.0.0.66 and up)."""
import os
import shutil
import socket
import subprocess
import time

_TOKEN = "e2e-gate-token-0123456789"

def _sipvicious(tool: str, source: str, args: list[str]) -> list[str]:
    """The command line running sipvicious' `tool` (svcrack, svmap...) from `source`."""
    check(shutil.which(tool) is not None, f"{tool} is not installed (Debian package sipvicious)")
    return harness.sipvicious_command(tool, source, args)


def _api(http: int, method: str, path: str, body=None) -> tuple[int, dict | None]:
    return harness.admin_request(http, method, path, body, _TOKEN)


def _ctl(binary, http: int, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("B2BUA_ADMIN_TOKEN", "B2BUA_URL")}
    env["B2BUA_ADMIN_TOKEN"] = _TOKEN
    return subprocess.run([str(binary.parent / "b2buactl"), "--url", f"http://{HOST}:{http}", *args], env=env,
                          capture_output=True, text=True, timeout=30, check=False)


def _options(sip: int, local: tuple[str, int], n: int, user_agent: str | None = None, transport: str = "UDP") -> str:
    ua = f"User-Agent: {user_agent}\r\n" if user_agent else ""
    return (f"OPTIONS sip:{HOST}:{sip} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} {local[0]}:{local[1]};branch=z9hG4bK-gate-{n}-{time.monotonic_ns()}\r\n"
            f"Max-Forwards: 70\r\nTo: <sip:{HOST}:{sip}>\r\nFrom: <sip:probe@{local[0]}>;tag=g{n}\r\n"
            f"Call-ID: gate-{n}-{local[0]}-{local[1]}\r\nCSeq: 1 OPTIONS\r\n{ua}Content-Length: 0\r\n\r\n")


def _answered(peer: "harness.RawUdp", sip: int, n: int, user_agent: str | None = None, wait: float = 1.0) -> bool:
    peer.send(_options(sip, (peer.host, peer.port), n, user_agent), (HOST, sip))
    answer = peer.recv(wait, f"gate-{n}-{peer.host}-{peer.port}")
    return answer is not None and answer.startswith("SIP/2.0 200")


def case_security_svcrack_banned(binary):
    """sipvicious svcrack guesses pbxuser's password from 127.0.0.66 with 300 guesses, the right one
    200th (the scanner User-Agent list is emptied so the guesses reach digest authentication). It is
    banned after the 5th failed answer (security.ban.failures), never finds the password, and gets
    no answer afterwards; meanwhile a SIPp PBX on 127.0.0.1 places 150 calls at 10/s with no
    failure. Prints the guesses answered before the ban and the rate of what was dropped after."""
    sip, http, trunk_port, pbx_port = ports()
    extra = ("security:\n  scanner_user_agents: []\n"
             "  ban: { failures: 5, window_s: 60, first_s: 300 }\n")
    config = config_yaml(sip, http, trunk_port, extra=extra)
    with Session(binary) as s:
        s.start_b2bua(config, sip, http)
        words = [f"guess{i:03d}" for i in range(1, 301)]
        words[199] = "pbxpass"
        dictionary = s.workdir / "passwords.txt"
        dictionary.write_text("\n".join(words) + "\n")
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        calls = 150
        pbx = s.start_sipp("pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                           ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", str(calls), "-r", "10", "-rp", "1000",
                            "-timeout", "60s", "-recv_timeout", "15000"], remote=f"{HOST}:{sip}")
        time.sleep(1)  # the PBX's calls are under way when the attack starts
        attacker_port = free_port((socket.SOCK_DGRAM,), host="127.0.0.66")
        home = s.workdir / "home"
        home.mkdir()
        env = dict(os.environ, HOME=str(home))
        t0 = time.monotonic()
        crack = subprocess.Popen(_sipvicious("svcrack", "127.0.0.66",
                                             ["-u", "pbxuser", "-d", str(dictionary), "-P", str(attacker_port),
                                              "-p", str(sip), "--maximumtime", "5", HOST]),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=s.workdir, env=env)
        try:
            t_ban = None
            t_last_drop, seen_dropped = None, 0.0
            deadline = time.monotonic() + 60
            while crack.poll() is None and time.monotonic() < deadline:
                text = scrape(http)
                if t_ban is None and metric(text, "b2bua_bans_total") >= 1:
                    t_ban = time.monotonic()
                if (d := metric(text, "b2bua_requests_dropped_total", reason="banned")) > seen_dropped:
                    t_last_drop, seen_dropped = time.monotonic(), d
                time.sleep(0.05)
            check(crack.poll() is not None, "svcrack still running after 60 s")
        finally:
            if crack.poll() is None:
                crack.kill()
            out = crack.communicate(timeout=10)[0].decode(errors="replace")
        t_end = time.monotonic()
        s.wait_sipp(pbx, 60)
        pbx_r = s.sipp_result(pbx)
        trunk_r = stop_trunk(s, trunk)
        text = scrape(http)
        check(t_ban is not None, f"svcrack was never banned; its output:\n{out[-2000:]}")
        check("The password for" not in out and "pbxpass" not in out, f"svcrack found the password:\n{out[-2000:]}")
        guessed = metric(text, "b2bua_auth_failures_total", direction="downstream", reason="wrong_password")
        check(guessed == 5, f"{guessed:.0f} wrong passwords answered, expected the ban at the 5th")
        check(metric(text, "b2bua_bans_total") == 1 and metric(text, "b2bua_banned_sources") == 1,
              "b2bua_bans_total / b2bua_banned_sources are not 1")
        dropped = metric(text, "b2bua_requests_dropped_total", reason="banned")
        check(dropped >= 1, "nothing from the banned svcrack was dropped")
        log = s.processes[0].log()
        check("security: 127.0.0.66 banned for 300 s" in log, "no log line for the ban")
        all_passed(pbx_r, trunk_r, calls)
    before = t_ban - t0
    sending = max((t_last_drop or t_ban) - t_ban, 0.05)
    print(f"security_svcrack_banned: svcrack had {guessed:.0f} of 300 guesses answered, banned {before:.2f} s after "
          f"it started; after the ban 0 guesses answered: it kept sending unanswered REGISTERs for {sending:.1f} s "
          f"({dropped:.0f} dropped, {dropped / sending:.0f}/s), then gave up ({t_end - t_ban:.1f} s after the ban); "
          f"password not found; PBX {pbx_r.successful}/{calls} calls ok, {pbx_r.failed} failed meanwhile")


def case_security_scanner_dropped(binary):
    """A scanner's User-Agent gets no answer and is counted: sipvicious svmap from 127.0.0.67 finds
    nothing, an OPTIONS with User-Agent friendly-scanner (or SIPVicious, any case) goes unanswered
    and counts reason=scanner, the same OPTIONS with another User-Agent is answered."""
    sip, http, trunk_port, _ = ports()
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
        home = s.workdir / "home"
        home.mkdir()
        env = dict(os.environ, HOME=str(home))
        scan_port = free_port((socket.SOCK_DGRAM,), host="127.0.0.67")
        svmap = subprocess.run(_sipvicious("svmap", "127.0.0.67", ["-P", str(scan_port), "-p", str(sip), HOST]),
                               capture_output=True, text=True, timeout=60, cwd=s.workdir, env=env, check=False)
        shown = svmap.stdout + svmap.stderr
        check(f"{HOST}:{sip}" not in shown, f"svmap found the b2bua:\n{shown}")
        after_svmap = metric(scrape(http), "b2bua_requests_dropped_total", reason="scanner")
        check(after_svmap >= 1, "svmap's requests were not counted as a scanner's")
        with harness.RawUdp("127.0.0.67") as peer:
            check(not _answered(peer, sip, 1, "friendly-scanner"), "friendly-scanner was answered")
            check(not _answered(peer, sip, 2, "SIPVicious/0.3.3"), "SIPVicious was answered")
            check(_answered(peer, sip, 3, "Yealink SIP-T46U"), "an ordinary User-Agent was not answered")
        text = scrape(http)
        check(metric(text, "b2bua_requests_dropped_total", reason="scanner") == after_svmap + 2,
              "the two scanner OPTIONS were not counted")
        check(metric(text, "b2bua_requests_dropped_total", reason="banned") == 0, "a scanner was banned")
    print(f"security_scanner_dropped: svmap found nothing ({after_svmap:.0f} request(s) dropped); "
          "friendly-scanner and SIPVicious OPTIONS unanswered and counted, another User-Agent answered")


def case_security_flood_rate_limited(binary):
    """1,000 OPTIONS sent at once from 127.0.0.68 against max_requests_per_second 200: about 200 answered
    (the bucket) and the rest dropped unanswered, counted reason=rate_limit; 1,000 OPTIONS at once
    from 127.0.0.1, in security.trusted, are all answered."""
    sip, http, trunk_port, _ = ports()
    config = config_yaml(sip, http, trunk_port,
                         extra='security:\n  trusted: [ "127.0.0.1" ]\n  max_requests_per_second: 200\n')
    flood = 1000
    with Session(binary) as s:
        s.start_b2bua(config, sip, http)

        def blast(host: str) -> tuple[int, float]:
            with harness.RawUdp(host) as peer:
                peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
                t0 = time.monotonic()
                for n in range(flood):
                    peer.send(_options(sip, (peer.host, peer.port), n), (HOST, sip))
                sent_in = time.monotonic() - t0
                answers = set()
                while (m := peer.recv(1.0)) is not None:
                    if m.startswith("SIP/2.0 200"):
                        answers.add(header_values(m, "call-id", "i")[0])
                return len(answers), sent_in

        answered, took = blast("127.0.0.68")
        text = scrape(http)
        dropped = metric(text, "b2bua_requests_dropped_total", reason="rate_limit")
        check(answered + dropped == flood, f"{answered} answered + {dropped:.0f} dropped != {flood}")
        # The bucket holds 200; sending takes `took` seconds, refilling 200/s meanwhile.
        check(200 <= answered <= 200 + 200 * took + 10,
              f"{answered} of {flood} answered in {took:.2f} s; expected about {200 + 200 * took:.0f}")
        trusted, took_trusted = blast(HOST)
        check(trusted == flood, f"the trusted PBX address had {trusted} of {flood} OPTIONS answered")
        check(metric(scrape(http), "b2bua_requests_dropped_total", reason="rate_limit") == dropped,
              "the trusted address was rate-limited")
    print(f"security_flood_rate_limited: {flood} OPTIONS in {took:.2f} s from 127.0.0.68: {answered} answered, "
          f"{dropped:.0f} dropped (rate_limit); {flood} in {took_trusted:.2f} s from trusted 127.0.0.1: all answered")


def case_security_banned_tcp_closed(binary):
    """A TCP source banned (through the admin API) has its open connection closed at once, and a new
    connection from it is closed at accept, each counted (reason banned); the PBX's connection is
    not touched; once the ban is lifted the source connects and is answered again."""
    sip, http, trunk_port, _ = ports()
    config = config_yaml(sip, http, trunk_port, tcp=True, extra=f'admin:\n  token: "{_TOKEN}"\n')

    def connect(host: str) -> socket.socket:
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((host, 0))
        c.settimeout(3)
        c.connect((HOST, sip))
        return c

    def ask(c: socket.socket, n: int) -> str:
        c.sendall(_options(sip, c.getsockname(), n, transport="TCP").encode())
        return c.recv(65535).decode(errors="replace")

    def closed_by_peer(c: socket.socket) -> bool:
        try:
            return c.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    with Session(binary) as s:
        s.start_b2bua(config, sip, http, tcp=True)
        attacker = connect("127.0.0.69")
        pbx = connect(HOST)
        try:
            check(ask(attacker, 1).startswith("SIP/2.0 200"), "the attacker's first OPTIONS was not answered")
            check(ask(pbx, 2).startswith("SIP/2.0 200"), "the PBX's OPTIONS was not answered")
            code, doc = _api(http, "POST", "/api/v1/bans", {"source": "127.0.0.69", "duration_s": 120})
            check(code == 201 and doc["source"] == "127.0.0.69", f"POST /api/v1/bans: {code} {doc}")
            t0 = time.monotonic()
            check(closed_by_peer(attacker), "the banned source's connection stayed open")
            cut = time.monotonic() - t0
            again = connect("127.0.0.69")
            try:
                check(closed_by_peer(again), "a new connection from the banned source stayed open")
            finally:
                again.close()
            check(ask(pbx, 3).startswith("SIP/2.0 200"), "the PBX's connection was disturbed")
            text = scrape(http)
            check(metric(text, "b2bua_sip_connections_closed_total", transport="tcp", reason="banned") == 1,
                  "the close of the banned connection was not counted")
            check(metric(text, "b2bua_sip_connections_refused_total", transport="tcp", reason="banned") == 1,
                  "the refused connection was not counted")
            code, _ = _api(http, "DELETE", "/api/v1/bans/127.0.0.69")
            check(code == 204, f"DELETE the ban: {code}")
            back = connect("127.0.0.69")
            try:
                check(ask(back, 4).startswith("SIP/2.0 200"), "after the ban, the source was not answered")
            finally:
                back.close()
        finally:
            attacker.close()
            pbx.close()
    print(f"security_banned_tcp_closed: the banned source's connection closed {cut * 1000:.0f} ms after the ban, "
          "a new one closed at accept (both counted reason=banned); the PBX's connection untouched; answered "
          "again after DELETE")


def case_security_bans_api(binary):
    """The ban list through b2buactl and the API: `b2buactl ban` bans 127.0.0.70 (its OPTIONS then go
    unanswered and are counted reason=banned), `b2buactl bans` and GET /api/v1/bans list it (origin
    manual, b2bua_banned_sources 1), a trusted or trunk address or a malformed one is refused (422,
    400), `b2buactl unban` lifts it (answered again), a second DELETE is 404; the audit log has both."""
    sip, http, trunk_port, _ = ports()
    config = config_yaml(sip, http, trunk_port,
                         extra=f'admin:\n  token: "{_TOKEN}"\nsecurity:\n  trusted: [ "127.0.0.1" ]\n')
    with Session(binary) as s:
        s.start_b2bua(config, sip, http)
        with harness.RawUdp("127.0.0.70") as peer:
            check(_answered(peer, sip, 1), "127.0.0.70 was not answered before the ban")
            out = _ctl(binary, http, "ban", "127.0.0.70", "--duration", "90")
            check(out.returncode == 0 and out.stdout.startswith("127.0.0.70 banned until "),
                  f"b2buactl ban: {out.returncode} {out.stdout} {out.stderr}")
            check(not _answered(peer, sip, 2), "a banned source was answered")
            text = scrape(http)
            check(metric(text, "b2bua_requests_dropped_total", reason="banned") == 1, "the drop was not counted")
            check(metric(text, "b2bua_banned_sources") == 1 and metric(text, "b2bua_bans_total") == 1,
                  "b2bua_banned_sources / b2bua_bans_total are not 1")
            out = _ctl(binary, http, "bans")
            check(out.returncode == 0 and "127.0.0.70" in out.stdout and "manual" in out.stdout,
                  f"b2buactl bans: {out.stdout} {out.stderr}")
            code, doc = _api(http, "GET", "/api/v1/bans")
            check(code == 200 and len(doc["bans"]) == 1, f"GET /api/v1/bans: {code} {doc}")
            ban = doc["bans"][0]
            check(ban["source"] == "127.0.0.70" and ban["origin"] == "manual" and 0 < ban["remaining_s"] <= 90,
                  f"the ban listed: {ban}")
            for body, want in (({"source": "127.0.0.1"}, 422), ({"source": TRUNK_HOST}, 422),
                               ({"source": "127.0.0.0/8"}, 400), ({"source": "127.0.0.71", "duration_s": 0}, 400),
                               ({"source": "127.0.0.71", "reason": "x"}, 400), ({}, 400)):
                code, doc = _api(http, "POST", "/api/v1/bans", body)
                check(code == want and "error" in doc, f"POST {body}: {code} {doc}, expected {want}")
            out = _ctl(binary, http, "unban", "127.0.0.70")
            check(out.returncode == 0 and "ban lifted" in out.stdout, f"b2buactl unban: {out.stdout} {out.stderr}")
            check(_answered(peer, sip, 3), "127.0.0.70 was not answered after unban")
            code, _ = _api(http, "DELETE", "/api/v1/bans/127.0.0.70")
            check(code == 404, f"a second DELETE: {code}")
            check(metric(scrape(http), "b2bua_banned_sources") == 0, "b2bua_banned_sources is not 0 after unban")
        code, doc = _api(http, "GET", "/api/v1/audit")
        objects = [e["object"] for e in doc["audit"]]
        check("ban 127.0.0.70" in objects and "unban 127.0.0.70" in objects, f"the audit log: {objects}")
    print("security_bans_api: b2buactl ban/bans/unban and GET/POST/DELETE /api/v1/bans; the ban took effect "
          "at once (OPTIONS unanswered, counted) and ended with unban; exempt and malformed sources refused")
