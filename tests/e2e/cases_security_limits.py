"""Toll fraud, per-account limits, emergency numbers and overload admission (issue 10, part C).

Runs inside test_e2e.py's namespace (check, Session, RawUac, ports, config_yaml, harness...).
The PBX is 127.0.0.1, the trunk (SIPp) 127.0.0.2, flooding sources elsewhere in 127.0.0.0/8."""
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

_USERS_LINE = "    - { username: pbxuser, password: pbxpass }\n"


def _with_users(config: str, users: str) -> str:
    """`config` (harness.config_yaml) with its one PBX account replaced by `users` (YAML list lines)."""
    check(_USERS_LINE in config, "config_yaml no longer lists pbxuser as expected")
    return config.replace(_USERS_LINE, users)


def _dialling(uac: RawUac, number: str, sip: int) -> RawUac:
    uac.uri = f"sip:{number}@{HOST}:{sip}"
    return uac


def _authed(uac: RawUac, call: dict, user: str = "pbxuser", password: str = "pbxpass") -> tuple[str, str]:
    """INVITE, 407, INVITE with an MD5 answer for `user`: (the second request, its final response)."""
    _, challenge = uac.invite(call)
    check(start_line(challenge).startswith("SIP/2.0 407"), f"first INVITE -> {start_line(challenge)}")
    offer = [v for v in header_values(challenge, "proxy-authenticate") if "MD5" in v.upper()][0]
    return uac.invite(call, md5_proxy_authorization(offer, "INVITE", uac.uri, user, password, "0a4f113b"))


def _ack(uac: RawUac, call: dict, ok: str) -> tuple[str, str]:
    """ACKs a 2xx; returns (To with the b2bua's tag, its Contact) for the BYE."""
    to = header_values(ok, "to", "t")[0]
    contact = re.search(r"<([^>]+)>", header_values(ok, "contact", "m")[0]).group(1)
    uac.c.send(uac._request(call, "ACK", f"z9hG4bK-{call['from_tag']}-ack", to, uri=contact, cseq=call["cseq"]),
               uac.dest)
    return to, contact


def _bye(uac: RawUac, call: dict, to: str, contact: str, timeout: float = 10) -> str | None:
    uac.c.send(uac._request(call, "BYE", f"z9hG4bK-{call['from_tag']}-bye", to, uri=contact), uac.dest)
    return uac.c.recv_final(timeout, call["call_id"])


def _hits(text: str, limit: str) -> float:
    return metric(text, "b2bua_limit_hits_total", limit=limit)


def case_security_blocked_prefix(binary):
    """security.blocked_prefixes: a PBX call to +882... or 900... gets 403 after authentication, is counted
    (limit blocked_prefix, result blocked) and never reaches the trunk; an ordinary number still does."""
    sip, http, trunk_port, _ = ports()
    extra = 'security:\n  blocked_prefixes: [ "+882", "900" ]\n  emergency_numbers: [ "112" ]\n'
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=extra), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        text = scrape(http)
        for limit in ("calls", "trunk", "user_calls", "user_cps", "blocked_prefix", "overload", "transactions"):
            check(f'b2bua_limit_hits_total{{limit="{limit}"}} 0' in text, f"limit {limit} not exported at zero")
        with harness.RawUdp(HOST) as sock:
            for i, number in enumerate(("+88216001", "9001234")):
                uac = _dialling(RawUac(sock, sip, f"blocked{i}"), number, sip)
                _, final = _authed(uac, uac.new_call())
                check(start_line(final).startswith("SIP/2.0 403"), f"call to {number} -> {start_line(final)}")
            uac = _dialling(RawUac(sock, sip, "ok"), "0049900", sip)
            call = uac.new_call()
            _, ok = _authed(uac, call)
            check(start_line(ok).startswith("SIP/2.0 200"), f"call to 0049900 -> {start_line(ok)}")
            uac.ack_and_bye(call, ok)
        text = scrape(http)
        check(_hits(text, "blocked_prefix") == 2, f"blocked_prefix hits {_hits(text, 'blocked_prefix')}")
        check(metric(text, "b2bua_calls_total", result="blocked") == 2, "result=blocked not 2")
        trunk_r = stop_trunk(s, trunk)
        invites = [m for m in received(trunk_r, "INVITE")]
        check(not any("+882" in m.splitlines()[0] or " sip:900" in m.splitlines()[0] for m in invites),
              "a blocked number reached the trunk")
        check(trunk_r.successful == 1, f"the trunk carried {trunk_r.successful} calls, expected 1")
        check(b2bua.log().count("matches blocked prefix") == 2, "expected two log lines naming the blocked prefix")
        print("security_blocked_prefix: +88216001 and 9001234 refused 403 after authentication, counted "
              "(blocked_prefix 2, result=blocked 2), never at the trunk; 0049900 answered")


def case_security_user_limits(binary):
    """A PBX account's max_calls (1) and max_cps (2): beyond either 503 with Retry-After, counted
    (user_calls, user_cps, result=user_limit), while a call to an emergency number (112) passes both."""
    sip, http, trunk_port, _ = ports()
    users = ("    - { username: pbxuser, password: pbxpass, max_calls: 1 }\n"
             "    - { username: burst, password: burstpass, max_cps: 2 }\n")
    extra = 'security:\n  emergency_numbers: [ "112" ]\n'
    with Session(binary) as s:
        s.start_b2bua(_with_users(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=extra), users),
                      sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        answered = 0
        with harness.RawUdp(HOST) as sock:
            # max_calls 1: one call up; the second is refused; 112 passes; once the first ends, room again.
            uac = RawUac(sock, sip, "pbx")
            first = uac.new_call()
            _, ok = _authed(uac, first)
            check(start_line(ok).startswith("SIP/2.0 200"), f"first call -> {start_line(ok)}")
            answered += 1
            to, contact = _ack(uac, first, ok)
            _, refused = _authed(uac, uac.new_call())
            check(start_line(refused).startswith("SIP/2.0 503"), f"second call at max_calls 1 -> {start_line(refused)}")
            check(header_values(refused, "retry-after") == ["1"], f"Retry-After {header_values(refused, 'retry-after')}")
            sos = _dialling(RawUac(sock, sip, "sos"), "112", sip)
            sos_call = sos.new_call()
            _, sos_ok = _authed(sos, sos_call)
            check(start_line(sos_ok).startswith("SIP/2.0 200"), f"112 at max_calls -> {start_line(sos_ok)}")
            answered += 1
            sos.ack_and_bye(sos_call, sos_ok)
            bye = _bye(uac, first, to, contact)
            check(bye is not None and start_line(bye).startswith("SIP/2.0 200"), f"BYE -> {bye!r}")
            # The slot is free once both legs are over (the trunk answered our BYE too).
            harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 5, "the calls to end")
            again = uac.new_call()
            _, ok = _authed(uac, again)
            check(start_line(ok).startswith("SIP/2.0 200"), f"a call after the first ended -> {start_line(ok)}")
            answered += 1
            uac.ack_and_bye(again, ok)

            # max_cps 2: four authenticated INVITEs sent back to back within a second: two pass.
            burst = RawUac(sock, sip, "burst")
            calls, answers = [], []
            for _ in range(4):
                call = burst.new_call()
                _, challenge = burst.invite(call)
                offer = [v for v in header_values(challenge, "proxy-authenticate") if "MD5" in v.upper()][0]
                answers.append(md5_proxy_authorization(offer, "INVITE", burst.uri, "burst", "burstpass", "0a4f113b"))
                calls.append(call)
            t0 = time.monotonic()
            for call, authorization in zip(calls, answers):
                sock.send(burst.invite_request(call, authorization), burst.dest)
            sent_in = time.monotonic() - t0
            finals = [sock.recv_final(20, call["call_id"]) for call in calls]
            lines = [start_line(f) if f else "none" for f in finals]
            check(sent_in < 0.5, f"the burst took {sent_in:.2f} s to send")
            check(sorted(lines) == ["SIP/2.0 200 OK"] * 2 + ["SIP/2.0 503 Service Unavailable"] * 2,
                  f"burst of 4 at max_cps 2 -> {lines}")
            for call, final in zip(calls, finals):
                if start_line(final).startswith("SIP/2.0 200"):
                    burst.ack_and_bye(call, final)
                    answered += 1
                else:
                    to = header_values(final, "to", "t")[0]
                    sock.send(burst._request(call, "ACK", f"z9hG4bK-{call['from_tag']}-{call['cseq']}", to,
                                             cseq=call["cseq"]), burst.dest)
            sos_call = sos.new_call()
            _, sos_ok = _authed(sos, sos_call, "burst", "burstpass")
            check(start_line(sos_ok).startswith("SIP/2.0 200"), f"112 from burst at max_cps -> {start_line(sos_ok)}")
            answered += 1
            sos.ack_and_bye(sos_call, sos_ok)
        text = scrape(http)
        check(_hits(text, "user_calls") == 1, f"user_calls hits {_hits(text, 'user_calls')}")
        check(_hits(text, "user_cps") == 2, f"user_cps hits {_hits(text, 'user_cps')}")
        check(metric(text, "b2bua_calls_total", result="user_limit") == 3, "result=user_limit not 3")
        trunk_r = stop_trunk(s, trunk)
        check(trunk_r.successful == answered, f"the trunk carried {trunk_r.successful} calls, expected {answered}")
        print(f"security_user_limits: max_calls 1 -> the second call 503 (Retry-After 1), 112 answered meanwhile; "
              f"max_cps 2 -> a burst of 4 gave 2 answered and 2 x 503 ({sent_in * 1000:.0f} ms to send), 112 "
              f"answered after; {answered} calls at the trunk")


# The staller's own process: stop, sleep, continue, sleep, until told to end (SIGTERM) or `bound`
# runs out; it always leaves the target running. On exit it prints the longest time the target ran
# between two stops, so a test can tell whether the schedule held.
_STALLER = r"""
import os, signal, sys, time
pid, stop_s, run_s, bound_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
try:
    # Real-time: a loaded machine must not make the stops late, or the target gets long runs.
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    realtime = 1
except (PermissionError, OSError):
    realtime = 0
done = []
signal.signal(signal.SIGTERM, lambda *_: done.append(1))
longest, deadline = 0.0, time.monotonic() + bound_s
try:
    while not done and time.monotonic() < deadline:
        os.kill(pid, signal.SIGSTOP)
        time.sleep(stop_s)
        os.kill(pid, signal.SIGCONT)
        resumed = time.monotonic()
        if done:
            break
        time.sleep(run_s)
        longest = max(longest, time.monotonic() - resumed)
finally:
    os.kill(pid, signal.SIGCONT)
    print(f"{longest * 1000:.0f} {realtime}", flush=True)
"""


class _Staller:
    """Stops and continues a process (SIGSTOP/SIGCONT), `stop_s` stopped out of every `stop_s + run_s`:
    its event loop really falls behind, as under CPU starvation, without any change to the process.
    The schedule is kept by a process of its own at real-time priority (when allowed), not a thread
    of the harness: a thread waits for Python's lock and for a CPU, and a loaded machine once let the
    b2bua run long enough between stops to count as calm. `longest_run_ms` is what was measured."""

    def __init__(self, pid: int, stop_s: float = 0.3, run_s: float = 0.1, bound_s: float = 30):
        self.pid, self.args = pid, [str(pid), str(stop_s), str(run_s), str(bound_s)]
        self.proc: subprocess.Popen | None = None
        self.longest_run_ms, self.realtime = None, False

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", _STALLER, *self.args], stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=5)
            fields = out.split()
            if len(fields) == 2:
                self.longest_run_ms, self.realtime = int(fields[0]), fields[1] == "1"
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            os.kill(self.pid, signal.SIGCONT)
        if exc[0] is not None:
            # A check failed while stalled: whether the schedule held says if the b2bua or the machine erred.
            print(f"[staller] the longest run between two stops was {self.longest_run_ms} ms "
                  f"(real-time priority: {self.realtime})", file=sys.stderr)
        return False


def case_security_overload_admission(binary):
    """The b2bua's event loop made late (the process stopped 300 ms out of every 400 ms): b2bua_overload 1 and
    a log line; a new INVITE gets 503 with Retry-After 7 and no challenge; a call to 112 is admitted; the BYE
    of a call set up before gets 200 and reaches the trunk. Once the loop keeps up again: b2bua_overload 0,
    a log line, and new INVITEs are challenged as usual."""
    sip, http, trunk_port, _ = ports()
    extra = ('security:\n  emergency_numbers: [ "112" ]\n'
             'overload:\n  max_loop_delay_ms: 100\n  retry_after_s: 7\n')
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=extra), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        check(metric(scrape(http), "b2bua_overload") == 0, "overloaded at start")
        with harness.RawUdp(HOST) as sock:
            uac = RawUac(sock, sip, "pbx")
            up = uac.new_call()
            _, ok = _authed(uac, up)
            check(start_line(ok).startswith("SIP/2.0 200"), f"the call set up before -> {start_line(ok)}")
            to, contact = _ack(uac, up, ok)
            with _Staller(b2bua.pid) as staller:
                harness.wait_until(lambda: metric(scrape(http), "b2bua_overload") == 1, 10, "b2bua_overload 1")
                delay = metric(scrape(http), "b2bua_event_loop_delay_seconds")
                check(delay > 0.1, f"b2bua_event_loop_delay_seconds {delay} while stalled")
                refused_at = []
                for _ in range(3):
                    call = uac.new_call()
                    t0 = time.monotonic()
                    _, refused = uac.invite(call)
                    refused_at.append(time.monotonic() - t0)
                    check(start_line(refused).startswith("SIP/2.0 503"), f"new INVITE overloaded -> {start_line(refused)}")
                    check(header_values(refused, "retry-after") == ["7"],
                          f"Retry-After {header_values(refused, 'retry-after')}")
                    check(not header_values(refused, "proxy-authenticate"), "a challenge while overloaded")
                sos = _dialling(RawUac(sock, sip, "sos"), "112", sip)
                sos_call = sos.new_call()
                _, sos_ok = _authed(sos, sos_call)
                check(start_line(sos_ok).startswith("SIP/2.0 200"), f"112 while overloaded -> {start_line(sos_ok)}")
                sos.ack_and_bye(sos_call, sos_ok)
                t0 = time.monotonic()
                bye = _bye(uac, up, to, contact)
                bye_took = time.monotonic() - t0
                check(bye is not None and start_line(bye).startswith("SIP/2.0 200"), f"BYE while overloaded -> {bye!r}")
                check(metric(scrape(http), "b2bua_overload") == 1, "overload ended while the loop was still stalled")
            harness.wait_until(lambda: metric(scrape(http), "b2bua_overload") == 0, 10, "b2bua_overload back to 0")
            _, challenge = uac.invite(uac.new_call())
            check(start_line(challenge).startswith("SIP/2.0 407"), f"new INVITE after overload -> {start_line(challenge)}")
        text = scrape(http)
        check(_hits(text, "overload") == 3, f"overload hits {_hits(text, 'overload')}")
        check(metric(text, "b2bua_calls_total", result="overload") == 3, "result=overload not 3")
        trunk_r = stop_trunk(s, trunk)
        check(len(received(trunk_r, "BYE")) >= 2, "the BYEs did not reach the trunk")
        check(trunk_r.successful == 2, f"the trunk carried {trunk_r.successful} calls, expected 2 (the call and 112)")
        log = b2bua.log()
        check("overload: the SIP event loop runs" in log and "overload over after" in log,
              f"overload log lines missing:\n{log[-3000:]}")
        # The line says where the late interval went: a stopped process neither runs nor waits
        # for a CPU, so most of it is "off".
        account = re.search(r"runs (\d+) ms late.*its thread ran (\d+) ms, waited (\d+) ms for a CPU, off (\d+) ms", log)
        check(account is not None, f"the overload line has no account of the stall:\n{log[-3000:]}")
        late, ran, waited, off = (int(g) for g in account.groups())
        check(off >= late // 2 and ran < late // 2, f"a stopped loop accounted as ran {ran} ms, waited {waited}, off {off} "
              f"of {late} ms late")
        print(f"security_overload_admission: loop stalled 300 ms in 400: overload entered (loop delay {delay:.2f} s), "
              f"3 new INVITEs 503 Retry-After 7 without a challenge ({max(refused_at) * 1000:.0f} ms at most), 112 "
              f"answered, BYE of the call up 200 in {bye_took * 1000:.0f} ms; overload left, INVITEs challenged again; "
              f"the stall accounted as ran {ran} ms, waited {waited} ms, off {off} ms; the staller (real-time "
              f"{staller.realtime}) let it run {staller.longest_run_ms} ms at most between stops")


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _setup_times(uac: RawUac, calls: int, pause_s: float = 0.05) -> list[float]:
    """`calls` calls one after another: the time from the first INVITE to the 200 (challenge included), each
    call then ended with ACK and BYE."""
    times = []
    for _ in range(calls):
        call = uac.new_call()
        t0 = time.monotonic()
        _, ok = _authed(uac, call)
        times.append(time.monotonic() - t0)
        check(start_line(ok).startswith("SIP/2.0 200"), f"a legitimate call -> {start_line(ok)}")
        uac.ack_and_bye(call, ok)
        time.sleep(pause_s)
    return times


def _flood(sip: int, rate: int, seconds: float, stop: threading.Event, sent: list[int]):
    """Spoofed-source INVITEs: raw UDP from 250 addresses of 127.77.0.0/16 (each its own Call-ID and branch),
    `rate` a second in bursts every 10 ms, for at most `seconds`."""
    socks = []
    try:
        for i in range(250):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((f"127.77.{i // 250}.{i % 250 + 1}", 0))
            socks.append(sock)
        n = 0
        t0 = time.monotonic()
        while not stop.is_set() and time.monotonic() - t0 < seconds:
            due = int((time.monotonic() - t0) * rate)
            while n < due:
                sock = socks[n % len(socks)]
                host, port = sock.getsockname()
                body = ("v=0\r\no=x 1 1 IN IP4 {h}\r\ns=-\r\nc=IN IP4 {h}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
                        .format(h=host))
                msg = (f"INVITE sip:00882{n:08d}@{HOST}:{sip} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-flood-{n}\r\nMax-Forwards: 70\r\n"
                       f"From: <sip:{n}@{host}>;tag=f{n}\r\nTo: <sip:00882{n:08d}@{HOST}>\r\n"
                       f"Call-ID: flood-{n}@{host}\r\nCSeq: 1 INVITE\r\nContact: <sip:{n}@{host}:{port}>\r\n"
                       f"User-Agent: pbx\r\nContent-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}")
                try:
                    sock.sendto(msg.encode(), (HOST, sip))
                except OSError:
                    pass
                n += 1
            time.sleep(0.01)
    finally:
        sent.append(n)
        for sock in socks:
            sock.close()


def case_security_invite_flood(binary):
    """A spoofed-source INVITE flood (raw UDP from 250 addresses, 400 a second, 10x the legitimate calls' rate)
    for 45 s: the PBX's calls keep their setup time (first INVITE to 200, challenge included) within 2x of
    the quiet figure, and the b2bua's memory is flat after warm-up (the 32 s of Timer H of the first flood
    challenges): RSS at the end within 10% of RSS at 35 s."""
    sip, http, trunk_port, _ = ports()
    rate, seconds = 400, 45
    with Session(binary) as s:
        b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port, algorithms="[MD5]",
                                          extra="security:\n  trusted: [ \"127.0.0.1/32\" ]\n"), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        with harness.RawUdp(HOST) as sock:
            uac = RawUac(sock, sip, "pbx")
            _setup_times(uac, 5)  # warm-up
            quiet = _setup_times(uac, 40)
            rss_start = _rss_kib(b2bua.pid)
            stop, sent = threading.Event(), []
            flood = threading.Thread(target=_flood, args=(sip, rate, seconds, stop, sent), daemon=True)
            t0 = time.monotonic()
            flood.start()
            try:
                rss = []
                under = []
                while time.monotonic() - t0 < seconds - 2:
                    under += _setup_times(uac, 4, pause_s=0.2)
                    rss.append((time.monotonic() - t0, _rss_kib(b2bua.pid)))
            finally:
                stop.set()
                flood.join(10)
        quiet_median, under_median = statistics.median(quiet), statistics.median(under)
        under_p90 = sorted(under)[int(len(under) * 0.9)]
        warm = [kib for at, kib in rss if at >= 35]
        check(warm, f"no RSS sample after 35 s: {rss}")
        growth = (warm[-1] - warm[0]) / warm[0]
        text = scrape(http)
        transactions = metric(text, "b2bua_sip_transactions")
        stop_trunk(s, trunk)
        check(sent and sent[0] >= rate * (seconds - 5), f"the flood sent only {sent} INVITEs")
        check(under_median <= 2 * quiet_median,
              f"setup time under the flood {under_median * 1000:.1f} ms (median of {len(under)}) is more than 2x the "
              f"quiet {quiet_median * 1000:.1f} ms")
        check(growth <= 0.10, f"RSS grew {growth * 100:.1f}% after warm-up: {rss}")
        print(f"security_invite_flood: {sent[0]} spoofed INVITEs in {seconds} s ({rate}/s from 250 addresses); "
              f"legitimate setup median {quiet_median * 1000:.1f} ms quiet, {under_median * 1000:.1f} ms under the "
              f"flood (p90 {under_p90 * 1000:.1f} ms, {len(under)} calls); RSS {rss_start} KiB before, "
              f"{warm[0]} KiB at 35 s, {warm[-1]} KiB at {rss[-1][0]:.0f} s ({growth * 100:+.1f}%); "
              f"{transactions:.0f} transactions held at the end")
