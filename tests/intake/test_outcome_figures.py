"""An incident's outcome figures, end to end on the real Redis and the Kubernetes emulator, with the test's clock:
an alert that started 90 s before its card, acknowledged in chat 2 min after the card, a rollback approved 3 min
after triage proposed it and verified fixed 4 min after it ran, then resolved. The served process's /metrics holds
the times as histograms by severity, the card's thread on Slack and Telegram gets the postmortem draft (with its
timeline) when the incident resolves, and `opsbot report` and `opsbot incident postmortem` print the same figures."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from bot import messages as M
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.cli.main import app
from bot.cards.poster import Publisher
from bot.guard.feedback import FeedbackDesk
from bot.cards.model import EvidenceLine
from bot.cards.thread import MAX_PARTS
from bot.intake.alert import Alert
from bot.intake.figures import FigureBook
from bot.intake.fingerprint import fingerprint
from bot.intake.incidents import IncidentStore
from bot.intake.moments import Moments
from bot.intake.pipeline import build_pipeline
from bot.intake.postmortem import Postmortems
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import ReportSettings, Settings
from bot.triage.evidence import Evidence
from bot.triage.triage import Proposal, Triage
from sandbox.manager import Sandbox
from tests.support.alerting import label_evidence, quiet_settings, serving
from tests.support.doors import Clock
from tests.support.serve_process import config_file
from tests.support.verifying import CHECKOUT, GROUP, chat_fakes, loop, thread

LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9f8c6b5-x2x9q",
          "severity": "critical"}
OPERATOR, LEAD = "slack:U0OPERATOR", "slack:U0LEAD"


def roll_back_checkout(alert: Alert, ev: Evidence, analysis: object) -> list[Proposal]:
    return [Proposal(tool="k8s_rollback", args=CHECKOUT, why="crashloopbackoff")]


def notify(url: str, *alerts: dict[str, Any]) -> None:
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(am_payload(list(alerts))))
    assert r.status_code == 200, r.text


def test_an_incident_carded_acknowledged_approved_fixed_and_resolved_has_its_figures(
        sandbox: Sandbox, mutable_settings: Settings, tmp_path: Path) -> None:
    clock, prefix = Clock(), f"test:{uuid.uuid4().hex}:"
    clock.t = clock.t.replace(microsecond=0)  # Alertmanager's times are whole seconds here: durations come out exact
    s = quiet_settings(mutable_settings)
    started = clock() - timedelta(seconds=90)
    with chat_fakes() as chats:
        lp = loop(s, chats, clock, prefix)
        p = build_pipeline(s, lp.publisher.posters, prefix=prefix, door=lp.door, outcomes=lp.outcomes,
                           triage=Triage(lp.door, collect=label_evidence, propose=roll_back_checkout))
        worker = p.worker("w")
        p.stream.ensure_group()
        with serving(p) as server:
            firing = am_alert(LABELS, {"summary": "checkout is crash looping"}, starts_at=started)
            notify(server.url, firing)
            notify(server.url, am_alert(LABELS, {"summary": "checkout is crash looping", "description": "again"},
                                        starts_at=started))  # Alertmanager's repeat: counted, no new card
            notify(server.url, am_alert({"alertname": "Watchdog", "severity": "none"}))  # a heartbeat
            worker.step(block_ms=None)
            [action] = p.cards.get("inc-1").actions

            clock.advance(minutes=2)
            chat = Conversation(lp.door, Agent(s, lp.door), ["shop"], silencer=p.silencer)
            assert not chat.command("ack inc-1", "t", OPERATOR).private
            clock.advance(minutes=1)
            assert lp.approve(action.action_id, LEAD).startswith("done: roll back")
            assert lp.verifier.tick() == [], "3/3 ready, but the alert still fires: no verdict yet"

            clock.advance(minutes=4)
            notify(server.url, am_alert(LABELS, {"summary": "checkout is crash looping"}, status="resolved",
                                        starts_at=started, ends_at=clock()))
            worker.step(block_ms=None)
            exposition = httpx.get(f"{server.url}/metrics").text
        slack, telegram = thread(chats, lp)

    severity = p.cards.get("inc-1").severity
    for name, seconds in (("detect", 90), ("acknowledge", 120), ("approve", 180), ("fix", 240), ("resolve", 510)):
        assert f'opsbot_incident_time_to_{name}_seconds_count{{severity="{severity}"}} 1.0' in exposition, name
        assert f'opsbot_incident_time_to_{name}_seconds_sum{{severity="{severity}"}} {seconds:.1f}' in exposition, name
    assert f'opsbot_incident_time_to_resolve_seconds_bucket{{le="600.0",severity="{severity}"}} 1.0' in exposition
    assert 'opsbot_action_verdicts_total{how="approved",verdict="fixed"} 1.0' in exposition
    assert 'opsbot_incident_actions_executed_total{how="approved"} 1.0' in exposition

    timeline = [
        f"(+90 s) {M.PM_CARDED.format(took='90 s')}",
        f"(+3 min) {M.PM_ACKED.format(who=OPERATOR, took='2 min')}",
        f"#{action.action_id} approved by {LEAD} (3 min after it was proposed)",
        f"#{action.action_id} verdict: fixed: 3/3 ready 4 min after the rollback",
        M.PM_RESOLVED_AT.format(took="8 min"),
    ]
    for said in (slack, telegram):
        draft = "\n".join(m for m in said if M.PM_TIMELINE in m or M.PM_SUMMARY in m or M.PM_FOLLOW_UPS in m)
        assert M.PM_TITLE.format(id="inc-1", severity=severity, name="KubePodCrashLooping") in draft, said
        for line in timeline:
            assert line in draft, (line, draft)
        assert M.PM_DURATIONS.format(line="detect 90 s · acknowledge 2 min · approve 3 min · fix 4 min · resolve "
                                          "8 min") in draft

    config, _ = config_file(sandbox, tmp_path / "opsbot.yaml", prefix)
    report = CliRunner().invoke(app, ["report", "--since", "7d", "--config", str(config)])
    assert report.exit_code == 0, report.output
    out = report.output.splitlines()
    assert M.REPORT_FUNNEL.format(received=4, incidents=1, cards=1) in out, report.output
    assert "suppressed: 1 repeat (folded into their incidents), 1 heartbeat, 0 silences made from cards" in out
    assert "noisiest rules: KubePodCrashLooping 3" in out
    assert M.REPORT_TABLE.format(severity=severity, incidents=1, detect="90 s", ack="2 min", approve="3 min",
                                 fix="4 min", resolve="8 min") in out, report.output
    assert "fix success (verified): 1 of 1 action fixed it (100%)" in out
    assert M.REPORT_NO_FEEDBACK in out
    assert M.REPORT_ACTIONS.format(n=1, auto=0, approved=1) in out

    # people's feedback, marked as the card's button or `feedback inc-1 false-alarm …` marks it: the false-alarm rate
    desk = FeedbackDesk(lp.door, p.cards, Publisher(p.cards, []))  # the chat fakes are gone: the card store only
    assert desk.mark("inc-1", OPERATOR, "false_alarm", "a test deploy").ok
    again = CliRunner().invoke(app, ["report", "--since", "7d", "--config", str(config)])
    assert M.REPORT_FALSE.format(n=1, marked=1, s="", pct="100%") in again.output.splitlines(), again.output

    shown = CliRunner().invoke(app, ["incident", "postmortem", "inc-1", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert all(line in shown.output for line in timeline), shown.output
    missing = CliRunner().invoke(app, ["incident", "postmortem", "inc-404", "--config", str(config)])
    assert missing.exit_code == 1 and "no incident 'inc-404'" in missing.output


def test_the_report_is_posted_to_its_channel_once_a_period_by_the_served_loop(mutable_settings: Settings) -> None:
    clock, prefix = Clock(), f"test:{uuid.uuid4().hex}:"
    s = quiet_settings(mutable_settings).model_copy(update={"report": ReportSettings(
        every=timedelta(days=7), slack_channel="C0REPORTS")})
    with chat_fakes() as chats:
        lp = loop(s, chats, clock, prefix)
        p = build_pipeline(s, lp.publisher.posters, prefix=prefix, door=lp.door,
                           triage=Triage(lp.door, collect=label_evidence))
        p.stream.ensure_group()
        first, second = p.worker("a"), p.worker("b")  # two workers of the served process (or two replicas)
        first.step(block_ms=None)  # the first tick only notes the period
        clock.advance(days=7)
        first.step(block_ms=None)
        second.step(block_ms=None)
        clock.advance(days=1)
        first.step(block_ms=None)

        slack = [c.args["text"] for c in chats["slack"].made("chat.postMessage") if c.error is None]
        telegram = [m["text"] for (chat, _), m in chats["telegram"].messages.items() if chat == GROUP]
    title = M.REPORT_TITLE.split("{")[0]
    assert [c for c in slack if c.startswith(title)] == slack and len(slack) == 1, slack
    assert [c.args["channel"] for c in chats["slack"].made("chat.postMessage")] == ["C0REPORTS"]
    assert len([t for t in telegram if t.startswith(title)]) == 1, telegram
    assert M.REPORT_FUNNEL.format(received=0, incidents=0, cards=0) in slack[0]
    assert M.REPORT_NO_FEEDBACK in slack[0]


def test_a_long_postmortem_fits_each_platforms_messages_and_alert_text_cannot_mention_anyone(
        mutable_settings: Settings) -> None:
    clock, prefix = Clock(), f"test:{uuid.uuid4().hex}:"
    with chat_fakes() as chats:
        lp = loop(mutable_settings, chats, clock, prefix)
        incidents = IncidentStore(lp.store.client, prefix, 3600, 3, clock)
        labels = {"alertname": "KubePodCrashLooping", "namespace": "shop"}
        alert = Alert(source="alertmanager", name="KubePodCrashLooping", status="firing", severity="P1",
                      labels=labels, annotations={"summary": "<!channel> checkout is down"},
                      starts_at=clock(), fingerprint=fingerprint("alertmanager", labels))
        assert incidents.observe("1-0", alert).incident == "inc-1"
        lp.incident("k8s_rollout_restart", CHECKOUT)  # the card of inc-1, on both platforms
        long_lines = [EvidenceLine(check=f"logs shop/checkout #{i}", text=f"<!here> {i} " + "x" * 2_500)
                      for i in range(8)]
        lp.publisher.edit("inc-1", lambda c: c.model_copy(update={"evidence": long_lines,
                                                                 "title": "<!channel> checkout is down"}))
        drafts = Postmortems(FigureBook(incidents, lp.door.audit, Moments(lp.store.client, prefix)), lp.store)
        posted = drafts.post(lp.publisher, "inc-1")
        assert drafts.post(lp.publisher, "inc-1") == 0, "posted once"
        slack, telegram = thread(chats, lp)  # the fakes refuse what Slack and Telegram refuse: none was refused

    assert posted == len(slack) == len(telegram) == MAX_PARTS, "split into the messages the thread allows"
    assert "`opsbot incident postmortem inc-1`" in slack[-1] and "`opsbot incident postmortem inc-1`" in telegram[-1]
    assert not [m for m in slack if "<!" in m], "alert and log text is text on Slack, never a mention"
    assert "&lt;!channel&gt; checkout is down" in slack[0]
