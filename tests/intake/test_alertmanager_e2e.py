"""End to end with the real Alertmanager: a scenario's rule fires in Prometheus, Alertmanager posts to our
webhook, a worker builds the card with the scenario's expected evidence; the resolution edits that card."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.cards.poster import ConsolePoster
from bot.cards.slack import render_slack
from bot.cards.telegram import render_telegram
from bot.cards.text import render_text
from bot.intake.pipeline import Pipeline
from bot.settings import Settings
from bot.triage.evidence import ReadChecks
from sandbox import procs, prom, scenario
from sandbox.manager import Sandbox
from tests.support.alerting import pipeline, quiet_settings, serving, wait_for
from tests.support.doors import SCENARIO, make_door


@pytest.fixture
def rig(settings: Settings, sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Pipeline, ConsolePoster, int]]:
    """Our webhook app on loopback, and a private Prometheus + Alertmanager whose receiver is that app."""
    poster = ConsolePoster()
    door = make_door(settings)
    p = pipeline(quiet_settings(settings), poster, door=door, collect=ReadChecks(door))
    p.warm()
    with serving(p, workers=2) as server:
        (tmp_path / "webhook.url").write_text(f"{server.url}/webhooks/alertmanager")
        exporter, prometheus, alertmanager = procs.free_port(), procs.free_port(), procs.free_port()
        prom.start(tmp_path, exporter, prometheus, alertmanager)
        try:
            prom.load(tmp_path, exporter, prometheus, alertmanager, scenario.load(SCENARIO), datetime.now().timestamp())
            yield p, poster, alertmanager
        finally:
            for name in ("prometheus", "alertmanager", "exporter"):
                procs.stop(name, tmp_path)
    assert sandbox.loaded() == SCENARIO


def test_firing_alert_becomes_a_card_with_the_expected_evidence_and_resolution_edits_it(
        rig: tuple[Pipeline, ConsolePoster, int], tmp_path: Path) -> None:
    p, poster, am_port = rig
    expected = scenario.load(SCENARIO).expect.evidence
    posted = wait_for(lambda: poster.posts(), 90, "Alertmanager's firing notification to become a card")[0]
    card = posted.card
    assert card.source == "alertmanager" and card.status == "firing" and card.severity == "P0"
    assert card.labels["alertname"] == "KubePodCrashLooping"
    assert not card.could_not_run, card.could_not_run
    renders = {"slack": json.dumps(render_slack(card), ensure_ascii=False), "telegram": render_telegram(card)["text"],
               "text": render_text(card)}
    for platform, rendered in renders.items():
        for needle in expected:
            assert needle in rendered, f"{platform} card lacks {needle!r}"

    # the rule stops (Prometheus goes away) and the alert is ended in Alertmanager: it sends "resolved"
    procs.stop("prometheus", tmp_path)
    ended = [{"labels": card.labels, "startsAt": card.started_at.isoformat() if card.started_at else None,
              "endsAt": datetime.now(UTC).isoformat()}]
    r = httpx.post(f"http://127.0.0.1:{am_port}/api/v2/alerts", json=ended)
    assert r.status_code == 200, r.text
    edit = wait_for(lambda: [u for u in poster.updates() if u.card.status == "resolved"], 90,
                    "Alertmanager's resolved notification to edit the card")[0]
    assert edit.message_id == posted.message_id and edit.incident_id == posted.incident_id
    assert len(poster.posts()) == 1
    stored = p.cards.get(posted.incident_id)
    assert stored and stored.status == "resolved"
    assert p.cards.refs(posted.incident_id)["console"].message_id == posted.message_id
