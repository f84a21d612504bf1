#!/usr/bin/env python3
"""Checks deploy/docker without a Docker engine (none runs on our CI machines).

  check_docker.py compose --root R [--docker-compose P] [--promtool P]
      compose.yml is valid for Debian 12's docker-compose (`config -q`), refuses to start without
      B2BUA_ADMIN_TOKEN, publishes the ports b2bua.yaml listens on, keeps data_dir on a volume and
      stops later than the drain; the bind mounts exist; Prometheus's config, with the paths it
      sees in its container mapped to the tree, passes `promtool check config` with our rules.
  check_docker.py image --root R --b2bua B --b2buactl C
      the Dockerfile: build stage on debian:12, slim runtime stage, a non-root user owning
      data_dir, HEALTHCHECK, EXPOSE and STOPSIGNAL as the config needs; every shared library the
      built programs load comes from a package the runtime stage installs or debian:12-slim has.
  check_docker.py run --root R --b2bua B --b2buactl C
      the Dockerfile's ENTRYPOINT and CMD run with the built b2bua and deploy/docker/b2bua.yaml
      (listen addresses moved to free loopback ports, peers to loopback, data_dir to a temporary
      directory): --check-config, then a start; the HEALTHCHECK's own command (its port moved)
      fails before and passes after; the admin token comes from B2BUA_ADMIN_TOKEN; SIGTERM ends
      the process with 0 within calls.drain_s.

Every wait is bounded; the only process started is the b2bua (and short-lived tools), stopped
by its PID. Nothing is sent beyond 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import debian_packages  # noqa: E402
import dockerfile  # noqa: E402
from harness import free_port, wait_until  # noqa: E402

DOCKER = Path("deploy/docker")
SLIM = ("debian:12-slim", "debian:bookworm-slim")
FULL = ("debian:12", "debian:bookworm")
# The answers to BYE at the drain's end are awaited this long (README "Running it").
BYE_WAIT_S = 4
# Test peers of deploy/install-deps.sh: never in the image.
TEST_PEERS = ("kamailio", "sip-tester", "sipp", "baresip", "sipvicious", "chromium", "libgtest-dev", "prometheus")


class CheckError(AssertionError):
    pass


def check(condition: bool, message: str):
    if not condition:
        raise CheckError(message)


def ok(message: str):
    print(f"ok: {message}")


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


class ContainerConfig:
    """deploy/docker/b2bua.yaml: what the other files must agree with."""

    def __init__(self, root: Path):
        self.path = root / DOCKER / "b2bua.yaml"
        self.doc = yaml.safe_load(self.path.read_text())
        self.listen = [re.match(r"(udp|tcp|tls)://(.+)$", v).groups() for v in self.doc["sip"]["listen"]]
        self.sip_ports = {(int(host_port(a)[1]), kind) for kind, a in self.listen}
        self.http_port = host_port(self.doc["http"]["listen"])[1]
        self.data_dir = self.doc["data_dir"]
        self.drain_s = int((self.doc.get("calls") or {}).get("drain_s", 30))


# ---------------------------------------------------------------------------------------- compose

def compose_config(root: Path, docker_compose: str, env: dict[str, str], quiet: bool) -> subprocess.CompletedProcess:
    return subprocess.run([docker_compose, "-f", str(root / DOCKER / "compose.yml"), "config"] + (["-q"] if quiet else []),
                          capture_output=True, text=True, timeout=60, env=env, cwd=root)


def check_compose(root: Path, docker_compose: str, promtool: str):
    cfg = ContainerConfig(root)
    base_env = {k: v for k, v in os.environ.items() if k not in ("B2BUA_ADMIN_TOKEN", "B2B_GIT_COMMIT")}
    token_env = dict(base_env, B2BUA_ADMIN_TOKEN="check-docker-" + secrets.token_hex(8))

    r = compose_config(root, docker_compose, token_env, quiet=True)
    check(r.returncode == 0, f"docker-compose config -q failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    ok("docker-compose config -q accepts deploy/docker/compose.yml")
    r = compose_config(root, docker_compose, base_env, quiet=True)
    check(r.returncode != 0 and "B2BUA_ADMIN_TOKEN" in r.stdout + r.stderr,
          f"without B2BUA_ADMIN_TOKEN docker-compose config should refuse, naming it; got {r.returncode}:\n"
          f"{r.stdout}{r.stderr}")
    ok("without B2BUA_ADMIN_TOKEN compose refuses, naming it")

    r = compose_config(root, docker_compose, token_env, quiet=False)
    check(r.returncode == 0, f"docker-compose config failed:\n{r.stderr}")
    doc = yaml.safe_load(r.stdout)
    services = doc["services"]
    check({"b2bua", "prometheus", "grafana"} <= set(services), f"services: {sorted(services)}")
    b2bua = services["b2bua"]

    build = b2bua["build"]
    check((Path(build["context"]) / build["dockerfile"]).resolve() == (root / DOCKER / "Dockerfile").resolve(),
          f"b2bua is built from {build['context']}/{build['dockerfile']}, not deploy/docker/Dockerfile")
    check(Path(build["context"]).resolve() == root.resolve(), "the build context must be the repository root")
    check(b2bua["environment"].get("B2BUA_ADMIN_TOKEN") == token_env["B2BUA_ADMIN_TOKEN"],
          "B2BUA_ADMIN_TOKEN is not passed to the b2bua")

    published = set()
    for p in b2bua.get("ports", []):
        if isinstance(p, dict):
            published.add((int(p["target"]), p.get("protocol", "tcp")))
        else:
            m = re.match(r"(?:.*:)?(\d+)(?:/(udp|tcp))?$", str(p))
            published.add((int(m.group(1)), m.group(2) or "tcp"))
    wanted = cfg.sip_ports | {(cfg.http_port, "tcp")}
    check(wanted <= published, f"b2bua.yaml listens on {sorted(wanted)}; compose publishes {sorted(published)}")
    ok(f"compose publishes SIP {sorted(cfg.sip_ports)} and HTTP {cfg.http_port}")

    targets = {}
    for v in b2bua.get("volumes", []):
        source, target = v.split(":")[:2] if isinstance(v, str) else (v.get("source"), v.get("target"))
        targets[target] = source
    check(cfg.data_dir in targets and not targets[cfg.data_dir].startswith("/"),
          f"data_dir {cfg.data_dir} must be a named volume (volumes: {targets})")
    ok(f"data_dir {cfg.data_dir} is on the volume {targets[cfg.data_dir]}")

    grace = dockerfile.duration_s(str(b2bua.get("stop_grace_period", "10s")))
    check(grace > cfg.drain_s + BYE_WAIT_S,
          f"stop_grace_period {grace:.0f}s must exceed calls.drain_s {cfg.drain_s} + {BYE_WAIT_S} s for the BYEs")
    check(b2bua.get("stop_signal", "SIGTERM") == "SIGTERM", "the b2bua drains on SIGTERM")
    ok(f"stop_grace_period {grace:.0f}s > drain_s {cfg.drain_s} s + {BYE_WAIT_S} s")

    check(services["grafana"].get("environment", {}).get("PROMETHEUS_URL") == "http://prometheus:9090",
          "grafana needs PROMETHEUS_URL=http://prometheus:9090")

    # Bind mounts: a missing source would be created empty by the engine, silently. Those of
    # deploy/docker must exist; the rules and Grafana's files come from other parts of the tree.
    mounts: dict[str, dict[str, Path]] = {}
    for name, service in services.items():
        for v in service.get("volumes", []):
            source, target = v.split(":")[:2] if isinstance(v, str) else (v.get("source"), v.get("target"))
            if not source.startswith("/"):
                continue  # a named volume
            path = Path(source)
            mounts.setdefault(name, {})[target] = path
            inside = path.resolve().is_relative_to((root / DOCKER).resolve())
            check(path.resolve().is_relative_to(root.resolve()), f"{name} mounts {source} from outside the tree")
            if path.exists():
                ok(f"{name}: {path.relative_to(root)} -> {target}")
            elif inside:
                raise CheckError(f"{name} mounts {source}, which does not exist")
            else:
                print(f"SKIP: {name} mounts {path.relative_to(root)} -> {target}: not in this tree yet")

    check_prometheus(root, cfg, mounts.get("prometheus", {}), promtool)


def check_prometheus(root: Path, cfg: ContainerConfig, mounts: dict[str, Path], promtool: str):
    """promtool on deploy/docker/prometheus.yml as the Prometheus container sees it: each path
    under a bind mount's target replaced by the tree's path."""
    config_in_container = "/etc/prometheus/prometheus.yml"
    check(mounts.get(config_in_container, Path()).resolve() == (root / DOCKER / "prometheus.yml").resolve(),
          f"prometheus must mount deploy/docker/prometheus.yml at {config_in_container}")
    text = (root / DOCKER / "prometheus.yml").read_text()
    doc = yaml.safe_load(text)
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    check("b2bua" in jobs, "no scrape job named b2bua (the rules' B2buaDown expects it)")
    scraped = [t for sc in jobs["b2bua"]["static_configs"] for t in sc["targets"]]
    check(scraped == [f"b2bua:{cfg.http_port}"], f"job b2bua scrapes {scraped}, not b2bua:{cfg.http_port}")
    ok(f"Prometheus scrapes b2bua:{cfg.http_port}")

    rule_globs = doc.get("rule_files", [])
    check(rule_globs, "prometheus.yml loads no rule files")
    mapped = []
    for g in rule_globs:
        target = next((t for t in mounts if g.startswith(t.rstrip("/") + "/")), None)
        check(target is not None, f"rule_files {g} is under no bind mount of the prometheus service")
        mapped.append(str(mounts[target]) + g[len(target.rstrip("/")):])
    if not any(list(Path("/").glob(m.lstrip("/"))) for m in mapped):
        print(f"SKIP: promtool check config: no rule file matches {mapped} in this tree yet")
        return
    for g, m in zip(rule_globs, mapped):
        text = text.replace(g, m)
    with tempfile.TemporaryDirectory(prefix="check-docker-") as tmp:
        copy = Path(tmp) / "prometheus.yml"
        copy.write_text(text)
        r = subprocess.run([promtool, "check", "config", str(copy)], capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    check(r.returncode == 0, f"promtool check config failed:\n{out}")
    found = re.search(r"(\d+) rule files found", out)
    check(found is not None and int(found.group(1)) > 0, f"promtool found no rule files:\n{out}")
    ok(f"promtool check config: {found.group(0)} through the container's mounts")


# ------------------------------------------------------------------------------------------ image

def runtime_stage(root: Path) -> tuple[dockerfile.Stage, list[dockerfile.Stage]]:
    stages = dockerfile.parse(root / DOCKER / "Dockerfile")
    return stages[-1], stages


def check_image(root: Path, binaries: list[Path]):
    cfg = ContainerConfig(root)
    runtime, stages = runtime_stage(root)
    check(len(stages) >= 2, "the Dockerfile must have a build stage and a runtime stage")
    build = stages[0]
    check(build.image in FULL, f"build stage FROM {build.image}, not debian:12")
    check(runtime.image in SLIM, f"runtime stage FROM {runtime.image}, not debian:12-slim")
    ok(f"stages: {build.image} AS {build.name}, then {runtime.image}")

    build_packages = build.apt_packages()
    peers = [p for p in build_packages if p.split("=")[0] in TEST_PEERS]
    check(not peers, f"the build stage installs test peers: {peers}")
    unknown = [p for p in build_packages + runtime.apt_packages() if not debian_packages.known_to_apt(p)]
    check(not unknown, f"packages Debian 12 does not know (the image build would fail): {unknown}")
    ok(f"{len(build_packages)} build and {len(runtime.apt_packages())} runtime packages, all known to Debian 12")
    cmake_runs = " ".join(r.args for r in build.all("RUN") if "cmake" in r.args)
    check("-DBUILD_TESTING=OFF" in cmake_runs and re.search(r"--target b2bua b2buactl\b", cmake_runs),
          "the build stage must build only b2bua and b2buactl, without the tests")

    user = runtime.last("USER")
    check(user is not None, "the runtime stage has no USER: it would run as root")
    name = user.args.split(":")[0]
    check(name not in ("root", "0"), f"USER {user.args} is root")
    runs = " ".join(r.args for r in runtime.all("RUN"))
    check(re.search(rf"\buseradd\b[^&;]*--system[^&;]*\b{re.escape(name)}\b", runs) is not None,
          f"USER {name} is not created as a system user (useradd --system) in the runtime stage")
    check(re.search(rf"(install -d -o {re.escape(name)}\b|chown [^&;]*\b{re.escape(name)}\b)[^&;]*"
                    rf"{re.escape(cfg.data_dir)}\b", runs) is not None,
          f"data_dir {cfg.data_dir} is not given to {name} in the runtime stage")
    ok(f"runs as the system user {name}, owner of {cfg.data_dir}")

    health = runtime.last("HEALTHCHECK")
    check(health is not None and not health.args.upper().startswith("NONE"), "no HEALTHCHECK in the runtime stage")
    options, command = dockerfile.healthcheck_command(health)
    check(f"/{cfg.http_port}" in " ".join(command) and "/healthz" in " ".join(command),
          f"the HEALTHCHECK does not ask /healthz on port {cfg.http_port}: {command}")
    ok(f"HEALTHCHECK {options}: {command[:2]}...")

    exposed = {(int(p.split("/")[0]), (p.split("/") + ["tcp"])[1]) for e in runtime.all("EXPOSE") for p in e.args.split()}
    wanted = cfg.sip_ports | {(cfg.http_port, "tcp")}
    check(wanted <= exposed, f"EXPOSE {sorted(exposed)} misses {sorted(wanted - exposed)}")
    stop = runtime.last("STOPSIGNAL")
    check(stop is not None and stop.args in ("SIGTERM", "15"), "STOPSIGNAL SIGTERM (the drain) is missing")
    ok(f"EXPOSE {sorted(exposed)}, STOPSIGNAL {stop.args}")

    check_context(root)

    installed = set(runtime.apt_packages())
    base = debian_packages.slim_base_set()
    missing = []
    for binary in binaries:
        for library, path in sorted(debian_packages.shared_libraries(binary).items()):
            package = debian_packages.owning_package(path)
            where = "installed" if package in installed else "base" if package in base else None
            if where is None:
                missing.append(f"{binary.name}: {library} ({package})")
            else:
                print(f"ok: {binary.name}: {library} from {package} ({where})")
    check(not missing, "libraries from packages the runtime stage neither installs nor has in debian:12-slim:\n  "
          + "\n  ".join(missing))


def check_context(root: Path):
    """.dockerignore keeps build trees and benchmark results out of the context and no tracked
    source in (a pattern too wide would only show when the image is built)."""
    rules = dockerfile.ignore_patterns(root / ".dockerignore")
    for left_out in ("build", "build-asan", "bench/results/x.json", ".git"):
        check(dockerfile.ignored(rules, left_out), f".dockerignore does not leave out {left_out}")
    r = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print(f"SKIP: not a git checkout: tracked files not checked against .dockerignore ({r.stderr.strip()})")
        return
    tracked = r.stdout.splitlines()
    dropped = [f for f in tracked if dockerfile.ignored(rules, f)]
    check(not dropped, f".dockerignore leaves tracked files out of the build context: {dropped[:10]}")
    ok(f".dockerignore: build trees, bench/results and .git out; all {len(tracked)} tracked files in")


# -------------------------------------------------------------------------------------------- run

def loopback_config(cfg: ContainerConfig, sip_port: int, http_port: int, data_dir: Path) -> str:
    """The container's config with only what must move for a run on this machine: listen ports,
    peer addresses (to loopback: no traffic leaves it), data_dir."""
    doc = yaml.safe_load(cfg.path.read_text())
    doc["sip"]["listen"] = [f"{kind}://127.0.0.1:{sip_port}" for kind, _ in cfg.listen]
    doc["http"]["listen"] = f"127.0.0.1:{http_port}"
    doc["data_dir"] = str(data_dir)
    for i, trunk in enumerate(doc["upstream"]["trunks"]):
        trunk["uri"] = re.sub(r"^(sips?:(?:[^@]*@)?)(\[[^\]]*\]|[^:;>]+)(:\d+)?",
                              lambda m: f"{m.group(1)}127.0.0.{2 + i}:{5080 + i}", trunk["uri"])
        trunk.pop("inbound_from", None)
    for route in doc.get("inbound_routes") or []:
        if isinstance(route.get("to"), str):
            route["to"] = "sip:127.0.0.1:5060"
    for section in ("cdrs",):
        if isinstance(doc.get(section), dict) and "file" in doc[section]:
            doc[section]["file"] = str(data_dir / "cdrs.jsonl")
    text = yaml.safe_dump(doc, sort_keys=False)
    peers = re.findall(r"sips?:[^\s\"']+", text)
    check(all(re.search(r"sips?:(?:[^@]*@)?127\.", p) for p in peers), f"a peer is not on loopback: {peers}")
    return text


def http_status(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def run_check(command: list[str], timeout: float) -> int:
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        return -1


def check_run(root: Path, b2bua: Path, b2buactl: Path):
    cfg = ContainerConfig(root)
    runtime, _ = runtime_stage(root)
    entrypoint = runtime.last("ENTRYPOINT").exec_form()
    cmd = runtime.last("CMD").exec_form()
    check(entrypoint is not None and cmd is not None, "ENTRYPOINT and CMD must be exec form (signals reach b2bua)")
    check(Path(entrypoint[0]).name == "b2bua", f"ENTRYPOINT runs {entrypoint[0]}, not b2bua")
    copies = [[w for w in c.args.split() if not w.startswith("--")] for c in runtime.all("COPY")]
    check(any(any(Path(src).name == "b2bua" for src in words[:-1])
              and words[-1].rstrip("/") in (entrypoint[0], str(Path(entrypoint[0]).parent)) for words in copies),
          f"no COPY puts b2bua at {entrypoint[0]}")
    config_in_image = next((a for a in cmd if a.endswith(".yaml")), None)
    check(config_in_image is not None, f"CMD {cmd} names no configuration")
    check(["deploy/docker/b2bua.yaml", config_in_image] in copies,
          f"no COPY puts deploy/docker/b2bua.yaml at {config_in_image}")
    env = {}
    for e in runtime.all("ENV"):
        for k, v in re.findall(r"(\w+)=(\S+)", e.args):
            env[k] = v
    options, health = dockerfile.healthcheck_command(runtime.last("HEALTHCHECK"))
    health_timeout = dockerfile.duration_s(options.get("timeout", "30s"))

    sip_port = free_port()
    http_port = free_port()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="check-docker-") as tmp:
        tmp = Path(tmp)
        config = tmp / "b2bua.yaml"
        config.write_text(loopback_config(cfg, sip_port, http_port, tmp / "data"))
        (tmp / "data").mkdir()
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("B2BUA_")}
        run_env["B2BUA_ADMIN_TOKEN"] = token
        argv = [str(b2bua)] + entrypoint[1:] + [str(config) if a == config_in_image else a for a in cmd]
        health = [a.replace(f"/{cfg.http_port}", f"/{http_port}").replace(f":{cfg.http_port}", f":{http_port}")
                  for a in health]

        # As `docker run IMAGE --check-config /etc/b2bua/b2bua.yaml`: CMD replaced, ENTRYPOINT kept.
        r = subprocess.run([str(b2bua)] + entrypoint[1:] + ["--check-config", str(config)],
                           capture_output=True, text=True, timeout=60, env=run_env)
        check(r.returncode == 0, f"--check-config failed:\n{r.stdout}{r.stderr}")
        ok(f"--check-config: {r.stdout.strip()}")

        check(run_check(health, health_timeout + 1) != 0, "the HEALTHCHECK passes with nothing listening")
        ok("the HEALTHCHECK fails while nothing listens")
        log = tmp / "b2bua.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=run_env, cwd=tmp)
        try:
            print(f"started {' '.join(argv)} (pid {proc.pid})")
            wait_until(lambda: proc.poll() is not None or run_check(health, health_timeout + 1) == 0, 30,
                       "the HEALTHCHECK to pass", interval=0.5)
            check(proc.poll() is None, f"b2bua exited with {proc.returncode}:\n{log.read_text()}")
            ok("the HEALTHCHECK passes (GET /healthz 200)")
            elsewhere = [a.replace("/healthz", "/no-such-path") for a in health]
            check(run_check(elsewhere, health_timeout + 1) != 0, "the HEALTHCHECK passes on a 404: it reads no status")
            ok("the same check on a path that answers 404 fails: it reads the status")

            status, body = http_status(f"http://127.0.0.1:{http_port}/metrics")
            check(status == 200 and "b2bua_" in body, f"/metrics: {status}")
            status, _ = http_status(f"http://127.0.0.1:{http_port}/api/v1/trunks")
            check(status == 401, f"/api/v1/trunks without a token: {status}, expected 401")
            status, body = http_status(f"http://127.0.0.1:{http_port}/api/v1/trunks", token)
            check(status == 200, f"/api/v1/trunks with B2BUA_ADMIN_TOKEN: {status} {body}")
            ok("/metrics answers; the admin API takes the token from B2BUA_ADMIN_TOKEN")
            check("B2BUA_URL" in env, "the image sets no B2BUA_URL for b2buactl")
            ctl_env = dict(run_env, B2BUA_URL=env["B2BUA_URL"].replace(f":{cfg.http_port}", f":{http_port}"))
            r = subprocess.run([str(b2buactl), "trunks"], capture_output=True, text=True, timeout=30, env=ctl_env)
            names = [t["name"] for t in cfg.doc["upstream"]["trunks"]]
            check(r.returncode == 0 and all(n in r.stdout for n in names),
                  f"b2buactl trunks with the image's B2BUA_URL: {r.returncode}\n{r.stdout}{r.stderr}")
            ok(f"b2buactl trunks (B2BUA_URL={env['B2BUA_URL']}, port moved) lists {names}")

            started = time.monotonic()
            os.kill(proc.pid, signal.SIGTERM)
            try:
                code = proc.wait(timeout=cfg.drain_s + BYE_WAIT_S)
            except subprocess.TimeoutExpired:
                raise CheckError(f"no exit within drain_s {cfg.drain_s} + {BYE_WAIT_S} s after SIGTERM")
            check(code == 0, f"exit {code} after SIGTERM:\n{log.read_text()}")
            ok(f"SIGTERM: exit 0 after {time.monotonic() - started:.1f} s (drain_s {cfg.drain_s})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            if proc.returncode not in (0, None):
                print(log.read_text(errors="replace"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("compose", "image", "run"))
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--b2bua", type=Path)
    parser.add_argument("--b2buactl", type=Path)
    parser.add_argument("--docker-compose", default="docker-compose")
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()
    root = args.root.resolve()
    try:
        if args.what == "compose":
            check_compose(root, args.docker_compose, args.promtool)
        else:
            check(args.b2bua is not None and args.b2buactl is not None, "--b2bua and --b2buactl are required")
            args.b2bua, args.b2buactl = args.b2bua.resolve(), args.b2buactl.resolve()
            if args.what == "image":
                check_image(root, [args.b2bua, args.b2buactl])
            else:
                check_run(root, args.b2bua, args.b2buactl)
    except (CheckError, FileNotFoundError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
