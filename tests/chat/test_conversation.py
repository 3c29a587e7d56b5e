"""The conversation core as a shift uses it: commands, questions without a model, and button decisions."""

from __future__ import annotations

import re

import pytest

from bot import messages
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.settings import Settings
from tests.support.doors import Clock, door_with_clock

OPERATOR, LEAD, VIEWER = "slack:U0OPERATOR", "slack:U0LEAD", "slack:U0VIEWER"


@pytest.fixture
def chat(mutable_settings: Settings) -> Conversation:
    door = door_with_clock(mutable_settings, Clock())
    return Conversation(door, Agent(mutable_settings, door), namespaces=["payments", "shop"])


def test_scale_transcript(chat: Conversation) -> None:
    seen: list[str] = []
    reply = chat.ask("scale checkout to 4", "t1", OPERATOR, seen.append)
    assert reply.card is not None, reply.text
    [action] = reply.card.actions
    assert action.status == "pending" and action.summary == "scale shop/checkout from 3 to 4 replicas"
    assert "looking for deployment checkout…" in seen and "checking policy…" in seen

    viewer = chat.click(action.action_id, VIEWER, approve=True)
    assert viewer.reply.private and "may not approve" in viewer.reply.text and viewer.updated is None
    lead = chat.click(action.action_id, LEAD, approve=True)
    assert not lead.reply.private and lead.reply.text == "done: scale shop/checkout from 3 to 4 replicas"
    assert lead.updated is not None
    assert lead.updated.actions[0].status == "executed" and lead.updated.actions[0].decided_by == [LEAD]
    again = chat.click(action.action_id, LEAD, approve=True)
    assert again.reply.private and again.updated is None
    pods = chat.command("pods shop", "t1", VIEWER)
    assert "4 CrashLoopBackOff" in pods.text, "the new replica exists (and still crashes: same release)"


def test_typed_approve_and_unknown_things(chat: Conversation) -> None:
    card = chat.command("/opsbot restart shop/checkout", "t2", OPERATOR).card
    assert card is not None
    denied = chat.command(f"deny {card.actions[0].action_id}", "t2", LEAD)
    assert "denied by slack:U0LEAD" in denied.text and denied.card and denied.card.actions[0].status == "denied"
    assert "found no deployment 'nosuch'" in chat.command("scale nosuch to 3", "t2", OPERATOR).text
    assert chat.command("scale checkout", "t2", OPERATOR).text == messages.USAGE["scale"]
    assert chat.command("frobnicate now", "t2", OPERATOR).text.startswith("I do not know the command 'frobnicate")


def test_question_without_a_model_offers_the_commands(chat: Conversation) -> None:
    reply = chat.ask("why is checkout failing?", "t3", OPERATOR)
    assert reply.text.startswith(messages.NO_MODEL), "the commands are offered"
    assert "opsbot's checks of Deployment shop/checkout" in reply.text and "DATABASE_URL is not set" in reply.text


def test_read_commands_answer_with_evidence(chat: Conversation) -> None:
    logs = chat.command("logs shop/checkout 2h", "t4", VIEWER)
    assert "DATABASE_URL is not set" in logs.text
    assert "k8s_scale" in chat.command("policy whatcan", "t4", OPERATOR).text


def test_troubleshoot_runs_the_playbook_without_a_model(settings: Settings) -> None:
    from bot.chat.troubleshoot import troubleshooter

    door = door_with_clock(settings, Clock())
    chat = Conversation(door, Agent(settings, door), ["payments", "shop"], troubleshooter(door, ["payments", "shop"]))
    steps: list[str] = []
    reply = chat.command("troubleshoot checkout", "t5", VIEWER, steps.append)
    assert "playbook crashloopbackoff" in reply.text
    assert "CrashLoopBackOff" in reply.text and "DATABASE_URL is not set" in reply.text
    assert "proposed (recommended): k8s_rollback shop/checkout" in reply.text
    assert steps == ["running the playbook checks for checkout…"]
    assert door.gate.store.pending() == [], "troubleshooting proposes; it never requests a change"
    missing = chat.command("troubleshoot nosuch", "t5", VIEWER)
    assert missing.private and "no service 'nosuch'" in missing.text


def test_concurrent_clicks_leave_one_edit_and_it_shows_the_final_state(mutable_settings: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    chat = Conversation(door, Agent(mutable_settings, door), namespaces=["shop"])
    for to in (4, 5, 6):
        clock.advance(minutes=10)  # past the scale cooldown
        reply = chat.ask(f"scale checkout to {to}", f"t-race-{to}", OPERATOR)
        assert reply.card is not None, reply.text
        [action] = reply.card.actions
        approvers = [LEAD, "slack:U0ADMIN", LEAD, "slack:U0ADMIN"]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda who: chat.click(action.action_id, who, approve=True), approvers))
        edits = [r.updated for r in results if r.updated is not None]
        assert len(edits) == 1, [r.reply.text for r in results]  # the refused clicks edit nothing
        assert edits[0].actions[0].status == "executed"
        assert sum(1 for r in results if not r.reply.private) == 1


def test_a_click_off_its_card_never_decides_and_never_edits(chat: Conversation) -> None:
    reply = chat.ask("scale checkout to 4", "t-off", OPERATOR)
    assert reply.card is not None
    [action] = reply.card.actions
    off = chat.click(action.action_id, LEAD, approve=True, on_its_card=False)
    assert off.reply.private and off.reply.text == messages.NOT_THIS_CARD and off.updated is None
    assert chat.door.gate.store.get(action.action_id).state == "pending"
    assert chat.click(action.action_id, LEAD, approve=True).updated is not None  # from its own card it works
    late = chat.click(action.action_id, LEAD, approve=True, on_its_card=False)
    assert late.reply.private and "already" in late.reply.text and late.updated is None


def test_logs_take_the_time_as_people_write_it_and_the_hint_names_forms_that_work(chat: Conversation) -> None:
    for since in ("since 10m", "last 30m", "--since 10m", "--since=2h", "for 1h", "since 10:00", "10m ago", "2h"):
        reply = chat.command(f"logs shop/checkout {since}", "t5", VIEWER)
        assert "is not a time" not in reply.text and "not a duration" not in reply.text, (since, reply.text)
    assert "DATABASE_URL is not set" in chat.command("logs shop/checkout last 2h", "t5", VIEWER).text
    refused = chat.command("logs shop/checkout since teatime-ish", "t5", VIEWER).text
    assert "'since teatime-ish' is not a time; use" in refused
    examples = re.findall(r"'([^']+)'", refused.split("is not a time; use", 1)[1])
    iso = re.search(r"such as (\S+)", refused)
    assert len(examples) >= 3 and iso, refused
    for example in [*examples, iso.group(1)]:
        reply = chat.command(f"logs shop/checkout {example}", "t5", VIEWER)
        assert "is not a time" not in reply.text, (example, reply.text)
