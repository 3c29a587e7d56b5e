"""One opsbot process for the loop's tests: a door with a hand-moved clock, cards on the Slack and Telegram fakes,
its verifier; and what a person sees there (the card, the lines in its thread, its Approve buttons)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr
from slack_sdk import WebClient

from bot import wiring
from bot.cards.model import Card, PlaybookRef
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.chat.conversation import action_card
from bot.chat.frontends.decision import Decisions
from bot.chat.frontends.slack_poster import SlackPoster
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.guard.door import Caller
from bot.guard.verify import Verifier
from bot.settings import Settings, TelegramSettings
from bot.triage.triage import Proposal, card_action
from tests.support.chatkit import served
from tests.support.doors import Clock, door_with_clock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram
from tests.support.slack_workspace import CHANNEL, buttons
from tools.base import Status

GROUP = -100123
TRIAGE = Caller(identity="opsbot:triage", via="triage", incident="inc-1", severity="P1")
CHECKOUT = {"namespace": "shop", "deployment": "checkout"}


@contextmanager
def chat_fakes() -> Iterator[dict[str, Any]]:
    """Slack's and Telegram's fakes served on loopback; no call of opsbot's may have failed at the end."""
    slack, telegram = FakeSlack(), FakeTelegram()
    with served(slack.app()) as s, served(telegram.app()) as t:
        yield {"slack": slack, "slack_url": f"{s.url}/api/", "telegram": telegram, "telegram_url": f"{t.url}/bot"}
    assert not [c for c in slack.errors() if c.method != "auth.test"]
    assert not telegram.errors()


class Loop:
    """One opsbot process: a door with the test's clock, cards posted to both chat fakes, and its verifier."""

    def __init__(self, settings: Settings, chats: dict[str, Any], clock: Clock, prefix: str):
        self.settings, self.clock, self.prefix, self.chats = settings, clock, prefix, chats
        self.door = door_with_clock(settings, clock, prefix)
        self.store = CardStore(wiring.redis_client(settings), prefix)
        slack, telegram = chats["slack"], chats["telegram"]
        self.publisher = Publisher(self.store, [
            SlackPoster(WebClient(token=slack.token, base_url=chats["slack_url"]), CHANNEL),
            TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=chats["telegram_url"]),
                           GROUP)])
        self.outcomes = wiring.outcomes(settings, prefix)
        self.verifier = Verifier(self.door, self.store, self.publisher, self.outcomes)

    def incident(self, tool: str, args: dict[str, Any]) -> str:
        """Triage's card for inc-1 with `tool` proposed on it, posted on both platforms; the action's id."""
        r = self.door.run(tool, args, TRIAGE)
        assert r.status == Status.approval_required, r.error
        now = self.clock()
        self.publisher.publish(Card(
            incident_id="inc-1", title="KubePodCrashLooping: checkout is crash-looping", severity="P1",
            status="firing", source="alertmanager", failing="checkout pods restart",
            labels={"alertname": "KubePodCrashLooping", "namespace": "shop"},
            playbook=PlaybookRef(name="crashloopbackoff", title="Pods crash-loop"),
            actions=[card_action(Proposal(tool=tool, args=args), r)], started_at=now, updated_at=now))
        return r.data["action_id"]

    def approve(self, action_id: str, who: str) -> str:
        """A click on Approve: the gate decides, and the card shows the decision everywhere (as the frontends do)."""
        verdict = self.door.gate.decide(action_id, who, approve=True)
        assert verdict.action is not None, verdict.message
        Decisions(self.store, self.publisher).apply(action_card(verdict.action), "slack")
        return verdict.message

    def slack_card(self) -> dict[str, Any]:
        ref = self.store.ref("inc-1", "slack")
        assert ref is not None
        return self.chats["slack"].message(CHANNEL, ref.message_id)


def loop(settings: Settings, chats: dict[str, Any], clock: Clock | None = None, prefix: str | None = None) -> Loop:
    return Loop(settings, chats, clock or Clock(), prefix or f"test:{uuid.uuid4().hex}:")


def thread(chats: dict[str, Any], lp: Loop) -> tuple[list[str], list[str]]:
    """The lines opsbot said in the card's thread (a verdict, a reminder: plain text, `Poster.reply`) on Slack
    (replies to its ts) and on Telegram (replies to it); the card's own thread (its full evidence, formatted,
    `Poster.thread`) is left out."""
    slack_ref, tg_ref = lp.store.ref("inc-1", "slack"), lp.store.ref("inc-1", "telegram")
    assert slack_ref is not None and tg_ref is not None
    slack = [c.args["text"] for c in chats["slack"].made("chat.postMessage")
             if c.args.get("thread_ts") == slack_ref.message_id and c.error is None and "unfurl_links" not in c.args]
    telegram = [m["text"] for m in chats["telegram"].messages.values()
                if m.get("reply_to") == int(tg_ref.message_id) and m.get("parse_mode") is None]
    return slack, telegram


def approvals(message: dict[str, Any]) -> set[str]:
    """The action ids the card's Approve / Deny buttons carry (its on-call buttons carry 'verb|incident')."""
    return {b for b in buttons(message) if "|" not in b}


def tg_card(chats: dict[str, Any], lp: Loop) -> dict[str, Any]:
    ref = lp.store.ref("inc-1", "telegram")
    assert ref is not None
    return chats["telegram"].messages[GROUP, int(ref.message_id)]
