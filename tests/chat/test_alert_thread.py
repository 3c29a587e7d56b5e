"""The alert card's thread is a conversation about its incident: a reply in the Slack thread or to the Telegram
card carries the incident's target and severity, so `logs`, `pods` or `restart` need no names and a question
needs none either."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import SecretStr
from starlette.testclient import TestClient

from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.frontends.decision import Decisions
from bot.chat.frontends.slack import SlackFrontend
from bot.chat.frontends.slack_poster import SlackPoster, slack_client
from bot.chat.frontends.telegram import SECRET_HEADER, TelegramFrontend
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.intake.incidents import IncidentStore
from bot.intake.target import Target
from bot.intake.timeline import Timelines
from bot.polling import poll
from bot.settings import Settings, SlackSettings
from bot.wiring import redis_client
from tests.support.chatkit import served
from tests.support.doors import Clock, door_with_clock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram, check_html, telegram_settings
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace

GROUP = -100654
LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9f8c6b5-x2x9q",
          "container": "checkout", "severity": "critical"}


def test_replies_under_an_alert_card_act_on_its_incident(mutable_settings: Settings, slack_fake: FakeSlack,
                                                         telegram_fake: FakeTelegram) -> None:
    s = mutable_settings
    door = door_with_clock(s, Clock())
    client, prefix = redis_client(s), f"test:{uuid.uuid4().hex}:"
    store = CardStore(client, prefix)
    telegram = telegram_settings(telegram_fake, GROUP)
    publisher = Publisher(store, [SlackPoster(slack_client(slack_fake.token, slack_fake.base_url), CHANNEL),
                                  TelegramPoster(telegram)])  # type: ignore[attr-defined]
    decisions = Decisions(store, publisher)
    timelines = Timelines(IncidentStore(client, prefix, 3600, 3), store, door.audit, None)
    chat = Conversation(door, Agent(s, door), ["payments"], timelines=timelines)  # "shop" is not a chat namespace
    publisher.publish(Card(
        incident_id="inc-5", title="KubePodCrashLooping: checkout is crash looping", severity="P0", status="firing",
        source="alertmanager", failing="Pod shop/checkout-7d9f8c6b5-x2x9q is crash looping", labels=LABELS,
        target=Target(namespace="shop", kind="Pod", name="checkout-7d9f8c6b5-x2x9q", workload_kind="Deployment",
                      workload="checkout", via="pod"), updated_at=datetime.now(UTC)))
    slack = SlackFrontend(SlackSettings(bot_token=SecretStr(slack_fake.token), signing_secret=SecretStr(SECRET),
                                        api_base_url=slack_fake.base_url), chat, decisions)  # type: ignore[attr-defined]
    with served(slack.http_app()) as server, \
            TestClient(TelegramFrontend(telegram, chat, decisions).webhook_app()) as tg:
        ws = Workspace(server.url, slack_fake)
        card_ts, _ = ws.next_card()

        ws.mention("U0VIEWER", "logs", thread_ts=card_ts)
        answer = ws.next("chat.update")["text"]
        assert "service='checkout', namespace='shop'" in answer and "DATABASE_URL is not set" in answer, answer

        ws.mention("U0VIEWER", "changes", thread_ts=card_ts)  # the incident's namespace, not the chat's default
        changed = ws.next("chat.update")["text"]
        assert "k8s_changes(namespace='shop')" in changed and "rollout to revision 2" in changed, changed

        ws.mention("U0VIEWER", "what changed before this started?", thread_ts=card_ts)
        said = ws.next("chat.update")["text"]
        assert "incident inc-5 (KubePodCrashLooping)" in said, said

        ws.mention("U0OPERATOR", "restart", thread_ts=card_ts)
        proposed = ws.next_card()[1]
        assert "restart" in str(proposed) and "shop/checkout" in str(proposed)
        [pending] = [door.gate.store.get(i) for i in door.gate.store.pending()]
        assert pending.incident == "inc-5" and pending.decision.severity == "P0", "the incident's severity tier"
        ws.mention("U0OPERATOR", "restart payments/payments-api", thread_ts=card_ts)  # another object, named
        ws.next_card()
        [other] = [a for i in door.gate.store.pending() if (a := door.gate.store.get(i)).id != pending.id]
        assert other.incident is None and other.decision.severity == "P3", "the thread lends no severity to it"

        tg_card = telegram_fake.wait_for("sendMessage", 1, chat_id=GROUP)[0].result["message_id"]
        update = telegram_fake.message_update(GROUP, 1001, "/pods", reply_to=tg_card)
        assert tg.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "s3cret"}).status_code == 200
        reply = poll(lambda: next((c for c in telegram_fake.calls if c.method == "editMessageText"
                                   and "k8s_list" in c.args["text"]), None), 30, 0.05)
        assert reply is not None and "namespace='shop'" in check_html(reply.args["text"])
        assert "CrashLoopBackOff" in reply.args["text"], "the incident's namespace, not the chat's default"
