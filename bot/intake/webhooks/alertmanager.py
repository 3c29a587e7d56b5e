"""POST /webhooks/alertmanager: Alertmanager's webhook (version 4) and Grafana-managed alerts (version "1").

The hot path does what a durable webhook must and nothing more: authenticate, read under the size limit,
parse, mask (redact at the source), check the shape (a precise 4xx), then store the whole delivery as one
stream entry with its replay marker in one Redis round trip before answering 2xx. The alerts are built,
fingerprinted and ranked by the triage worker (bot.intake.delivery, bot.intake.payloads.alertmanager). The
same group key and body within the replay window is a duplicate and answered 200 (a 4xx would be logged by
Alertmanager as a failed notification).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from bot.http_input import MAX_DEPTH, WebhookError, parse_json, read_body, text_of, too_deep
from bot.intake.delivery import Delivery, masked
from bot.intake.payloads.alertmanager import AMPayload
from bot.intake.webhooks.errors import shape_error
from bot.intake.webhooks.intake_call import store
from bot.redact_json import may_mask


def check_token(request: Request, token: str | None) -> None:
    if token is None:
        return
    given = request.headers.get("authorization", "")
    if not given:
        raise WebhookError(401, "missing_token", "this endpoint needs 'Authorization: Bearer <token>'",
                           headers={"WWW-Authenticate": "Bearer"})
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise WebhookError(401, "bad_token", "the bearer token is not the one configured for Alertmanager",
                           headers={"WWW-Authenticate": "Bearer"})


PLAIN_KEYS = ("groupKey",)  # a key whose name holds a word the masking gate looks for, and names no secret
# what parse_json refuses and pydantic's parser lets through (NaN, Infinity, 1e999, a 41-digit number: a value
# follows a colon, a comma or a bracket): a body with any of them takes the careful way (a surrogate's escape
# too: decoded, it is no ASCII, which the masking gate sends that way)
_NEAR_BOUNDS = r"[:,\[]\s*-?(?:NaN|Infinity|[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]{3})|[0-9]{41}"


def _nests_deeper(p: AMPayload) -> bool:
    """Whether a field no schema names nests past MAX_DEPTH (the payload is level 1, each alert level 3)."""
    return too_deep(p.model_extra, MAX_DEPTH) or any(too_deep(a.model_extra, MAX_DEPTH - 2) for a in p.alerts)


def read(body: bytes) -> tuple[bytes, AMPayload]:
    """What to store of the body (masked) and its payload, or a WebhookError: 400 not JSON, 422 not the shape.

    Most deliveries go the quick way: one search of the text finds nothing to mask (bot.redact_json) and nothing
    near parse_json's bounds, so pydantic reads and checks the bytes in one pass. Any other body, and every
    error, goes the careful way, which words the error: parse_json, mask, then check the masked data."""
    text = text_of(body)
    if not may_mask(text, PLAIN_KEYS, also=_NEAR_BOUNDS):
        try:
            payload = AMPayload.model_validate_json(body)
        except ValidationError:
            pass
        else:
            if not _nests_deeper(payload):
                return body, payload
    data = parse_json(body)
    if not isinstance(data, dict):
        raise WebhookError(422, "invalid_payload", "not an Alertmanager webhook payload: a JSON object was expected")
    stored, clean = masked(body, data, PLAIN_KEYS)
    try:
        return stored, AMPayload.model_validate(clean)
    except ValidationError as e:
        raise shape_error("an Alertmanager (version 4) or Grafana (version 1) webhook payload", e) from None


async def receive(deps: Any, request: Request) -> dict[str, Any]:
    """POST /webhooks/alertmanager (routed by bot.intake.webhooks.app)."""
    wh = deps.settings.webhooks
    if wh.alertmanager_token is None and not wh.alertmanager_open:
        raise WebhookError(403, "not_configured", "the Alertmanager intake needs webhooks.alertmanager_token "
                           "(or webhooks.alertmanager_open: true to accept unauthenticated posts)")
    check_token(request, wh.alertmanager_token.get_secret_value() if wh.alertmanager_token else None)
    body = await read_body(request, wh.max_body_bytes)
    stored, payload = read(body)
    seen_as = "am:" + hashlib.sha256(payload.groupKey.encode()).hexdigest()[:16] + ":" + \
        hashlib.sha256(body).hexdigest()[:32]
    count = len(payload.alerts)
    accepted = await store(deps, Delivery("alertmanager", stored, deps.now()), count, seen_as)
    if accepted.duplicate:
        return {"status": "duplicate", "message": "this group payload was already accepted; nothing stored again",
                "alerts": 0}
    if payload.truncatedAlerts:
        deps.metrics.truncated_alerts.inc(payload.truncatedAlerts)
    return {"status": "accepted", "alerts": count, "entries": [accepted.entry_id],
            "truncated_alerts": payload.truncatedAlerts}
