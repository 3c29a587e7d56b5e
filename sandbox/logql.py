"""The part of LogQL the sandbox's Loki emulator evaluates, parsed and run over streams held in memory.

Log queries: a stream selector (`=`, `!=`, `=~`, `!~`; regexes fully anchored, as Loki's), line filters
(`|=`, `!=`, `|~`, `!~`), label filters (`| level=~"error|fatal"`) and `| regexp "(?P<name>...)"`, which adds
the named groups as labels. Metric queries: `count_over_time(LOG [DURATION])`, optionally inside `sum(...)` or
`sum by (labels) (...)`. Anything else is refused as Loki refuses a query it cannot parse: a 400 in words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

Labels = dict[str, str]
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<range>\[\s*[0-9a-z.]+\s*\])|'
                    r"(?P<op>\|=|\|~|!=|!~|=~|=|\||\{|\}|\(|\)|,)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*))")
_UNITS = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class LogQLError(Exception):
    """A query Loki would refuse, in Loki's words."""


@dataclass
class LogQuery:
    matchers: list[tuple[str, str, str]]
    stages: list[tuple[str, ...]] = field(default_factory=list)

    def streams(self, labels: Labels) -> bool:
        return all(_matches(labels.get(name, ""), op, value) for name, op, value in self.matchers)

    def run(self, labels: Labels, text: str) -> Labels | None:
        """The line's labels after the pipeline (extracted ones added), or None when a stage drops it."""
        labels = dict(labels)
        for stage in self.stages:
            if stage[0] == "line":
                _, op, value = stage
                found = value in text if op in ("|=", "!=") else re.search(value, text) is not None
                if found != (op in ("|=", "|~")):
                    return None
            elif stage[0] == "label":
                _, name, op, value = stage
                if not _matches(labels.get(name, ""), op, value):
                    return None
            else:  # regexp
                m = re.search(stage[1], text)
                labels.update({k: v for k, v in (m.groupdict() if m else {}).items() if v is not None})
        return labels


@dataclass
class MetricQuery:
    log: LogQuery
    range_s: float
    by: list[str] | None  # None: count_over_time alone (every label set its own series)
    summed: bool


def parse(text: str) -> LogQuery | MetricQuery:
    tokens = _tokens(text)
    query, rest = _metric(tokens) if tokens and tokens[0][1] in ("sum", "count_over_time") else _log(tokens)
    if rest:
        raise _syntax(rest[0][1])
    if not any(_matches("", op, value) is False for _, op, value in query_log(query).matchers):
        raise LogQLError("parse error : queries require at least one regexp or equality matcher that does not have "
                         'an empty-compatible value. For instance, app=~".*" does not meet this requirement, but '
                         'app=~".+" will')
    return query


def query_log(query: LogQuery | MetricQuery) -> LogQuery:
    return query.log if isinstance(query, MetricQuery) else query


def duration_s(text: str) -> float:
    parts = re.findall(r"([0-9.]+)(ms|[smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise LogQLError(f'parse error : not a valid duration string: "{text}"')
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise LogQLError(f"parse error at line 1, col {pos + 1}: syntax error: unexpected {text[pos:pos + 10]!r}")
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _syntax(token: str) -> LogQLError:
    return LogQLError(f"parse error : syntax error: unexpected {token}")


def _take(tokens: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    if not tokens or tokens[0][1] != value:
        raise _syntax(tokens[0][1] if tokens else "end of input")
    return tokens[1:]


def _string(tokens: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    if not tokens or tokens[0][0] != "str":
        raise _syntax(tokens[0][1] if tokens else "end of input")
    raw = tokens[0][1]
    return (raw[1:-1] if raw.startswith("`") else json.loads(raw)), tokens[1:]


def _log(tokens: list[tuple[str, str]]) -> tuple[LogQuery, list[tuple[str, str]]]:
    tokens, matchers = _take(tokens, "{"), []
    while tokens and tokens[0][1] != "}":
        if matchers:
            tokens = _take(tokens, ",")
        if len(tokens) < 2 or tokens[0][0] != "ident" or tokens[1][1] not in ("=", "!=", "=~", "!~"):
            raise _syntax(tokens[0][1] if tokens else "end of input")
        name, op = tokens[0][1], tokens[1][1]
        value, tokens = _string(tokens[2:])
        matchers.append((name, op, value))
    query = LogQuery(matchers)
    tokens = _take(tokens, "}")
    while tokens and tokens[0][1] in ("|=", "!=", "|~", "!~", "|"):
        op, tokens = tokens[0][1], tokens[1:]
        if op != "|":
            value, tokens = _string(tokens)
            query.stages.append(("line", op, value))
        elif tokens and tokens[0][1] == "regexp":
            value, tokens = _string(tokens[1:])
            query.stages.append(("regexp", value))
        elif len(tokens) > 1 and tokens[0][0] == "ident" and tokens[1][1] in ("=", "!=", "=~", "!~"):
            value, rest = _string(tokens[2:])
            query.stages.append(("label", tokens[0][1], tokens[1][1], value))
            tokens = rest
        else:
            raise _syntax(tokens[0][1] if tokens else "end of input")
    return query, tokens


def _metric(tokens: list[tuple[str, str]]) -> tuple[MetricQuery, list[tuple[str, str]]]:
    summed, by = tokens[0][1] == "sum", None
    if summed:
        tokens, by = tokens[1:], []
        if tokens and tokens[0][1] == "by":
            tokens = _take(tokens[1:], "(")
            while tokens and tokens[0][0] == "ident":
                by.append(tokens[0][1])
                tokens = tokens[1:]
                if tokens and tokens[0][1] == ",":
                    tokens = tokens[1:]
            tokens = _take(tokens, ")")
        tokens = _take(tokens, "(")
    tokens = _take(_take(tokens, "count_over_time"), "(")
    log, tokens = _log(tokens)
    if not tokens or tokens[0][0] != "range":
        raise _syntax(tokens[0][1] if tokens else "end of input")
    range_s, tokens = duration_s(tokens[0][1][1:-1].strip()), _take(tokens[1:], ")")
    if summed:
        tokens = _take(tokens, ")")
    return MetricQuery(log, range_s, by, summed), tokens


def _matches(actual: str, op: str, value: str) -> bool:
    if op in ("=", "!="):
        return (actual == value) == (op == "=")
    try:
        return (re.fullmatch(value, actual) is not None) == (op == "=~")
    except re.error as e:
        raise LogQLError(f"parse error : error parsing regexp: {e}") from None


def count(query: MetricQuery, lines: list[tuple[Labels, int, str]], at_ns: int) -> dict[tuple, tuple[Labels, int]]:
    """The metric query's series at `at_ns`: label set -> count of lines in (at - range, at]."""
    since = at_ns - int(query.range_s * 1e9)
    series: dict[tuple, tuple[Labels, int]] = {}
    for labels, ns, text in lines:
        if not since < ns <= at_ns or not query.log.streams(labels):
            continue
        kept = query.log.run(labels, text)
        if kept is None:
            continue
        if query.by is not None:
            kept = {k: kept[k] for k in query.by if kept.get(k)} if query.by else {}
        key = tuple(sorted(kept.items()))
        series[key] = (kept, series.get(key, ({}, 0))[1] + 1)
    return series


def as_result(series: dict[tuple, tuple[Labels, int]], at_ns: int) -> list[dict[str, Any]]:
    return [{"metric": labels, "value": [at_ns / 1e9, str(n)]} for labels, n in series.values()]
