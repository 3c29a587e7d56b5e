"""Routing: each card goes to the channel and chat its first matching route names (by namespace, team label,
severity), mentioning the route's people; cards no route matches go to the default alert channel and chat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.routing import Match, Route, route_for
from bot.cards.store import CardStore
from bot.chat.frontends.slack_poster import SlackPoster, slack_client
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.settings import Settings, TelegramSettings
from bot.wiring import redis_client
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram

ROUTES = [Route(match=Match(namespace=["payments"], severity=["P0", "P1"]), slack_channel="C0PAYMENTS",
                slack_mention="<!subteam^S0PAYONCALL>", telegram_chat_id=-100777, telegram_mention="@alice @bob"),
          Route(match=Match(team=["data"]), slack_channel="C0DATA")]


def card(incident: str, severity: str, **labels: str) -> Card:
    return Card(incident_id=incident, title=f"{labels.get('alertname', 'X')}: something", severity=severity,
                status="firing", source="alertmanager", failing="it fails", labels=labels,
                updated_at=datetime.now(UTC))


def test_the_first_matching_route_wins_and_unmatched_cards_take_the_default() -> None:
    assert route_for(card("a", "P0", namespace="payments"), ROUTES).slack_channel == "C0PAYMENTS"
    assert route_for(card("b", "P2", namespace="payments"), ROUTES) == Route(), "severity must match too"
    assert route_for(card("c", "P0", namespace="payments", team="data"), ROUTES).slack_channel == "C0PAYMENTS"
    assert route_for(card("d", "P3", namespace="etl", team="data"), ROUTES).slack_channel == "C0DATA"


def test_cards_go_where_their_route_says_with_its_mentions(settings: Settings, slack_fake: FakeSlack,
                                                            telegram_fake: FakeTelegram) -> None:
    telegram = TelegramSettings(bot_token=SecretStr(telegram_fake.token), alert_chat_id=-100111,
                                base_url=telegram_fake.base_url)  # type: ignore[attr-defined]
    store = CardStore(redis_client(settings), f"test:{uuid.uuid4().hex}:")
    publisher = Publisher(store, [SlackPoster(slack_client(slack_fake.token, slack_fake.base_url), "C0ONCALL",
                                              ROUTES),  # type: ignore[attr-defined]
                                  TelegramPoster(telegram, routes=ROUTES)])
    publisher.publish(card("inc-1", "P0", alertname="KubePodCrashLooping", namespace="payments"))
    publisher.publish(card("inc-2", "P2", alertname="KubePodNotReady", namespace="shop"))
    slack = {c.args["channel"]: c.args["text"] for c in slack_fake.made("chat.postMessage")}
    assert slack["C0PAYMENTS"].startswith("<!subteam^S0PAYONCALL> ") and "KubePodCrashLooping" in slack["C0PAYMENTS"]
    assert "KubePodNotReady" in slack["C0ONCALL"] and "subteam" not in slack["C0ONCALL"]
    sent = {int(c.args["chat_id"]): c.args["text"] for c in telegram_fake.made("sendMessage")}
    assert sent[-100777].startswith("@alice @bob\n") and "KubePodCrashLooping" in sent[-100777]
    assert "KubePodNotReady" in sent[-100111] and "@alice" not in sent[-100111]

    edited = card("inc-1", "P0", alertname="KubePodCrashLooping", namespace="payments")
    publisher.publish(edited.model_copy(update={"status": "resolved"}))
    assert slack_fake.made("chat.update")[-1].args["channel"] == "C0PAYMENTS", "edited where it was posted"
    assert int(telegram_fake.made("editMessageText")[-1].args["chat_id"]) == -100777


def test_a_route_to_a_telegram_chat_opsbot_refuses_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match=r"routes.0 posts to Telegram chat -100999, which is not in "
                                              r"telegram.allowed_chat_ids"):
        Settings(telegram=TelegramSettings(allowed_chat_ids=[-100111]), routes=[Route(telegram_chat_id=-100999)])
