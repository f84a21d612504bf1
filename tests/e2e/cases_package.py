"""The Debian package, installed for real: deploy/package.sh builds it, apt-get installs it on
this machine, the installed b2bua runs as its system user with the installed example
configuration, a SIPp call passes through it, and the package is purged, leaving the machine as
it was (purge, the user the package made, in a `finally`).

Not a ctest: it changes the machine (/usr/bin, /etc, a system user) and binds 127.0.0.1:5060,
the example configuration's port. deploy/test.sh runs it alone, after the other tests:
    python3 tests/e2e/test_e2e.py --b2bua build/bin/b2bua package_install
Needs root. Loaded by test_e2e.py, which puts its helpers in this module's namespace.
"""

from __future__ import annotations

import grp
import os
import pwd
import signal
import stat
import subprocess
import urllib.request
from pathlib import Path

from cases_admin import api

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_SIP = 5060   # the example configuration's, as shipped
PACKAGE_HTTP = 8090


def _run(args: list[str], timeout: float = 300, check_ok: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if check_ok:
        check(r.returncode == 0, f"{' '.join(args)} exited with {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def _installed() -> bool:
    r = _run(["dpkg-query", "-W", "-f=${Status}", "b2bua"], check_ok=False)
    return r.returncode == 0 and "install ok installed" in r.stdout


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def case_package_install(binary: Path):
    """apt-get install ./b2bua_*.deb; the unit verifies; the installed binary, as user b2bua with
    /etc/b2bua/b2bua.yaml, carries a call configured through its API; purge leaves nothing."""
    check(os.geteuid() == 0, "package_install needs root (it installs the package on this machine)")
    check(not _installed() and not Path("/usr/bin/b2bua").exists() and not Path("/etc/b2bua").exists(),
          "b2bua is already installed here: this test installs and purges it, so it will not run beside one")
    check(not harness.udp_bound(PACKAGE_SIP) and not harness.tcp_listening(PACKAGE_HTTP),
          f"127.0.0.1:{PACKAGE_SIP} or :{PACKAGE_HTTP} is in use: the example configuration needs them")
    build = binary.resolve().parent.parent
    deb = _run([str(ROOT / "deploy" / "package.sh"), str(build)]).stdout.strip().splitlines()[-1]
    user_before = _user_exists("b2bua")
    try:
        # Every dependency is on the machine already (the build's libraries): nothing is fetched.
        _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", deb])
        check(_installed(), "dpkg does not list b2bua as installed")
        _check_installed_files()
        _check_call_through_installed()
        print(f"package_install: {Path(deb).name} installed, verified, carried a call as user b2bua")
    finally:
        if _installed() or Path("/usr/bin/b2bua").exists():
            _run(["apt-get", "purge", "-y", "-q", "b2bua"], check_ok=False)
        if not user_before and _user_exists("b2bua"):
            # Debian's policy keeps a package's system user after purge; the test removes it.
            _run(["deluser", "--system", "--quiet", "b2bua"], check_ok=False)
    for leftover in ("/usr/bin/b2bua", "/usr/bin/b2buactl", "/etc/b2bua", "/var/lib/b2bua",
                     "/usr/lib/systemd/system/b2bua.service", "/usr/lib/sysctl.d/60-b2bua.conf"):
        check(not Path(leftover).exists(), f"{leftover} is left after apt-get purge")
    check(not _installed(), "dpkg still lists b2bua after purge")
    print("package_install: purged; nothing of it is left")


def _check_installed_files():
    user = pwd.getpwnam("b2bua")
    check(user.pw_shell in ("/usr/sbin/nologin", "/bin/false"), f"user b2bua has a login shell: {user.pw_shell}")
    data = os.stat("/var/lib/b2bua")
    check(data.st_uid == user.pw_uid and stat.S_IMODE(data.st_mode) == 0o750,
          f"/var/lib/b2bua: uid {data.st_uid} mode {oct(stat.S_IMODE(data.st_mode))}, expected b2bua 0750")
    token = os.stat("/etc/b2bua/admin.token")
    check(token.st_uid == 0 and token.st_gid == grp.getgrnam("b2bua").gr_gid and stat.S_IMODE(token.st_mode) == 0o640,
          "/etc/b2bua/admin.token is not root:b2bua 0640")
    check(len(Path("/etc/b2bua/admin.token").read_text().strip()) == 64, "the admin token is not 32 random bytes in hex")
    conffiles = _run(["dpkg-query", "-W", "-f=${Conffiles}", "b2bua"]).stdout
    check("/etc/b2bua/b2bua.yaml" in conffiles, f"the example configuration is not a conffile: {conffiles!r}")
    out = _run(["systemd-analyze", "verify", "--man=no", "/usr/lib/systemd/system/b2bua.service"])
    check(not (out.stdout + out.stderr).strip(), f"systemd-analyze verify on the installed unit: {out.stderr}")
    version = _run(["/usr/bin/b2bua", "--version"]).stdout
    check(version.startswith("b2bua ") and "(commit " in version, f"installed --version: {version!r}")
    gen = Path(harness.tempfile.mkdtemp(prefix="b2bua-gen-"))
    _run(["/usr/lib/systemd/system-generators/b2bua-capabilities", str(gen), str(gen), str(gen)])
    check(not (gen / "b2bua.service.d").exists(), "the generator granted a capability for the shipped ports")
    harness.shutil.rmtree(gen, ignore_errors=True)


def _check_call_through_installed():
    """As systemd would start it: user b2bua, the installed configuration, no environment."""
    token = Path("/etc/b2bua/admin.token").read_text().strip()
    trunk_port = free_port(host=TRUNK_HOST)
    pbx_port = free_port()
    with Session(Path("/usr/bin/b2bua")) as s:
        proc = s.start_process("b2bua", ["setpriv", "--reuid=b2bua", "--regid=b2bua", "--init-groups",
                                         "--", "/usr/bin/b2bua", "--config", "/etc/b2bua/b2bua.yaml"], cwd=Path("/"))

        def up():
            check(proc.alive(), f"the installed b2bua exited with {proc.popen.returncode}:\n{proc.log()[-3000:]}")
            return harness.udp_bound(PACKAGE_SIP) and harness.tcp_listening(PACKAGE_HTTP)
        harness.wait_until(up, 15, "the installed b2bua to listen on 5060 and 8090")
        with urllib.request.urlopen(f"http://{HOST}:{PACKAGE_HTTP}/readyz", timeout=5) as r:
            check(r.status == 200, f"/readyz: {r.status}")
        check("no routes yet" in proc.log(), "the start did not warn that there are no routes")
        # What an operator does after installing: an account for the PBX, a trunk, a route.
        for method, path, body in (
                ("POST", "/api/v1/users", {"username": "pbxuser", "password": "pbxpass"}),
                ("POST", "/api/v1/trunks", {"name": "carrier", "uri": f"sip:{TRUNK_HOST}:{trunk_port}",
                                            "username": "trunkuser", "password": "trunkpass"}),
                ("PUT", "/api/v1/routes", {"routes": [{"prefix": "", "trunk": "carrier"}]})):
            code, doc, _ = api(PACKAGE_HTTP, method, path, body, token=token)
            check(200 <= code < 300, f"{method} {path}: {code} {doc}")
        pbx, trunk = run_calls(s, PACKAGE_SIP, pbx_port, trunk_port, SHARED_SCENARIOS / "pbx_uac_auth.xml",
                               SHARED_SCENARIOS / "trunk_uas_auth.xml", 5, 5)
        all_passed(pbx, trunk, 5)
        # The store is the user's: what the API wrote is on disk under /var/lib/b2bua.
        check(any(p.stat().st_uid == pwd.getpwnam("b2bua").pw_uid for p in Path("/var/lib/b2bua").iterdir()),
              "the store under /var/lib/b2bua is not owned by b2bua")
        # setpriv execs the b2bua itself: SIGTERM reaches it, it drains and exits 0.
        os.kill(proc.pid, signal.SIGTERM)
        code = proc.popen.wait(timeout=60)
        check(code == 0, f"the installed b2bua exited with {code} on SIGTERM:\n{proc.log()[-3000:]}")

