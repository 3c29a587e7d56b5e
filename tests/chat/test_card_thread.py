"""What an alert card's thread lends to a command said in it, as a table: the incident's id to `ack`, `silence`,
`incident` and a feedback mark, its namespace to `pods`/`events`/`changes`, its workload to `logs`, `restart`,
`rollback` and `troubleshoot`; what the person named themselves is never replaced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cards.model import Card
from bot.chat.card_thread import filled, marked, subject_of
from bot.intake.target import Target

T = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
CARD = Card(incident_id="inc-7", title="KubePodCrashLooping: checkout is crash-looping", severity="P2",
            status="firing", source="alertmanager", failing="checkout pods restart", started_at=T, updated_at=T,
            labels={"alertname": "KubePodCrashLooping", "namespace": "shop"},
            target=Target(namespace="shop", kind="Pod", name="checkout-1", workload_kind="Deployment",
                          workload="checkout"))


@pytest.mark.parametrize(("verb", "args", "given"), [
    ("ack", [], ["inc-7"]),
    ("incident", [], ["inc-7"]),
    ("silence", ["4h"], ["inc-7", "4h"]),
    ("silence", ["inc-3"], ["inc-3"]),
    ("feedback", ["false", "alarm", "load", "test"], ["inc-7", "false", "alarm", "load", "test"]),
    ("feedback", ["inc-3", "fp"], ["inc-3", "fp"]),
    ("pods", [], ["shop"]),
    ("changes", [], ["shop"]),
    ("logs", [], ["shop/checkout"]),
    ("restart", [], ["shop/checkout"]),
    ("restart", ["payments/payments-api"], ["payments/payments-api"]),
    ("scale", [], []),
])
def test_a_command_in_the_thread_takes_what_it_leaves_out_from_the_card(verb: str, args: list[str],
                                                                       given: list[str]) -> None:
    assert filled(verb, args, CARD) == given


def test_feedback_words_are_read_as_people_type_them_with_the_note_after() -> None:
    assert marked(["wrong", "cause", "it", "was", "dns"]) == ("wrong_cause", ["it", "was", "dns"])
    assert marked(["fp"]) == ("false_alarm", [])
    assert marked(["maybe"]) is None


def test_a_question_in_the_thread_is_about_the_incident() -> None:
    asked, about, where = subject_of(CARD)
    assert (asked.name, asked.labels["namespace"], asked.starts_at) == ("KubePodCrashLooping", "shop", T)
    assert about == "incident inc-7 (KubePodCrashLooping)" and where == "the thread of its alert card"
