"""POST /webhooks/sentry: Sentry integration-platform webhooks (issue, event_alert, metric_alert).

Headers (docs.sentry.io/integrations/integration-platform/webhooks/): Request-ID, Sentry-Hook-Resource,
Sentry-Hook-Timestamp (unix seconds), Sentry-Hook-Signature = HMAC-SHA256 hex of the raw body keyed with
the integration's client secret. Checked in that order of cost: size, signature, freshness, JSON, shape.
A Request-ID seen again within the replay window, or a timestamp older than it, is a replay: 409.
The payload's shapes and the alert each one holds: bot.intake.payloads.sentry (the alert is built by the
worker). installation, comment, error and other resources carry no alert: 202, ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.http_input import WebhookError, parse_json, read_body
from bot.intake.delivery import Delivery, masked
from bot.intake.payloads.sentry import SHAPES, ignored
from bot.intake.webhooks.errors import shape_error
from bot.intake.webhooks.intake_call import store

def verify(secret: str, body: bytes, signature: str | None) -> None:
    if not signature:
        raise WebhookError(401, "missing_signature", "the Sentry-Hook-Signature header is missing")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise WebhookError(401, "bad_signature", "Sentry-Hook-Signature does not match the body signed with the "
                           "configured client secret")


def _fresh(timestamp: str | None, now: datetime, window_s: int) -> datetime:
    if timestamp is None:
        return now
    try:
        at = datetime.fromtimestamp(float(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookError(400, "bad_timestamp", f"Sentry-Hook-Timestamp {timestamp!r} is not unix seconds") from None
    age = (now - at).total_seconds()
    if abs(age) > window_s:
        raise WebhookError(409, "replayed", f"Sentry-Hook-Timestamp is {age:.0f}s away from now; deliveries older "
                           f"than {window_s}s are refused as replays")
    return at


async def receive(deps: Any, request: Request) -> dict[str, Any] | JSONResponse:
    """POST /webhooks/sentry (routed by bot.intake.webhooks.app)."""
    wh = deps.settings.webhooks
    if wh.sentry_client_secret is None:
        raise WebhookError(403, "not_configured", "the Sentry intake is off: webhooks.sentry_client_secret is not "
                           "set, and unsigned deliveries are refused")
    body = await read_body(request, wh.max_body_bytes)
    verify(wh.sentry_client_secret.get_secret_value(), body, request.headers.get("sentry-hook-signature"))
    resource = request.headers.get("sentry-hook-resource")
    if not resource:
        raise WebhookError(400, "missing_resource", "the Sentry-Hook-Resource header is missing")
    at = _fresh(request.headers.get("sentry-hook-timestamp"), deps.now(), wh.replay_window_s)
    request_id = request.headers.get("request-id") or hashlib.sha256(body).hexdigest()[:32]
    data = parse_json(body)
    if resource not in SHAPES:
        deps.metrics.alerts_received.labels("sentry", "ignored").inc()
        return JSONResponse({"status": "ignored", "message": f"resource {resource!r} carries no alert"}, 202)
    if not isinstance(data, dict):
        raise WebhookError(422, "invalid_payload", f"not a Sentry {resource} payload: a JSON object was expected")
    stored, clean = masked(body, data)
    try:
        reason = ignored(resource, clean)
    except ValidationError as e:
        raise shape_error(f"Sentry {resource} payload", e) from None
    if reason:
        deps.metrics.alerts_received.labels("sentry", "ignored").inc()
        return JSONResponse({"status": "ignored", "message": reason}, 202)
    delivery = Delivery("sentry", stored, at, {"resource": resource, "request_id": request_id})
    accepted = await store(deps, delivery, 1, f"sentry:{request_id}")
    if accepted.duplicate:
        raise WebhookError(409, "replayed", f"delivery {request_id} was already accepted; nothing stored again")
    return {"status": "accepted", "alerts": 1, "entries": [accepted.entry_id]}
