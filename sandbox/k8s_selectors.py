"""Label and field selectors as the API server parses them: equality and set-based, 400 for anything else."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.k8s_objects import ApiError
from tools.k8s_api import selector_terms

_KEY = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_VALUE = r"[A-Za-z0-9._-]*"
_EQUALITY = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
Labels = dict[str, str]


def _term(part: str) -> Callable[[Labels], bool]:
    if m := _EQUALITY.match(part):
        key, op, value = m.groups()
        return (lambda labels: labels.get(key) != value) if op == "!=" else (lambda labels: labels.get(key) == value)
    if m := _SET.match(part):
        key, op, raw = m.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if not values or not all(re.fullmatch(_VALUE, v) for v in values):
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {part.strip()!r}: "
                           "for 'in', 'notin' operators, values set can't be empty")
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EXISTS.match(part):
        negated, key = m.group(1) == "!", m.group(2)
        return lambda labels: (key in labels) != negated
    raise ApiError(400, "BadRequest", f"unable to parse requirement: {part.strip()!r}")


def label_matcher(selector: str | None) -> Callable[[Labels], bool]:
    """a=b, a==b, a!=b, a in (x,y), a notin (x,y), a, !a; comma-separated terms all hold."""
    tests = [_term(part) for part in selector_terms(selector or "") if part.strip()]
    return lambda labels: all(t(labels) for t in tests)


def selector_text(selector: dict[str, Any] | None) -> str:
    """A LabelSelector object (matchLabels, matchExpressions) in the query-string form."""
    selector = selector or {}
    terms = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for ex in selector.get("matchExpressions") or []:
        values = ",".join(ex.get("values") or [])
        terms.append({"In": f"{ex['key']} in ({values})", "NotIn": f"{ex['key']} notin ({values})",
                      "Exists": ex["key"], "DoesNotExist": f"!{ex['key']}"}[ex["operator"]])
    return ",".join(terms)


def selects(selector: dict[str, Any] | None, labels: Labels) -> bool:
    """Whether a LabelSelector object selects these labels; an empty selector selects everything."""
    return label_matcher(selector_text(selector))(labels)


def field_matcher(selector: str | None, allowed: tuple[str, ...]):
    """Field selector terms path=value / path!=value over the paths the real API allows for the resource."""
    terms = []
    for part in (selector or "").split(","):
        if not part.strip():
            continue
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector: {part.strip()!r}")
        if m.group(1) not in allowed:
            raise ApiError(400, "BadRequest", f'field label not supported: {m.group(1)}')
        terms.append((m.group(1), m.group(2) == "!=", m.group(3)))

    def value(obj: dict[str, Any], path: str) -> str:
        for key in path.split("."):
            obj = obj.get(key, {}) if isinstance(obj, dict) else {}
        return "" if obj == {} else str(obj)

    return lambda obj: all((value(obj, p) == v) != neg for p, neg, v in terms)
