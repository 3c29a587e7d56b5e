"""The lines a card tells in opsbot's words: the resolved card's story (how long, who acknowledged, what was
executed and approved by whom, whether the alert cleared after it, where the timeline is) instead of the evidence,
and 'Seen before' from the similar incidents knowledge holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot.cards import strings as S
from bot.cards.model import Card, CardAction, EvidenceLine, PlaybookRef, SimilarIncident, Stamp
from bot.cards.slack import render_slack
from bot.cards.store import CardStore
from bot.cards.telegram import render_telegram
from bot.cards.text import render_text, render_thread_text
from bot.chat.frontends.decision import merged
from bot.settings import Settings
from bot.wiring import redis_client

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ROLLBACK = "roll back shop/checkout to revision 1"


def card(**over: object) -> Card:
    base = dict(incident_id="inc-7", title="KubePodCrashLooping", severity="P1", status="firing",
                source="alertmanager", failing="checkout pods are crash-looping", failure_mode="crashloopbackoff",
                playbook=PlaybookRef(name="crashloopbackoff", title="Pods crash-loop"),
                evidence=[EvidenceLine(check="k8s_list(namespace='shop')",
                                       text="3 pods, 0 healthy: 3 CrashLoopBackOff")],
                actions=[CardAction(tool="k8s_rollback", summary=ROLLBACK, action_id="a1")],
                started_at=T0, updated_at=T0 + timedelta(minutes=1))
    return Card(**{**base, **over})


def resolved(**over: object) -> Card:
    done = CardAction(tool="k8s_rollback", summary=ROLLBACK, action_id="a1", status="executed",
                      decided_by=["slack:U0LEAD"], decided_at=T0 + timedelta(minutes=5))
    return card(status="resolved", resolved_at=T0 + timedelta(minutes=14), updated_at=T0 + timedelta(minutes=14),
                acknowledged=Stamp(by="slack:U0ONCALL", at=T0 + timedelta(minutes=3)), actions=[done], **over)


def test_the_resolved_card_tells_what_happened_and_the_evidence_moves_to_the_thread() -> None:
    c = resolved()
    story = [f"{S.RESOLVED_AFTER.format(duration='14 min')}; acknowledged by slack:U0ONCALL at 10:03 UTC",
             f"#a1 {ROLLBACK}: executed by opsbot at 10:05 UTC, approved by slack:U0LEAD; the alert cleared 9 min "
             "after it", "Timeline: `opsbot incident show inc-7`"]
    text = render_text(c)
    for line in story:
        assert line in text
        assert line in render_telegram(c)["text"]
        assert any(line in (b.get("text") or {}).get("text", "") for b in render_slack(c)["attachments"][0]["blocks"])
    assert "3 pods, 0 healthy" not in text and S.EVIDENCE_IN_THREAD.format(total=1, s="", id="inc-7") in text
    assert "3 pods, 0 healthy: 3 CrashLoopBackOff" in render_thread_text(c), "the evidence is in the thread"
    assert f"{S.ACTIONS}:" not in text, "the executed action is told once, in the story"
    firing = render_text(card())
    assert "Resolved after" not in firing and "3 pods, 0 healthy" in firing, "a firing card shows its evidence"


def test_a_resolved_card_without_an_action_says_it_cleared_on_its_own() -> None:
    c = card(status="resolved", resolved_at=T0 + timedelta(minutes=40), actions=[
        CardAction(tool="k8s_rollback", summary=ROLLBACK, action_id="a1", status="expired",
                   outcome="withdrawn: " + S.WITHDRAWN)])
    text = render_text(c)
    assert f"{S.RESOLVED_AFTER.format(duration='40 min')}; {S.NOT_ACKED}" in text and S.NO_ACTION in text
    assert f"#a1 {ROLLBACK} — expired; withdrawn: {S.WITHDRAWN}" in text, "what did not run is still listed"


def test_seen_before_names_the_closest_what_fixed_them_and_how_often() -> None:
    now = T0 + timedelta(minutes=1)
    like = [SimilarIncident(id=f"inc-{i}", title="KubePodCrashLooping: checkout pods are crash-looping",
                            kind="crashloopbackoff", started_at=now - timedelta(days=d), fixes=fixes)
            for i, d, fixes in ((3, 12, [ROLLBACK]), (2, 30, [ROLLBACK, "restart shop/checkout"]), (1, 50, []))]
    other = SimilarIncident(id="inc-9", title="NodeNotReady", kind="node-not-ready", started_at=now)
    text = render_text(card(similar=[*like, other]))
    assert (f"{S.SEEN_BEFORE}: 3 earlier incidents like this (closest inc-3 “KubePodCrashLooping: checkout pods are "
            f"crash-looping”); {ROLLBACK} fixed 2 of 3; last 12 days ago") in text
    assert "inc-9" not in text.split(S.SEEN_BEFORE)[1].splitlines()[0], "another kind is not 'like this'"
    assert "inc-9" in render_thread_text(card(similar=[*like, other])), "every similar incident, in the thread"
    assert S.SEEN_BEFORE not in render_text(card(similar=[other])), "nothing like it: no line"


def test_a_decision_applied_to_the_incident_card_is_stamped_with_its_time(settings: Settings) -> None:
    store = CardStore(redis_client(settings), f"test:{uuid.uuid4().hex}:")
    store.save(card())
    at = T0 + timedelta(minutes=5)
    decided = card(actions=[CardAction(tool="k8s_rollback", summary=ROLLBACK, action_id="a1", status="executed",
                                       decided_by=["slack:U0LEAD"])])
    shown, stored = merged(decided, store, at)
    assert stored and shown.actions[0].decided_at == at
    pending, _ = merged(card(), store, at)
    assert pending.actions[0].decided_at is None, "nothing decided, nothing stamped"
