"""Alertmanager's API v2 over the configured client: one call, and every way it can fail as a BackendError
sentence (unreachable, timed out, an HTTP error with Alertmanager's own words, an answer that is not JSON)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tools.base import BackendError
from tools.context import ToolContext


def transport_reason(e: Exception) -> str:
    """A short why from a transport exception: the innermost '[Errno n] ...' when there is one."""
    text = str(e)
    m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return m.group(1).strip() if m else text[:200]


def call(ctx: ToolContext, method: str, path: str, asked: str, **kwargs: Any) -> Any:
    """`method path` against Alertmanager; its JSON answer (None when it sends no body)."""
    url = ctx.settings.alertmanager.url
    try:
        response = ctx.backends.alertmanager.request(method, path, **kwargs)
    except httpx.TimeoutException:
        waited = f"no answer within {ctx.settings.alertmanager.timeout_s:g}s"
        raise BackendError("alertmanager", url, asked, waited) from None
    except httpx.HTTPError as e:
        raise BackendError("alertmanager", url, asked, transport_reason(e)) from None
    if response.status_code >= 300:
        raise BackendError("alertmanager", url, asked, f"HTTP {response.status_code}: {response.text.strip()[:200]}")
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise BackendError("alertmanager", url, asked, "the answer is not an Alertmanager API response") from None
