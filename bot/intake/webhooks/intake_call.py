"""The one place a webhook hands a delivery to the intake: 503 when Redis cannot take it, metrics either way."""

from __future__ import annotations

from typing import Any

import structlog

from bot.http_input import WebhookError
from bot.intake.delivery import Delivery
from bot.intake.stream import Accepted, IntakeUnavailable

log = structlog.get_logger(__name__)


async def store(deps: Any, delivery: Delivery, alerts: int, seen_as: str) -> Accepted:
    """Store `delivery` (holding `alerts` alerts) durably; `seen_as` marks it for the replay window."""
    source = delivery.source
    try:
        accepted = await deps.intake.accept(delivery, seen_as, deps.settings.webhooks.replay_window_s)
    except IntakeUnavailable as e:
        deps.metrics.alerts_received.labels(source, "unavailable").inc(alerts)
        log.error("intake_unavailable", source=source, alerts=alerts, error=str(e))
        raise WebhookError(503, "intake_unavailable", "the alert could not be stored durably; retry later",
                           headers={"Retry-After": "5"}) from None
    outcome = "duplicate" if accepted.duplicate else "accepted"
    deps.metrics.alerts_received.labels(source, outcome).inc(alerts)
    if not accepted.duplicate:
        deps.metrics.last_alert.labels(source).set(delivery.received_at.timestamp())
    return accepted
