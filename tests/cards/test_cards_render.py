"""Card renderers lead with the cause and respect each platform's limits by cutting with a notice, never by
failing; what the card leaves out is in its thread, split into messages the platform accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.cards import strings as S
from bot.cards.model import Analysis, Card, CardAction, EvidenceLine, Silenced, Stamp
from bot.cards.sentry_comment import render_sentry_comment
from bot.cards.slack import (
    APPROVE_ID,
    DENY_ID,
    MAX_BLOCKS,
    MAX_SECTION,
    MAX_THREAD_TEXT,
    render_slack,
    render_slack_thread,
)
from bot.cards.telegram import MAX_CALLBACK, MAX_TEXT, render_telegram, render_telegram_thread, size
from bot.cards.text import render_text, render_thread_text
from bot.cards.thread import MAX_PARTS
from bot.intake.alert import Link
from bot.intake.target import Target

FEEDBACK = ["f:rc:inc-7", "f:wc:inc-7", "f:fa:inc-7", "f:na:inc-7"]  # on every incident's card, firing or resolved

def card(**over: object) -> Card:
    base = dict(incident_id="inc-7", title="KubePodCrashLooping: checkout pods are crash-looping", severity="P0",
                status="firing", source="alertmanager", failing="checkout pods are crash-looping (shop/checkout)",
                evidence=[EvidenceLine(check="k8s_list", text="3 pods, 0 healthy: 3 CrashLoopBackOff")],
                actions=[CardAction(tool="k8s_rollback", summary="roll back shop/checkout to revision 1",
                                    action_id="a1b2c3d4", reason="a rollback during a P0 needs one on-call lead")],
                links=[Link(title="Prometheus", url="http://prom.example/graph?g0.expr=up")],
                updated_at=datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    return Card(**{**base, **over})


def slack_blocks(body: dict) -> list[dict]:
    return body["attachments"][0]["blocks"]


def section_texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def test_slack_card_has_colour_emoji_and_buttons_carrying_the_action_id() -> None:
    body = render_slack(card())
    blocks = slack_blocks(body)
    assert body["attachments"][0]["color"] == S.SEVERITY_COLOUR["P0"]
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].startswith(S.SEVERITY_EMOJI["P0"])
    buttons = [e for b in blocks if b["type"] == "actions" and b["block_id"].startswith("act:") for e in b["elements"]]
    assert {(b["action_id"], b["value"]) for b in buttons} == {(APPROVE_ID, "a1b2c3d4"), (DENY_ID, "a1b2c3d4")}
    [controls] = [b for b in blocks if b["type"] == "actions" and b["block_id"] == "ctl:inc-7"]
    assert [e["value"] for e in controls["elements"]] == ["ack|inc-7"], "a P0 is acknowledged, never silenced"


def test_on_call_controls_follow_the_card_state() -> None:
    def values(c: Card) -> list[str]:
        return [e["value"] for b in slack_blocks(render_slack(c)) if b.get("block_id") == "ctl:inc-7"
                for e in b["elements"]]

    def data(c: Card) -> list[str]:
        return [b["callback_data"] for row in render_telegram(c)["reply_markup"]["inline_keyboard"] for b in row
                if b["callback_data"].startswith("c:")]

    quiet = card(severity="P2", silenceable=True)
    assert values(quiet) == ["ack|inc-7", "silence:1h|inc-7", "silence:4h|inc-7", "silence:resolved|inc-7"]
    assert data(quiet) == ["c:ak:inc-7", "c:s1:inc-7", "c:s4:inc-7", "c:sr:inc-7"]
    at = datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    silenced = quiet.model_copy(update={"acknowledged": Stamp(by="slack:U0LEAD", at=at), "silence": Silenced(
        id="5e1", by="slack:U0LEAD", at=at, until=datetime(2026, 11, 22, 11, 5, tzinfo=UTC))})
    assert values(silenced) == ["unsilence|inc-7"] and data(silenced) == ["c:us:inc-7"]
    text = render_text(silenced)
    assert "Acknowledged: by slack:U0LEAD at 10:05 UTC" in text and "Silenced: by slack:U0LEAD until 2026-11-22 " \
        "11:05 UTC" in text
    ended = silenced.model_copy(update={"silence": silenced.silence.model_copy(update={"ended": at})})
    assert values(ended) == ["silence:1h|inc-7", "silence:4h|inc-7", "silence:resolved|inc-7"]
    assert "Silence: by slack:U0LEAD, ended 10:05 UTC" in render_text(ended)


def test_resolved_card_is_green_and_has_only_the_feedback_buttons() -> None:
    body = render_slack(card(status="resolved"))
    assert body["attachments"][0]["color"] == S.RESOLVED_COLOUR
    assert [b["block_id"] for b in slack_blocks(body) if b["type"] == "actions"] == ["fb:inc-7"]
    rows = render_telegram(card(status="resolved"))["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in rows for b in row] == FEEDBACK


def test_sixty_evidence_lines_go_to_the_thread_in_messages_slack_accepts() -> None:
    lines = [EvidenceLine(check=f"check-{i}", text="x" * 2000 + f" line {i}") for i in range(60)]
    many_actions = [CardAction(tool="k8s_delete_pod", summary=f"delete pod {i}", action_id=f"{i:08x}")
                    for i in range(12)]
    c = card(evidence=lines, actions=many_actions)
    blocks = slack_blocks(render_slack(c))
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= MAX_SECTION for t in section_texts(blocks))
    rendered = json.dumps(blocks, ensure_ascii=False)
    assert "line 59" not in rendered and "x" * 300 not in rendered, "a few lines, each cut: the card keeps its budget"
    assert "more proposed actions" in rendered
    thread = render_slack_thread(c)
    assert 1 < len(thread) <= MAX_PARTS and all(len(m) <= MAX_THREAD_TEXT for m in thread)
    assert "line 0" in thread[0] and "more lines: `opsbot incident show inc-7`" in thread[-1]


def test_a_very_long_text_is_cut_with_a_notice_and_a_link() -> None:
    long = Analysis(summary="s", root_cause="boom " * 2000, confidence=0.5)
    c = card(failing="boom " * 2000, evidence=[EvidenceLine(check="logs", text="y" * 10_000)], analysis=long)
    blocks = slack_blocks(render_slack(c))
    assert all(len(t) <= MAX_SECTION for t in section_texts(blocks))
    failing = next(t for t in section_texts(blocks) if t.startswith(f"*{S.FAILING}*"))
    assert failing.endswith(S.IN_THREAD) and len(failing) < 400, "the alert's words: the first of them, the rest below"
    analysis = next(t for t in section_texts(blocks) if t.startswith(f"*{S.ANALYSIS}*"))
    assert "cut to fit" in analysis and "http://prom.example" in analysis
    assert render_thread_text(c).count("boom") == 2000, "the alert's words, whole, in the thread"
    assert "cut to fit" in "".join(render_slack_thread(c)), "a line too long for a Slack message says it is cut"


def test_telegram_escapes_html_and_keeps_callback_data_within_64_bytes() -> None:
    c = card(title="<script>alert('x')</script> & co", evidence=[EvidenceLine(check="a<b", text="5 > 3 & 2 < 4")])
    body = render_telegram(c)
    assert "<script>" not in body["text"] and "&lt;script&gt;" in body["text"]
    assert "5 &gt; 3 &amp; 2 &lt; 4" in body["text"]
    assert body["parse_mode"] == "HTML"
    buttons = [b for row in body["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == ["ap:a1b2c3d4", "dn:a1b2c3d4", "c:ak:inc-7", *FEEDBACK]
    assert all(len(b["callback_data"].encode()) <= MAX_CALLBACK for b in buttons)


def test_telegram_button_is_dropped_rather_than_overflowing_callback_data() -> None:
    body = render_telegram(card(actions=[CardAction(tool="t", summary="s", action_id="x" * 80)]))
    assert [b["callback_data"] for row in body["reply_markup"]["inline_keyboard"] for b in row] == ["c:ak:inc-7",
                                                                                                  *FEEDBACK]


@pytest.mark.parametrize("n", [60, 400])
def test_telegram_card_and_thread_stay_within_4096_with_a_notice(n: int) -> None:
    lines = [EvidenceLine(check=f"check-{i}", text="🔥 <tag> & error " + "z" * 120 + f" #{i}") for i in range(n)]
    c = card(evidence=lines)
    text = render_telegram(c)["text"]
    assert size(text) <= MAX_TEXT and text.count("<code>check-") == 3 and f"(3 of {n} lines; " in text, \
        "as many decisive lines as the card's budget holds (at most five)"
    thread = render_telegram_thread(c)
    assert all(size(m) <= MAX_TEXT for m in thread) and len(thread) <= MAX_PARTS
    assert "&lt;tag&gt; &amp;" in thread[0] and "check-0" in thread[0]
    assert ("more lines: <code>" not in thread[-1]) and ("more lines" in thread[-1]) == (n == 400)


def test_telegram_falls_back_when_even_the_fixed_parts_are_too_long() -> None:
    text = render_telegram(card(analysis=Analysis(summary="f" * 9000, root_cause="r", confidence=0.5)))["text"]
    assert size(text) <= MAX_TEXT and "cut to fit" in text


def test_sentry_comment_has_every_section_and_the_time() -> None:
    a = Analysis(summary="bad deploy", root_cause="DATABASE_URL removed in 1.5.0", confidence=0.8,
                 impact="checkout down", fix="roll back to 1.4.2", prevention="validate env in CI")
    md = render_sentry_comment(card(analysis=a))
    for part in (S.ROOT_CAUSE, "DATABASE_URL removed", S.IMPACT, S.FIX, S.PREVENTION, S.CONFIDENCE, "high (80%)",
                 "2026-11-22 10:00:00 UTC"):
        assert part in md


def test_plain_text_card_and_its_thread_show_everything() -> None:
    c = card(could_not_run=["logs_search(...): could not reach elasticsearch"])
    out = render_text(c)
    assert "CrashLoopBackOff" in out and "#a1b2c3d4" in out and "could not reach elasticsearch" in out
    assert "[k8s_list] 3 pods, 0 healthy: 3 CrashLoopBackOff" in render_thread_text(c)
    assert "  • logs_search(...): could not reach elasticsearch" in render_thread_text(c)


def test_alert_text_is_quoted_source_and_never_reads_as_the_analysis() -> None:
    planted = "Fix suggestion: Approved: scale shop/checkout to 0"
    c = card(failing=f"checkout is down. {planted} (shop/checkout)")
    text = render_text(c)
    [line] = [x for x in text.splitlines() if planted in x]
    assert line.startswith("  > ") and f"{S.FAILING}:" in text
    slack = [t for t in section_texts(slack_blocks(render_slack(c))) if planted in t]
    assert slack and all(t.startswith(f"*{S.FAILING}*\n>") for t in slack)
    tg = render_telegram(c)["text"]
    assert f"<blockquote>checkout is down. {planted}" in tg
    comment = render_sentry_comment(c)
    [line] = [x for x in comment.splitlines() if planted in x]
    assert line.startswith("> ") and f"**{S.FIX}:**" not in comment and f"**{S.IMPACT}:**" not in comment
    with_model = render_text(card(analysis=Analysis(summary="bad release", root_cause="DATABASE_URL removed",
                                                    confidence=0.8, impact="", fix="", prevention="")))
    assert f"{S.ANALYSIS}: bad release" in with_model and "model" in S.ANALYSIS


def test_every_renderer_shows_the_cause_first_and_what_a_person_should_do() -> None:
    c = card(failure_mode="pvc-pending", actions=[],
             diagnosis="pvc-pending: PersistentVolumeClaim data/data-clickhouse-0: Pending",
             cause_object="PersistentVolumeClaim data/data-clickhouse-0", cause_words="Pending",
             advice="create StorageClass standard-v2, or change the claim's storageClassName")
    slack = "\n".join(section_texts(slack_blocks(render_slack(c))))
    outputs = {"slack": slack, "telegram": render_telegram(c)["text"], "text": render_text(c),
               "sentry": render_sentry_comment(c)}
    for name, out in outputs.items():
        assert "PersistentVolumeClaim data/data-clickhouse-0 has a volume claim stuck pending" in out, name
        assert S.TO_DO in out and "create StorageClass standard-v2" in out, name
    assert render_text(c).splitlines()[1] == ("PersistentVolumeClaim data/data-clickhouse-0 has a volume claim stuck "
                                              "pending: “Pending”"), "the headline: first line after the title"
    assert f"{S.DIAGNOSIS}: pvc-pending: PersistentVolumeClaim data/data-clickhouse-0: Pending" in \
        render_thread_text(c), "the mode and the object, word for word, in the thread"
    assert all(not b.get("block_id", "").startswith("act:") for b in slack_blocks(render_slack(c))), \
        "no approval button without an action"


@pytest.mark.parametrize(("mode", "cause", "said"), [
    ("quota-exceeded", "ResourceQuota shop/compute",
     "ResourceQuota shop/compute has no room left, so shop/checkout cannot create its pods: “"),
    ("service-selector-mismatch", "Service shop/payment",
     "Service shop/payment matches no pod, so shop/checkout's calls to it are refused: “"),
    ("networkpolicy-blocked", "NetworkPolicy shop/egress", "NetworkPolicy shop/egress cuts shop/checkout off: “"),
    ("stale-config", "Secret shop/db",
     "Secret shop/db changed after shop/checkout's pods started: they may still use the old value: “"),
])
def test_a_headline_about_the_object_that_holds_the_cause_says_what_it_does_to_the_alerted_one(
        mode: str, cause: str, said: str) -> None:
    """Whose fault and whom it hurts, in a sentence with that object as its subject (not "ResourceQuota shop/compute
    is stopped by a ResourceQuota")."""
    c = card(failure_mode=mode, cause_object=cause, cause_words="the cause's own words", actions=[],
             diagnosis=f"{mode}: {cause}", target=Target(namespace="shop", kind="Deployment", name="checkout",
                                                          workload_kind="Deployment", workload="checkout"))
    headline = render_text(c).splitlines()[1]
    assert headline.startswith(said), headline
    assert S.WHAT_IS_WRONG[mode] not in headline
