"""Untrusted text (an alert's name, summary and description, label values, a Sentry title, a log line) is shown
on every renderer and in every cut form only inside a labelled quote, a quoted name or (Slack, Telegram) a code
span, never as opsbot's words: not in the header, not in the headline, not in the thread, not after a Telegram
card too long for one message."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.cards import strings as S
from bot.cards.model import Analysis, Card, CardAction, EvidenceLine, GroupAlert, SimilarIncident
from bot.cards.sentry_comment import render_sentry_comment
from bot.cards.slack import render_slack
from bot.cards.telegram import MAX_TEXT, render_telegram, render_telegram_thread, size
from bot.cards.text import render_text, render_thread_text
from bot.intake.alert import Alert, Link
from bot.intake.fingerprint import fingerprint
from bot.intake.target import Target
from bot.triage.diagnosis import diagnose
from bot.triage.triage import stated
from tests.support.fake_telegram import check_html
from tools.base import Status, ToolResult

MARK = "PWNED"
# every trick we know for leaving a quote: markup of each platform, fences, line breaks, fake headings and buttons
HOSTILE = (f"all fine {MARK}1 *Diagnosis:* nothing to do\n```\nApprove: scale shop/checkout to 0 {MARK}2\n"
           "```\n"
           f"<b>Approve</b> <!channel> </blockquote></code> `x` {MARK}3\r\n"
           f"{S.DIAGNOSIS}: healthy {MARK}4\u2028> {MARK}5 “quoted” ” end\n\n"
           f"{S.APPROVE} #a1b2c3d4 is safe {MARK}6")
NAME = f"HighErrorRate”\n{S.DIAGNOSIS}: fine {MARK}7 </code><b>ok</b> ```"
LOG = f"x509: certificate has expired\n{S.APPROVE}: done {MARK}8 </blockquote>"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def hostile_card(**over: object) -> Card:
    base = dict(incident_id="inc-7", title=f"{NAME}: {HOSTILE}", severity="P1", status="firing",
                source="alertmanager", failing=HOSTILE, labels={"alertname": NAME, "namespace": "shop"},
                target=Target(namespace="shop", kind="Pod", name="checkout-5d8f-x2", workload_kind="Deployment",
                              workload="checkout"),
                failure_mode="certificate-expired", diagnosis="certificate-expired: Deployment shop/checkout",
                diagnosis_basis="logs",
                diagnosis_source=LOG, advice="renew the certificate",
                evidence=[EvidenceLine(check="logs_search", text=f"line one\n{S.DIAGNOSIS}: fake")],
                group=[GroupAlert(incident_id="inc-7", name=NAME, status="firing", since=NOW),
                       GroupAlert(incident_id="inc-8", name=f"Other\n{MARK}9", status="firing", since=NOW)],
                similar=[SimilarIncident(id="inc-1", title=f"old\n{MARK}X”")],
                actions=[CardAction(tool="k8s_rollback", summary="roll back shop/checkout to revision 1",
                                    action_id="a1b2c3d4", reason="a rollback needs one on-call lead")],
                links=[Link(title="Prometheus", url="http://prom.example/graph")], updated_at=NOW)
    return Card(**{**base, **over})


def outside(text: str, spans: str) -> str:
    """`text` with the spans the renderer quotes taken out: what is left is opsbot's own words."""
    return re.sub(spans, "", text, flags=re.S)


NAMES = r"“[^“”\n]*”"  # a quoted name: our marks, one line, none inside


def slack_texts(body: dict) -> list[str]:
    out = [body["text"]]
    for b in body["attachments"][0]["blocks"]:
        out += [(b.get("text") or {}).get("text", "")]
        out += [f["text"] for f in b.get("fields") or []]
        out += [e["text"] if isinstance(e.get("text"), str) else (e.get("text") or {}).get("text", "")
                for e in b.get("elements") or []]
    return out


CODE = r"`[^`\n]*`"  # a Slack code span: mrkdwn formats nothing inside it, and our quotes hold no backtick


def assert_slack_quoted(body: dict) -> None:
    texts = slack_texts(body)
    joined = "\n".join(texts[2:])  # the mrkdwn ones (the header block is plain text: nothing in it is markup)
    assert "```" not in joined and "<!channel>" not in joined and "<b>" not in joined, "markup stays inert"
    for text in texts:
        for line in text.split("\n"):
            if line.startswith(">"):
                continue
            assert MARK not in outside(outside(line, NAMES), CODE), line
    [said] = [t for t in texts if MARK + "1" in t]
    assert said.startswith(f"*{S.FAILING}*\n>")
    [log] = [t for t in texts if MARK + "8" in t]  # the headline quotes the log line the diagnosis rests on
    assert f"`x509: certificate has expired ⏎ {S.APPROVE}: done {MARK}8 &lt;/blockquote&gt;`" in log


def assert_telegram_quoted(text: str) -> None:
    check_html(text)  # Telegram would parse it: every tag closed, nothing unescaped
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", text, flags=re.S)
    assert quotes and all("<" not in q for q in quotes), "nothing inside a quote is markup"
    rest = outside(outside(outside(text, r"<blockquote>.*?</blockquote>"), r"<code>[^<]*</code>"), NAMES)
    assert MARK not in rest, rest
    assert f"<b>{S.FAILING}:</b>\n<blockquote>all fine {MARK}1" in text


def assert_lines_quoted(text: str, prefix: str) -> None:
    for line in text.splitlines():
        if not line.startswith(prefix):
            assert MARK not in outside(line, NAMES), line


def test_hostile_alert_text_stays_inside_its_quote_on_every_renderer() -> None:
    c = hostile_card()
    assert_slack_quoted(render_slack(c))
    assert_telegram_quoted(render_telegram(c)["text"])
    text = render_text(c)
    assert_lines_quoted(text, "  > ")
    assert f"{S.FAILING}:\n  > all fine {MARK}1" in text and f"“x509: certificate has expired ⏎ {S.APPROVE}" in text
    thread = render_thread_text(c)
    assert_lines_quoted(thread, "  > ")
    assert f"{S.LOG_SAYS}:\n  > x509" in thread, "the log line the diagnosis rests on, in full, in the thread"
    for part in render_telegram_thread(c):
        check_html(part)
        assert MARK not in outside(part, r"<blockquote>[^<]*</blockquote>|<code>[^<]*</code>|" + NAMES)
    comment = render_sentry_comment(c)
    assert_lines_quoted(comment, "> ")
    assert "<b>" not in comment and "</blockquote>" not in comment
    for out in (text, thread, comment, render_telegram(c)["text"]):
        assert not [line for line in out.splitlines() if line.lstrip("•[]<>b/ ").startswith(S.DIAGNOSIS + ": fake")]


def test_the_header_is_opsbots_words_and_the_alert_name_a_quoted_label() -> None:
    c = hostile_card()
    words = f"{S.SEVERITY_EMOJI['P1']} P1 FIRING · Deployment shop/checkout · alert "
    header = render_slack(c)["attachments"][0]["blocks"][0]["text"]["text"]
    assert header.startswith(words + "“HighErrorRate\" ⏎ ") and header.endswith("”") and "\n" not in header
    long = hostile_card(labels={"alertname": "N" * 300, "namespace": "shop"})
    header = render_slack(long)["attachments"][0]["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("N…”"), "the name is cut, never its closing mark"
    assert render_text(c).splitlines()[0].startswith(words + "“HighErrorRate")
    first = render_telegram(c)["text"].split("\n\n")[0]
    assert first.startswith(f"<b>{words.removesuffix(' · alert ')}</b> · alert <code>HighErrorRate")
    assert "</code><b>ok" not in first and "&lt;/code&gt;&lt;b&gt;ok" in first
    sentry = hostile_card(source="sentry", labels={}, title=f"TypeError: {HOSTILE}")  # a Sentry issue's title
    assert render_text(sentry).splitlines()[0].startswith(f"{S.SEVERITY_EMOJI['P1']} P1 FIRING · Deployment "
                                                          f"shop/checkout · Sentry issue “TypeError: all fine")
    assert_telegram_quoted(render_telegram(sentry)["text"])
    assert_lines_quoted(render_text(sentry), "  > ")


@pytest.mark.parametrize("render", ["slack", "telegram"])
def test_the_cut_forms_keep_the_label_the_quote_and_what_the_button_does(render: str) -> None:
    c = hostile_card(failing=HOSTILE + " " + "z" * 20_000, evidence=[EvidenceLine(check="k", text="y" * 9000)] * 3,
                     analysis=Analysis(summary="a" * 9000, root_cause="r", confidence=0.5))
    if render == "slack":
        body = render_slack(c)
        assert_slack_quoted(body)
        texts = slack_texts(body)
        assert any(S.truncated("<http://prom.example/graph|full text>") in t for t in texts)
        assert any("#a1b2c3d4 roll back shop/checkout to revision 1" in t for t in texts)
        assert any(t.startswith("*shop/checkout fails on an expired certificate:* `x509") for t in texts)
        return
    body = render_telegram(c)
    text = body["text"]
    assert size(text) <= MAX_TEXT and "cut to fit" in text
    assert_telegram_quoted(text)
    assert f"<b>{S.ACTIONS}:</b>\n• #a1b2c3d4 roll back shop/checkout to revision 1 — waiting for approval" in text
    assert "<b>shop/checkout fails on an expired certificate: </b><code>x509" in text
    assert [b["callback_data"] for b in body["reply_markup"]["inline_keyboard"][0]] == ["ap:a1b2c3d4", "dn:a1b2c3d4"]


def test_a_diagnosis_from_the_alert_alone_says_so_and_does_not_repeat_its_name() -> None:
    labels = {"alertname": NAME, "namespace": "shop", "deployment": "checkout"}
    alert = Alert(source="alertmanager", name=NAME, status="firing", severity="P1", labels=labels,
                  fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)
    healthy = ToolResult(tool="k8s_describe", status=Status.success, invocation="k8s_describe", data={
        "kind": "Deployment", "namespace": "shop", "name": "checkout", "revisions": [], "conditions": []})
    d = diagnose(alert, [healthy], NOW)
    # no release read began it: the cause is not found, never the nearest mode's advice
    assert d is not None and d.mode == "cause-not-found" and d.basis == "alert" and d.rollback is None
    fields = stated(d)
    assert MARK not in fields["diagnosis"] and S.CAUSE_NOT_FOUND.format(what="errors", reads=1) in fields["diagnosis"]
    c = hostile_card(**fields, diagnosis_source=None, failure_mode=d.mode)
    for heading, out in (("{}: ", render_text(c)), ("**{}:** ", render_sentry_comment(c)),
                         ("<b>{}:</b> ", render_telegram(c)["text"].replace("\n\n", "\n"))):
        lines = out.splitlines()
        assert "shop/checkout: triage found no cause; the most telling line: " in out, "says so, then quotes a line"
        assert MARK + "7" not in outside(out, NAMES + "|<code>[^<]*</code>"), "the alert's name is not repeated"
        assert not [line for line in lines if line.startswith(heading.format(S.DIAGNOSIS))]
    assert "Diagnosis: cause-not-found: Deployment shop/checkout: cause not found" in render_thread_text(c), \
        "the mode and its words, in the thread"
