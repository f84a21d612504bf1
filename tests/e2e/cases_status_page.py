"""The read-only status page at / (issue 11), loaded by a real browser: headless Chromium (Debian's
`chromium`) after a wrong-password call, with the admin token as HTTP Basic credentials in the URL.

Runs inside test_e2e.py's namespace (check, Session, ports, config_yaml, sipp_calls, stop_trunk...).
The PBX is 127.0.0.1, the trunk 127.0.0.2. The screenshot is kept as a test artefact in
<ctest working directory>/artefacts/status_page.png (build/tests/e2e/artefacts/ under ctest), or in
$B2BUA_E2E_ARTEFACTS when set.
"""
from __future__ import annotations

import base64
import html
import json
import os
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import harness
from harness import HOST

CHROMIUM = "/usr/bin/chromium"
_TOKEN = "e2e-status-token-0123456789"
# Chromium's own bound: it loads one local page; a minute means it hangs.
_CHROMIUM_TIMEOUT_S = 60


def _chromium(workdir: Path, args: list[str]) -> subprocess.CompletedProcess:
    """Runs headless Chromium with a fresh profile, bounded in time; its whole process group (the
    browser and the helpers it forks) is killed afterwards, and nothing else."""
    if not os.access(CHROMIUM, os.X_OK):
        raise harness.HarnessError(f"{CHROMIUM} is missing: apt-get install chromium (deploy/install-deps.sh)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-default-apps", "--no-default-browser-check", f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=workdir)
    try:
        out, err = proc.communicate(timeout=_CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise harness.HarnessError(f"chromium did not finish within {_CHROMIUM_TIMEOUT_S} s: {' '.join(args)}")
    finally:
        # Its helpers (zygote, network service) share its process group, which it leads.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(cmd, proc.returncode, out.decode(errors="replace"),
                                       err.decode(errors="replace"))


def _get(url: str, authorization: str | None = None) -> tuple[int, dict, str]:
    req = urllib.request.Request(url)
    if authorization is not None:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def _artefacts() -> Path:
    where = Path(os.environ.get("B2BUA_E2E_ARTEFACTS", Path.cwd() / "artefacts"))
    where.mkdir(parents=True, exist_ok=True)
    return where


def case_status_page(binary: Path):
    """After a wrong PBX password, headless Chromium shows the failure's hint on / with the admin
    token as Basic credentials; without them the page is a 401 naming nothing; a user name that is
    markup shows as text; the screenshot is kept."""
    sip, http, trunk_port, pbx_port = ports()
    names = ["carrier", "pbxuser", "pbx.local", "127.0.0.1", "127.0.0.2", "trunkuser"]
    with Session(binary) as s:
        s.start_b2bua(config_yaml(sip, http, trunk_port, extra=f'admin:\n  token: "{_TOKEN}"\n'), sip, http)
        trunk = s.start_sipp_server("trunk", SHARED_SCENARIOS / "trunk_uas_auth.xml", trunk_port,
                                    local_ip=harness.TRUNK_HOST)
        pbx = sipp_calls(s, "pbx", SCENARIOS / "pbx_call_fails.xml", sip, pbx_port, 1, 1,
                         ["-au", "pbxuser", "-ap", "not-the-password"])
        check(pbx.successful == 1, f"the wrong-password call did not end in a failure:\n{pbx.errors}")
        # A PBX (or an attacker) naming itself with markup: the page must show it as text.
        hostile = sipp_calls(s, "hostile", SCENARIOS / "pbx_call_fails.xml", sip, free_port(), 1, 1,
                             ["-au", "<script>alert(1)</script>", "-ap", "x"])
        check(hostile.successful == 1, f"the unknown-user call did not end in a failure:\n{hostile.errors}")
        stop_trunk(s, trunk)

        # What the API says, to find on the page.
        status, _, body = _get(f"http://{HOST}:{http}/api/v1/auth/failures?reason=wrong_password",
                               f"Bearer {_TOKEN}")
        check(status == 200, f"GET /api/v1/auth/failures: {status} {body}")
        failures = json.loads(body)["failures"]
        check(len(failures) == 1, f"expected one wrong_password failure, got {failures}")
        hint = failures[0]["hint"]
        check("wrong digest" in hint, f"unexpected hint: {hint}")

        # Without credentials: 401 with a Basic challenge, and a body that names nothing.
        status, headers, body = _get(f"http://{HOST}:{http}/")
        check(status == 401, f"GET / without credentials: {status}")
        check(headers.get("WWW-Authenticate") == 'Basic realm="b2bua", charset="UTF-8"',
              f"challenge: {headers.get('WWW-Authenticate')}")
        for name in names:
            check(name not in body, f"the 401 page shows {name}:\n{body}")
        status, _, _ = _get(f"http://{HOST}:{http}/", "Basic " + base64.b64encode(b"admin:wrong").decode())
        check(status == 401, f"GET / with a wrong password: {status}")
        status, headers, body = _get(f"http://{HOST}:{http}/", f"Bearer {_TOKEN}")
        check(status == 200, f"GET / with the token: {status}")
        check(headers.get("Content-Type") == "text/html; charset=utf-8", f"Content-Type: {headers}")
        check(headers.get("Cache-Control") == "no-store", f"Cache-Control: {headers}")
        check(headers.get("Content-Security-Policy") ==
              "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'", f"CSP: {headers}")
        check(headers.get("X-Content-Type-Options") == "nosniff", f"nosniff: {headers}")

        # The browser without credentials: the 401 ends the load, and nothing of the system shows.
        bare = _chromium(s.workdir, ["--dump-dom", f"http://{HOST}:{http}/"])
        for name in names:
            check(name not in bare.stdout, f"chromium without credentials shows {name}:\n{bare.stdout}")
        check("b2bua status" not in bare.stdout, f"chromium got the page without credentials:\n{bare.stdout}")

        # The browser with the token as the Basic password in the URL.
        url = f"http://admin:{_TOKEN}@{HOST}:{http}/"
        page = _chromium(s.workdir, ["--dump-dom", url])
        check(page.returncode == 0, f"chromium --dump-dom exited with {page.returncode}:\n{page.stderr[-2000:]}")
        dom = page.stdout
        check("b2bua status" in dom, f"chromium did not get the page:\n{dom[:2000]}\n{page.stderr[-2000:]}")
        text = html.unescape(dom)
        check(hint in text, f"the hint is not on the page: {hint}\n{dom}")
        check("wrong_password" in dom and "carrier" in dom and "unknown_user" in dom, f"page content:\n{dom}")
        # The hostile user name is text in the DOM, never an element.
        check("<script" not in dom.lower(), f"a script element reached the DOM:\n{dom}")
        check("&lt;script&gt;alert(1)&lt;/script&gt;" in dom, f"the markup user name is not shown as text:\n{dom}")

        shot = _artefacts() / "status_page.png"
        shot.unlink(missing_ok=True)
        taken = _chromium(s.workdir, [f"--screenshot={shot}", "--window-size=1280,900", url])
        check(taken.returncode == 0 and shot.exists(),
              f"no screenshot (exit {taken.returncode}):\n{taken.stderr[-2000:]}")
        png = shot.read_bytes()
        check(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20000,
              f"the screenshot is not a PNG with content ({len(png)} bytes)")
        print(f"status_page: the hint of the wrong password is on / in headless Chromium, 401 without "
              f"credentials names nothing, a markup user name shows as text; screenshot {shot} ({len(png)} bytes)")
