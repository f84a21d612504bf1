#!/usr/bin/env python3
"""Every ```yaml block of README.md must pass `b2bua --check-config` as a reader would copy it.

Usage: readme_configs.py --b2bua build/bin/b2bua --readme README.md

Each block is checked as written, then with its commented examples uncommented: first one at a
time (so a failure names the example's README line), then all together (the full example). A
commented example is a line whose text after "# " is a `key: value` pair, a bare `key:`, or a
`- ` list item; other comments are prose and stay commented. A README without any yaml block
fails, so renaming the fence cannot make this test pass vacuously.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_FENCE_OPEN = re.compile(r"^```yaml\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
# "  # key: value", "  # key:", "    # - { ... }": the comment marker, then YAML content.
_EXAMPLE = re.compile(r"^(?P<indent>\s*)# (?P<text>(?:[A-Za-z_][A-Za-z0-9_]*:(?:\s|$)|- ).*)$")


@dataclass
class Block:
    first_line: int  # README line number of the block's first content line
    lines: list[str]

    def readme_line(self, index: int) -> int:
        return self.first_line + index


def yaml_blocks(readme: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    for number, line in enumerate(readme.splitlines(), start=1):
        if current is None:
            if _FENCE_OPEN.match(line):
                current = Block(first_line=number + 1, lines=[])
        elif _FENCE_CLOSE.match(line):
            blocks.append(current)
            current = None
        else:
            current.lines.append(line)
    if current is not None:
        raise SystemExit(f"README line {current.first_line - 1}: ```yaml block is never closed")
    return blocks


def examples(block: Block) -> list[int]:
    """Indices of the block's commented `key: value` / list-item example lines."""
    return [i for i, line in enumerate(block.lines) if _EXAMPLE.match(line)]


def uncomment(line: str) -> str:
    m = _EXAMPLE.match(line)
    assert m is not None
    return m.group("indent") + m.group("text")


def check_config(binary: Path, workdir: Path, text: str) -> tuple[bool, str]:
    path = workdir / "readme.yaml"
    path.write_text(text)
    r = subprocess.run([str(binary), "--check-config", str(path)], capture_output=True, text=True, timeout=30)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--b2bua", required=True, type=Path)
    ap.add_argument("--readme", required=True, type=Path)
    args = ap.parse_args()

    blocks = yaml_blocks(args.readme.read_text())
    if not blocks:
        print(f"FAIL: {args.readme} has no ```yaml block; configuration examples must be fenced as yaml")
        return 1

    failures = 0
    checks = 0
    with tempfile.TemporaryDirectory(prefix="b2bua-readme-") as tmp:
        workdir = Path(tmp)

        def run(block: Block, lines: list[str], what: str) -> None:
            nonlocal failures, checks
            checks += 1
            ok, output = check_config(args.b2bua, workdir, "\n".join(lines) + "\n")
            if not ok:
                failures += 1
                # The loader names lines of the temporary file; say which README line that is.
                output = re.sub(r"\bline (\d+)",
                                lambda m: f"{m.group(0)} = README line {block.readme_line(int(m.group(1)) - 1)}",
                                output)
                print(f"FAIL {args.readme.name}:{block.first_line - 1}, the yaml block there, {what}:\n  {output}")

        for block in blocks:
            run(block, block.lines, "the block as written")
            indices = examples(block)
            for i in indices:
                lines = list(block.lines)
                lines[i] = uncomment(lines[i])
                run(block, lines, f"with line {block.readme_line(i)} uncommented ({lines[i].strip()!r})")
            if len(indices) > 1:
                lines = [uncomment(l) if i in indices else l for i, l in enumerate(block.lines)]
                run(block, lines, f"with all {len(indices)} commented examples uncommented")

    if failures:
        print(f"FAIL: {failures} of {checks} checks of {len(blocks)} yaml block(s) failed")
        return 1
    print(f"PASS: {len(blocks)} yaml block(s), {checks} --check-config runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
