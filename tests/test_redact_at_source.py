"""Redact at the source: what enters opsbot (tool results at the door, alerts at intake) is masked there, so
every surface downstream (chat replies, the four card renderers, Sentry comments, Redis, the audit trail)
only ever holds masked text."""

from __future__ import annotations

import json

from bot.cards.sentry_comment import render_sentry_comment
from bot.cards.slack import render_slack
from bot.cards.telegram import render_telegram
from bot.cards.text import render_text
from bot.guard.door import Caller
from bot.intake.alert import Alert
from bot.settings import Settings
from bot.triage.evidence import Evidence
from bot.triage.triage import Triage
from tests.support.doors import make_door
from tests.support.hostile import SECRET, hostile_settings  # noqa: F401 (fixture)

DB_URL = "postgres://checkout:Sup3rS3cretPw0rd@db.shop:5432/checkout"
TG = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_tool_results_leave_the_door_masked(hostile_settings: Settings) -> None:  # noqa: F811
    door = make_door(hostile_settings)
    viewer = Caller(identity="slack:U0NOBODY", via="slack")
    result = door.run("k8s_pod_logs", {"namespace": "shop", "pod": "checkout", "tail_lines": 200}, viewer)
    text = result.model_dump_json()
    assert "[REDACTED]" in text and SECRET not in text and "hunter2" not in text
    audit = json.dumps([r.model_dump(mode="json") for r in door.audit.query()])
    assert SECRET not in audit


def test_an_alert_is_masked_where_it_enters_and_no_card_shows_the_secret(settings: Settings) -> None:
    alert = Alert(source="alertmanager", name="CheckoutDown", status="firing", severity="P1", fingerprint="f1",
                  labels={"namespace": "shop", "service": "checkout", "dsn": DB_URL},
                  annotations={"summary": f"checkout cannot reach {DB_URL}", "description": f"bot {TG} failed"})
    stored = alert.model_dump_json()
    assert "Sup3rS3cretPw0rd" not in stored and "AAHdqTcv" not in stored
    triage = Triage(make_door(settings), collect=lambda a, i: Evidence(lines=[]))
    card = triage.card(alert, "inc-secret")
    for surface in (render_text(card), json.dumps(render_slack(card)), json.dumps(render_telegram(card)),
                    render_sentry_comment(card), card.model_dump_json()):
        assert "Sup3rS3cretPw0rd" not in surface and "AAHdqTcv" not in surface
