"""One webhook delivery as the intake stream holds it: who sent it, its payload masked (redact at the source),
when it arrived and what the request said beside the body (Sentry's resource and Request-ID). The webhook
stores it in one write; the triage worker unpacks it into Alerts (build, fingerprint, severity) off the
request path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.intake.alert import Alert, Source
from bot.intake.payloads import alertmanager, sentry
from bot.redact import redact_data
from bot.redact_json import may_mask
from policies.schema import Severity

SeverityOf = Callable[[Source, str | None], Severity]


def masked(body: bytes, data: Any, plain_keys: tuple[str, ...] = ()) -> tuple[bytes, Any]:
    """What may be stored of a parsed body: the body as sent when masking changes nothing in it, else its data
    masked and encoded again; and that masked data (for the shape check). Most bodies are cleared by one search
    of their text (bot.redact_json) without the walk over every value; `plain_keys` as there."""
    if not may_mask(body.decode("utf-8"), plain_keys):
        return body, data
    clean = redact_data(data)
    if clean == data:
        return body, clean
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False).encode(), clean


@dataclass(frozen=True)
class Delivery:
    source: Source
    payload: bytes  # JSON, masked
    received_at: datetime
    meta: dict[str, str] = field(default_factory=dict)  # Sentry: resource, request_id

    def fields(self) -> dict[str, str | bytes]:
        return {"source": self.source, "payload": self.payload, "received_at": self.received_at.isoformat(),
                **self.meta}

    @classmethod
    def of(cls, raw: dict[str, str]) -> Delivery:
        """From a stream entry's fields; KeyError or ValueError when they are not a delivery."""
        source = raw["source"]
        if source not in ("alertmanager", "sentry"):
            raise ValueError(f"unknown source {source!r}")
        meta = {k: v for k, v in raw.items() if k not in ("source", "payload", "received_at")}
        return cls(source, raw["payload"].encode(), datetime.fromisoformat(raw["received_at"]), meta)  # type: ignore[arg-type]

    def alerts(self, severity: SeverityOf) -> list[Alert]:
        """The alerts this delivery holds, in order; pydantic's ValidationError (a ValueError) when it holds none
        readable."""
        if self.source == "alertmanager":
            payload = alertmanager.AMPayload.model_validate_json(self.payload)
            return alertmanager.alerts(payload, lambda label: severity("alertmanager", label), self.received_at)
        found = sentry.parse(self.meta["resource"], json.loads(self.payload),
                             lambda level: severity("sentry", level), self.received_at, self.meta["request_id"])
        return [] if isinstance(found, str) else [found]
