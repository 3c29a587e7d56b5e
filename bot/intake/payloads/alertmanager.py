"""Alertmanager's webhook payload, version 4, and Grafana-managed alerts' (version "1", the same shape with orgId,
title, state and message, and dashboard, panel and silence URLs): its shape, and the Alerts it holds.

Shape (prometheus.io/docs/alerting/latest/configuration/#webhook_config): version "4", groupKey,
truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations, externalURL, and alerts[]
with status, labels, annotations, startsAt, endsAt ("0001-01-01T00:00:00Z" while firing), generatorURL,
fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.intake.alert import Alert, Link
from bot.intake.fingerprint import fingerprint
from policies.schema import Severity


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


def to_alert(a: AMAlert, p: AMPayload, severity: Callable[[str | None], Severity], now: datetime) -> Alert:
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


def alerts(payload: AMPayload, severity: Callable[[str | None], Severity], received_at: datetime) -> list[Alert]:
    """Every alert of one delivery, in the order Alertmanager sent them."""
    return [to_alert(a, payload, severity, received_at) for a in payload.alerts]
