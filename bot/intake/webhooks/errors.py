"""Precise JSON errors for webhook senders: a code, a sentence, and where it applies."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.responses import JSONResponse

from bot.http_input import WebhookError, error_body


def response(exc: WebhookError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message, exc.detail), status_code=exc.status, headers=exc.headers)


def shape_error(what: str, err: ValidationError) -> WebhookError:
    detail = [{"at": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
              for e in err.errors()[:20]]
    first = detail[0]
    return WebhookError(422, "invalid_payload", f"not a {what}: {first['at']}: {first['problem']}", detail)
