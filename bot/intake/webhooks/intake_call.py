"""The one place a webhook hands alerts to the intake: 503 when Redis cannot take them, metrics either way."""

from __future__ import annotations

from typing import Any

import structlog

from bot.http_input import WebhookError
from bot.intake.alert import Alert
from bot.intake.stream import Accepted, IntakeUnavailable

log = structlog.get_logger(__name__)


async def store(deps: Any, source: str, alerts: list[Alert], delivery: str) -> Accepted:
    try:
        accepted = await deps.intake.accept(alerts, delivery, deps.settings.webhooks.replay_window_s)
    except IntakeUnavailable as e:
        deps.metrics.alerts_received.labels(source, "unavailable").inc(len(alerts))
        log.error("intake_unavailable", source=source, alerts=len(alerts), error=str(e))
        raise WebhookError(503, "intake_unavailable", "the alert could not be stored durably; retry later",
                           headers={"Retry-After": "5"}) from None
    outcome = "duplicate" if accepted.duplicate else "accepted"
    deps.metrics.alerts_received.labels(source, outcome).inc(len(alerts))
    if not accepted.duplicate:
        deps.metrics.last_alert.labels(source).set(deps.now().timestamp())
    return accepted
