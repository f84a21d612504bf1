"""End-to-end cases with several workers (sip.workers: 2): the calls spread over both event loops,
every message of a call reaches the loop that owns it (responses by our Via branch, in-dialog
requests by our tag, an answer to a challenge by its nonce, new dialogs by their Call-ID).

Loaded by test_e2e.py, which puts its helpers (check, Session, config_yaml, RawUac...) in this
module's namespace.
"""

from __future__ import annotations

import base64
import re
import time

import harness
from harness import HOST, TRUNK_HOST, header_values, metric, scrape, start_line


TOKEN = "e2e-workers-token-0123456789"


def admin(http: int, method: str, path: str, body=None) -> tuple[int, dict | None]:
    return harness.admin_request(http, method, path, body, TOKEN)


def with_workers(text: str, n: int) -> str:
    return text.replace("sip:\n", f"sip:\n  workers: {n}\n", 1)


def worker_of_tag(tag: str) -> int | None:
    """The worker our tags and branches name: their last two hex digits (sip::token_worker)."""
    m = re.fullmatch(r"(?:z9hG4bK)?([0-9a-f]{16}|[0-9a-f]{32})", tag)
    return int(tag[-2:], 16) if m else None


def tag_of(header: str) -> str:
    m = re.search(r";\s*tag=([^;>\s]+)", header)
    return m.group(1) if m else ""


def nonce_worker(nonce: str) -> int:
    """The worker a nonce names: the top byte of its sequence, raw byte 8 (auth::nonce_worker)."""
    raw = base64.urlsafe_b64decode(nonce[:12])
    return raw[8]


def call_id_worker(call_id: str, workers: int) -> int:
    """Where a new dialog lands: FNV-1a (64 bits) of its Call-ID, mixed (b2bua::call_id_hash)."""
    mask = 0xFFFFFFFFFFFFFFFF
    h = 0xcbf29ce484222325
    for b in call_id.encode():
        h ^= b
        h = (h * 0x100000001b3) & mask
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & mask
    return h % workers


def spread_call_ids(calls: int, workers: int) -> str:
    """A SIPp -cid_str ("%u" is the call's number) whose first `calls` Call-IDs land on every
    worker by their hash: a check that the calls spread then cannot fail by chance."""
    for n in range(1000):
        pattern = f"%u-spread{n}@{HOST}"
        if {call_id_worker(pattern.replace("%u", str(i)), workers) for i in range(1, calls + 1)} == set(range(workers)):
            return pattern
    raise AssertionError("no Call-ID pattern spreads")


def case_workers_calls(binary):
    """sip.workers: 2. 200 authenticated calls both ways spread over both workers with nothing
    failed or leaked; a PBX reusing its nonce on a new Call-ID (another worker's by hash) is
    carried by the worker that issued the nonce; CANCEL and the trunk's BYE find their calls."""
    calls = 200
    sip, http, trunk_port, pbx_port = ports()
    extra = (f'inbound_routes:\n  - {{ prefix: "+4930", to: "sip:{HOST}:{pbx_port}", name: office, strip: 3, '
             f'prepend: "0" }}\nadmin:\n  token: "{TOKEN}"\n')
    text = with_workers(config_yaml(sip, http, trunk_port, algorithms="[MD5]", extra=extra), 2)
    with Session(binary) as s:
        s.start_b2bua(text, sip, http)

        # 1. Calls from the PBX, challenged on both legs.
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", calls, 40)
        all_passed(pbx, trunk_r, calls)
        # One tag per call: our To tag in the 200s to the PBX (INVITE's and BYE's alike).
        leg_a = [worker_of_tag(t) for t in {tag_of(header_values(m, "to", "t")[0]) for m in received(pbx, "SIP/2.0 200")}]
        check(len(leg_a) == calls, f"{len(leg_a)} distinct To tags for {calls} calls")
        leg_b = [worker_of_tag(tag_of(header_values(m, "from", "f")[0])) for m in received(trunk_r, "INVITE")]
        check(None not in leg_a and None not in leg_b, "a tag of ours does not name its worker")
        spread = {w: leg_a.count(w) for w in (0, 1)}
        check(set(leg_a) == {0, 1} and set(leg_b) == {0, 1}, f"the calls did not spread over both workers: {spread}")
        for m in [msg for d, msg in trunk_r.messages if d == "received"]:
            check(via_count(m) == 1 and f"{HOST}:{sip}" in header_values(m, "via", "v")[0],
                  f"the trunk got another Via than the B2BUA's one port:\n{m}")
        metrics_text = scrape(http)
        check(metric(metrics_text, "b2bua_calls_total", trunk="carrier", result="answered") == calls,
              "answered calls are not summed over the workers")
        check(metric(metrics_text, "b2bua_auth_failures_total") == 0, "auth failures on good calls")

        # 2. A PBX that reuses its nonce on a new call whose Call-ID hashes to the other worker.
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST)
        with harness.RawUdp(HOST) as sock:
            uac = RawUac(sock, sip, "reuse")
            first = uac.new_call()
            _, challenge = uac.invite(first)
            check(start_line(challenge).startswith("SIP/2.0 407"), f"first INVITE -> {start_line(challenge)}")
            offer = header_values(challenge, "proxy-authenticate")[0]
            issued_by = nonce_worker(digest_params(offer)["nonce"])
            second = uac.new_call()
            while call_id_worker(second["call_id"], 2) == issued_by:
                second = uac.new_call()
            authorization = md5_proxy_authorization(offer, "INVITE", uac.uri, "pbxuser", "pbxpass", "c0ffee01")
            _, ok = uac.invite(second, authorization)
            check(start_line(ok).startswith("SIP/2.0 200"), f"the reused nonce on a new call -> {start_line(ok)}")
            carried_by = worker_of_tag(tag_of(header_values(ok, "to", "t")[0]))
            check(carried_by == issued_by, f"worker {carried_by} carried the call, the nonce is worker {issued_by}'s")
            uac.ack_and_bye(second, ok)
        stop_trunk(s, trunk)

        # 3. CANCEL while ringing, and the trunk's BYE, spread over both workers.
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SCENARIOS / "pbx_cancel_while_ringing.xml",
                                 SCENARIOS / "trunk_ring_expect_cancel.xml", 10, 10)
        all_passed(pbx, trunk_r, 10)
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SCENARIOS / "pbx_answered_expect_bye.xml",
                                 SCENARIOS / "trunk_answer_then_bye.xml", 10, 10)
        all_passed(pbx, trunk_r, 10)

        # 4. Calls from the trunk to the PBX (no challenge), 20 of them.
        pbx_srv = s.start_sipp_server("pbx", SHARED_SCENARIOS / "uas_plain.xml", pbx_port, local_ip=HOST)
        trunk = s.start_sipp("trunk", SHARED_SCENARIOS / "uac_plain.xml", trunk_port,
                             ["-s", "+4930111", "-m", "20", "-r", "10", "-d", "200"],
                             remote=f"{HOST}:{sip}", local_ip=TRUNK_HOST)
        rc = s.wait_sipp(trunk, 60)
        inbound = s.sipp_result(trunk)
        pbx_r = stop_trunk(s, pbx_srv)
        check(rc == 0 and inbound.successful == 20 and pbx_r.successful == 20,
              f"inbound: rc {rc}, trunk {inbound.successful}, PBX {pbx_r.successful} successful\n{inbound.errors[-2000:]}")
        inbound_workers = {worker_of_tag(tag_of(header_values(m, "from", "f")[0])) for m in received(pbx_r, "INVITE ")}
        check(inbound_workers == {0, 1}, f"inbound calls went to workers {inbound_workers}")

        # 5. The admin API sees the calls of both workers, pages through them by id, finds and ends
        #    one held by worker 1, and a change reaches every worker before its answer.
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the calls before to end")
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST,
                                    extra=["-d", "6000"])
        held = s.start_sipp("pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                            ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", "10", "-r", "20", "-d", "6000",
                             "-cid_str", spread_call_ids(10, 2)],
                            remote=f"{HOST}:{sip}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 10, 10, "10 calls up")
        code, carrier = admin(http, "GET", "/api/v1/trunks/carrier")
        check(code == 200 and carrier["status"]["active_calls"] == 10,
              f"GET /api/v1/trunks/carrier does not count both workers' calls: {code} {carrier}")
        # A trunk's max_calls holds for the process: at 10 of 10, no new call gets through on
        # either worker (8 Call-IDs chosen to land on both).
        code, doc = admin(http, "PATCH", "/api/v1/trunks/carrier", {"max_calls": 10})
        check(code == 200 and doc["max_calls"] == 10, f"PATCH carrier max_calls: {code} {doc}")
        hits = metric(scrape(http), "b2bua_limit_hits_total", limit="trunk")
        extra = s.start_sipp("pbx_over", SHARED_SCENARIOS / "pbx_uac_auth.xml", harness.free_port(),
                             ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", "8", "-r", "50",
                              "-cid_str", spread_call_ids(8, 2)], remote=f"{HOST}:{sip}")
        s.wait_sipp(extra, 20)
        refused = metric(scrape(http), "b2bua_limit_hits_total", limit="trunk") - hits
        check(refused == 8 and metric(scrape(http), "b2bua_active_calls") == 10,
              f"at max_calls 10 with 10 up, {refused:.0f} of 8 new calls were refused for the trunk's limit")
        ids, after = [], None
        for _ in range(5):
            code, page = admin(http, "GET", "/api/v1/calls?limit=4" + (f"&after={after}" if after else ""))
            check(code == 200, f"GET /api/v1/calls: {code} {page}")
            ids += [int(c["id"]) for c in page["calls"]]
            after = page["next"]
            if after is None:
                break
        check(len(ids) == 10 and ids == sorted(ids), f"the pages listed {ids}")
        on_worker = {w: [i for i in ids if (i - 1) % 2 == w] for w in (0, 1)}
        check(on_worker[0] and on_worker[1], f"the calls listed are not on both workers: {on_worker}")
        victim = on_worker[1][0]
        code, found = admin(http, "GET", f"/api/v1/calls/{victim}")
        check(code == 200 and int(found["id"]) == victim, f"GET call {victim} of worker 1: {code} {found}")
        code, ended = admin(http, "DELETE", f"/api/v1/calls/{victim}")
        check(code == 202 and ended["action"] == "bye", f"DELETE call {victim}: {code} {ended}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 9, 10, "the ended call to go")
        code, doc = admin(http, "PUT", "/api/v1/routes", {"routes": [{"prefix": "", "trunk": "carrier"}]})
        check(code == 200, f"PUT routes with calls on both workers: {code} {doc}")
        s.wait_sipp(held, 30)
        stop_trunk(s, trunk)

        # 6. An operator's ban holds on every worker's sockets: from many source ports (the kernel
        #    spreads them over both workers' sockets) nothing is answered; after the unban, all are.
        bans_before = metric(scrape(http), "b2bua_bans_total")
        code, doc = admin(http, "POST", "/api/v1/bans", {"source": "127.0.0.3", "duration_s": 60})
        check(code == 201, f"POST /api/v1/bans: {code} {doc}")

        def options_answered(n: int) -> int:
            answered = 0
            for i in range(n):
                with harness.RawUdp("127.0.0.3") as probe:
                    call_id = f"ban-probe-{i}-{probe.port}@127.0.0.3"
                    probe.send((f"OPTIONS sip:{HOST}:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3:{probe.port};"
                                f"branch=z9hG4bK-probe-{i}-{probe.port}\r\nFrom: <sip:probe@127.0.0.3>;tag=p{i}\r\n"
                                f"To: <sip:{HOST}:{sip}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
                                f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"), (HOST, sip))
                    if probe.recv(0.5, call_id) is not None:
                        answered += 1
            return answered

        banned_answers = options_answered(8)
        check(banned_answers == 0, f"{banned_answers} of 8 probes from a banned source were answered")
        # Every worker's gate holds the ban; one speaks for it.
        bans = metric(scrape(http), "b2bua_bans_total") - bans_before
        check(bans == 1 and metric(scrape(http), "b2bua_banned_sources") == 1,
              f"one operator's ban counted {bans:.0f} times in b2bua_bans_total")
        code, doc = admin(http, "DELETE", "/api/v1/bans/127.0.0.3")
        check(code == 204, f"DELETE /api/v1/bans/127.0.0.3: {code} {doc}")
        time.sleep(0.2)  # the unban reaches the other worker by a post
        check(options_answered(8) == 8, "probes after the unban went unanswered")

        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "every call to end")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_sip_transactions") == 0, 40, "every transaction to end")
    print(f"workers_calls: {calls} calls over 2 workers ({spread[0]} on 0, {spread[1]} on 1), a reused nonce "
          f"carried by its worker {issued_by}, 10 CANCELs and 10 trunk BYEs, 20 inbound calls on both; the admin API "
          f"paged 10 calls of both workers and ended call {victim} of worker 1")


def case_workers_registrar_tcp(binary):
    """sip.workers: 2 with a PBX registered over TCP (its connection is worker 0's, which reads the
    streams): calls from the trunk to the registered account land on both workers by Call-ID, and
    each reaches the PBX on the connection it registered on (worker 1 writes through worker 0),
    with the PBX's answers carried back to the worker that owns each call."""
    from cases_tcp import SDP, Stream, response_to  # the raw TCP peer of the TCP cases

    calls = 12
    sip, http, trunk_port, _ = ports()
    registrar = "{ min_expires: 60, max_expires: 3600, default_expires: 600, keepalive_s: 30 }"
    text = registrar_config(sip, http, trunk_port, registrar)
    text = text.replace(f'[ "udp://{HOST}:{sip}" ]', f'[ "udp://{HOST}:{sip}", "tcp://{HOST}:{sip}" ]')
    check(f'"tcp://{HOST}:{sip}"' in text, "the configuration does not listen on TCP")
    with Session(binary) as s:
        s.start_b2bua(with_workers(text, 2), sip, http)
        raw = harness.socket.socket(harness.socket.AF_INET, harness.socket.SOCK_STREAM)
        raw.bind((HOST, 0))
        raw.settimeout(5)
        raw.connect((HOST, sip))
        pbx = Stream(raw, "pbx")
        port = raw.getsockname()[1]
        aor, registrar_uri = f"sip:pbxuser@{HOST}:{sip}", f"sip:{HOST}:{sip}"

        def register(cseq: int, authorization: str = "") -> str:
            pbx.send(f"REGISTER {registrar_uri};transport=tcp SIP/2.0\r\n"
                     f"Via: SIP/2.0/TCP {HOST}:{port};branch=z9hG4bK-wreg-{cseq}\r\n"
                     "Max-Forwards: 70\r\n"
                     f"From: <{aor}>;tag=wreg\r\nTo: <{aor}>\r\nCall-ID: wreg-{port}@{HOST}\r\n"
                     f"CSeq: {cseq} REGISTER\r\nContact: <sip:pbxuser@{HOST}:{port};transport=tcp>\r\n"
                     "Expires: 600\r\n" + (f"Authorization: {authorization}\r\n" if authorization else "")
                     + "Content-Length: 0\r\n\r\n")
            while True:
                msg = pbx.recv(5)
                check(msg is not None, f"no answer to REGISTER {cseq} over TCP")
                if not start_line(msg).startswith("SIP/2.0 1"):
                    return msg

        challenge = register(1)
        check(start_line(challenge).startswith("SIP/2.0 401"), f"REGISTER over TCP -> {start_line(challenge)}")
        answer = md5_proxy_authorization(md5_offers(challenge)[0], "REGISTER", f"{registrar_uri};transport=tcp",
                                         "pbxuser", "pbxpass", "c0ffee02")
        ok = register(2, answer)
        check(start_line(ok).startswith("SIP/2.0 200"), f"REGISTER with credentials over TCP -> {start_line(ok)}")

        trunk = s.start_sipp("trunk", SHARED_SCENARIOS / "uac_plain.xml", harness.free_port(host=TRUNK_HOST),
                             ["-s", "+4930111", "-m", str(calls), "-r", "20", "-d", "300", "-timeout", "40s",
                              "-recv_timeout", "10000", "-cid_str", spread_call_ids(calls, 2)],
                             remote=f"{HOST}:{sip}", local_ip=TRUNK_HOST)
        # The PBX: every INVITE answered 200 with an answer, every BYE 200, all on its one connection.
        invite_workers, byes, deadline = [], 0, time.monotonic() + 40
        while byes < calls and time.monotonic() < deadline:
            msg = pbx.recv(1)
            if msg is None:
                continue
            line = start_line(msg)
            if line.startswith("INVITE "):
                invite_workers.append(worker_of_tag(tag_of(header_values(msg, "from", "f")[0])))
                body = SDP.format(host=HOST)
                pbx.send(response_to(msg, 200, "OK", f"pbx{len(invite_workers)}",
                                     f"Contact: <sip:pbxuser@{HOST}:{port};transport=tcp>\r\n", body))
            elif line.startswith("BYE "):
                byes += 1
                pbx.send(response_to(msg, 200, "OK"))
        rc = s.wait_sipp(trunk, 30)
        result = s.sipp_result(trunk)
        check(rc == 0 and result.successful == calls,
              f"trunk: rc {rc}, {result.successful} of {calls} successful\n{result.errors[-3000:]}")
        check(len(invite_workers) == calls and byes == calls,
              f"the PBX got {len(invite_workers)} INVITEs and {byes} BYEs on its connection, expected {calls} each")
        check(set(invite_workers) == {0, 1}, f"the calls to the registered PBX were placed by workers {invite_workers}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "every call to end")
        pbx.close()
    print(f"workers_registrar_tcp: PBX registered over TCP; {calls} trunk calls to it placed by workers "
          f"{sorted(set(invite_workers))} ({invite_workers.count(1)} by worker 1, written on worker 0's connection), "
          "all answered and ended")
