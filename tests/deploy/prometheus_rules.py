"""What the alert rules of deploy/prometheus/rules/ read: the selectors in their PromQL expressions.

Used by check_prometheus_rules.py (the deploy.promtool_rules test) and by the e2e case
alerts_metrics_exported (tests/e2e/cases_alerts.py), which checks each selector against the
/metrics of the real b2bua, so a renamed metric family, label or label value breaks CI instead of
leaving an alert that can never fire.

A small PromQL lexer, not a parser: string literals, durations and numbers are tokens of their own,
so nothing inside them is taken for a name; an identifier followed by `(` is a function or an
aggregation; identifiers inside `{...}` are label names, inside the parentheses after
by/without/on/ignoring/group_left/group_right grouping labels; keywords are skipped. What remains is
a metric name, with the matchers of the braces after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:ms|[smhdwy])*)
  | (?P<ident>(?:[A-Za-z_]|:(?!\d))[A-Za-z0-9_:]*)
  | (?P<punct>=~|!~|!=|==|<=|>=|[{}\[\](),=<>+\-*/%^@:])
""", re.VERBOSE)

# Keywords and aggregation operators (an aggregation may be followed by `by (...)` rather than `(`).
KEYWORDS = frozenset("""
    and or unless bool offset by without on ignoring group_left group_right atan2 inf nan
    sum min max avg group stddev stdvar count count_values bottomk topk quantile
""".split())
GROUPING = frozenset("by without on ignoring group_left group_right".split())
# Series Prometheus makes itself for each target, not exported by the b2bua.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                       "scrape_samples_post_metric_relabeling", "scrape_series_added"})


class PromqlError(ValueError):
    pass


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str      # =, !=, =~, !~
    value: str

    def literals(self) -> list[str]:
        """The label values this matcher names literally: the value, or each alternative of a
        regular expression made only of alternatives of plain words (empty ones left out)."""
        if self.op in ("=", "!="):
            return [self.value] if self.value else []
        if re.fullmatch(r"[A-Za-z0-9_.:\-|]*", self.value):
            return [v for v in self.value.split("|") if v]
        return []

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        hit = re.fullmatch(self.value, value) is not None  # PromQL regexes are anchored
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...] = field(default_factory=tuple)


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    # PromQL strings take Go's escapes; the rules use none beyond \\ and \".
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise PromqlError(f"cannot read {expr[pos:pos + 20]!r} at {pos}")
        pos = m.end()
        if m.lastgroup not in ("ws", "comment"):
            out.append((m.lastgroup, m.group()))
    return out


def selectors(expr: str) -> list[Selector]:
    """The series selectors of one PromQL expression, in order."""
    toks = tokens(expr)
    out: list[Selector] = []
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind != "ident":
            if text == "{":
                raise PromqlError(f"a selector without a metric name in {expr!r}")
            i += 1
            continue
        if text.lower() in GROUPING and nxt == "(":
            close = next((j for j in range(i + 2, len(toks)) if toks[j][1] == ")"), None)
            if close is None:
                raise PromqlError(f"unclosed {text}( in {expr!r}")
            i = close + 1
            continue
        if text.lower() in KEYWORDS or nxt == "(":
            i += 1
            continue
        matchers: list[Matcher] = []
        i += 1
        if nxt == "{":
            i += 1
            while i < len(toks) and toks[i][1] != "}":
                if toks[i][1] == ",":
                    i += 1
                    continue
                if i + 2 >= len(toks) or toks[i][0] != "ident" or toks[i + 2][0] != "string":
                    raise PromqlError(f"cannot read the matchers after {text} in {expr!r}")
                matchers.append(Matcher(toks[i][1], toks[i + 1][1], _unquote(toks[i + 2][1])))
                i += 3
            if i >= len(toks):
                raise PromqlError(f"unclosed {{ after {text} in {expr!r}")
            i += 1
        out.append(Selector(text, tuple(matchers)))
    return out


def load_alerts(path: Path) -> list[dict]:
    """Every rule of a Prometheus rule file, with its group's name under `group`."""
    doc = yaml.safe_load(path.read_text())
    rules = []
    for group in doc["groups"]:
        for rule in group["rules"]:
            rules.append({**rule, "group": group["name"]})
    return rules


def rule_selectors(path: Path) -> dict[str, list[Selector]]:
    """alert name -> the selectors of its expression, the synthetic `up` and friends left out."""
    return {r.get("alert", r.get("record")): [s for s in selectors(r["expr"]) if s.metric not in SYNTHETIC]
            for r in load_alerts(path)}


def self_test():
    """The lexer on the constructs the rules use and a few they may come to use."""
    got = selectors('sum without (to, status) (increase(a_total{status!="down", x=~"p|q"}[10m])) '
                    '/ on (job) group_left (trunk) (b + label_replace(c{l="x{y}"}, "t", "$1", "from", "(.*)"))'
                    ' > bool 0.1 and d offset 5m unless max by (x) (e[1h:15s]) or f @ start() or 14 * 86400 + 1e3'
                    ' # g{h="i"} in a comment')
    names = [s.metric for s in got]
    assert names == ["a_total", "b", "c", "d", "e", "f"], names
    assert got[0].matchers == (Matcher("status", "!=", "down"), Matcher("x", "=~", "p|q")), got[0]
    assert got[0].matchers[1].literals() == ["p", "q"] and got[2].matchers[0].value == "x{y}"
    assert Matcher("trunk", "!=", "").literals() == [] and Matcher("r", "=~", "a.*").literals() == []
    assert Matcher("r", "=~", "wrong_password|unknown_user").matches("unknown_user")
    assert not Matcher("r", "=~", "wrong").matches("wrong_password")  # anchored, as in PromQL
    assert [s.metric for s in selectors('up{job="b2bua"} == 0')] == ["up"]
    for bad in ('{__name__="x"}', 'x{a="b"', "sum by (x"):
        try:
            selectors(bad)
        except PromqlError:
            continue
        raise AssertionError(f"{bad!r} was read without an error")
