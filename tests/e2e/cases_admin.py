"""End-to-end cases of the REST admin API on the real binary: every resource with its errors,
secrets never shown, changes on disk before the 2xx (kill -9 right after it loses nothing),
export/import, and `b2buactl why` naming what went wrong for real failed calls.

Loaded by test_e2e.py, which puts its helpers (check, Session, config_yaml, sipp_calls...) in this
module's namespace.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import harness
from harness import HOST, TRUNK_HOST

ADMIN_TOKEN = "e2e-admin-token-0123456789"


def api(http: int, method: str, path: str, body=None, token: str | None = ADMIN_TOKEN, raw: bytes | None = None,
        content_type: str = "application/json", auth: str | None = None) -> tuple[int, dict | None, dict]:
    """One request to the admin API: (status, JSON body or None, headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://{HOST}:{http}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if auth is not None:
        req.add_header("Authorization", auth)
    elif token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None), dict(r.headers)
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        return e.code, doc, dict(e.headers)


def admin_config(sip: int, http: int, trunk_port: int, extra: str = "", **kw) -> str:
    return config_yaml(sip, http, trunk_port, extra=f'admin:\n  token: "{ADMIN_TOKEN}"\n' + extra, **kw)


def ctl(binary: Path, http: int, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("B2BUA_ADMIN_TOKEN", "B2BUA_URL", "NO_COLOR")}
    env["B2BUA_ADMIN_TOKEN"] = ADMIN_TOKEN
    return subprocess.run([str(binary.parent / "b2buactl"), "--url", f"http://{HOST}:{http}", *args], env=env,
                          capture_output=True, text=True, timeout=30, check=False)


def case_admin_api_resources(binary: Path):
    """Every resource and its error answers: 401/403 without the token, 400 naming the field, 404,
    405 with Allow, 409, 413, 415, 422; secrets write-only; a trunk added through the API takes a
    SIPp call at once, which then shows in /cdrs; the audit log holds every change and no secret."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        b2bua = s.start_b2bua(admin_config(sip, http, trunk_port), sip, http)
        # Authorisation: none, wrong, Basic with the token as password.
        code, doc, headers = api(http, "GET", "/api/v1/trunks", token=None)
        check(code == 401 and "error" in doc and "Bearer" in headers.get("WWW-Authenticate", ""),
              f"no token: {code} {doc} {headers}")
        code, doc, _ = api(http, "GET", "/api/v1/trunks", token="wrong")
        check(code == 401, f"wrong token: {code}")
        basic = "Basic " + base64.b64encode(f"admin:{ADMIN_TOKEN}".encode()).decode()
        code, doc, _ = api(http, "GET", "/api/v1/trunks", auth=basic)
        check(code == 200, f"Basic with the token: {code}")
        check(urllib.request.urlopen(f"http://{HOST}:{http}/metrics", timeout=5).status == 200, "/metrics needs no token")
        check(urllib.request.urlopen(f"http://{HOST}:{http}/readyz", timeout=5).read() == b"ready\n", "/readyz not ready")

        # Secrets are write-only.
        code, doc, _ = api(http, "GET", "/api/v1/trunks/carrier")
        check(code == 200 and doc["password"] == "***" and doc["password_set"] is True, f"GET carrier: {doc}")
        check("trunkpass" not in json.dumps(doc), "the trunk password was shown")
        code, doc, _ = api(http, "GET", "/api/v1/users")
        check(code == 200 and doc["users"][0]["username"] == "pbxuser" and "password" not in doc["users"][0],
              f"GET users: {doc}")

        # Errors.
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "acme", "uri": "sip:"})
        check(code == 400 and doc["field"] == "uri", f"bad uri: {code} {doc}")
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "acme", "uri": "sip:127.0.0.3:5060", "colour": 1})
        check(code == 400 and doc["field"] == "colour", f"unknown key: {code} {doc}")
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"uri": "sip:127.0.0.3:5060"})
        check(code == 400 and doc["field"] == "name", f"no name: {code} {doc}")
        code, doc, _ = api(http, "POST", "/api/v1/trunks", raw=b"{not json", content_type="application/json")
        check(code == 400 and "JSON" in doc["error"], f"bad JSON: {code} {doc}")
        code, doc, _ = api(http, "POST", "/api/v1/trunks", raw=b"name=acme", content_type="text/plain")
        check(code == 415, f"not JSON: {code} {doc}")
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "carrier", "uri": "sip:127.0.0.3:5060"})
        check(code == 409, f"duplicate: {code} {doc}")
        code, doc, _ = api(http, "PUT", "/api/v1/routes", {"routes": [{"prefix": "", "trunk": "nobody"}]})
        check(code == 422 and "nobody" in doc["error"], f"route to an unknown trunk: {code} {doc}")
        code, doc, headers = api(http, "POST", "/api/v1/routes", {"routes": []})
        check(code == 405 and headers.get("Allow") == "GET, PUT", f"405: {code} {headers}")
        code, doc, _ = api(http, "GET", "/api/v1/trunks/nobody")
        check(code == 404, f"404: {code}")
        code, doc, _ = api(http, "GET", "/api/v1/nothing")
        check(code == 404, f"404 resource: {code}")
        try:
            code, doc, _ = api(http, "POST", "/api/v1/trunks", raw=b"x" * (10 * 1024 * 1024))
        except (ConnectionError, OSError):
            code = 413  # the server may close while the client still sends: the answer raced the reset
        check(code == 413, f"10 MB body: {code}")

        # A trunk added at run time takes calls at once; the old one goes.
        code, doc, _ = api(http, "POST", "/api/v1/trunks",
                           {"name": "acme", "uri": f"sip:{TRUNK_HOST}:{trunk_port}", "username": "trunkuser",
                            "password": "trunkpass"})
        check(code == 201 and doc["password"] == "***", f"POST acme: {code} {doc}")
        code, doc, _ = api(http, "PUT", "/api/v1/routes", {"routes": [{"prefix": "", "trunk": "acme"}]})
        check(code == 200, f"PUT routes: {code} {doc}")
        code, doc, _ = api(http, "DELETE", "/api/v1/trunks/carrier")
        check(code == 204, f"DELETE carrier: {code} {doc}")
        code, doc, _ = api(http, "PATCH", "/api/v1/trunks/acme", {"password": "***", "max_calls": 10})
        check(code == 200 and doc["max_calls"] == 10 and doc["password_set"], f"PATCH acme: {code} {doc}")
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", 3, 3)
        all_passed(pbx, trunk_r, 3)
        text = scrape(http)
        check(metric(text, "b2bua_calls_total", trunk="acme", result="answered") == 3, "calls did not go through acme")

        code, doc, _ = api(http, "GET", "/api/v1/cdrs?limit=10")
        check(code == 200 and len(doc["cdrs"]) == 3, f"cdrs: {code} {doc}")
        cdr = doc["cdrs"][0]
        check(cdr["trunk"] == "acme" and cdr["result"] == "answered" and cdr["status"] == 200 and cdr["answer"]
              and cdr["hangup_by"] in ("caller", "callee") and cdr["inbound_call_id"] and cdr["outbound_call_id"],
              f"cdr: {cdr}")
        code, doc, _ = api(http, "GET", "/api/v1/calls")
        check(code == 200 and doc["calls"] == [] and doc["next"] is None, f"calls: {doc}")
        code, doc, _ = api(http, "DELETE", "/api/v1/calls/12345")
        check(code == 404, f"DELETE unknown call: {code}")
        code, doc, _ = api(http, "PUT", "/api/v1/log-level", {"level": "debug"})
        check(code == 200, f"log level: {code} {doc}")
        code, doc, _ = api(http, "PUT", "/api/v1/log-level", {"level": "loud"})
        check(code == 400 and doc["field"] == "level", f"bad log level: {code} {doc}")
        code, doc, _ = api(http, "POST", "/api/v1/reload")
        check(code == 200 and "log.level" in doc["reloaded"], f"reload: {code} {doc}")

        code, doc, _ = api(http, "GET", "/api/v1/audit")
        ops = [a["operation"] for a in doc["audit"]]
        for op in ("POST /api/v1/trunks", "PUT /api/v1/routes", "DELETE /api/v1/trunks/carrier",
                   "PATCH /api/v1/trunks/acme", "POST /api/v1/reload"):
            check(op in ops, f"{op} not in the audit log: {ops}")
        check("trunkpass" not in json.dumps(doc), "a secret in the audit log")
        check(all(a["remote"].startswith(HOST) for a in doc["audit"]), f"audit remote: {doc['audit'][:2]}")
        check("trunkpass" not in b2bua.log(), "a secret in the log")
        print(f"admin_api_resources: every error answered as documented, acme added and routed (3 calls), "
              f"{len(ops)} audit entries")


def case_admin_api_persistence(binary: Path):
    """A 2xx means on disk: kill -9 right after it, restart, and the change is there (and in
    --export-config); --import-config --dry-run prints the differences and changes nothing."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        cfg = admin_config(sip, http, trunk_port)
        b2bua = s.start_b2bua(cfg, sip, http)
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "backup", "uri": "sip:127.0.0.3:5090",
                                                             "username": "b", "password": "backup-secret"})
        check(code == 201, f"POST backup: {code} {doc}")
        code, doc, _ = api(http, "PUT", "/api/v1/routes", {"routes": [{"prefix": "", "trunks": ["carrier", "backup"]}]})
        check(code == 200, f"PUT routes: {code} {doc}")
        os.kill(b2bua.pid, signal.SIGKILL)
        b2bua.popen.wait(timeout=10)
        s.processes.remove(b2bua)

        b2bua = s.start_b2bua(cfg, sip, http)
        code, doc, _ = api(http, "GET", "/api/v1/trunks")
        names = [t["name"] for t in doc["trunks"]]
        check(sorted(names) == ["backup", "carrier"], f"after kill -9 and restart: {names}")
        code, doc, _ = api(http, "GET", "/api/v1/routes")
        check(doc["routes"] == [{"prefix": "", "trunks": ["carrier", "backup"]}], f"routes after restart: {doc}")
        exported = subprocess.run([str(binary), "--export-config", "--config", str(s.workdir / "b2bua.yaml")],
                                  capture_output=True, text=True, timeout=20)
        check(exported.returncode == 0 and "backup-secret" in exported.stdout and "127.0.0.3:5090" in exported.stdout,
              f"export: {exported.returncode} {exported.stderr}\n{exported.stdout}")
        # The export is a configuration file again: checked, then imported (dry run) with a change.
        export_file = s.workdir / "exported.yaml"
        export_file.write_text(exported.stdout.replace("backup-secret", "rotated-secret"))
        checked = subprocess.run([str(binary), "--check-config", str(export_file)], capture_output=True, text=True,
                                 timeout=20)
        check(checked.returncode == 0, f"the export does not check: {checked.stderr}")
        dry = subprocess.run([str(binary), "--import-config", str(export_file), "--dry-run", "--config",
                              str(s.workdir / "b2bua.yaml")], capture_output=True, text=True, timeout=20)
        check(dry.returncode == 0 and "trunk backup: changed" in dry.stdout and "dry run" in dry.stdout,
              f"import --dry-run: {dry.returncode} {dry.stdout} {dry.stderr}")
        bad = s.workdir / "bad.yaml"
        bad.write_text(exported.stdout.replace('trunks:\n      - carrier', 'trunks:\n      - nobody'))
        refused = subprocess.run([str(binary), "--import-config", str(bad), "--config", str(s.workdir / "b2bua.yaml")],
                                 capture_output=True, text=True, timeout=20)
        check(refused.returncode == 1 and "nothing imported" in refused.stderr, f"bad import: {refused.stderr}")
        code, doc, _ = api(http, "GET", "/api/v1/audit")
        check(any(a["operation"] == "POST /api/v1/trunks" for a in doc["audit"]), "audit lost over the restart")
        print("admin_api_persistence: a trunk and a route survive kill -9 right after their 2xx; export, check, "
              "import --dry-run")


def case_admin_api_off(binary: Path):
    """No token configured: every /api/v1 path answers 403 saying how to enable it, and the log says so."""
    sip, http, trunk_port, _ = ports()
    env_token = os.environ.pop("B2BUA_ADMIN_TOKEN", None)
    try:
        with Session(binary) as s:
            b2bua = s.start_b2bua(config_yaml(sip, http, trunk_port), sip, http)
            for path in ("/api/v1/trunks", "/api/v1/calls", "/api/v1/nothing"):
                code, doc, _ = api(http, "GET", path)
                check(code == 403 and "admin.token_file" in doc["error"], f"{path}: {code} {doc}")
            check("the admin API is off" in b2bua.log(), "no warning that the API is off")
            check(urllib.request.urlopen(f"http://{HOST}:{http}/healthz", timeout=5).status == 200, "/healthz")
    finally:
        if env_token is not None:
            os.environ["B2BUA_ADMIN_TOKEN"] = env_token
    print("admin_api_off: 403 with the way to enable it on every /api/v1 path")


def raw_invite_with_realm(sip: int, realm: str) -> str:
    """An INVITE answered with credentials for `realm` (not ours); returns the final status line."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.settimeout(3)
    port = sock.getsockname()[1]
    with sock:
        def invite(cseq: int, auth: str = "") -> str:
            return (f"INVITE sip:1000@{HOST}:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bKrealm{cseq}\r\n"
                    f"Max-Forwards: 70\r\nFrom: <sip:pbxuser@{HOST}>;tag=r1\r\nTo: <sip:1000@{HOST}>\r\n"
                    f"Call-ID: realm-mismatch@{HOST}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:pbxuser@{HOST}:{port}>\r\n"
                    f"{auth}Content-Length: 0\r\n\r\n")
        sock.sendto(invite(1).encode(), (HOST, sip))
        challenge = sock.recv(65535).decode()
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
        ha1 = hashlib.md5(f"pbxuser:{realm}:pbxpass".encode()).hexdigest()
        ha2 = hashlib.md5(f"INVITE:sip:1000@{HOST}:{sip}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        auth = (f'Proxy-Authorization: Digest username="pbxuser", realm="{realm}", nonce="{nonce}", '
                f'uri="sip:1000@{HOST}:{sip}", response="{response}"\r\n')
        sock.sendto(invite(2, auth).encode(), (HOST, sip))
        while True:
            reply = sock.recv(65535).decode()
            if not reply.startswith("SIP/2.0 1"):
                return reply.split("\r\n", 1)[0]


def case_admin_why(binary: Path):
    """`b2buactl why` after a wrong password, an unknown user, a wrong realm and a provider refusing
    our credentials prints the four hints, newest first; the API filters and sums them up."""
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(admin_config(sip, http, trunk_port, trunk_password="stale-password"), sip, http)
        pbx = sipp_calls(s, "pbx1", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1,
                         ["-au", "pbxuser", "-ap", "not-the-password"])
        check(statuses(pbx)[-1] == 403, f"wrong password: {statuses(pbx)}")
        pbx = sipp_calls(s, "pbx2", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1,
                         ["-au", "nobody", "-ap", "whatever"])
        check(statuses(pbx)[-1] == 403, f"unknown user: {statuses(pbx)}")
        status = raw_invite_with_realm(sip, "other.realm")
        check(status.startswith("SIP/2.0 403"), f"wrong realm: {status}")
        trunk = s.start_sipp_server("trunk", SCENARIOS / "trunk_challenges_twice.xml", trunk_port, local_ip=TRUNK_HOST)
        pbx = sipp_calls(s, "pbx3", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1, PBX_AUTH)
        stop_trunk(s, trunk)
        check(statuses(pbx)[-1] == 503, f"provider refusal: {statuses(pbx)}")

        out = ctl(binary, http, "why")
        check(out.returncode == 0, f"b2buactl why: {out.returncode} {out.stderr}")
        text = out.stdout
        for reason, words in (("wrong_password", "wrong digest"), ("unknown_user", "nobody"),
                              ("realm_mismatch", "other.realm"), ("rejected", "password is wrong")):
            check(reason in text and words in text, f"why lacks {reason} ({words}):\n{text}")
        check(text.index("rejected") < text.index("wrong_password"), f"why is not newest first:\n{text}")
        check("not-the-password" not in text and "stale-password" not in text, "a password in why")
        code, doc, _ = api(http, "GET", "/api/v1/auth/failures?direction=upstream")
        check(code == 200 and [f["reason"] for f in doc["failures"]] == ["rejected"] and doc["failures"][0]["trunk"] ==
              "carrier", f"upstream filter: {doc}")
        code, doc, _ = api(http, "GET", "/api/v1/auth/summary?window=1h")
        reasons = {(c["direction"], c["reason"]) for c in doc["counts"]}
        check(("downstream", "wrong_password") in reasons and ("upstream", "rejected") in reasons, f"summary: {doc}")
        check(any(t["source"] == HOST for t in doc["top_sources"]), f"summary top sources: {doc['top_sources']}")
        js = ctl(binary, http, "--json", "why")
        check(js.returncode == 0 and len(json.loads(js.stdout)["failures"]) >= 4, f"why --json: {js.stdout[:300]}")
        print("admin_why: four failures, four hints:\n" + text)


def rotate_at_provider(kam_port: int, password: str):
    """The provider (Kamailio, tests/e2e/kamailio/provider.cfg) switches to `password` now."""
    with harness.RawUdp("127.0.0.3") as probe:
        call_id = f"rotate-{os.getpid()}@127.0.0.3"
        probe.send(f"OPTIONS sip:rotate-password@{PROVIDER_HOST}:{kam_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.3:{probe.port};branch=z9hG4bK-rotate\r\nMax-Forwards: 70\r\n"
                   f"From: <sip:test@127.0.0.3>;tag=rotate\r\nTo: <sip:rotate-password@{PROVIDER_HOST}>\r\n"
                   f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nX-New-Password: {password}\r\nContent-Length: 0\r\n\r\n",
                   (PROVIDER_HOST, kam_port))
        answer = probe.recv(3, call_id)
        check(answer is not None and start_line(answer).startswith("SIP/2.0 200"), f"rotation at Kamailio: {answer!r}")


def case_admin_password_rotation(binary: Path):
    """Calls flow through the b2bua to Kamailio as the provider (which challenges every INVITE and
    BYE); the provider switches to a new password and the operator follows through the API (PATCH)
    half a second later: the calls that fail are only those the provider refused in between, each
    counted as `rejected`, no call in progress is dropped, and every call after the switch succeeds."""
    import threading
    sip, http, _, pbx_port = ports()
    kam_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    while uas_port == kam_port:
        uas_port = free_port((socket.SOCK_DGRAM,), host=PROVIDER_HOST)
    with Session(binary) as s:
        s.start_b2bua(admin_config(sip, http, 0, trunk_uri=f"sip:{PROVIDER_HOST}:{kam_port}"), sip, http)
        uas = s.start_sipp_server("uas", SHARED_SCENARIOS / "uas_plain.xml", uas_port, local_ip=PROVIDER_HOST)
        kam = start_provider(s, kam_port, uas_port)
        result = {}

        def load():
            result["pbx"] = sipp_calls(s, "pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, 80, 20,
                                       PBX_AUTH, timeout=30)

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(2)  # about 40 calls in
        rotated = time.monotonic()
        rotate_at_provider(kam_port, "rotated-pass")
        time.sleep(0.5)  # the operator is half a second late: about 10 calls meet the old password
        patched = time.monotonic()
        code, doc, _ = api(http, "PATCH", "/api/v1/trunks/carrier", {"password": "rotated-pass"})
        switched = time.monotonic()
        # The PATCH answers once the change is saved (a synced commit: on a busy disk that can take
        # a while) and every worker has it: calls placed until then meet the old password.
        window = switched - rotated
        most = int(20 * window) + 4  # at 20 calls/s, plus the calls in flight at either end
        check(code == 200 and doc["password"] == "***", f"PATCH password: {code} {doc}")
        worker.join(timeout=60)
        check(not worker.is_alive(), "the SIPp load did not end")
        pbx = result["pbx"]
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 15, "calls to end")
        # Calls placed after the switch: all of them succeed.
        after = sipp_calls(s, "pbx_after", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, 20, 20, PBX_AUTH,
                           timeout=20)
        stop_trunk(s, uas)
        text = scrape(http)
        rejected = metric(text, "b2bua_auth_failures_total", direction="upstream", reason="rejected", peer="carrier")
        check(after.successful == 20 and after.failed == 0, f"after the switch: {after.successful} ok, {after.failed} failed")
        check(pbx.successful + pbx.failed == 80, f"the load: {pbx.successful} + {pbx.failed} != 80")
        # Only calls caught between the provider's switch and ours fail, and each is `rejected`.
        check(pbx.failed == rejected, f"{pbx.failed} failed calls but {rejected:.0f} counted rejected")
        check(1 <= pbx.failed <= most, f"{pbx.failed} calls failed around the switch: at 20 calls/s for {window:.2f} s "
              f"(the PATCH took {switched - patched:.2f} s of it), at most {most}")
        check("PROVIDER-ROTATED" in kam.log(), "Kamailio did not rotate")
        authok = len(provider_log(kam.log())["authok"])
        print(f"admin_password_rotation: 80 calls at 20/s, the provider's password switched, ours 0.5 s later: "
              f"{pbx.successful} ok, {pbx.failed} failed (all counted rejected; {window:.2f} s between the switches, "
              f"the PATCH {1000 * (switched - patched):.0f} ms), then 20/20 after; "
              f"{authok} requests accepted by Kamailio")


OPENAPI = Path(__file__).resolve().parents[2] / "admin" / "openapi.yaml"


def _schema_check(spec: dict, schema: dict, doc, where: str):
    """`doc` against `schema` (JSON Schema 2020-12, as OpenAPI 3.1 uses), its $refs resolved in `spec`."""
    import jsonschema
    root = dict(schema)
    root["components"] = spec["components"]
    errors = sorted(jsonschema.Draft202012Validator(root).iter_errors(doc), key=lambda e: list(e.path))
    check(not errors, f"{where}: the answer does not match the documented schema: "
                      f"{[f'{list(e.path)}: {e.message}' for e in errors[:3]]}\n{json.dumps(doc)[:600]}")


def case_admin_openapi_conformance(binary: Path):
    """Every operation admin/openapi.yaml documents is called on the real API, with a call in
    progress, a registering trunk and failures in the log, and every answer (status and body) is
    validated against the document's schema for it (python3-jsonschema); an operation the server
    has but the document lacks, or the reverse, fails the test."""
    import yaml
    spec = yaml.safe_load(OPENAPI.read_text())
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(admin_config(sip, http, trunk_port, trunk_password="stale-password"), sip, http)
        # A failure in the log, a call in progress for /calls.
        sipp_calls(s, "pbx_wrong", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1,
                   ["-au", "pbxuser", "-ap", "wrong"])
        code, doc, _ = api(http, "PUT", "/api/v1/trunks/carrier",
                           {"name": "carrier", "uri": f"sip:{TRUNK_HOST}:{trunk_port}", "username": "trunkuser",
                            "password": "trunkpass"})
        check(code == 200, f"PUT carrier: {code} {doc}")
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port, local_ip=TRUNK_HOST,
                                    extra=["-d", "8000"])
        pbx = s.start_sipp("pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                           ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", "1", "-r", "1", "-d", "8000"],
                           remote=f"{HOST}:{sip}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 1, 10, "a call in progress")
        _, calls, _ = api(http, "GET", "/api/v1/calls")
        call_id = calls["calls"][0]["id"]
        bodies = {
            ("post", "/api/v1/trunks"): {"name": "spare", "uri": "sip:127.0.0.4:5060", "username": "s",
                                         "password": "spare-secret"},
            ("put", "/api/v1/trunks/{name}"): {"name": "spare", "uri": "sip:127.0.0.4:5062", "password": "***"},
            ("patch", "/api/v1/trunks/{name}"): {"max_calls": 5},
            ("post", "/api/v1/users"): {"username": "branch", "password": "branchpass", "max_calls": 4, "max_cps": 1},
            ("put", "/api/v1/users/{username}"): {"username": "branch", "password": "newpass",
                                                  "allowed_sources": ["127.0.0.0/8"]},
            ("patch", "/api/v1/users/{username}"): {"password": "newer", "max_cps": 2},
            ("put", "/api/v1/routes"): {"routes": [{"prefix": "", "trunk": "carrier"}]},
            ("put", "/api/v1/inbound-routes"): {"inbound_routes": [{"prefix": "", "to": f"sip:{HOST}:{pbx_port}"}]},
            ("put", "/api/v1/log-level"): {"level": "info"},
            ("post", "/api/v1/bans"): {"source": "192.0.2.99", "duration_s": 60},
        }
        params = {"{name}": "spare", "{username}": "branch", "{id}": call_id, "{address}": "192.0.2.99"}
        expected_status = {("post", "/api/v1/trunks"): 201, ("post", "/api/v1/users"): 201,
                           ("delete", "/api/v1/trunks/{name}"): 204, ("delete", "/api/v1/users/{username}"): 204,
                           ("delete", "/api/v1/calls/{id}"): 202, ("post", "/api/v1/trunks/{name}/register"): 409,
                           ("post", "/api/v1/bans"): 201, ("delete", "/api/v1/bans/{address}"): 204}
        order = ["post", "get", "put", "patch", "delete"]
        operations = [(p, m) for p, item in spec["paths"].items() for m in item if m in order]
        # Creations first, deletions last, so each operation finds its object.
        operations.sort(key=lambda pm: (pm[1] == "delete", order.index(pm[1]) if pm[1] != "delete" else 0))
        called = 0
        for path, method in operations:
            op = spec["paths"][path][method]
            url = path
            for k, v in params.items():
                url = url.replace(k, v)
            if path.startswith("/api/"):
                code, doc, _ = api(http, method.upper(), url, bodies.get((method, path)))
            else:
                with urllib.request.urlopen(f"http://{HOST}:{http}{url}", timeout=5) as r:
                    code, doc = r.status, None
            want = expected_status.get((method, path), 200)
            check(code == want, f"{method.upper()} {url}: {code}, expected {want}: {doc}")
            documented = op["responses"].get(str(code))
            check(documented is not None, f"{method.upper()} {path}: status {code} is not documented")
            if "$ref" in documented:
                documented = spec["components"]["responses"][documented["$ref"].split("/")[-1]]
            content = documented.get("content", {})
            if "application/json" in content:
                _schema_check(spec, content["application/json"]["schema"], doc, f"{method.upper()} {path} {code}")
            called += 1
        # Errors have the documented shape too.
        code, doc, _ = api(http, "GET", "/api/v1/trunks", token="wrong")
        _schema_check(spec, {"$ref": "#/components/schemas/Error"}, doc, "401")
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "x", "uri": "sip:"})
        _schema_check(spec, {"$ref": "#/components/schemas/Error"}, doc, "400")
        check(doc.get("field") == "uri", f"400 field: {doc}")
        # Every resource the server routes is documented (spot check of the top-level ones).
        for resource in ("trunks", "users", "routes", "inbound-routes", "calls", "registrations", "auth/failures",
                         "auth/summary", "cdrs", "audit", "reload", "log-level", "bans"):
            check(f"/api/v1/{resource}" in spec["paths"], f"/api/v1/{resource} is not in the OpenAPI document")
        # DELETE /calls/{id} sent BYEs: the peers answer them before they are stopped (a BYE the
        # trunk never answers keeps the call, and the drain at shutdown, waiting for Timer F).
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the ended call to go")
        s.stop(pbx)
        s.stop(trunk)
        print(f"admin_openapi_conformance: {called} documented operations called, every answer valid against its schema")


def case_admin_api_under_load(binary: Path):
    """40 API writes (trunk and user changes, a trunk added and deleted) while 200 calls run at
    20/s: every write answered 2xx, every call succeeds. Then a trunk carrying a call: DELETE is
    409 naming the call count, ?force=true ends the call (BYE both ways) and deletes it."""
    import threading
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        s.start_b2bua(admin_config(sip, http, trunk_port), sip, http)
        answers: list[int] = []

        def writer():
            for n in range(40):
                if n % 4 == 0:
                    code, _, _ = api(http, "PATCH", "/api/v1/trunks/carrier", {"max_calls": 1000 + n})
                elif n % 4 == 1:
                    code, _, _ = api(http, "POST", "/api/v1/trunks", {"name": f"spare{n}", "uri": "sip:127.0.0.4:5060"})
                elif n % 4 == 2:
                    code, _, _ = api(http, "DELETE", f"/api/v1/trunks/spare{n - 1}")
                else:
                    code, _, _ = api(http, "PUT", "/api/v1/users/branch", {"username": "branch", "password": f"p{n}"})
                answers.append(code)
                time.sleep(0.2)

        w = threading.Thread(target=writer)
        w.start()
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", 200, 20)
        w.join(timeout=30)
        check(not w.is_alive() and len(answers) == 40, f"writes: {len(answers)} of 40")
        check(all(200 <= c < 300 for c in answers), f"API answers under load: {answers}")
        all_passed(pbx, trunk_r, 200)

        # A trunk with a call in progress.
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "spare", "uri": f"sip:{TRUNK_HOST}:{trunk_port}",
                                                             "username": "trunkuser", "password": "trunkpass"})
        check(code == 201, f"POST spare: {code} {doc}")
        code, doc, _ = api(http, "PUT", "/api/v1/routes", {"routes": [{"prefix": "9", "trunk": "spare"},
                                                                      {"prefix": "", "trunk": "carrier"}]})
        check(code == 200, f"PUT routes: {code} {doc}")
        trunk = s.start_sipp_server("trunk2", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port,
                                    local_ip=TRUNK_HOST, extra=["-d", "20000"])
        long_call = s.start_sipp("pbx_long", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                                 ["-s", "9000", *PBX_AUTH, "-auth_uri", f"9000@{HOST}:{sip}", "-m", "1", "-r", "1", "-d", "20000"],
                                 remote=f"{HOST}:{sip}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 1, 10, "the call through spare")
        code, doc, _ = api(http, "GET", "/api/v1/trunks/spare")
        check(doc["status"]["active_calls"] == 1, f"spare's status: {doc}")
        code, doc, _ = api(http, "DELETE", "/api/v1/trunks/spare")
        check(code == 409 and "1 call(s) in progress" in doc["error"] and "force=true" in doc["error"],
              f"DELETE with a call: {code} {doc}")
        code, doc, _ = api(http, "PUT", "/api/v1/routes", {"routes": [{"prefix": "", "trunk": "carrier"}]})
        check(code == 200, f"routes without spare: {code} {doc}")
        code, doc, _ = api(http, "DELETE", "/api/v1/trunks/spare?force=true")
        check(code == 204, f"DELETE ?force=true: {code} {doc}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the forced call to end")
        s.wait_sipp(long_call, 15)
        s.stop(trunk)
        code, doc, _ = api(http, "GET", "/api/v1/cdrs?limit=1")
        check(doc["cdrs"][0]["hangup_by"] == "b2bua" and doc["cdrs"][0]["trunk"] == "spare", f"forced call's CDR: {doc}")

        # A reload takes the file's call limits: calls.max_calls 1 refuses a second call with 503.
        cfg_file = s.workdir / "b2bua.yaml"
        cfg_file.write_text(cfg_file.read_text() + "calls:\n  max_calls: 1\n")
        code, doc, _ = api(http, "POST", "/api/v1/reload")
        check(code == 200 and "calls" in doc["reloaded"], f"reload: {code} {doc}")
        trunk = s.start_sipp_server("trunk3", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port,
                                    local_ip=TRUNK_HOST, extra=["-d", "20000"])
        held = s.start_sipp("pbx_held", SHARED_SCENARIOS / "pbx_uac_auth.xml", pbx_port,
                            ["-s", "1000", *PBX_AUTH, *auth_uri(sip), "-m", "1", "-r", "1", "-d", "20000"],
                            remote=f"{HOST}:{sip}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 1, 10, "one call held")
        second = sipp_calls(s, "pbx_second", SCENARIOS / "pbx_call_fails.xml", sip, free_port(), 1, 1, PBX_AUTH)
        check(statuses(second)[-1] == 503, f"a second call over calls.max_calls 1 after the reload: {statuses(second)}")
        code, calls, _ = api(http, "GET", "/api/v1/calls")
        code, doc, _ = api(http, "DELETE", f"/api/v1/calls/{calls['calls'][0]['id']}")
        check(code == 202 and doc["action"] == "bye", f"hang up the held call: {code} {doc}")
        harness.wait_until(lambda: metric(scrape(http), "b2bua_active_calls") == 0, 10, "the held call to end")
        s.wait_sipp(held, 15)
        s.stop(trunk)
        print("admin_api_under_load: 40 API writes during 200 calls at 20/s, all 2xx, all calls ok; "
              "DELETE of a trunk with a call: 409, then ?force=true ended it (BYE, hangup_by b2bua); "
              "reloaded calls.max_calls 1 refused a second call (503); DELETE /calls/{id} ended the first")


def case_admin_bindings_survive_restart(binary: Path):
    """A PBX registers (SIPp, digest), the b2bua is killed with SIGKILL and started again: the binding
    is read back from the store (the API lists it, the gauge counts it) and a call from the trunk
    reaches the PBX without it registering again; after Expires: 0 and a restart, there is none."""
    sip, http, trunk_port, pbx_port = ports()
    registrar = "{ min_expires: 60, max_expires: 3600, default_expires: 600, keepalive_s: 30 }"
    with Session(binary) as s:
        cfg = registrar_config(sip, http, trunk_port, registrar) + f'admin:\n  token: "{ADMIN_TOKEN}"\n'
        b2bua = s.start_b2bua(cfg, sip, http)
        check_registered_by_sipp(sipp_register(s, "register", "pbx_registers.xml", sip, pbx_port, 600), pbx_port, 600)
        # The store is written on the HTTP thread right after the 200: give it a moment.
        time.sleep(0.5)
        os.kill(b2bua.pid, signal.SIGKILL)
        b2bua.popen.wait(timeout=10)
        s.processes.remove(b2bua)

        b2bua = s.start_b2bua(cfg, sip, http)
        check("registrar: 1 binding(s) read back from the store" in b2bua.log(), "no binding read back")
        check(registrations(http) == 1, f"b2bua_downstream_registrations = {registrations(http)} after the restart")
        code, doc, _ = api(http, "GET", "/api/v1/registrations")
        down = doc["downstream"]
        check(code == 200 and len(down) == 1 and down[0]["user"] == "pbxuser" and f":{pbx_port}" in down[0]["contact"],
              f"downstream registrations after the restart: {doc}")
        pbx = s.start_sipp_server("pbx", SCENARIOS / "pbx_answers_registered_call.xml", pbx_port,
                                  ["-s", "pbxuser", "-m", "1", "-timeout", "30s"])
        trunk = s.start_sipp("trunk", SHARED_SCENARIOS / "uac_plain.xml", free_port(host=TRUNK_HOST),
                             ["-s", "+4930111", "-m", "1", "-d", "300", "-timeout", "30s", "-recv_timeout", "10000"],
                             remote=f"{HOST}:{sip}", local_ip=TRUNK_HOST)
        trunk_rc, pbx_rc = s.wait_sipp(trunk, 40), s.wait_sipp(pbx, 40)
        check(trunk_rc == 0 and s.sipp_result(trunk).successful == 1 and pbx_rc == 0,
              f"the call to the restored binding: trunk rc {trunk_rc}, PBX rc {pbx_rc}")

        sipp_register(s, "unregister", "pbx_unregisters.xml", sip, pbx_port)
        time.sleep(0.5)
        b2bua.stop()
        s.processes.remove(b2bua)
        b2bua = s.start_b2bua(cfg, sip, http)
        check(registrations(http) == 0, "a removed binding came back after a restart")
    print("admin_bindings_survive_restart: a SIPp PBX's binding read back after kill -9, its call answered "
          "without registering again; removed with Expires: 0, it stays removed")


def readyz(http: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{http}/readyz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def case_admin_store_unwritable(binary: Path):
    """A store that cannot be written: the running b2bua's file size limit (RLIMIT_FSIZE, set
    from outside with prlimit, as `ulimit -f` or a full disk would) stops its next WAL append.
    Changes answer 503 with the reason and are not applied, /readyz says "store not writable",
    calls keep flowing and their CDRs wait in memory (the JSON-lines file gets them at once);
    with the limit lifted the next change is 201, /readyz is ready, and every CDR is stored."""
    import resource
    sip, http, trunk_port, pbx_port = ports()
    with Session(binary) as s:
        cdr_file = s.workdir / "cdrs.jsonl"
        b2bua = s.start_b2bua(admin_config(sip, http, trunk_port, extra=f'cdrs:\n  file: "{cdr_file}"\n'), sip, http)
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "before", "uri": "sip:127.0.0.4:5060"})
        check(code == 201, f"POST before the limit: {code} {doc}")
        check(readyz(http) == (200, "ready\n"), f"/readyz before the limit: {readyz(http)}")

        # No file the b2bua writes may grow past its size now; SQLite appends to the WAL on
        # every commit, so a change soon crosses the limit (the log and CDR file may still grow
        # to it). SIGXFSZ is ignored by the b2bua, so the write fails instead of killing it.
        written = [p for p in (s.workdir / "data").iterdir()] + [b2bua.log_path, cdr_file]
        limit = max(p.stat().st_size for p in written if p.exists())
        _, hard = resource.prlimit(b2bua.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(b2bua.pid, resource.RLIMIT_FSIZE, (limit, hard))
        refused = None
        for n in range(300):
            code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": f"t{n}", "uri": "sip:127.0.0.4:5060",
                                                                 "username": "u" * 200, "password": "p" * 200})
            if code != 201:
                refused = (n, code, doc)
                break
        check(refused is not None, f"300 changes stored under a {limit}-byte file size limit")
        n, code, doc = refused
        check(code == 503 and "store" in doc["error"], f"the change past the limit: {code} {doc}")
        reason = doc["error"]
        check(b2bua.alive(), "the b2bua died at the file size limit")
        status, text = readyz(http)
        check(status == 503 and "store not writable" in text, f"/readyz with the store unwritable: {status} {text!r}")
        code, doc, _ = api(http, "GET", f"/api/v1/trunks/t{n}")
        check(code == 404, f"the refused change was applied: GET t{n}: {code} {doc}")

        # SIP does not depend on the store.
        pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                 SHARED_SCENARIOS / "trunk_uas_auth.xml", 10, 10)
        all_passed(pbx, trunk_r, 10)
        harness.wait_until(lambda: cdr_file.exists() and len(cdr_file.read_text().splitlines()) == 10, 10,
                           "the 10 CDRs in the JSON-lines file")
        harness.wait_until(lambda: "call detail records not saved" in b2bua.log(), 10, "the log saying CDRs wait")
        code, doc, _ = api(http, "GET", "/api/v1/cdrs?limit=100")
        check(code == 200 and len(doc["cdrs"]) == 0, f"CDRs in the store while it refuses writes: {code} {doc}")

        # Writable again: the next change lands, /readyz recovers, the waiting CDRs are stored.
        resource.prlimit(b2bua.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, hard))
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": f"t{n}", "uri": "sip:127.0.0.4:5060"})
        check(code == 201, f"POST with the limit lifted: {code} {doc}")
        check(readyz(http) == (200, "ready\n"), f"/readyz with the limit lifted: {readyz(http)}")
        harness.wait_until(lambda: len(api(http, "GET", "/api/v1/cdrs?limit=100")[1]["cdrs"]) == 10, 10,
                           "the 10 waiting CDRs in the store")
        check(len(cdr_file.read_text().splitlines()) == 10, "the CDR file got a record twice")
        print(f"admin_store_unwritable: change {n + 1} crossed a {limit}-byte limit: 503 ({reason}), /readyz not "
              f"ready, 10 calls passed; with the limit lifted: 201, ready, the 10 waiting CDRs stored")


def traced_by(pid: int) -> set[int]:
    """The tracer of every thread of `pid` (0 for one not traced)."""
    tracers = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("TracerPid:"):
                tracers.add(int(line.split()[1]))
    return tracers


def case_admin_store_slow_disk(binary: Path):
    """A disk that takes 2 s per sync: strace, attached to the running b2bua, holds every fsync and
    fdatasync for 2 s on its way back. Three changes sent at once answer 201, each after at least
    one sync; meanwhile /metrics, /readyz and the API's reads answer at once (the store has its own
    thread), and show none of the three before it is on disk. The changes take turns: all three
    trunks are there at the end, none undone by one validated before it was written. Then 5 calls:
    their CDRs are listed at once, since CDR commits do not wait for the disk, and a change after
    them still does."""
    import threading
    sip, http, trunk_port, pbx_port = ports()
    delay = 2.0
    with Session(binary) as s:
        b2bua = s.start_b2bua(admin_config(sip, http, trunk_port), sip, http)
        code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "first", "uri": "sip:127.0.0.4:5060"})
        check(code == 201, f"POST before the slow disk: {code} {doc}")
        before = {t["name"] for t in api(http, "GET", "/api/v1/trunks")[1]["trunks"]}
        # --seccomp-bpf: only the two traced calls stop the b2bua; everything else runs untouched.
        trace = subprocess.Popen(["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null", "-e", "trace=fsync,fdatasync",
                                  "-e", f"inject=fsync,fdatasync:delay_exit={int(delay * 1e6)}", "-p", str(b2bua.pid)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            harness.wait_until(lambda: traced_by(b2bua.pid) == {trace.pid}, 10, "strace on every thread of the b2bua")
            answers: dict[str, tuple[int, float]] = {}

            def post(name: str) -> None:
                t0 = time.monotonic()
                c, _, _ = api(http, "POST", "/api/v1/trunks", {"name": name, "uri": "sip:127.0.0.5:5060"})
                answers[name] = (c, time.monotonic() - t0)

            names = [f"slow{i}" for i in range(3)]
            writers = [threading.Thread(target=post, args=(n,)) for n in names]
            for w in writers:
                w.start()
            time.sleep(0.3)
            reads = {}
            for path in ("/metrics", "/readyz", "/api/v1/trunks", "/api/v1/calls"):
                t0 = time.monotonic()
                with urllib.request.urlopen(urllib.request.Request(
                        f"http://{HOST}:{http}{path}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}),
                        timeout=10) as r:
                    body = r.read()
                    reads[path] = (r.status, time.monotonic() - t0)
                if path == "/api/v1/trunks":
                    listed = {t["name"] for t in json.loads(body)["trunks"]}
            for path, (status, took) in reads.items():
                check(status == 200 and took < delay / 2,
                      f"{path} waited for the disk: {status} after {took:.2f} s (a sync takes {delay} s)")
            check(listed == before,
                  f"the trunks listed while the changes wait for the disk: {sorted(listed)}")
            for w in writers:
                w.join(timeout=60)
            check(not any(w.is_alive() for w in writers), f"a change did not answer in 60 s: {answers}")
            for n in names:
                check(answers[n][0] == 201 and answers[n][1] >= delay * 0.9,
                      f"{n}: {answers[n]} (201 once on disk, so after at least {delay} s)")
            pbx, trunk_r = run_calls(s, sip, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                                     SHARED_SCENARIOS / "trunk_uas_auth.xml", 5, 5)
            all_passed(pbx, trunk_r, 5)
            t0 = time.monotonic()
            code, doc, _ = api(http, "GET", "/api/v1/cdrs?limit=100")
            cdrs_took = time.monotonic() - t0
            check(code == 200 and len(doc["cdrs"]) == 5 and cdrs_took < delay / 2,
                  f"GET /api/v1/cdrs (which writes what ended first) after {cdrs_took:.2f} s: {code}, "
                  f"{len(doc['cdrs']) if doc else None} CDRs (5 expected, without waiting for a sync)")
            # A change after the CDR commits still waits for its sync (they left FULL in force).
            t0 = time.monotonic()
            code, doc, _ = api(http, "POST", "/api/v1/trunks", {"name": "after", "uri": "sip:127.0.0.5:5060"})
            after_took = time.monotonic() - t0
            check(code == 201 and after_took >= delay * 0.9,
                  f"a change after the CDRs: {code} after {after_took:.2f} s (synced, so at least {delay} s)")
        finally:
            trace.terminate()
            trace.wait(timeout=10)
        code, doc, _ = api(http, "GET", "/api/v1/trunks")
        listed = {t["name"] for t in doc["trunks"]}
        check(code == 200 and listed == before | set(names) | {"after"}, f"every change kept: {sorted(listed)}")
        check(b2bua.alive(), "the b2bua died")
        print(f"admin_store_slow_disk: 3 changes at once answered 201 after "
              f"{', '.join(f'{answers[n][1]:.1f}' for n in names)} s; meanwhile "
              f"{', '.join(f'{p} {t * 1000:.0f} ms' for p, (_, t) in reads.items())}; all 3 kept; 5 calls' CDRs "
              f"listed in {cdrs_took * 1000:.0f} ms")
