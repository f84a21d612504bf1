"""Which Debian packages a binary's shared libraries come from, and which packages debian:12-slim
holds before anything is installed, read from this Debian 12 machine's dpkg database.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


def shared_libraries(binary: Path) -> dict[str, str]:
    """ldd's view of `binary`: library name -> resolved path. A library ldd cannot find is an
    error (the build machine itself could not run the binary)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30, check=True).stdout
    libraries: dict[str, str] = {}
    for line in out.splitlines():
        line = line.strip()
        if "not found" in line:
            raise AssertionError(f"{binary}: {line}")
        m = re.match(r"(\S+) => (\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            libraries[m.group(1)] = m.group(2)
        elif m := re.match(r"(/\S+) \(0x[0-9a-f]+\)$", line):  # the dynamic loader
            libraries[os.path.basename(m.group(1))] = m.group(1)
        # linux-vdso.so.1 is the kernel's, in no package
    return libraries


def owning_package(path: str) -> str:
    """The package that installed `path` (dpkg -S). Debian 12 merged /lib into /usr/lib, so dpkg
    may know the file under either name."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/") or p.startswith("/lib64/"):
            candidates.append("/usr" + p)
    for p in dict.fromkeys(candidates):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            for line in r.stdout.splitlines():
                owner, _, owned = line.partition(": ")
                if owned.strip() == p and "diversion" not in owner:
                    return owner.split(",")[0].split(":")[0].strip()
    raise AssertionError(f"no package owns {path} (dpkg -S): was it installed by hand?")


def _installed() -> dict[str, dict[str, str]]:
    fmt = "${Package}\\t${Status}\\t${Essential}\\t${Priority}\\t${Pre-Depends}\\t${Depends}\\t${Provides}\\n"
    out = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    packages: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        name, status, essential, priority, pre_depends, depends, provides = (line.split("\t") + [""] * 7)[:7]
        if not status.endswith(" installed"):
            continue
        packages[name] = {"essential": essential, "priority": priority,
                          "depends": ", ".join(d for d in (pre_depends, depends) if d), "provides": provides}
    return packages


def _names(relation: str) -> list[str]:
    """One dependency's alternatives: 'libgcc-s1 (>= 3) | libgcc1:any' -> ['libgcc-s1', 'libgcc1']
    (versions and architecture qualifiers dropped)."""
    return [a.strip().split(" ")[0].split(":")[0] for a in relation.split("|") if a.strip()]


def slim_base_set() -> set[str]:
    """The packages of a minbase Debian (what debian:12-slim is built from): every Essential and
    Priority: required package and what they depend on, transitively. The priority of a library
    alone does not say it: libc6, libstdc++6 and libgcc-s1 are `optional` in their own control
    data and are in the base only as dependencies (of dpkg, apt...). Alternatives resolve to the
    first one installed here, virtual packages to an installed provider."""
    installed = _installed()
    providers: dict[str, list[str]] = {}
    for name, info in installed.items():
        for provided in info["provides"].split(","):
            if provided.strip():
                providers.setdefault(provided.strip().split(" ")[0].split(":")[0], []).append(name)

    def resolve(alternatives: list[str]) -> str | None:
        for a in alternatives:
            if a in installed:
                return a
            if a in providers:
                return providers[a][0]
        return None

    todo = [n for n, i in installed.items() if i["essential"] == "yes" or i["priority"] == "required"]
    base: set[str] = set()
    while todo:
        name = todo.pop()
        if name in base:
            continue
        base.add(name)
        for group in installed[name]["depends"].split(","):
            if group.strip():
                chosen = resolve(_names(group))
                if chosen and chosen not in base:
                    todo.append(chosen)
    return base


def known_to_apt(package: str) -> bool:
    """Whether Debian here knows `package` (installed, or in apt's lists): a misspelt name in the
    Dockerfile would only show when the image is built, which no CI machine of ours does."""
    if subprocess.run(["dpkg-query", "-W", package], capture_output=True, timeout=30).returncode == 0:
        return True
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", package], capture_output=True, timeout=60)
    return r.returncode == 0
