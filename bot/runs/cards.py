"""Each scenario's first card without the alert path's waits and servers: the scenario loaded into a sandbox, its
first alert as Prometheus evaluates it (read from Prometheus' own alerts API, so its labels are the real ones) or
its first Sentry event parsed as the webhook parses it, then triaged by the served pipeline's own Triage
(knowledge, playbook, similar incidents, graph). No webhook, stream, worker or poster: what bench/card_budget.py
measures and the cards' tests render; `opsbot eval` is the path end to end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.cards.model import Card
from bot.intake.pipeline import knowledge_triage
from bot.intake.payloads.alertmanager import AMAlert, AMPayload, to_alert
from bot.intake.payloads.sentry import parse
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.metrics import Metrics
from bot.polling import poll
from bot.runs.evaluation import sentry_delivery, settings_for
from bot.settings import Settings
from bot.triage.graph import AlertGraph
from bot.wiring import build_door
from sandbox.manager import Sandbox
from sandbox.scenario import Scenario

ALERT_WAIT_S = 60


class NoAlert(Exception):
    """The scenario's alert did not show in Prometheus in time, and it has no Sentry event."""


def _evaluated(settings: Settings, sc: Scenario, timeout_s: float) -> dict[str, Any] | None:
    """The first of the scenario's alerts Prometheus evaluates as pending or firing, in the scenario's order."""
    names = [r.name for r in sc.alerts]

    def probe() -> dict[str, Any] | None:
        got = httpx.get(f"{settings.prometheus.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        ours = sorted((a for a in got if a["labels"].get("alertname") in names and a["state"] in ("pending", "firing")),
                      key=lambda a: names.index(a["labels"]["alertname"]))
        return ours[0] if ours else None

    return poll(probe, timeout_s, interval_s=0.5)


def first_alert(settings: Settings, sc: Scenario, door_severity: Any, timeout_s: float = ALERT_WAIT_S) -> Any:
    """The scenario's first alert as opsbot's webhooks would make it: a Sentry event, else Prometheus' alert."""
    now = datetime.now(UTC)
    if sc.sentry:
        body, _ = sentry_delivery(sc.sentry[0], now.timestamp())
        return parse("event_alert", json.loads(body), lambda level: door_severity("sentry", level), now,
                     uuid.uuid4().hex)
    found = _evaluated(settings, sc, timeout_s)
    if found is None:
        raise NoAlert(f"{sc.name}: none of its alerts ({', '.join(r.name for r in sc.alerts)}) was evaluated as "
                      f"pending or firing within {timeout_s:.0f}s")
    started = datetime.fromisoformat(found["activeAt"].replace("Z", "+00:00"))
    payload = am_payload([am_alert(found["labels"], found.get("annotations"), starts_at=started)])
    p = AMPayload.model_validate(payload)
    return to_alert(AMAlert.model_validate(payload["alerts"][0]), p,
                    lambda label: door_severity("alertmanager", label), now)


def scenario_card(sb: Sandbox, sc: Scenario, knowledge_dir: Path) -> Card:
    """Load `sc` into `sb` and triage its first alert as the served pipeline does."""
    sb.load(sc)
    settings = settings_for(sb, knowledge_dir)
    door = build_door(settings, prefix=f"cards:{uuid.uuid4().hex}:")
    triage, _ = knowledge_triage(settings, door, f"cards:{uuid.uuid4().hex}:", Metrics())
    if settings.intake.graphs:
        triage.graph = AlertGraph(door, lambda incident_id, png: None)
    alert = first_alert(settings, sc, door.gate.engine.severity)
    return triage.card(alert, "inc-1")


def scenario_cards(sb: Sandbox, scenarios: list[Scenario], knowledge_dir: Path) -> Iterator[tuple[Scenario, Card]]:
    for sc in scenarios:
        yield sc, scenario_card(sb, sc, knowledge_dir)
