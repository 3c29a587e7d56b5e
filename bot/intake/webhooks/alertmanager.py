"""POST /webhooks/alertmanager: Alertmanager's webhook payload, version 4, and Grafana-managed alerts'
(version "1", the same shape with orgId, title, state and message, and dashboard, panel and silence URLs).

Shape (prometheus.io/docs/alerting/latest/configuration/#webhook_config): version "4", groupKey,
truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations, externalURL, and alerts[]
with status, labels, annotations, startsAt, endsAt ("0001-01-01T00:00:00Z" while firing), generatorURL,
fingerprint. A whole group is stored in one atomic write; the same group key and body within the replay
window is a duplicate and answered 200 (a 4xx would be logged by Alertmanager as a failed notification).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.http_input import WebhookError, parse_json, read_body
from bot.intake.alert import Alert, Link
from bot.intake.fingerprint import fingerprint
from bot.intake.webhooks.errors import shape_error
from bot.intake.webhooks.intake_call import store

router = APIRouter()


class AMAlert(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""
    dashboardURL: str = ""  # Grafana-managed alerts also link their dashboard, panel and silence form
    panelURL: str = ""
    silenceURL: str = ""


class AMPayload(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: Literal["4", "1"] = Field(description='"4": Alertmanager; "1": Grafana-managed alerts (with orgId)')
    orgId: int | None = None
    groupKey: str
    truncatedAlerts: int = Field(0, ge=0)  # a count: a negative one is a malformed payload, not a metric
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AMAlert] = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _grafana_names_its_org(self) -> AMPayload:
        if self.version == "1" and self.orgId is None:
            raise ValueError('version "1" is Grafana\'s webhook payload, which carries orgId; it is missing')
        return self


def _expr(generator_url: str) -> str | None:
    if not generator_url:
        return None
    values = parse_qs(urlsplit(generator_url).query).get("g0.expr")
    return values[0] if values else None


def _real(when: datetime | None) -> datetime | None:
    return when if when is not None and when.year >= 1970 else None


def to_alert(a: AMAlert, p: AMPayload, severity: Any, now: datetime) -> Alert:
    links = []
    if a.generatorURL:
        links.append(Link(title="Prometheus", url=a.generatorURL))
    if a.annotations.get("runbook_url"):
        links.append(Link(title="Runbook", url=a.annotations["runbook_url"]))
    links += [Link(title=title, url=url) for title, url in (("Dashboard", a.dashboardURL), ("Panel", a.panelURL),
                                                             ("Silence", a.silenceURL)) if url]
    if p.externalURL:
        links.append(Link(title="Grafana" if p.version == "1" else "Alertmanager", url=p.externalURL))
    return Alert(
        source="alertmanager", name=a.labels.get("alertname", "unnamed alert"), status=a.status,
        severity=severity(a.labels.get("severity")), labels=a.labels, annotations=a.annotations,
        starts_at=_real(a.startsAt), ends_at=_real(a.endsAt) if a.status == "resolved" else None,
        fingerprint=fingerprint("alertmanager", a.labels), links=links,
        raw_ids={"am_fingerprint": a.fingerprint, "group_key": p.groupKey}, expr=_expr(a.generatorURL),
        received_at=now, group_truncated=p.truncatedAlerts, common_labels=p.commonLabels,
    )


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


@router.post("/webhooks/alertmanager")
async def alertmanager(request: Request) -> dict[str, Any]:
    deps = request.app.state.opsbot
    wh = deps.settings.webhooks
    if wh.alertmanager_token is None and not wh.alertmanager_open:
        raise WebhookError(403, "not_configured", "the Alertmanager intake needs webhooks.alertmanager_token "
                           "(or webhooks.alertmanager_open: true to accept unauthenticated posts)")
    check_token(request, wh.alertmanager_token.get_secret_value() if wh.alertmanager_token else None)
    body = await read_body(request, wh.max_body_bytes)
    data = parse_json(body)
    if not isinstance(data, dict):
        raise WebhookError(422, "invalid_payload", "not an Alertmanager webhook payload: a JSON object was expected")
    try:
        payload = AMPayload.model_validate(data)
    except ValidationError as e:
        raise shape_error("an Alertmanager (version 4) or Grafana (version 1) webhook payload", e) from None
    now = deps.now()
    alerts = [to_alert(a, payload, lambda label: deps.engine.severity("alertmanager", label), now)
              for a in payload.alerts]
    delivery = "am:" + hashlib.sha256(payload.groupKey.encode()).hexdigest()[:16] + ":" + \
        hashlib.sha256(body).hexdigest()[:32]
    accepted = await store(deps, "alertmanager", alerts, delivery)
    if payload.truncatedAlerts and not accepted.duplicate:
        deps.metrics.truncated_alerts.inc(payload.truncatedAlerts)
    if accepted.duplicate:
        return {"status": "duplicate", "message": "this group payload was already accepted; nothing stored again",
                "alerts": 0}
    return {"status": "accepted", "alerts": len(alerts), "entries": accepted.entry_ids,
            "fingerprints": [a.fingerprint for a in alerts], "truncated_alerts": payload.truncatedAlerts}
