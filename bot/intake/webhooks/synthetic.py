"""Well-formed deliveries as the real senders make them: for `opsbot smoke`, tests and benches."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"
# what marks `opsbot smoke`'s synthetic alerts, so that nothing learns from them
SMOKE_LABEL = "opsbot_smoke"  # on every Alertmanager alert it sends; the value names the run and hop
SMOKE_ALERT = "OpsbotSmokeTest"
SMOKE_PROJECT = "opsbot-smoke"  # its Sentry issues' project; their ids start with "opsbot-smoke-"


def smoke_labels(run: str, hop: str) -> dict[str, str]:
    """The labels of smoke run `run`'s alert on `hop`: one fingerprint per run and hop."""
    return {"alertname": SMOKE_ALERT, "severity": "info", SMOKE_LABEL: f"{run}-{hop}"}


def is_smoke(labels: Mapping[str, str]) -> bool:
    """An alert (or card) from `opsbot smoke`, by its labels."""
    return SMOKE_LABEL in labels or labels.get("sentry_issue", "").startswith(f"{SMOKE_PROJECT}-")


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def am_alert(labels: dict[str, str], annotations: dict[str, str] | None = None, status: str = "firing",
             starts_at: datetime | None = None, ends_at: datetime | None = None,
             generator_url: str = "") -> dict[str, Any]:
    return {"status": status, "labels": labels, "annotations": annotations or {},
            "startsAt": iso(starts_at or datetime.now(UTC)),
            "endsAt": iso(ends_at) if ends_at else ZERO_TIME, "generatorURL": generator_url,
            "fingerprint": hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]}


def am_payload(alerts: list[dict[str, Any]], group_by: tuple[str, ...] = ("alertname",),
               receiver: str = "opsbot", external_url: str = "http://127.0.0.1:9093") -> dict[str, Any]:
    """Alertmanager's webhook body, version 4, for one group of alerts."""
    shared = set.intersection(*(set(a["labels"].items()) for a in alerts)) if alerts else set()
    common_labels = dict(sorted(shared))
    group = {k: common_labels[k] for k in group_by if k in common_labels}
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in sorted(group.items())) + "}"
    return {"version": "4", "groupKey": key, "truncatedAlerts": 0, "status": status, "receiver": receiver,
            "groupLabels": group, "commonLabels": common_labels, "commonAnnotations": {},
            "externalURL": external_url, "alerts": alerts}


def sentry_issue(issue_id: str, title: str, level: str = "error", action: str = "created",
                 project: str = "checkout", web_url: str | None = None) -> dict[str, Any]:
    """An integration-platform `issue` webhook body (Sentry-Hook-Resource: issue)."""
    return {"action": action, "installation": {"uuid": str(uuid.uuid4())},
            "data": {"issue": {"id": issue_id, "shortId": f"{project.upper()}-{issue_id}", "title": title,
                               "culprit": "app.handlers in handle", "level": level,
                               "status": "resolved" if action == "resolved" else "unresolved",
                               "project": {"id": "2", "name": project, "slug": project},
                               "web_url": web_url or f"https://sentry.example/issues/{issue_id}/",
                               "url": f"https://sentry.example/api/0/issues/{issue_id}/"}},
            "actor": {"type": "application", "id": "sentry", "name": "Sentry"}}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sentry_headers(secret: str | None, body: bytes, resource: str = "issue", request_id: str | None = None,
                   timestamp: float | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Request-ID": request_id or str(uuid.uuid4()),
               "Sentry-Hook-Resource": resource, "Sentry-Hook-Timestamp": str(int(timestamp or time.time()))}
    if secret is not None:
        headers["Sentry-Hook-Signature"] = sign(secret, body)
    return headers


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
