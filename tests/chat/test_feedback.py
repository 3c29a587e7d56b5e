"""Feedback on an incident from its card's buttons in Slack and Telegram (the fakes check what each API checks) and
from a chat command, on the sandbox's Redis and a real Chroma store: who said it is audited, the card's thread
acknowledges it, the card shows the latest mark, the knowledge store's incident carries it, and outcome learning
changes: a false alarm's fix is not counted (once, however often it is clicked), a wrong cause's action is no
longer recommended for its kind. A person the policy does not know is refused in words and nothing changes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr
from starlette.testclient import TestClient

from bot import messages
from bot.cards import strings as S
from bot.cards.model import Card, CardAction, PlaybookRef
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.frontends.slack import SlackFrontend
from bot.chat.frontends.slack_poster import SlackPoster, slack_client
from bot.chat.frontends.telegram import SECRET_HEADER, TelegramFrontend
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.guard.door import Door
from bot.guard.feedback import FeedbackDesk
from bot.guard.verify import knowledge_id
from bot.intake.timeline import timelines
from bot.settings import Settings, SlackSettings
from bot.wiring import redis_client
from knowledge.incident import Incident
from knowledge.outcomes import Outcomes
from knowledge.store import KnowledgeStore
from tests.support.chatkit import served
from tests.support.doors import Clock, door_with_clock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram, check_html, telegram_settings
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace, buttons

GROUP = -100654
KIND = "crashloopbackoff"
STARTED = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


@dataclass
class Desk:
    door: Door
    store: CardStore
    publisher: Publisher
    outcomes: Outcomes
    chat: Conversation


def card(incident_id: str, tool: str, status: str = "executed") -> Card:
    return Card(incident_id=incident_id, title="KubePodCrashLooping: checkout crash loops", severity="P2",
                status="resolved", source="alertmanager", failing="checkout-7d9f restarts over and over",
                labels={"alertname": "KubePodCrashLooping", "namespace": "shop"},
                playbook=PlaybookRef(name=KIND, title="CrashLoopBackOff"), started_at=STARTED,
                actions=[CardAction(tool=tool, summary=f"{tool} shop/checkout", action_id=f"{incident_id}-a",
                                    status=status)],  # type: ignore[arg-type]
                updated_at=STARTED)


def past_fixes(o: Outcomes, tool: str, n: int) -> None:
    for i in range(n):
        o.record_once(KIND, tool, f"past-{tool}-{i}", True, incident=f"past-{i}@1")


@contextmanager
def desk(settings: Settings, knowledge: KnowledgeStore, slack_fake: FakeSlack,
         telegram_fake: FakeTelegram) -> Iterator[Desk]:
    door = door_with_clock(settings, Clock())
    prefix = f"test:{uuid.uuid4().hex}:"
    store = CardStore(redis_client(settings), prefix)
    publisher = Publisher(store, [SlackPoster(slack_client(slack_fake.token, slack_fake.base_url), CHANNEL),
                                  TelegramPoster(telegram_settings(telegram_fake, GROUP))])  # type: ignore[attr-defined]
    outcomes = Outcomes(redis_client(settings), prefix, settings.knowledge)
    feedback = FeedbackDesk(door, store, publisher, outcomes, lambda: knowledge)
    yield Desk(door, store, publisher, outcomes, Conversation(door, Agent(settings, door), ["shop"],
                                                              timelines=timelines(settings, prefix),
                                                              feedback=feedback))


def counted(o: Outcomes, tool: str) -> tuple[int, int]:
    return next(((s.total, s.succeeded) for s in o.stats(KIND) if s.action == tool), (0, 0))


def test_false_alarm_clicked_in_slack_is_audited_acknowledged_stored_and_not_counted_as_a_fix(
        settings: Settings, knowledge: KnowledgeStore, slack_fake: FakeSlack, telegram_fake: FakeTelegram) -> None:
    with desk(settings, knowledge, slack_fake, telegram_fake) as d:
        shown = card("inc-9", "k8s_rollout_restart")
        past_fixes(d.outcomes, "k8s_rollout_restart", 4)
        d.outcomes.record_once(KIND, "k8s_rollout_restart", "inc-9-a", True, incident=knowledge_id(shown))
        assert counted(d.outcomes, "k8s_rollout_restart") == (5, 5)
        knowledge.add_incident(Incident(id=knowledge_id(shown), title=shown.title, kind=KIND, outcome="resolved",
                                        started_at=STARTED))
        d.publisher.publish(shown)
        slack = SlackFrontend(SlackSettings(bot_token=SecretStr(slack_fake.token), signing_secret=SecretStr(SECRET),
                                            api_base_url=slack_fake.base_url), d.chat)  # type: ignore[attr-defined]
        with served(slack.http_app()) as server:
            ws = Workspace(server.url, slack_fake)
            ts = d.store.ref("inc-9", "slack").message_id  # the card and its thread are posted already
            assert {"fb:false_alarm|inc-9", "fb:wrong_cause|inc-9", "fb:right_cause|inc-9",
                    "fb:not_actionable|inc-9"} <= set(buttons(slack_fake.message(CHANNEL, ts)))

            ws.control("U0NOBODY", ts, "fb:false_alarm|inc-9")  # not in the policy: told so, nothing changes
            told = ws.next("chat.postEphemeral", user="U0NOBODY")["text"]
            assert told == messages.FEEDBACK_NOT_MEMBER.format(identity="slack:U0NOBODY")
            assert d.store.get("inc-9").feedback is None and counted(d.outcomes, "k8s_rollout_restart") == (5, 5)

            ws.control("U0VIEWER", ts, "fb:false_alarm|inc-9")  # a viewer may say it was a false alarm
            assert ws.next("chat.postEphemeral", user="U0VIEWER")["text"] == messages.FEEDBACK_TAKEN.format(
                id="inc-9", words="false alarm", who="slack:U0VIEWER")
            assert counted(d.outcomes, "k8s_rollout_restart") == (4, 4)  # the restart fixed nothing real
            assert d.outcomes.recommend(KIND) == []
            said = [c.args["text"] for c in slack_fake.made("chat.postMessage") if c.args.get("thread_ts") == ts
                    and "marked inc-9" in c.args.get("text", "")]
            assert said == ["slack:U0VIEWER marked inc-9: false alarm. Outcome learning takes it into account."]
            assert "Feedback*\\nfalse alarm by slack:U0VIEWER at " in json.dumps(slack_fake.message(CHANNEL, ts))
            stored = knowledge.incident(knowledge_id(shown))
            assert stored is not None and stored.outcome == "false_positive"
            assert stored.feedback is not None and stored.feedback.by == "slack:U0VIEWER"
            [audited] = [r for r in d.door.audit.query(incident="inc-9") if r.status == "success"]
            assert (audited.kind, audited.identity, audited.summary) == ("feedback", "slack:U0VIEWER", "false alarm")
            assert [r.identity for r in d.door.audit.query(incident="inc-9") if r.status == "refused"] == \
                ["slack:U0NOBODY"]

            ws.control("U0VIEWER", ts, "fb:false_alarm|inc-9")  # clicked again: counted once, said once
            assert ws.next("chat.postEphemeral", user="U0VIEWER")["text"] == messages.FEEDBACK_SAME.format(
                id="inc-9", words="false alarm")
            assert counted(d.outcomes, "k8s_rollout_restart") == (4, 4)
            assert len([c for c in slack_fake.made("chat.postMessage") if "marked inc-9" in c.args.get("text", "")]) == 1
            assert [r.status for r in d.door.audit.query(incident="inc-9") if r.identity == "slack:U0VIEWER"] == \
                ["success", "unchanged"], "the report counts the audit's one mark"


def test_wrong_cause_pressed_in_telegram_stops_recommending_that_action_for_the_mode(
        settings: Settings, knowledge: KnowledgeStore, slack_fake: FakeSlack, telegram_fake: FakeTelegram) -> None:
    with desk(settings, knowledge, slack_fake, telegram_fake) as d:
        past_fixes(d.outcomes, "k8s_rollback", 6)
        assert [r.action for r in d.outcomes.recommend(KIND)] == ["k8s_rollback"]
        d.publisher.publish(card("inc-10", "k8s_rollback", status="pending"))
        telegram = telegram_settings(telegram_fake, GROUP)
        with TestClient(TelegramFrontend(telegram, d.chat).webhook_app()) as tg:
            sent = telegram_fake.wait_for("sendMessage", 1, chat_id=GROUP)[0]
            message_id = sent.result["message_id"]
            rows = sent.args["reply_markup"]["inline_keyboard"]
            assert [b["callback_data"] for row in rows[-2:] for b in row] == \
                ["f:rc:inc-10", "f:wc:inc-10", "f:fa:inc-10", "f:na:inc-10"]

            def press(user: int, data: str) -> str:
                answered = len(telegram_fake.made("answerCallbackQuery")) + 1
                update = telegram_fake.callback_update(GROUP, user, message_id, data)
                assert tg.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "s3cret"}).status_code == 200
                return telegram_fake.wait_for("answerCallbackQuery", answered)[-1].args["text"]

            assert press(4242, "f:wc:inc-10").startswith("telegram:4242 is not among the policy's members")
            assert [r.action for r in d.outcomes.recommend(KIND)] == ["k8s_rollback"]

            assert press(1002, "f:wc:inc-10") == messages.FEEDBACK_TAKEN.format(id="inc-10", words="wrong cause",
                                                                              who="telegram:1002")
            assert d.outcomes.recommend(KIND) == []  # the rollback is held back for crash loops
            assert "Feedback: wrong cause by telegram:1002" in check_html(telegram_fake.messages[GROUP, message_id]
                                                                           ["text"])
            replies = [c.args for c in telegram_fake.made("sendMessage")
                       if (c.args.get("reply_parameters") or {}).get("message_id") == message_id
                       and "marked inc-10" in c.args["text"]]
            assert [r["text"] for r in replies] == [S.FEEDBACK_POST.format(who="telegram:1002", id="inc-10",
                                                                           words="wrong cause", note="")]

            assert press(1002, "f:rc:inc-10").startswith("inc-10 marked right cause")  # changed its mind
            assert [r.action for r in d.outcomes.recommend(KIND)] == ["k8s_rollback"]


def test_feedback_as_a_chat_command_by_id_and_in_the_cards_thread(
        settings: Settings, knowledge: KnowledgeStore, slack_fake: FakeSlack, telegram_fake: FakeTelegram) -> None:
    with desk(settings, knowledge, slack_fake, telegram_fake) as d:
        d.publisher.publish(card("inc-11", "k8s_rollout_restart"))
        bad = d.chat.command("feedback inc-11 maybe", "t", "slack:U0OPERATOR")
        assert bad.private and bad.text == messages.USAGE["feedback"]
        said = d.chat.command("feedback inc-11 not-actionable flaky readiness probe", "t", "slack:U0OPERATOR")
        assert not said.private and said.text.startswith("inc-11 marked not actionable by slack:U0OPERATOR")
        fb = d.store.get("inc-11").feedback
        assert fb is not None and (fb.mark, fb.note) == ("not_actionable", "flaky readiness probe")
        refused = d.chat.command("feedback inc-11 false alarm", "t", "slack:U0STRANGER")
        assert refused.private and "not among the policy's members" in refused.text
        assert d.store.get("inc-11").feedback.mark == "not_actionable"
        in_thread = d.chat.ask("feedback false alarm", "slack:C0ONCALL:1.2", "telegram:1001", incident="inc-11")
        assert in_thread.text.startswith("inc-11 marked false alarm by telegram:1001")
        assert d.store.get("inc-11").feedback.mark == "false_alarm"
