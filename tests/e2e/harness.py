"""End-to-end harness: runs the real b2bua and SIPp peers on 127.0.0.1.

Every process started here is recorded by PID and stopped by PID; every wait is bounded.
Ports are picked free by binding port 0. Nothing here talks to any address outside 127.0.0.0/8
and ::1 (peers are on 127.0.0.1 unless a test puts one elsewhere on loopback).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "e2e" / "sipp"
SHARED_SCENARIOS = ROOT.parent / "shared" / "bench" / "scenarios"
HOST = "127.0.0.1"
# Trunks have an address of their own: the b2bua recognises a trunk by its source address (a
# request from there is a call from the trunk, never challenged), so a PBX must not share it.
TRUNK_HOST = "127.0.0.2"


class HarnessError(AssertionError):
    pass


def family(host: str) -> int:
    """AF_INET6 for an IPv6 address ("::1"), AF_INET otherwise."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(kinds: tuple[int, ...] = (socket.SOCK_DGRAM, socket.SOCK_STREAM), host: str = HOST) -> int:
    """A port free for every socket kind in `kinds` on `host` (bounded retries)."""
    for _ in range(200):
        probe = socket.socket(family(host), kinds[0])
        probe.bind((host, 0))
        port = probe.getsockname()[1]
        holders = [probe]
        ok = True
        for kind in kinds[1:]:
            s = socket.socket(family(host), kind)
            try:
                s.bind((host, port))
                holders.append(s)
            except OSError:
                ok = False
                s.close()
                break
        for s in holders:
            s.close()
        if ok:
            return port
    raise HarnessError(f"no free port found on {host}")


def _proc_net_address(host: str) -> str:
    """`host` as /proc/net/{udp,tcp}[6] prints it: each 32-bit word of the address in host
    (little-endian) byte order, in hex."""
    packed = socket.inet_pton(family(host), host)
    return "".join(packed[i:i + 4][::-1].hex().upper() for i in range(0, len(packed), 4))


def _proc_net(kind: str, host: str) -> str:
    return f"/proc/net/{kind}6" if family(host) == socket.AF_INET6 else f"/proc/net/{kind}"


def udp_bound(port: int, host: str = HOST) -> bool:
    needle = f"{_proc_net_address(host)}:{port:04X} "
    try:
        with open(_proc_net("udp", host)) as f:
            return any(needle in line for line in f)
    except OSError:
        return False


def tcp_listening(port: int, host: str = HOST) -> bool:
    anywhere = "0" * (32 if family(host) == socket.AF_INET6 else 8)
    needle = f"{_proc_net_address(host)}:{port:04X} {anywhere}:0000 0A"
    try:
        with open(_proc_net("tcp", host)) as f:
            return any(needle in line for line in f)
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise HarnessError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 5.0) -> int | None:
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=grace)
        return self.popen.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    stats: dict
    messages: list[tuple[str, str]]  # (direction "sent"/"received", message text)
    errors: str
    output: str


@dataclass
class Session:
    """One test's processes and files. Use as a context manager: it stops what it started."""

    b2bua_binary: Path
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="b2bua-e2e-")))
    processes: list[Process] = field(default_factory=list)
    keep: bool = False

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type, exc, tb):
        codes = {p.name: (p, p.stop()) for p in reversed(self.processes)}
        # b2bua stops cleanly on SIGTERM: exit 0, no sanitizer report at exit.
        b2bua = codes.get("b2bua")
        if exc_type is None and b2bua is not None and b2bua[1] != 0:
            self.keep = True
            print(f"[harness] files kept in {self.workdir}")
            raise HarnessError(f"b2bua exited with {b2bua[1]} on SIGTERM:\n{b2bua[0].log()[-3000:]}")
        if exc_type is None and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print(f"[harness] files kept in {self.workdir}")
        return False

    # ------------------------------------------------------------------ b2bua
    def start_b2bua(self, config_text: str, sip_port: int, http_port: int | None, tcp: bool = False,
                    log_level: str = "info", sip_host: str = HOST, name: str = "b2bua") -> Process:
        """`name` names the process, its files (<name>.yaml, <name>.log) and its store; only the
        one named "b2bua" is held to a clean exit on SIGTERM by __exit__ (a cluster case checks
        its nodes itself)."""
        cfg = self.workdir / f"{name}.yaml"
        # Every b2bua a test starts keeps to itself: its own store, and no HTTP server on the
        # default port (9090) unless the test configures one.
        data = "data" if name == "b2bua" else f"{name}-data"
        if not re.search(r"^data_dir:", config_text, re.M):
            config_text += f'\ndata_dir: "{self.workdir / data}"\n'
        if not re.search(r"^http:", config_text, re.M):
            config_text += '\nhttp: { listen: "" }\n'
        # The cases share a 2-core machine with each other: a stall of the whole box past the
        # default 100 ms would refuse their calls as overload, which is not what they test. The
        # overload cases set their own bound.
        if not re.search(r"^overload:", config_text, re.M):
            config_text += "\noverload: { max_loop_delay_ms: 2000 }\n"
        # B2B_E2E_WORKERS=N runs every case with N SIP workers, unless the case sets its own.
        workers = os.environ.get("B2B_E2E_WORKERS")
        if workers and re.search(r"^sip:\n", config_text, re.M) and not re.search(r"^  workers:", config_text, re.M):
            config_text = re.sub(r"^sip:\n", f"sip:\n  workers: {int(workers)}\n", config_text, count=1, flags=re.M)
        cfg.write_text(config_text)
        log_path = self.workdir / f"{name}.log"
        out = open(log_path, "wb")
        popen = subprocess.Popen([str(self.b2bua_binary), "--config", str(cfg), "--log-level", log_level],
                                 stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)
        proc = Process(name, popen, log_path)
        self.processes.append(proc)

        def up():
            if not proc.alive():
                raise HarnessError(f"b2bua exited with {popen.returncode}:\n{proc.log()}")
            return udp_bound(sip_port, sip_host) and (not tcp or tcp_listening(sip_port, sip_host)) and (
                http_port is None or tcp_listening(http_port))

        wait_until(up, 10, "b2bua to listen")
        return proc

    # ------------------------------------------------------------------ any other peer
    def start_process(self, name: str, args: list[str], cwd: Path) -> Process:
        """Starts `args` with its output in `<workdir>/<name>.out`; stopped by PID on exit."""
        log_path = self.workdir / f"{name}.out"
        out = open(log_path, "wb")
        popen = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
        proc = Process(name, popen, log_path)
        self.processes.append(proc)
        return proc

    # ------------------------------------------------------------------ sipp
    def start_sipp(self, name: str, scenario: Path, port: int, extra: list[str], remote: str | None = None,
                   transport: str = "u1", trace: bool = True, local_ip: str = HOST) -> Process:
        args = ["sipp"]
        if remote:
            args.append(remote)
        args += ["-sf", str(scenario), "-i", local_ip, "-p", str(port), "-t", transport, "-nostdin",
                 "-trace_stat", "-stf", str(self.workdir / f"{name}_stat.csv"), "-fd", "1",
                 "-trace_err", "-error_file", str(self.workdir / f"{name}_err.log")]
        if trace:
            args += ["-trace_msg", "-message_file", str(self.workdir / f"{name}_msg.log")]
        args += extra
        log_path = self.workdir / f"{name}.out"
        out = open(log_path, "wb")
        popen = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)
        proc = Process(name, popen, log_path)
        self.processes.append(proc)
        return proc

    def start_sipp_server(self, name: str, scenario: Path, port: int, extra: list[str] | None = None,
                          transport: str = "u1", local_ip: str = HOST, trace: bool = True) -> Process:
        proc = self.start_sipp(name, scenario, port, extra or [], transport=transport, local_ip=local_ip, trace=trace)

        def up():
            if not proc.alive():
                raise HarnessError(f"sipp {name} exited early:\n{proc.log()}")
            return udp_bound(port, local_ip) if transport.startswith("u") else tcp_listening(port, local_ip)

        wait_until(up, 10, f"sipp {name} to listen")
        return proc

    def wait_sipp(self, proc: Process, timeout: float) -> int:
        try:
            return proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.stop()
            raise HarnessError(f"sipp {proc.name} did not finish within {timeout:.0f}s:\n{self.sipp_errors(proc.name)}")

    def sipp_result(self, proc: Process) -> SippResult:
        name = proc.name
        stats = read_sipp_stats(self.workdir / f"{name}_stat.csv")
        return SippResult(
            returncode=proc.popen.returncode if proc.popen.returncode is not None else -1,
            successful=int(stats.get("SuccessfulCall(C)", 0) or 0),
            failed=int(stats.get("FailedCall(C)", 0) or 0),
            stats=stats,
            messages=read_sipp_messages(self.workdir / f"{name}_msg.log"),
            errors=self.sipp_errors(name),
            output=proc.log(),
        )

    def sipp_errors(self, name: str) -> str:
        p = self.workdir / f"{name}_err.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self, proc: Process) -> int | None:
        return proc.stop()


# ---------------------------------------------------------------------- sipp output
def read_sipp_stats(path: Path) -> dict:
    """The last line of a sipp -trace_stat CSV as {column: value}."""
    if not path.exists():
        return {}
    lines = [l for l in path.read_text(errors="replace").splitlines() if l.strip()]
    if len(lines) < 2:
        return {}
    header = lines[0].split(";")
    values = lines[-1].split(";")
    return dict(zip(header, values))


_SECTION = re.compile(r"^-{10,} .*$", re.M)


def read_sipp_messages(path: Path) -> list[tuple[str, str]]:
    """Messages from a sipp -trace_msg log: [("sent"|"received", text), ...] in order."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    out = []
    for chunk in _SECTION.split(text):
        chunk = chunk.strip("\r\n")
        if not chunk:
            continue
        first, _, rest = chunk.partition("\n")
        if "message sent" in first:
            direction = "sent"
        elif "message received" in first:
            direction = "received"
        else:
            continue
        out.append((direction, rest.strip("\r\n")))
    return out


def start_line(msg: str) -> str:
    return msg.splitlines()[0].strip() if msg else ""


def header_values(msg: str, *names: str) -> list[str]:
    """Values of the named headers (long or compact names, case-insensitive), one per line."""
    wanted = {n.lower() for n in names}
    out = []
    head = msg.split("\n\n", 1)[0].split("\r\n\r\n", 1)[0]
    for line in head.splitlines()[1:]:
        if ":" not in line:
            continue
        name, _, value = line.partition(":")
        if name.strip().lower() in wanted:
            out.append(value.strip())
    return out


def via_count(msg: str) -> int:
    """Number of Via values (comma-separated values counted) in a message."""
    return sum(len([v for v in value.split(",") if v.strip()]) for value in header_values(msg, "via", "v"))


# ---------------------------------------------------------------------- raw UDP peer
class RawUdp:
    """A hand-driven SIP peer on one UDP socket of 127.0.0.0/8 or ::1, for what SIPp cannot script.

    Every receive is bounded by a timeout; answers are matched by Call-ID, so strays are skipped.
    """

    def __init__(self, host: str = HOST, port: int = 0):
        self.sock = socket.socket(family(host), socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()[:2]

    def __enter__(self) -> "RawUdp":
        return self

    def __exit__(self, *exc):
        self.sock.close()
        return False

    def send(self, text: str, to: tuple[str, int]):
        self.sock.sendto(text.encode(), to)

    def recv(self, timeout: float, call_id: str | None = None) -> str | None:
        """The next message (for `call_id` if given) within `timeout` seconds, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            if not self.accept(data):
                continue
            text = data.decode(errors="replace")
            if call_id is None or call_id in header_values(text, "call-id", "i"):
                return text
        return None

    def accept(self, data: bytes) -> bool:
        """Whether a datagram is a message for `recv` (a subclass may take some off the stream)."""
        return True

    def recv_final(self, timeout: float, call_id: str) -> str | None:
        """The first final (>= 200) response for `call_id` within `timeout`, skipping 1xx."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = self.recv(left, call_id)
            if msg is None:
                return None
            first = start_line(msg)
            if first.startswith("SIP/2.0 ") and int(first.split()[1]) >= 200:
                return msg
        return None


def tag_of(value: str) -> str | None:
    """The tag parameter of a From/To value, or None."""
    m = re.search(r";\s*tag=([^;>\s,]+)", value)
    return m.group(1) if m else None


def branch_of(via: str) -> str | None:
    m = re.search(r";\s*branch=([^;\s,]+)", via)
    return m.group(1) if m else None


# ---------------------------------------------------------------------- metrics
def admin_request(http_port: int, method: str, path: str, body=None, token: str = "") -> tuple[int, dict | None]:
    """One request to the admin API with a bearer token: (status, JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{HOST}:{http_port}{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, (json.loads(text) if text else None)


def scrape(http_port: int, timeout: float = 5) -> str:
    with urllib.request.urlopen(f"http://{HOST}:{http_port}/metrics", timeout=timeout) as r:
        return r.read().decode()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text: str, name: str):
    """Each sample of `name` in a /metrics text, as (its labels, its value)."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m and m.group(1) == name:
            yield dict(_LABEL.findall(m.group(2) or "")), float(m.group(3))


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include all of `labels`."""
    found = [value for got, value in samples(text, name) if all(got.get(k) == v for k, v in labels.items())]
    if not found:
        raise HarnessError(f"no sample {name}{labels} in /metrics")
    return sum(found)


# ------------------------------------------------------------------ a real Prometheus
def start_redis(s: "Session", port: int | None = None) -> tuple[int, Process]:
    """A redis-server of the session's own on 127.0.0.1 (nothing kept on disk), answering PING:
    (its port, its process). `port`: that one (a Redis started again), else a free one."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise HarnessError("redis-server is not installed (deploy/install-deps.sh installs it)")
    port = port or free_port((socket.SOCK_STREAM,), host=HOST)
    proc = s.start_process("redis", [exe, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no",
                                     "--daemonize", "no"], cwd=s.workdir)

    def answers() -> bool:
        if not proc.alive():
            raise HarnessError(f"redis-server exited:\n{proc.log()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as c:
                c.sendall(b"PING\r\n")
                return c.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_until(answers, 8, "redis-server to answer PING")
    return port, proc


def prometheus_config(path: Path, target: str, source: str):
    """A Prometheus configuration scraping the b2bua at `target` every second (rules evaluated
    every second too); `source` names the test file that wrote it."""
    path.write_text(f"""# generated by {source}
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: b2bua
    static_configs:
      - targets: ["{target}"]
""")


def prometheus_api(port: int, path: str, **params: str):
    """One call of Prometheus's HTTP API: its `data`; a refusal (400, 422) fails, saying why."""
    url = f"http://{HOST}:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        body = json.load(e)
    if body.get("status") != "success":
        raise HarnessError(f"Prometheus API {path} {params.get('query', '')!r} answered {body}")
    return body["data"]


def prometheus_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/-/ready", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def config_yaml(sip_port: int, http_port: int, trunk_port: int, trunk_password: str = "trunkpass",
                algorithms: str | None = "[MD5, SHA-256]", tcp: bool = False, trunk_transport: str = "udp",
                extra: str = "", trunk_uri: str | None = None, trunk_extra: str = "") -> str:
    """`trunk_uri` replaces sip:127.0.0.2:<trunk_port> (TRUNK_HOST); `trunk_extra` holds more keys of the trunk
    (YAML lines indented by 6 spaces, each ending in a newline)."""
    listen = [f'"udp://{HOST}:{sip_port}"']
    if tcp:
        listen.append(f'"tcp://{HOST}:{sip_port}"')
    # SIPp 3.6.1 answers only the first challenge and only MD5: offer MD5 first. None leaves
    # the key out, so the b2bua's default offer applies.
    offer = "" if algorithms is None else f"  algorithms: {algorithms}\n"
    if trunk_uri is None:
        trunk_uri = f"sip:{TRUNK_HOST}:{trunk_port}" + (";transport=tcp" if trunk_transport == "tcp" else "")
    return f"""# generated by tests/e2e/harness.py
sip:
  listen: [ {", ".join(listen)} ]
downstream:
  realm: pbx.local
{offer}  users:
    - {{ username: pbxuser, password: pbxpass }}
upstream:
  trunks:
    - name: carrier
      uri: "{trunk_uri}"
      username: trunkuser
      password: {trunk_password}
{trunk_extra}routes:
  - {{ prefix: "", trunk: carrier }}
http:
  listen: "{HOST}:{http_port}"
log:
  level: info
{extra}"""


def trunks_config_yaml(sip_port: int, http_port: int, trunks: list[str], routes: list[str], extra: str = "") -> str:
    """A configuration with several trunks and routes, each given as a YAML flow mapping, e.g.
    '{ name: carrier, uri: "sip:127.0.0.2:5080", username: trunkuser, password: trunkpass }' and
    '{ prefix: "", trunks: [ carrier, backup ] }'. The PBX side is as in `config_yaml`."""
    trunk_lines = "".join(f"    - {t}\n" for t in trunks)
    route_lines = "".join(f"  - {r}\n" for r in routes)
    return f"""# generated by tests/e2e/harness.py
sip:
  listen: [ "udp://{HOST}:{sip_port}" ]
downstream:
  realm: pbx.local
  algorithms: [MD5, SHA-256]
  users:
    - {{ username: pbxuser, password: pbxpass }}
upstream:
  trunks:
{trunk_lines}routes:
{route_lines}http:
  listen: "{HOST}:{http_port}"
log:
  level: info
{extra}"""


# ---------------------------------------------------------------------- sipvicious
# Debian's sipvicious 0.3.3 does not hand -b (bind address) on to its scanner class, so its
# packets leave from 127.0.0.1, the PBX's address. Run the tool with every socket bound to the
# attacker's address instead, which is what -b promises.
_FROM_ADDRESS = """
import os, runpy, socket, sys
source, tool = sys.argv[1], os.path.realpath(sys.argv[2])
sys.path.insert(0, os.path.dirname(tool))  # where the package sits, as when the script runs itself
_bind = socket.socket.bind
socket.socket.bind = lambda self, address: _bind(self, (source, address[1]))
sys.argv = [tool] + sys.argv[3:]
runpy.run_path(tool, run_name="__main__")
"""


def sipvicious_command(tool: str, source: str, args: list[str]) -> list[str]:
    """The command line running sipvicious' `tool` (svcrack, svmap...) with its packets from `source`."""
    path = shutil.which(tool)
    if path is None:
        raise HarnessError(f"{tool} is not installed (Debian package sipvicious): deploy/install-deps.sh")
    with open(path) as f:
        interpreter = f.readline()[2:].strip()  # its #! line: the Python the package is installed for
    return [interpreter, "-c", _FROM_ADDRESS, source, path, *args]
