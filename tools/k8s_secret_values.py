"""The values a namespace's Secrets hold, masked wherever a read tool would show them: a log line, an event or a
ConfigMap that prints a Secret's value, as stored (base64) or decoded. No pattern knows that `Wx7-tiger-lamp` is
a password; the Secret does. Names and keys stay readable; a Secret's values never leave a tool.

Values that are not secret by nature (a user name, a host, a port, a URL's host and path) are not masked, so
the lines that say which database was unreachable stay readable; a URL's password is masked on its own.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import Any
from urllib.parse import urlsplit

from kubernetes.client.exceptions import ApiException

from tools.base import BackendError
from tools.context import ToolContext
from tools.k8s_api import call

MASK = "[REDACTED secret value]"
MIN_CHARS = 6  # shorter values (a port, "admin") would mask ordinary words everywhere
TTL_S = 30.0  # a namespace's Secrets are read at most this often per context
MAX_VALUES = 2000

# keys whose values describe where, not how: kept readable (their URLs' passwords excepted)
_PLAIN_KEY = re.compile(r"(?:^|[_.-])(?:user(?:name)?|login|host(?:name)?|server|port|database|db(?:name)?|name|"
                        r"region|bucket|namespace|e?mail|url|uri|dsn|endpoint|address|addr)$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]{1,7}|\d{1,6}")  # a short plain word or number on its own


def _url_password(value: str) -> set[str]:
    try:
        password = urlsplit(value).password if "://" in value else None
    except ValueError:
        return set()
    return {password} if password and len(password) >= 4 else set()


def _forms(key: str, stored: str) -> set[str]:
    """What of one data entry must not be shown: the stored base64 and the decoded text (or its lines)."""
    out = {stored} if len(stored) >= 12 else set()
    try:
        text = base64.b64decode(stored, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return out
    for line in {text.strip(), *(line.strip() for line in text.splitlines())}:
        out |= _url_password(line)
        value = line.partition("=")[2].strip() if re.match(r"[A-Za-z_][\w.-]*=", line) else line
        if _PLAIN_KEY.search(key) or len(value) < MIN_CHARS or _WORD.fullmatch(value):
            continue
        out.add(value)
    return out


def secret_values(ctx: ToolContext, namespace: str) -> tuple[str, ...]:
    """The namespace's Secret values, longest first, read at most every TTL_S seconds. A Secret list the
    credentials may not read gives nothing (the patterns of the door still apply)."""
    memo = ctx.memo.setdefault("secret_values", {})
    hit = memo.get(namespace)
    if hit is not None and time.monotonic() - hit[0] < TTL_S:
        return hit[1]
    try:
        secrets = call(ctx, f"the secrets in {namespace}", "core", "list_namespaced_secret", namespace,
                       passthrough=(400, 403, 404)).items
    except (ApiException, BackendError):
        secrets = []
    found: set[str] = set()
    for s in secrets:
        for key, stored in (s.data or {}).items():
            found |= _forms(key, stored or "")
        for key, plain in (getattr(s, "string_data", None) or {}).items():
            found |= _forms(key, base64.b64encode((plain or "").encode()).decode())
    values = tuple(sorted(found, key=len, reverse=True)[:MAX_VALUES])
    memo[namespace] = (time.monotonic(), values)
    return values


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, (list, tuple)):
        return [s for v in data for s in _strings(v)]
    return []


def _mask(data: Any, values: tuple[str, ...]) -> Any:
    if isinstance(data, str):
        for value in values:
            if value in data:
                data = data.replace(value, MASK)
        return data
    if isinstance(data, dict):
        return {k: _mask(v, values) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_mask(v, values) for v in data]
    return data


def mask_secret_values(ctx: ToolContext, namespace: str | None, data: Any) -> Any:
    """`data` with every value of the namespace's Secrets replaced by MASK."""
    if not namespace:
        return data
    values = secret_values(ctx, namespace)
    if not values:
        return data
    text = "\n".join(_strings(data))
    present = tuple(v for v in values if v in text)  # one scan of the whole result; most hold none
    return _mask(data, present) if present else data
