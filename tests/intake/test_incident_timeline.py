"""An incident's timeline: what fired and resolved, what triage read, what was proposed, decided and executed,
shown by `opsbot incident list|show` and by `incident ID` in chat, from the stores `opsbot serve` writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from bot.cards import strings as S
from bot.cards.poster import ConsolePoster
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.cli.main import app
from bot.intake.alert import Alert
from bot.intake.pipeline import build_pipeline
from bot.intake.timeline import timelines
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import Settings
from bot.triage.evidence import Evidence
from bot.triage.triage import Proposal, Triage
from bot.wiring import build_door
from sandbox.manager import Sandbox
from tests.support.alerting import label_evidence, quiet_settings, serving
from tests.support.serve_process import config_file

LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9f8c6b5-x2x9q",
          "severity": "critical"}
LEAD = "slack:U0LEAD"  # the shipped policy's on-call lead may approve a restart
T0 = datetime.now(UTC) - timedelta(minutes=20)


def restart_checkout(alert: Alert, ev: Evidence, analysis: object) -> list[Proposal]:
    return [Proposal(tool="k8s_rollout_restart", args={"namespace": "shop", "deployment": "checkout"},
                     why="crashloopbackoff")]


def notify(url: str, *alerts: dict) -> None:
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(am_payload(list(alerts))))
    assert r.status_code == 200, r.text


def test_an_incident_story_from_firing_to_resolution(sandbox: Sandbox, mutable_settings: Settings,
                                                     tmp_path: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    s = quiet_settings(mutable_settings)
    door = build_door(s, prefix=prefix)
    p = build_pipeline(s, [ConsolePoster()], prefix=prefix, door=door,
                       triage=Triage(door, collect=label_evidence, propose=restart_checkout))
    worker = p.worker("w")
    p.stream.ensure_group()
    with serving(p) as server:
        notify(server.url, am_alert(LABELS, {"summary": "checkout is crash looping"}, starts_at=T0))
        worker.step(block_ms=None)
        [action] = p.cards.get("inc-1").actions
        verdict = door.gate.decide(action.action_id, LEAD, approve=True)
        assert verdict.ok, verdict.message
        notify(server.url, am_alert(LABELS, {"summary": "checkout is crash looping"}, status="resolved",
                                    starts_at=T0, ends_at=datetime.now(UTC)))
        worker.step(block_ms=None)

    story = timelines(s, prefix).story("inc-1")
    assert story is not None and story.incident.status == "resolved"
    said = [m.what for m in story.moments]
    assert said[0].startswith("fired: checkout is crash looping") and said[-1].startswith("resolved:")
    assert any(m.startswith("decision k8s_rollout_restart shop/deployment/checkout") for m in said), said
    assert any(m.startswith(f"approval k8s_rollout_restart shop/deployment/checkout by {LEAD}") for m in said), said
    assert any(m.startswith("execution k8s_rollout_restart") for m in said), said
    assert [m.at for m in story.moments] == sorted(m.at for m in story.moments)

    config, _ = config_file(sandbox, tmp_path / "opsbot.yaml", prefix)
    listed = CliRunner().invoke(app, ["incident", "list", "--config", str(config)])
    assert listed.exit_code == 0 and "inc-1" in listed.output and "resolved" in listed.output, listed.output
    shown = CliRunner().invoke(app, ["incident", "show", "inc-1", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "timeline:" in shown.output and f"by {LEAD}" in shown.output and f"{S.EVIDENCE_ALL}:" in shown.output
    missing = CliRunner().invoke(app, ["incident", "show", "inc-999", "--config", str(config)])
    assert missing.exit_code == 1 and "no incident 'inc-999'" in missing.output

    chat = Conversation(door, Agent(s, door), ["shop"], timelines=timelines(s, prefix))
    reply = chat.ask("incident inc-1", "thread-1", "slack:U0ONCALL")
    assert "timeline:" in reply.text and "fired: checkout is crash looping" in reply.text
    assert "inc-1" in chat.ask("incident", "thread-1", "slack:U0ONCALL").text
    assert "know no incident" in chat.ask("incident inc-404", "thread-1", "slack:U0ONCALL").text
