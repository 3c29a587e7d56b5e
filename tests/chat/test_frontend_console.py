"""The console frontend: a scripted shift, as the demo runs it, and the cards it prints; an on-call shift on an
alert card (acknowledge, a refused silence, the timeline, a table, a question limit)."""

from __future__ import annotations

import uuid

import httpx

from bot.cards.poster import ConsolePoster
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.frontends.console import Console
from bot.chat.limits import QuestionLimits
from bot.intake.pipeline import build_pipeline
from bot.intake.timeline import timelines
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import Settings
from bot.triage.triage import Triage
from bot.wiring import build_door, redis_client
from tests.support.alerting import label_evidence, quiet_settings, serving
from tests.support.chatkit import conversation, executions, replicas
from tests.support.doors import Clock

SCRIPT = """
# the operator asks, a viewer tries, the lead approves, a second click does nothing
as slack:U0OPERATOR: scale checkout to 6
as slack:U0VIEWER: approve $last
as slack:U0LEAD: approve $last
as slack:U0LEAD: approve $last
"""


def test_scripted_shift(mutable_settings: Settings) -> None:
    chat = conversation(mutable_settings, Clock())
    out: list[str] = []
    console = Console(chat, "cli:tester", out.append)
    proposed, viewer, lead, again = console.script(SCRIPT.splitlines())
    assert proposed.card and proposed.card.actions[0].status == "pending"
    assert viewer.private and "may not approve" in viewer.text and viewer.card is None
    assert not lead.private and lead.text == "done: scale shop/checkout from 3 to 6 replicas"
    assert lead.card and lead.card.actions[0].status == "executed"
    assert again.private and again.card is None
    transcript = "\n".join(out)
    assert "slack:U0LEAD> approve " in transcript and "$last" not in transcript
    assert "— executed (" in transcript and "decided by slack:U0LEAD" in transcript
    assert replicas(chat.door) == 6 and executions(chat.door) == ["success"]


def test_interactive_reads_until_quit(mutable_settings: Settings) -> None:
    lines = iter(["help", "as slack:U0ADMIN: policy whatcan", "quit", "never read"])
    out: list[str] = []
    Console(conversation(mutable_settings, Clock()), "slack:U0VIEWER", out.append).interactive(lambda _: next(lines))
    assert any("I am opsbot" in o for o in out) and any("slack:U0ADMIN: roles admin" in o for o in out)
    assert not any("never read" in o for o in out)


ON_CALL = """
# an alert card came in: the operator acknowledges it, a viewer may not silence it, the timeline, a table
as slack:U0OPERATOR: ack inc-1
as slack:U0VIEWER: silence inc-1 1h
incident inc-1
pods shop
why is checkout failing?
and what about cart?
"""


def test_an_on_call_shift_on_an_alert_card(mutable_settings: Settings) -> None:
    s = quiet_settings(mutable_settings)
    prefix = f"test:{uuid.uuid4().hex}:"
    door = build_door(s, prefix=prefix)
    p = build_pipeline(s, [ConsolePoster()], prefix=prefix, door=door, triage=Triage(door, collect=label_evidence))
    with serving(p) as server:
        r = httpx.post(f"{server.url}/webhooks/alertmanager", content=encode(am_payload([am_alert(
            {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9f8c6b5-x2x9q",
             "severity": "warning"}, {"summary": "checkout is crash looping"})])))
        assert r.status_code == 200, r.text
        p.stream.ensure_group()
        p.worker("w").step(block_ms=None)
    chat = Conversation(door, Agent(s, door), ["shop"], timelines=timelines(s, prefix), silencer=p.silencer,
                        limits=QuestionLimits(redis_client(s), prefix, per_user=1, per_channel=10))
    out: list[str] = []
    ack, silence, story, pods, question, limited = Console(chat, "cli:tester", out.append).script(
        ON_CALL.splitlines())
    assert not ack.private and ack.text == "inc-1 acknowledged by slack:U0OPERATOR"
    assert p.cards.get("inc-1").acknowledged.by == "slack:U0OPERATOR"
    assert silence.private and "slack:U0VIEWER (viewer) may not acknowledge or silence alerts" in silence.text
    assert "fired: checkout is crash looping" in story.text and "acknowledge am_silence inc-1 by " \
        "slack:U0OPERATOR: success" in story.text
    assert "NAME" in pods.text and "CrashLoopBackOff" in pods.text and "```" in pods.text
    assert not question.private
    assert limited.private and "you have asked 1 questions of the model in the last hour" in limited.text
