"""Acknowledge, Silence and Unsilence on an alert card, clicked in Slack and pressed in Telegram (the fakes check
what each API checks), against a real Alertmanager: one card on both platforms, edited on both after each
click; a person the policy does not allow is told so privately and the card stays as it was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.frontends.slack import SlackFrontend
from bot.chat.frontends.slack_poster import SlackPoster, slack_client
from bot.chat.frontends.telegram import SECRET_HEADER, TelegramFrontend
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.guard.silencer import Silencer
from bot.settings import Settings, SlackSettings
from bot.wiring import redis_client
from tests.support.alertmanager import PrivateAlertmanager, private_alertmanager
from tests.support.chatkit import served
from tests.support.doors import Clock, door_with_clock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram, check_html, telegram_settings
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace

GROUP = -100321
LABELS = {"alertname": "KubePodNotReady", "namespace": "shop", "pod": "cart-5c7d9b8f4-abcde", "severity": "warning"}


@pytest.fixture
def am(tmp_path: Path) -> Iterator[PrivateAlertmanager]:
    with private_alertmanager(tmp_path) as a:
        yield a


def test_ack_silence_and_unsilence_from_slack_and_telegram(settings: Settings, am: PrivateAlertmanager,
                                                           slack_fake: FakeSlack, telegram_fake: FakeTelegram) -> None:
    s = settings.model_copy(update={"alertmanager": settings.alertmanager.model_copy(update={"url": am.url})})
    door = door_with_clock(s, Clock())
    store = CardStore(redis_client(s), f"test:{uuid.uuid4().hex}:")
    telegram = telegram_settings(telegram_fake, GROUP)
    publisher = Publisher(store, [SlackPoster(slack_client(slack_fake.token, slack_fake.base_url), CHANNEL),
                                  TelegramPoster(telegram)])  # type: ignore[attr-defined]
    chat = Conversation(door, Agent(s, door), ["shop"], silencer=Silencer(door, store, publisher))
    am.fire(LABELS)  # the alert the card is about, firing in Alertmanager
    publisher.publish(Card(incident_id="inc-9", title="KubePodNotReady: cart is not ready", severity="P2",
                           status="firing", source="alertmanager", failing="cart-5c7d9b8f4-abcde is not ready",
                           labels=LABELS, silenceable=True, updated_at=datetime.now(UTC)))
    slack = SlackFrontend(SlackSettings(bot_token=SecretStr(slack_fake.token), signing_secret=SecretStr(SECRET),
                                        api_base_url=slack_fake.base_url), chat)  # type: ignore[attr-defined]
    with served(slack.http_app()) as server, TestClient(TelegramFrontend(telegram, chat).webhook_app()) as tg:
        ws = Workspace(server.url, slack_fake)
        ts, _ = ws.next_card()
        tg_card = telegram_fake.wait_for("sendMessage", 1, chat_id=GROUP)[0].result["message_id"]

        def press(user: int, data: str) -> str:
            answered = len(telegram_fake.made("answerCallbackQuery")) + 1
            update = telegram_fake.callback_update(GROUP, user, tg_card, data)
            assert tg.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "s3cret"}).status_code == 200
            return telegram_fake.wait_for("answerCallbackQuery", answered)[-1].args["text"]

        ws.control("U0VIEWER", ts, "ack|inc-9")  # a viewer may not: told privately, nothing changes
        assert "may not acknowledge or silence" in ws.next("chat.postEphemeral", user="U0VIEWER")["text"]
        assert store.get("inc-9").acknowledged is None

        ws.control("U0OPERATOR", ts, "ack|inc-9")
        assert "acknowledged by slack:U0OPERATOR" in ws.next("chat.postEphemeral", user="U0OPERATOR")["text"]
        assert "Acknowledged*\\nby slack:U0OPERATOR" in json.dumps(slack_fake.message(CHANNEL, ts))
        assert "Acknowledged: by slack:U0OPERATOR" in check_html(telegram_fake.messages[GROUP, tg_card]["text"])

        assert "silenced in Alertmanager until" in press(1001, "c:s1:inc-9")  # telegram:1001 is an operator
        [silence] = am.active_silences()
        assert silence["createdBy"] == "telegram:1001"
        assert am.status(pod=LABELS["pod"])["silencedBy"] == [silence["id"]]
        assert "Silenced*\\nby telegram:1001 until" in json.dumps(slack_fake.message(CHANNEL, ts))
        assert [e["value"] for b in slack_fake.message(CHANNEL, ts)["attachments"][0]["blocks"]
                if b.get("block_id") == "ctl:inc-9" for e in b["elements"]] == ["unsilence|inc-9"]

        assert "unsilenced" in press(1001, "c:us:inc-9")
        assert am.active_silences() == [] and am.status(pod=LABELS["pod"])["state"] == "active"
        assert "ended" in check_html(telegram_fake.messages[GROUP, tg_card]["text"])
        assert press(1001, "c:us:inc-404").startswith("that button does not belong")  # not on this card
