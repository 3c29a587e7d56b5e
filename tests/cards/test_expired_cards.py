"""An action that expires unapproved loses its buttons at once, on every platform and message that shows it: the
alert card (Slack and Telegram) and the chat messages of an action proposed in a conversation. The test's clock
moves past the expiry and the sweep runs: no sleeping, no click needed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from starlette.testclient import TestClient

from bot.cards import strings as S
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.chat.conversation import Conversation
from bot.chat.frontends.decision import Decisions
from bot.chat.frontends.slack import SlackFrontend
from bot.chat.frontends.slack_poster import SlackPoster
from bot.chat.frontends.telegram import SECRET_HEADER, TelegramFrontend
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.guard.expiry import ExpirySweep
from bot.settings import Settings, SlackSettings, TelegramSettings
from bot.wiring import redis_client
from tests.support.chatkit import conversation, executions, served
from tests.support.doors import Clock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram, check_html
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace, buttons, card_text

GROUP = -100123
WEBHOOK_SECRET = "s3cret-token_for-webhook"


class Platforms:
    """Both chat fakes, served, and the Publisher that posts and edits cards on them."""

    def __init__(self, slack: FakeSlack, slack_url: str, telegram: FakeTelegram, telegram_url: str,
                 settings: Settings):
        self.slack, self.slack_url, self.telegram, self.telegram_url = slack, slack_url, telegram, telegram_url
        self.clock = Clock()
        self.chat: Conversation = conversation(settings, self.clock)
        self.store = CardStore(redis_client(settings), f"test:{uuid.uuid4().hex}:")
        self.publisher = Publisher(self.store, [
            SlackPoster(WebClient(token=slack.token, base_url=slack_url), CHANNEL),
            TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=telegram_url), GROUP)])
        self.sweep = ExpirySweep(self.chat.door.gate, self.store, self.publisher)

    def telegram_buttons(self, message_id: int) -> list[list[dict]]:
        return (self.telegram.messages[GROUP, message_id].get("reply_markup") or {}).get("inline_keyboard") or []

    def telegram_text(self, message_id: int) -> str:
        return check_html(self.telegram.made("editMessageText")[-1].args["text"]) if self.telegram.made(
            "editMessageText") else ""


def telegram_card(fake: FakeTelegram) -> int:
    """The id of the first message with buttons the bot sends to the group (progress lines come before it)."""
    n = 1
    while not (call := fake.wait_for("sendMessage", n, chat_id=GROUP)[-1]).args.get("reply_markup"):
        n += 1
    return int(call.result["message_id"])


@pytest.fixture
def platforms(mutable_settings: Settings) -> Iterator[Platforms]:
    slack, telegram = FakeSlack(), FakeTelegram()
    with served(slack.app()) as s, served(telegram.app()) as t:
        yield Platforms(slack, f"{s.url}/api/", telegram, f"{t.url}/bot", mutable_settings)
    assert not [c for c in slack.errors() if c.method != "auth.test"]
    assert not telegram.errors()


def test_an_expired_action_loses_its_buttons_on_its_card_everywhere(platforms: Platforms) -> None:
    p = platforms
    card = p.chat.command("scale shop/checkout 6", "t", "slack:U0OPERATOR").card
    assert card is not None
    p.publisher.publish(card)
    ts = p.store.ref(card.incident_id, "slack").message_id  # type: ignore[union-attr]
    tg_id = int(p.store.ref(card.incident_id, "telegram").message_id)  # type: ignore[union-attr]
    [action_id] = set(buttons(p.slack.message(CHANNEL, ts)))
    action = p.chat.door.gate.store.get(action_id)
    assert action is not None and p.telegram_buttons(tg_id)

    assert p.sweep.sweep() == [], "nothing is due yet: the card keeps its buttons"
    assert buttons(p.slack.message(CHANNEL, ts)) and not p.slack.made("chat.update")
    p.clock.advance(hours=1)
    assert p.sweep.sweep() == [action_id]

    said = S.EXPIRED.format(at=action.expires_at)
    assert f"#{action_id} {action.preview.summary} — {said}" in card_text(p.slack.message(CHANNEL, ts))
    assert not buttons(p.slack.message(CHANNEL, ts))
    assert said in p.telegram_text(tg_id) and not p.telegram_buttons(tg_id)
    assert p.store.get(card.incident_id).actions[0].status == "expired"  # type: ignore[union-attr]
    assert [r.status for r in p.chat.door.audit.query() if r.kind == "expiry"] == ["expired"]
    updates = len(p.slack.made("chat.update"))
    assert p.sweep.sweep() == [] and len(p.slack.made("chat.update")) == updates, "shown once"
    assert executions(p.chat.door) == []


def test_an_action_proposed_in_chat_has_its_messages_edited_when_it_expires(platforms: Platforms) -> None:
    p = platforms
    decisions = Decisions(p.store, p.publisher)
    slack = SlackFrontend(SlackSettings(bot_token=SecretStr(p.slack.token), signing_secret=SecretStr(SECRET),
                                        api_base_url=p.slack_url), p.chat, decisions)
    telegram = TelegramFrontend(TelegramSettings(
        bot_token=SecretStr(p.telegram.token), allowed_chat_ids=[GROUP], webhook_secret=SecretStr(WEBHOOK_SECRET),
        webhook_url="https://opsbot.example/telegram/webhook", base_url=p.telegram_url), p.chat, decisions)
    with served(slack.http_app()) as server, TestClient(telegram.webhook_app()) as client:
        ws = Workspace(server.url, p.slack)
        ws.mention("U0OPERATOR", "scale shop/checkout 6")
        ts, _ = ws.next_card()
        assert client.post("/telegram/webhook", json=p.telegram.message_update(GROUP, 1001, "/restart shop/checkout"),
                           headers={SECRET_HEADER: WEBHOOK_SECRET}).status_code == 200
        tg_id = telegram_card(p.telegram)
    [slack_action] = set(buttons(p.slack.message(CHANNEL, ts)))
    tg_action = p.telegram_buttons(tg_id)[0][0]["callback_data"].removeprefix("ap:")
    assert p.store.get(f"action-{slack_action}") is None, "a chat card, not an incident's card"

    p.clock.advance(hours=2)
    assert sorted(p.sweep.sweep()) == sorted([slack_action, tg_action])

    for action_id in (slack_action, tg_action):
        action = p.chat.door.gate.store.get(action_id)
        assert action is not None and action.state == "expired"
    slack_said = S.EXPIRED.format(at=p.chat.door.gate.store.get(slack_action).expires_at)  # type: ignore[union-attr]
    assert slack_said in card_text(p.slack.message(CHANNEL, ts)) and not buttons(p.slack.message(CHANNEL, ts))
    tg_said = S.EXPIRED.format(at=p.chat.door.gate.store.get(tg_action).expires_at)  # type: ignore[union-attr]
    assert tg_said in p.telegram_text(tg_id) and not p.telegram_buttons(tg_id)
    assert executions(p.chat.door) == []
