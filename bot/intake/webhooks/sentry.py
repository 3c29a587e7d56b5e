"""POST /webhooks/sentry: Sentry integration-platform webhooks (issue, event_alert, metric_alert).

Headers (docs.sentry.io/integrations/integration-platform/webhooks/): Request-ID, Sentry-Hook-Resource,
Sentry-Hook-Timestamp (unix seconds), Sentry-Hook-Signature = HMAC-SHA256 hex of the raw body keyed with
the integration's client secret. Checked in that order of cost: size, signature, freshness, JSON, shape.
A Request-ID seen again within the replay window, or a timestamp older than it, is a replay: 409.

- issue: data.issue {id, title, culprit, level, status, shortId, project{slug}, web_url}; action created /
  unresolved → firing, resolved / archived / ignored → resolved, assigned → ignored.
- event_alert: action "triggered", data.event {issue_id, title, level, culprit, web_url, tags[[k, v]]},
  data.triggered_rule. Same fingerprint as the issue: an issue and its alert rule make one incident.
- metric_alert: action critical / warning / resolved, data.metric_alert {id, title, alert_rule{id, name}},
  data.description_title, data.description_text, data.web_url.
- installation, comment, error and other resources carry no alert: 202, ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.http_input import WebhookError, parse_json, read_body
from bot.intake.alert import Alert, AlertStatus, Link
from bot.intake.fingerprint import fingerprint
from bot.intake.webhooks.errors import shape_error
from bot.intake.webhooks.intake_call import store

router = APIRouter()

ALERT_RESOURCES = ("issue", "event_alert", "metric_alert")
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


def _links(*pairs: tuple[str, str | None]) -> list[Link]:
    return [Link(title=t, url=u) for t, u in pairs if u]


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


@router.post("/webhooks/sentry", response_model=None)
async def sentry(request: Request) -> dict[str, Any] | JSONResponse:
    deps = request.app.state.opsbot
    wh = deps.settings.webhooks
    if wh.sentry_client_secret is None:
        raise WebhookError(403, "not_configured", "the Sentry intake is off: webhooks.sentry_client_secret is not "
                           "set, and unsigned deliveries are refused")
    body = await read_body(request, wh.max_body_bytes)
    verify(wh.sentry_client_secret.get_secret_value(), body, request.headers.get("sentry-hook-signature"))
    resource = request.headers.get("sentry-hook-resource")
    if not resource:
        raise WebhookError(400, "missing_resource", "the Sentry-Hook-Resource header is missing")
    now = deps.now()
    at = _fresh(request.headers.get("sentry-hook-timestamp"), now, wh.replay_window_s)
    request_id = request.headers.get("request-id") or hashlib.sha256(body).hexdigest()[:32]
    data = parse_json(body)
    if resource not in ALERT_RESOURCES:
        deps.metrics.alerts_received.labels("sentry", "ignored").inc()
        return JSONResponse({"status": "ignored", "message": f"resource {resource!r} carries no alert"}, 202)
    if not isinstance(data, dict):
        raise WebhookError(422, "invalid_payload", f"not a Sentry {resource} payload: a JSON object was expected")
    try:
        alert = parse(resource, data, lambda level: deps.engine.severity("sentry", level), at, request_id)
    except ValidationError as e:
        raise shape_error(f"Sentry {resource} payload", e) from None
    if isinstance(alert, str):
        deps.metrics.alerts_received.labels("sentry", "ignored").inc()
        return JSONResponse({"status": "ignored", "message": alert}, 202)
    accepted = await store(deps, "sentry", [alert], f"sentry:{request_id}")
    if accepted.duplicate:
        raise WebhookError(409, "replayed", f"delivery {request_id} was already accepted; nothing stored again")
    return {"status": "accepted", "alerts": 1, "entries": accepted.entry_ids, "fingerprints": [alert.fingerprint]}
