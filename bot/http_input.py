"""Untrusted HTTP input, for every endpoint opsbot serves: the body read under a size bound (before any
signature check), JSON parsed under bounds, and errors worded for the sender instead of a 500."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request


class WebhookError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.detail, self.headers = status, code, message, detail, headers


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds `limit` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise WebhookError(413, "body_too_large", f"the body is {declared} bytes; the limit is {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookError(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


MAX_DEPTH = 32  # Alertmanager and Sentry bodies nest about 8 deep
MAX_NUMBER_DIGITS = 40


def _refuse(message: str) -> WebhookError:
    return WebhookError(400, "malformed_json", message)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _refuse(f"a number has {len(text)} digits; at most {MAX_NUMBER_DIGITS} are accepted")
    return int(text)


def _real(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS + 10:
        raise _refuse(f"a number is {len(text)} characters long; at most {MAX_NUMBER_DIGITS + 10} are accepted")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _refuse(f"the number {text[:20]}… is out of range")
    return value


def _constant(name: str) -> Any:
    raise _refuse(f"{name} is not JSON; numbers must be finite")


def too_deep(value: Any, room: int = MAX_DEPTH) -> bool:
    """Whether dicts and lists nest more than `room` levels, `value` itself the first."""
    if type(value) is dict:
        children: Any = value.values()
    elif type(value) is list:
        children = value
    else:
        return False
    if room == 0:
        return True
    for child in children:
        if (type(child) is dict or type(child) is list) and too_deep(child, room - 1):
            return True
    return False


def _lone_surrogate(value: Any) -> bool:
    """Whether some string, keys too, cannot be encoded as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += item.values()
            texts: Any = item.keys()
        elif isinstance(item, list):
            stack += item
            texts = ()
        else:
            texts = (item,) if isinstance(item, str) else ()
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


# strict UTF-8 cannot carry a surrogate: only a \uD800-\uDFFF escape can make one, so without one the strings
# need no walk
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def text_of(body: bytes) -> str:
    """The body as UTF-8 text, or a 400 (form bodies; JSON goes through parse_json)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("the body is not UTF-8 text") from None


def parse_json(body: bytes) -> Any:
    """The body as JSON, or a 400 that says what is wrong: empty, not UTF-8, not JSON, too deep, a number too
    large or not finite, a lone surrogate. Never a 500, whatever the bytes."""
    if not body.strip():
        raise WebhookError(400, "empty_body", "the body is empty; a JSON object was expected")
    try:
        value = json.loads(body.decode("utf-8"),  # strictly: json.loads(bytes) would also take UTF-16/32
                           parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except UnicodeDecodeError:
        raise _refuse("the body is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise _refuse(f"the body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise _refuse(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and too_deep(value):  # fewer openings cannot nest deeper
        raise _refuse(f"the JSON nests deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(body) is not None and _lone_surrogate(value):
        raise _refuse("a string holds a lone surrogate (an invalid \\uD800-\\uDFFF escape)")
    return value
