"""Precise JSON errors for webhook senders: a code, a sentence, and where it applies."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError


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


async def handle(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WebhookError)
    return JSONResponse(error_body(exc.code, exc.message, exc.detail), status_code=exc.status, headers=exc.headers)


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


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise WebhookError(400, "empty_body", "the body is empty; a JSON object was expected")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise WebhookError(400, "malformed_json", "the body is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise WebhookError(400, "malformed_json", f"the body is not valid JSON: {e.msg} at line {e.lineno} "
                           f"column {e.colno}") from None


def shape_error(what: str, err: ValidationError) -> WebhookError:
    detail = [{"at": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
              for e in err.errors()[:20]]
    first = detail[0]
    return WebhookError(422, "invalid_payload", f"not a {what}: {first['at']}: {first['problem']}", detail)
