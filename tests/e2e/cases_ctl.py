"""End-to-end cases of b2buactl, the admin API's command line client, against a stand-in API.

A small Python HTTP server on 127.0.0.1 serves the design contract's documents (the "why 401"
failures and their summary, a refused DELETE) and checks the Bearer token; b2buactl runs as a
process, found next to the b2bua binary. The real API's cases come with the admin API itself.
Loaded by test_e2e.py, which puts its helpers (check...) in this module's namespace.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import harness
from harness import HOST

CTL_TOKEN = "e2e-admin-token"

CTL_FAILURES = {"failures": [
    {"time": "2026-12-02T10:00:05.123Z", "first": "2026-12-02T10:00:01.000Z", "count": 12,
     "direction": "downstream", "source": "10.0.0.5:5060", "username": "pbxuser", "realm": "pbx.local",
     "trunk": None, "peer": "pbx.local", "reason": "wrong_password", "method": "INVITE",
     "call_id": "a84b4c76e66710@10.0.0.5", "status": 403, "reason_phrase": None, "warning": None,
     "hint": "user pbxuser at 10.0.0.5 answered the challenge for realm pbx.local with a wrong digest: "
             "check the password configured on the PBX for this user"},
    {"time": "2026-12-02T09:58:00.000Z", "first": "2026-12-02T09:58:00.000Z", "count": 1,
     "direction": "upstream", "source": None, "username": "trunkuser", "realm": "carrier.example",
     "trunk": "acme", "peer": "acme", "reason": "forbidden", "method": "INVITE", "call_id": "leg-b-7",
     "status": 403, "reason_phrase": "Caller ID not allowed", "warning": None,
     "hint": "provider at sip.carrier.example answered 403 \"Caller ID not allowed\" to trunkuser: "
             "a policy refusal or wrong credentials, read the reason phrase"},
]}

CTL_SUMMARY = {"window_s": 3600,
               "counts": [{"direction": "downstream", "reason": "unknown_user", "peer": "pbx.local", "count": 120}],
               "top_sources": [{"source": "192.0.2.66", "count": 120}]}


class CtlApi:
    """The stand-in admin API: answers from a table, remembers what it was asked."""

    def __init__(self):
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the case prints what matters
                pass

            def answer(self, status: int, doc: dict | None, extra: dict | None = None):
                body = b"" if doc is None else json.dumps(doc).encode()
                self.send_response(status)
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                if doc is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                auth = self.headers.get("Authorization")
                api.requests.append((self.command, self.path, auth))
                if auth != f"Bearer {CTL_TOKEN}":
                    return self.answer(401, {"error": "a valid token is needed: Authorization: Bearer TOKEN"},
                                       {"WWW-Authenticate": 'Bearer realm="b2bua"'})
                path = self.path.split("?", 1)[0]
                if self.command == "GET" and path == "/api/v1/auth/failures":
                    return self.answer(200, CTL_FAILURES)
                if self.command == "GET" and path == "/api/v1/auth/summary":
                    return self.answer(200, CTL_SUMMARY)
                if self.command == "DELETE" and path == "/api/v1/trunks/acme":
                    return self.answer(409, {"error": "trunk acme has 3 call(s) in progress; "
                                                      "DELETE ?force=true ends them"})
                return self.answer(404, {"error": f"no such resource {path}"})

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        self.port = harness.free_port((socket.SOCK_STREAM,))
        self.server = ThreadingHTTPServer((HOST, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def run_ctl(binary: Path, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """b2buactl (built next to the b2bua) with `args`; B2BUA_ADMIN_TOKEN set only to `token`."""
    env = {k: v for k, v in os.environ.items() if k not in ("B2BUA_ADMIN_TOKEN", "B2BUA_URL")}
    if token is not None:
        env["B2BUA_ADMIN_TOKEN"] = token
    return subprocess.run([str(binary.parent / "b2buactl"), *args], env=env, capture_output=True, text=True,
                          timeout=30, check=False)


def case_ctl_exit_codes(binary: Path):
    with CtlApi() as api:
        usage = run_ctl(binary, "--url", api.url, "frobnicate")
        check(usage.returncode == 2, f"an unknown command: exit {usage.returncode}, expected 2\n{usage.stderr}")
        check("unknown command frobnicate" in usage.stderr and "usage:" in usage.stderr,
              f"an unknown command: no usage text:\n{usage.stderr}")
        check(run_ctl(binary).returncode == 2, "no command at all: not exit 2")
        check(api.requests == [], f"a usage error reached the API: {api.requests}")

        no_token = run_ctl(binary, "--url", api.url, "why")
        check(no_token.returncode == 4, f"no token: exit {no_token.returncode}, expected 4\n{no_token.stderr}")
        check("a valid token is needed" in no_token.stderr and "B2BUA_ADMIN_TOKEN" in no_token.stderr,
              f"no token: the API's error or the advice is missing:\n{no_token.stderr}")
        wrong = run_ctl(binary, "--url", api.url, "why", token="not-the-token")
        check(wrong.returncode == 4, f"a wrong token: exit {wrong.returncode}, expected 4")
        check(api.requests[-1][2] == "Bearer not-the-token", f"the token was not sent as Bearer: {api.requests[-1]}")

        refused = run_ctl(binary, "--url", api.url, "trunk", "delete", "acme", token=CTL_TOKEN)
        check(refused.returncode == 1, f"a 409: exit {refused.returncode}, expected 1")
        check("trunk acme has 3 call(s) in progress" in refused.stderr, f"a 409: its error not printed:\n{refused.stderr}")

    # The server is gone: nobody listens on its port any more.
    gone = run_ctl(binary, "--url", api.url, "why", token=CTL_TOKEN)
    check(gone.returncode == 3, f"no server: exit {gone.returncode}, expected 3\n{gone.stderr}")
    check("cannot reach the admin API" in gone.stderr, f"no server: no sentence saying so:\n{gone.stderr}")
    print("ctl_exit_codes: usage 2, not authorised 4 (no token, wrong token), refused 1 with the API's error, "
          "unreachable 3")


def case_ctl_why(binary: Path):
    with CtlApi() as api:
        env_token = run_ctl(binary, "--url", api.url, "why", "--reason", "wrong_password", "--limit", "5",
                            token=CTL_TOKEN)
        check(env_token.returncode == 0, f"why: exit {env_token.returncode}\n{env_token.stderr}")
        out = env_token.stdout
        for f in CTL_FAILURES["failures"]:
            check(f["hint"] in out, f"why: the hint of {f['reason']} is not printed:\n{out}")
        check(out.index("wrong_password") < out.index("forbidden"), f"why: not in the API's order (newest first):\n{out}")
        check("count 12 since 2026-12-02T10:00:01.000Z" in out, f"why: the count is not shown:\n{out}")
        check("\x1b[" not in out, f"why: colours on a pipe:\n{out!r}")
        check(api.requests[-1][1] == "/api/v1/auth/failures?reason=wrong_password&limit=5",
              f"why: asked {api.requests[-1][1]}")

        token_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"b2buactl-e2e-{os.getpid()}.token"
        token_file.write_text(CTL_TOKEN + "\n")
        try:
            as_json = run_ctl(binary, "--json", "--token-file", str(token_file), "--url", api.url, "why")
        finally:
            token_file.unlink()
        check(as_json.returncode == 0, f"why --json: exit {as_json.returncode}\n{as_json.stderr}")
        check(json.loads(as_json.stdout) == CTL_FAILURES, f"why --json: not the API's document:\n{as_json.stdout}")

        summary = run_ctl(binary, "--url", api.url, "summary", "--window", "30m", token=CTL_TOKEN)
        check(summary.returncode == 0 and "192.0.2.66" in summary.stdout and "unknown_user" in summary.stdout,
              f"summary: exit {summary.returncode}:\n{summary.stdout}{summary.stderr}")
        check(api.requests[-1][1] == "/api/v1/auth/summary?window=30m", f"summary: asked {api.requests[-1][1]}")
    print(f"ctl_why: {len(CTL_FAILURES['failures'])} failures printed newest first with their hints; "
          "--json the document unchanged; the summary's top source shown")
