"""Alert cards on both platforms: posted once through the posters, and a decision in Slack edits both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient

from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.chat.frontends.decision import Decisions
from bot.chat.frontends.slack import SlackFrontend
from bot.chat.frontends.slack_poster import SlackPoster
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.settings import Settings, SlackSettings, TelegramSettings
from bot.wiring import redis_client
from tests.support.chatkit import conversation, executions, served
from tests.support.doors import Clock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram, check_html
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace, buttons, card_text

GROUP = -100123


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, str, FakeTelegram, str]]:
    slack, telegram = FakeSlack(), FakeTelegram()
    with served(slack.app()) as s, served(telegram.app()) as t:
        yield slack, f"{s.url}/api/", telegram, f"{t.url}/bot"
    assert not [c for c in slack.errors() if c.method != "auth.test"]
    assert not [c for c in telegram.errors() if "not modified" not in (c.error or "")]


def test_a_decision_in_slack_edits_the_alert_card_everywhere(fakes: tuple[FakeSlack, str, FakeTelegram, str],
                                                             mutable_settings: Settings) -> None:
    slack, slack_url, telegram, telegram_url = fakes
    chat = conversation(mutable_settings, Clock())
    store = CardStore(redis_client(mutable_settings), f"test:{uuid.uuid4().hex}:")
    posters = [SlackPoster(WebClient(token=slack.token, base_url=slack_url), CHANNEL),
               TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=telegram_url), GROUP)]
    publisher = Publisher(store, posters)
    card = chat.command("scale shop/checkout 6", "t", "slack:U0OPERATOR").card
    assert card is not None
    publisher.publish(card)
    publisher.publish(card)  # a retry edits, never posts twice (Telegram answers "not modified": tolerated)
    assert len(slack.made("chat.postMessage")) == 1 and len(telegram.made("sendMessage")) == 1
    slack_ts = store.ref(card.incident_id, "slack").message_id  # type: ignore[union-attr]
    tg_id = int(store.ref(card.incident_id, "telegram").message_id)  # type: ignore[union-attr]
    [action] = set(buttons(slack.message(CHANNEL, slack_ts)))

    settings = SlackSettings(bot_token=SecretStr(slack.token), signing_secret=SecretStr(SECRET), api_base_url=slack_url)
    frontend = SlackFrontend(settings, chat, Decisions(store, publisher))
    with served(frontend.http_app()) as server:
        ws = Workspace(server.url, slack)
        ws.click("U0LEAD", slack_ts, action)
        slack.wait_for("chat.update", 2, ts=slack_ts)  # the retry above, then the decision
        edited = telegram.wait_for("editMessageText", 1)[-1].args
    assert "executed" in card_text(slack.message(CHANNEL, slack_ts)) and not buttons(slack.message(CHANNEL, slack_ts))
    assert "decided by slack:U0LEAD" in check_html(edited["text"]) and int(edited["message_id"]) == tg_id
    assert not (telegram.messages[GROUP, tg_id].get("reply_markup") or {}).get("inline_keyboard")
    assert store.get(card.incident_id).actions[0].status == "executed"  # type: ignore[union-attr]
    assert executions(chat.door) == ["success"]


def test_telegram_flood_control_is_waited_out_and_the_card_still_posts(mutable_settings: Settings) -> None:
    telegram = FakeTelegram(flood=(2, 1.0))  # two messages a second to this chat; Telegram's is 20 a minute
    chat = conversation(mutable_settings, Clock())
    with served(telegram.app()) as t:
        poster = TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=f"{t.url}/bot"), GROUP)
        card = chat.command("scale shop/checkout 6", "t", "slack:U0OPERATOR").card
        assert card is not None
        refs = [poster.post(card) for _ in range(3)]
    assert len({r.message_id for r in refs}) == 3, "all three posted"
    [flooded] = [c for c in telegram.calls if c.error]
    assert flooded.error.startswith("Too Many Requests: retry after") and flooded.method == "sendMessage"
    sent = telegram.made("sendMessage")[0].args
    assert sent["link_preview_options"] == {"is_disabled": True} and "disable_web_page_preview" not in sent


def test_a_flood_wait_longer_than_a_minute_fails_the_post_clearly(mutable_settings: Settings) -> None:
    telegram = FakeTelegram(flood=(1, 600.0))
    chat = conversation(mutable_settings, Clock())
    with served(telegram.app()) as t:
        poster = TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=f"{t.url}/bot"), GROUP)
        card = chat.command("scale shop/checkout 6", "t", "slack:U0OPERATOR").card
        assert card is not None
        poster.post(card)
        with pytest.raises(RuntimeError, match="Telegram sendMessage failed: Too Many Requests: retry after"):
            poster.post(card)
