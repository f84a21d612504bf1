"""The short soak of `.ci/run` (tests/e2e/soak.py; the long one is bench/soak.sh).

Loaded by test_e2e.py, which puts its helpers (check, Session...) in this module's namespace.
"""

from __future__ import annotations

from pathlib import Path

import soak


def case_soak_short(binary: Path):
    """200 calls/s held 5 s (about 1,000 calls up at once), the PBX trusted, while svcrack guesses
    a password from address after address and the admin API is written twice a second: no call
    fails, no API write fails; over the 30 s after the 42 s warm-up (held calls at their number,
    finished transactions at theirs: Timer D keeps a challenged INVITE's 32 s) RSS is flat and
    descriptors do not grow."""
    r = soak.run(binary, duration_s=72, rate=200, hold_ms=5000)
    print(soak.summary(r))
    problems = soak.verdict(r, max_rss_growth=0.15)
    check(not problems, "; ".join(problems))
