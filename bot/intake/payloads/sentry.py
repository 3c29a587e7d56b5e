"""Sentry integration-platform webhook payloads (issue, event_alert, metric_alert): their shapes, and the Alert
each delivery holds.

- issue: data.issue {id, title, culprit, level, status, shortId, project{slug}, web_url}; action created /
  unresolved → firing, resolved / archived / ignored → resolved, assigned → ignored.
- event_alert: action "triggered", data.event {issue_id, title, level, culprit, web_url, tags[[k, v]]},
  data.triggered_rule. Same fingerprint as the issue: an issue and its alert rule make one incident.
- metric_alert: action critical / warning / resolved, data.metric_alert {id, title, alert_rule{id, name}},
  data.description_title, data.description_text, data.web_url.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.intake.alert import Alert, AlertStatus, Link
from bot.intake.fingerprint import fingerprint

ISSUE_ACTIONS: dict[str, AlertStatus] = {"created": "firing", "unresolved": "firing", "resolved": "resolved",
                                         "archived": "resolved", "ignored": "resolved"}
METRIC_LEVEL = {"critical": "error", "warning": "warning", "resolved": "info"}
# event tags worth keeping as labels: they let triage find the workload
TAG_LABELS = ("environment", "release", "namespace", "service", "deployment", "pod", "server_name", "transaction")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class SentryProject(_Open):
    slug: str = ""
    name: str = ""


class SentryIssue(_Open):
    id: str = Field(min_length=1)
    title: str
    culprit: str | None = None
    level: str | None = None
    status: str | None = None
    shortId: str | None = None
    project: SentryProject = SentryProject()
    web_url: str | None = None
    permalink: str | None = None


class IssueData(_Open):
    issue: SentryIssue


class IssuePayload(_Open):
    action: str
    data: IssueData


class SentryEvent(_Open):
    issue_id: str = Field(min_length=1)
    title: str
    level: str | None = None
    culprit: str | None = None
    web_url: str | None = None
    issue_url: str | None = None
    event_id: str | None = None
    tags: list[list[Any]] = Field(default_factory=list)


class EventAlertData(_Open):
    event: SentryEvent
    triggered_rule: str = ""


class EventAlertPayload(_Open):
    action: Literal["triggered"]
    data: EventAlertData


class AlertRule(_Open):
    id: str = Field(min_length=1)
    name: str = ""


class MetricAlert(_Open):
    id: str = ""
    title: str = ""
    alert_rule: AlertRule


class MetricAlertData(_Open):
    metric_alert: MetricAlert
    description_title: str = ""
    description_text: str = ""
    web_url: str | None = None


class MetricAlertPayload(_Open):
    action: Literal["critical", "warning", "resolved"]
    data: MetricAlertData


def _links(*pairs: tuple[str, str | None]) -> list[Link]:
    return [Link(title=t, url=u) for t, u in pairs if u]


SHAPES: dict[str, type[BaseModel]] = {"issue": IssuePayload, "event_alert": EventAlertPayload,
                                      "metric_alert": MetricAlertPayload}


def ignored(resource: str, data: dict[str, Any]) -> str | None:
    """Why a delivery of this alert resource carries no alert (answered 202), or None; a payload of another
    shape raises pydantic's ValidationError."""
    p = SHAPES[resource].model_validate(data)
    if isinstance(p, IssuePayload) and p.action not in ISSUE_ACTIONS:
        return f"issue action {p.action!r} does not change the incident"
    return None


def parse(resource: str, data: dict[str, Any], severity: Any, at: datetime, request_id: str) -> Alert | str:
    """An Alert, or the reason this delivery carries none (answered 202)."""
    if resource == "issue":
        p = IssuePayload.model_validate(data)
        status = ISSUE_ACTIONS.get(p.action)
        if status is None:
            return f"issue action {p.action!r} does not change the incident"
        i = p.data.issue
        ident = {"sentry_issue": i.id}
        labels = {**ident, **({"service": i.project.slug} if i.project.slug else {}), "level": i.level or ""}
        return Alert(source="sentry", name=i.title, status=status, severity=severity(i.level), labels=labels,
                     annotations={"summary": i.title, "description": i.culprit or ""},
                     starts_at=at if status == "firing" else None, ends_at=at if status == "resolved" else None,
                     fingerprint=fingerprint("sentry", ident),
                     links=_links(("Sentry issue", i.web_url or i.permalink)),
                     raw_ids={"sentry_issue_id": i.id, "short_id": i.shortId or "", "request_id": request_id},
                     received_at=at)
    if resource == "event_alert":
        p = EventAlertPayload.model_validate(data)
        e = p.data.event
        ident = {"sentry_issue": e.issue_id}
        tags = {str(t[0]): str(t[1]) for t in e.tags if len(t) == 2 and str(t[0]) in TAG_LABELS}
        return Alert(source="sentry", name=e.title, status="firing", severity=severity(e.level),
                     labels={**tags, **ident, "level": e.level or ""},
                     annotations={"summary": e.title, "description": e.culprit or "",
                                  "rule": p.data.triggered_rule},
                     starts_at=at, fingerprint=fingerprint("sentry", ident),
                     links=_links(("Sentry event", e.web_url)),
                     raw_ids={"sentry_issue_id": e.issue_id, "event_id": e.event_id or "", "request_id": request_id},
                     received_at=at)
    p = MetricAlertPayload.model_validate(data)
    m = p.data.metric_alert
    ident = {"sentry_metric_alert_rule": m.alert_rule.id}
    status = "resolved" if p.action == "resolved" else "firing"
    title = m.alert_rule.name or m.title or p.data.description_title
    return Alert(source="sentry", name=title, status=status, severity=severity(METRIC_LEVEL[p.action]),
                 labels={**ident, "level": METRIC_LEVEL[p.action]},
                 annotations={"summary": p.data.description_title or title,
                              "description": p.data.description_text},
                 starts_at=at if status == "firing" else None, ends_at=at if status == "resolved" else None,
                 fingerprint=fingerprint("sentry", ident), links=_links(("Sentry metric alert", p.data.web_url)),
                 raw_ids={"sentry_metric_alert_id": m.id, "request_id": request_id}, received_at=at)
