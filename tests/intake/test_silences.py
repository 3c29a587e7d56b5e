"""Acknowledge, silence and unsilence from the card, through a real Alertmanager (its API v2 silences): the
policy decides who may, how long and what never; a silence really suppresses the group's next alert in
Alertmanager, and lifting it lets that alert through to the card; the card says who and until when."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.cards.poster import ConsolePoster
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.intake.pipeline import Pipeline
from bot.settings import Settings
from tests.support.alerting import pipeline, quiet_settings, serving, wait_for
from tests.support.alertmanager import PrivateAlertmanager, private_alertmanager
from tests.support.doors import Clock, door_with_clock

OPERATOR, VIEWER = "slack:U0OPERATOR", "slack:U0VIEWER"


@pytest.fixture
def am(tmp_path: Path) -> Iterator[PrivateAlertmanager]:
    with private_alertmanager(tmp_path) as a:
        yield a


def pod(name: str, severity: str = "warning") -> dict[str, str]:
    return {"alertname": "KubePodNotReady", "namespace": "shop", "pod": name, "severity": severity}


@contextmanager
def served(settings: Settings, am: PrivateAlertmanager, clock: Clock) -> Iterator[tuple[Pipeline, Conversation]]:
    """opsbot's webhook and a worker on this Alertmanager's notifications, and a chat on the same stores."""
    s = quiet_settings(settings.model_copy(update={"alertmanager": settings.alertmanager.model_copy(
        update={"url": am.url})}))
    door = door_with_clock(s, clock)
    p = pipeline(s, ConsolePoster(), door=door)
    with serving(p, workers=1) as server:
        am.notify(f"{server.url}/webhooks/alertmanager")
        yield p, Conversation(door, Agent(s, door), ["shop"], silencer=p.silencer)


def test_a_silence_from_the_card_suppresses_the_group_in_alertmanager_until_lifted(
        settings: Settings, am: PrivateAlertmanager) -> None:
    clock = Clock()
    with served(settings, am, clock) as (p, chat):
        am.fire(pod("cart-1"), pod("cart-2"))
        card = wait_for(lambda: (c := p.cards.get("inc-1")) and len(c.group) == 2 and c, 30, "the group's card")
        assert card.silenceable

        refused = chat.command("silence inc-1 1h", "t", VIEWER)
        assert refused.private and "may not acknowledge or silence" in refused.text
        too_long = chat.command("silence inc-1 8h", "t", OPERATOR)
        assert "the longest silence the policy allows is 4h" in too_long.text

        assert not chat.command("ack inc-1", "t", OPERATOR).private
        done = chat.command("silence inc-1 1h", "t", OPERATOR)
        assert not done.private and "silenced in Alertmanager until" in done.text, done.text
        card = p.cards.get("inc-1")
        assert card.acknowledged.by == OPERATOR and card.silence.by == OPERATOR
        [silence] = am.active_silences()
        assert silence["id"] == card.silence.id and silence["createdBy"] == OPERATOR
        assert {m["name"]: m["value"] for m in silence["matchers"]} == {
            "alertname": "KubePodNotReady", "namespace": "shop", "severity": "warning"}, "the group's shared labels"

        am.fire(pod("cart-1"), pod("cart-2"), pod("cart-3"))  # a third pod of the group starts failing
        held = am.status(pod="cart-3")
        assert held["state"] == "suppressed" and held["silencedBy"] == [card.silence.id], held

        assert "unsilenced" in chat.command("unsilence inc-1", "t", OPERATOR).text
        assert p.cards.get("inc-1").silence.ended is not None
        assert am.status(pod="cart-3")["state"] == "active"
        wait_for(lambda: len(p.cards.get("inc-1").group) == 3 or None, 30, "the third pod's line, once unsilenced")

    kinds = [(r.kind, r.status) for r in p.triage.door.audit.query(incident="inc-1") if r.action == "am_silence"]
    assert kinds == [("silence", "refused"), ("silence", "refused"), ("acknowledge", "success"),
                     ("silence", "success"), ("unsilence", "success")]


def test_a_silence_that_runs_out_is_said_on_the_card_and_p0_is_never_silenced(
        settings: Settings, am: PrivateAlertmanager) -> None:
    clock = Clock()
    with served(settings, am, clock) as (p, chat):
        am.fire(pod("db-0", severity="critical"))
        am.fire({**pod("web-1"), "namespace": "web"})
        wait_for(lambda: p.cards.get("inc-1") and p.cards.get("inc-2"), 30, "two cards")
        critical = next(i for i in ("inc-1", "inc-2") if p.cards.get(i).severity == "P0")
        other = "inc-2" if critical == "inc-1" else "inc-1"
        assert not p.cards.get(critical).silenceable
        assert "P0 alerts are never silenced" in chat.command(f"silence {critical} 1h", "t", OPERATOR).text

        assert not chat.command(f"silence {other} 30m", "t", OPERATOR).private
        clock.advance(minutes=31)
        wait_for(lambda: p.cards.get(other).silence.ended, 30, "the card to say its silence ended")
    assert p.cards.get(other).silence.ended_by == "opsbot:clock"


def test_until_resolved_is_lifted_when_the_alerts_resolve(settings: Settings, am: PrivateAlertmanager) -> None:
    clock = Clock()
    with served(settings, am, clock) as (p, chat):
        am.fire(pod("cart-1"))
        wait_for(lambda: p.cards.get("inc-1"), 30, "the card")
        done = chat.command("silence inc-1 resolved", "t", OPERATOR)
        assert "until it resolves (at most" in done.text, done.text
        silence_id = p.cards.get("inc-1").silence.id
        clock.advance(seconds=16)  # the silence asks Alertmanager again: still firing, so it stays
        wait_for(lambda: (p.cards.client.zscore(f"{p.prefix}silences:watch", "inc-1") or 0) > clock().timestamp()
                 or None, 30, "the next look")
        assert p.cards.get("inc-1").silence.ended is None
        am.fire(pod("cart-1"), ended=True)
        clock.advance(seconds=16)
        card = wait_for(lambda: (c := p.cards.get("inc-1")) and c.status == "resolved" and c, 60, "the resolved card")
    assert card.silence.ended is not None
    assert httpx.get(f"{am.url}/api/v2/silence/{silence_id}").json()["status"]["state"] == "expired"
