"""A Dockerfile read the way the Docker builder reads it: continuation lines joined, comment lines
dropped, instructions grouped by stage. Only what check_docker.py needs; no variable expansion.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    args: str  # the rest of the line, continuations joined with a space
    line: int  # where it starts in the file (1-based)

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT/CMD/RUN, else None (shell form)."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"line {self.line}: {self.keyword} is not a JSON array of strings")
        return value


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def apt_packages(self) -> list[str]:
        """Every package an `apt-get install` of a RUN in this stage names."""
        packages: list[str] = []
        for run in self.all("RUN"):
            for command in re.split(r"&&|\|\||;", run.args):
                words = shlex.split(command)
                while words and "=" in words[0]:  # DEBIAN_FRONTEND=noninteractive apt-get ...
                    words.pop(0)
                if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words[1:]:
                    after = words[words.index("install") + 1:]
                    packages += [w for w in after if not w.startswith("-")]
        return packages


def _logical_lines(text: str):
    """(first line number, instruction text) with continuations joined. Comment lines end nothing
    and vanish, also inside a continued instruction, as in the builder."""
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if not current:
            start = number
        if stripped.endswith("\\"):
            current.append(stripped[:-1].strip())
            continue
        current.append(stripped)
        yield start, " ".join(p for p in current if p)
        current = []
    if current:
        yield start, " ".join(p for p in current if p)


def parse(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for line, text in _logical_lines(path.read_text()):
        keyword, _, args = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(image=words[0], name=name))
            continue
        if not stages:
            if keyword == "ARG":
                continue  # an ARG before the first FROM
            raise ValueError(f"{path}:{line}: {keyword} before any FROM")
        stages[-1].instructions.append(Instruction(keyword, args.strip(), line))
    if not stages:
        raise ValueError(f"{path}: no FROM")
    return stages


def healthcheck_command(instruction: Instruction) -> tuple[dict[str, str], list[str]]:
    """A HEALTHCHECK's options (--interval=10s...) and its command as an argv (shell form runs
    under /bin/sh -c, as Docker does)."""
    options: dict[str, str] = {}
    rest = instruction.args
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        key, _, value = option[2:].partition("=")
        options[key] = value
        rest = rest.lstrip()
    kind, _, command = rest.partition(" ")
    if kind.upper() != "CMD":
        raise ValueError(f"line {instruction.line}: HEALTHCHECK {kind} (expected CMD)")
    as_exec = Instruction("CMD", command, instruction.line).exec_form()
    return options, as_exec if as_exec is not None else ["/bin/sh", "-c", command]


def duration_s(text: str) -> float:
    """Docker's and compose's durations: 1m30s, 45s, 500ms, 2h."""
    total = 0.0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f"'{text}' is not a duration")
    for amount, unit in parts:
        total += float(amount) * units[unit]
    return total


def ignore_patterns(path: Path) -> list[tuple[bool, re.Pattern]]:
    """.dockerignore as (exception?, pattern) pairs: Go's filepath.Match per path element ('*'
    and '?' stay within one), '**' for any number of elements, '!' re-includes."""
    rules = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        rules.append((negate, re.compile(regex + "$")))
    return rules


def ignored(rules: list[tuple[bool, re.Pattern]], relative: str) -> bool:
    """Whether the builder leaves `relative` out of the context: the last rule matching it or
    one of its parent directories decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    verdict = False
    for negate, pattern in rules:
        if any(pattern.match(p) for p in prefixes):
            verdict = not negate
    return verdict
