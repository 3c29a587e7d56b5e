"""The alert card shows what fixed past incidents of its kind, counted from verified verdicts (knowledge/outcomes.py),
beside triage's own proposals, on Slack, Telegram and the console; a kind without a track record gets no line, and
outcomes that cannot be read get an honest line, never a lost card."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import redis
from pydantic import SecretStr
from slack_sdk import WebClient

from bot import wiring
from bot.cards import strings as S
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.slack import render_slack
from bot.cards.store import CardStore
from bot.cards.telegram import render_telegram
from bot.cards.text import render_text
from bot.chat.frontends.slack_poster import SlackPoster
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.guard.verify import kind_of
from bot.intake.alert import Alert
from bot.intake.pipeline import knowledge_triage
from bot.intake.payloads.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.metrics import Metrics
from bot.settings import Settings, TelegramSettings
from bot.triage.evidence import Evidence
from bot.triage.knowledge_hook import KnowledgeTriage
from bot.triage.triage import Triage
from knowledge.outcomes import Outcomes
from knowledge.store import KnowledgeStore
from tests.support.doors import make_door
from tests.support.slack_workspace import CHANNEL, card_text
from tests.support.verifying import GROUP, chat_fakes

LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout", "severity": "critical"}


def alert(engine: Any) -> Alert:
    """The alert as the Alertmanager intake parses Alertmanager's own webhook body."""
    payload = AMPayload.model_validate(am_payload([am_alert(LABELS, {"summary": "checkout is crash-looping"})]))
    return to_alert(payload.alerts[0], payload, lambda label: engine.severity("alertmanager", label),
                    datetime.now(UTC))


def posted(card: Card, settings: Settings) -> tuple[str, str]:
    """The card posted through the Slack and Telegram posters onto their fakes: what each platform holds."""
    with chat_fakes() as chats:
        slack, telegram = chats["slack"], chats["telegram"]
        store = CardStore(wiring.redis_client(settings), f"test:{uuid.uuid4().hex}:")
        Publisher(store, [
            SlackPoster(WebClient(token=slack.token, base_url=chats["slack_url"]), CHANNEL),
            TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=chats["telegram_url"]),
                           GROUP)]).publish(card)
        slack_ref, tg_ref = store.ref(card.incident_id, "slack"), store.ref(card.incident_id, "telegram")
        assert slack_ref is not None and tg_ref is not None
        return (card_text(slack.message(CHANNEL, slack_ref.message_id)),
                telegram.messages[GROUP, int(tg_ref.message_id)]["plain"])


def test_the_card_shows_what_fixed_past_incidents_of_its_kind_with_the_verified_count(settings: Settings) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    door = wiring.build_door(settings, prefix=prefix)
    triage, _ = knowledge_triage(settings, door, prefix, Metrics())
    a = alert(door.gate.engine)
    first = triage.card(a, "inc-1")
    assert first.track_record is None and "Past incidents:" not in render_text(first), "no history: no line"

    kind = kind_of(first)  # what verification files the verdicts of this card's actions under
    outcomes = wiring.outcomes(settings, prefix)
    for i in range(8):  # eight verified rollbacks, seven fixed it; three restarts, none did
        outcomes.record_once(kind, "k8s_rollback", f"rb-{i}", success=i != 3)
    for i in range(3):
        outcomes.record_once(kind, "k8s_rollout_restart", f"rs-{i}", success=False)

    card = triage.card(a, "inc-2")
    line = S.TRACK_RECORD.format(action="k8s_rollback", k=7, n=8, kind=kind)
    slack, telegram = posted(card, settings)
    for shown in (slack, telegram, render_text(card)):
        assert line in shown, shown
        assert "k8s_rollout_restart fixed" not in shown, "an action that never fixed one is not recommended"
    assert card.actions, "triage's own proposals are still on the card, beside the track record"
    resolved = card.model_copy(update={"status": "resolved", "resolved_at": datetime.now(UTC)})
    assert line not in render_text(resolved), "a resolved card needs no recommendation"


def test_outcomes_that_cannot_be_read_are_said_and_the_card_still_posts(settings: Settings, dead_url: str,
                                                                         knowledge: KnowledgeStore) -> None:
    down = Outcomes(redis.Redis.from_url(dead_url.replace("http://", "redis://"), socket_connect_timeout=1),
                    "test:", settings.knowledge)
    door = make_door(settings)
    hook = KnowledgeTriage(door, knowledge, down)
    triage = Triage(door, collect=lambda alert, incident: Evidence(), record=hook.track_record)
    card = triage.card(alert(door.gate.engine), "inc-3")
    assert card.track_record is not None and card.track_record.action is None
    slack = card_text({"attachments": render_slack(card)["attachments"]})
    for shown in (slack, render_telegram(card)["text"], render_text(card)):
        assert S.TRACK_RECORD_UNAVAILABLE in shown
