"""Slack Block Kit: severity colour and emoji, sections, Approve/Deny buttons carrying our action id, the on-call
controls and the feedback buttons (one actions block each, at most 25 elements).

Limits (docs.slack.dev/reference/block-kit): 50 blocks per message, 3,000 characters in a section's text,
150 in a header, 75 in a button's text, 10 elements in a context block, and about 12,000 characters of text
across all blocks (msg_blocks_too_long); a message's own text about 4,000 (msg_too_long). We cut, with a notice
and a link, never fail. The card shows the decisive lines (bot.cards.body); its thread, posted as replies under
it, holds the rest, split into messages of at most MAX_THREAD_TEXT.
"""

from __future__ import annotations

from typing import Any

from bot.cards import strings as S
from bot.cards.body import ACTION_CHARS, Body, body
from bot.cards.common import (
    action_line,
    colour,
    confidence,
    controls,
    facts,
    feedback_buttons,
    group_lines,
    header,
    headline,
    said,
    source_name,
)
from bot.cards.model import Card, CardAction
from bot.cards.thread import Marks, marked, split
from bot.cards.track import track_line

MAX_BLOCKS = 50
MAX_TEXT = 11_000  # all the text of a message's blocks: Slack refuses about 12,000 (msg_blocks_too_long)
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_ACTIONS = 10
MAX_THREAD_TEXT = 3_900  # a thread reply's text: Slack refuses about 4,000 (msg_too_long)
APPROVE_ID = "opsbot_approve"
DENY_ID = "opsbot_deny"
CONTROL_PREFIX = "opsbot_card_"  # + verb; the value is "verb|incident id"

Block = dict[str, Any]


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int, link: str | None) -> str:
    if len(text) <= limit:
        return text
    notice = "\n" + S.truncated(f"<{link}|full text>" if link else None)
    return text[: limit - len(notice) - 1] + "…" + notice


def section(text: str, link: str | None = None) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION, link)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION, None)}]}


def text_size(blocks: list[Block]) -> int:
    """The characters of text in blocks, as Slack totals them against its limit for one message."""
    n = 0
    for b in blocks:
        n += len((b.get("text") or {}).get("text", ""))
        n += sum(len(f.get("text", "")) for f in b.get("fields") or [])
        n += sum(len(e.get("text", "") if isinstance(e.get("text"), str) else (e.get("text") or {}).get("text", ""))
                 for e in b.get("elements") or [])
    return n


def _action_blocks(card: Card, actions: list[CardAction]) -> list[Block]:
    blocks: list[Block] = [section(f"*{S.ACTIONS}*")] if actions else []
    for a in actions[:MAX_ACTIONS]:
        blocks.append(section(esc(action_line(a, ACTION_CHARS))))
        if a.status == "pending" and a.action_id and card.status == "firing":
            blocks.append({"type": "actions", "block_id": f"act:{a.action_id}", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": f"{S.APPROVE} #{a.action_id}"[:75]},
                 "style": "primary", "action_id": APPROVE_ID, "value": a.action_id},
                {"type": "button", "text": {"type": "plain_text", "text": S.DENY},
                 "style": "danger", "action_id": DENY_ID, "value": a.action_id},
            ]})
    if len(actions) > MAX_ACTIONS:
        blocks.append(context(f"… {len(actions) - MAX_ACTIONS} more proposed actions: `opsbot action list`"))
    for block_id, buttons in ((f"ctl:{card.incident_id}", controls(card)),
                              (f"fb:{card.incident_id}", feedback_buttons(card))):
        if buttons:
            blocks.append({"type": "actions", "block_id": block_id[:255], "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": label},
                 "action_id": CONTROL_PREFIX + verb.replace(":", "_"), "value": f"{verb}|{card.incident_id}"}
                for verb, label in buttons]})
    return blocks


def quoted(text: str) -> str:
    """Source text as a Slack mrkdwn block quote: escaped, every line starting with '>' and a ``` fence broken
    (a zero-width space between its backticks), so nothing in it ends the quote or passes for opsbot's words."""
    safe = esc(text).replace("```", "`\u200b`\u200b`")
    return "\n".join(f">{line}" for line in safe.splitlines() or [""])


def _said(card: Card, text: str, link: str | None, limit: int = MAX_SECTION) -> Block:
    """`text` (the alert's or Sentry's own words, cut) under their label, quoted; a chat action card's line as is."""
    heading, quote = said(card)
    return section(clip(f"*{heading}*\n" + (quoted(text) if quote else esc(text)), limit, link), link)


def _header(card: Card) -> str:
    """The header block (plain text, at most 150 characters): opsbot's words, then the source's name in quote
    marks, the name cut rather than its closing mark."""
    words, label, name = header(card)
    if not name:
        return words[:MAX_HEADER]
    words = words[: MAX_HEADER - 30]
    room = MAX_HEADER - len(f"{words} · {label} “”")
    return f"{words} · {label} “{source_name(name, room)}”"


def _headline(card: Card, b: Body) -> list[Block]:
    """The headline as a section: opsbot's words in bold, the source's words as code (escaped, no backtick)."""
    h = b.headline
    if h is None:
        return []
    quote = "`" + esc(h.quote).replace("`", "'") + "`" if h.quote is not None else ""
    words = [f"*{esc(w.strip())}*" if w.strip() else "" for w in (h.before, h.after)]  # bold ends at a word
    return [section(" ".join(x for x in (words[0], quote, words[1]) if x))]


def _evidence(card: Card, b: Body, link: str | None) -> list[Block]:
    if b.evidence_heading is None:
        return []
    lines = [f"• `{esc(e.check)}` {esc(e.line())}" for e in b.evidence]
    return [section("\n".join([f"*{esc(b.evidence_heading)}*", *lines]), link)]


def _said_more(card: Card, b: Body, link: str | None) -> list[Block]:
    """Below the evidence: the one line of reads that could not run, the incidents seen before, the track record."""
    out = [section(f":warning: {esc(b.could_not_run)}", link)] if b.could_not_run else []
    if b.seen:
        out.append(section(f"*{S.SEEN_BEFORE}*: {esc(b.seen)}", link))
    if record := track_line(card):
        out.append(section(esc(record), link))
    return out


def render_slack(card: Card) -> dict[str, Any]:
    """A chat.postMessage / chat.update body (without channel and ts); the thread: render_slack_thread."""
    link = card.main_link
    b = body(card)
    head: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": _header(card), "emoji": True}},
        *_headline(card, b),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{esc(v)}"} for k, v in facts(card)]},
    ]
    head += [section(f":warning: {esc(n)}") for n in card.notices[:3]]
    if b.story:
        head.append(section("\n".join(esc(line) for line in b.story), link))
    head.append(_said(card, b.failing, link))
    if group := group_lines(card):
        head.append(section(f"*{group[0]}*\n" + "\n".join(esc(line) for line in group[1]), link))
    if b.advice:
        head.append(section(f"*{S.TO_DO}*\n{esc(b.advice)}", link))
    if card.analysis:
        a = card.analysis
        text = (f"*{S.ANALYSIS}*: {esc(a.summary)}\n*{S.ROOT_CAUSE}*: {esc(a.root_cause)} "
                f"({S.CONFIDENCE.lower()} {confidence(a.confidence)})")
        text += "".join(f"\n*{k}*: {esc(v)}" for k, v in ((S.IMPACT, a.impact), (S.FIX, a.fix),
                                                          (S.PREVENTION, a.prevention)) if v)
        head.append(section(text, link))
    elif b.note:
        head.append(context(f"{S.NO_ANALYSIS}: {esc(b.note)}"))
    head += _evidence(card, b, link) + _said_more(card, b, link)

    tail: list[Block] = _action_blocks(card, b.actions)
    if card.links:
        tail.append(context("  ·  ".join(f"<{x.url}|{esc(x.title)}>" for x in card.links[:8])))

    if text_size(head) + text_size(tail) > MAX_TEXT:  # the card's own parts alone are too long
        head = [*head[:3], _said(card, b.failing, link, 1500), context(esc(S.truncated(link)))]
        tail = _action_blocks(card, b.actions)
    blocks = (head + tail)[:MAX_BLOCKS]
    return {"text": clip(esc(headline(card)), MAX_SECTION, None),
            "attachments": [{"color": colour(card), "blocks": blocks}]}


THREAD = Marks(inline=lambda h, line: f"*{esc(h)}*: {esc(line)}", heading=lambda h: f"*{esc(h)}*", quote=quoted,
               evidence=lambda read, line: f"• `{esc(read)}` {esc(line)}",
               step=lambda i, line: f"{i}. {esc(line)}", item=lambda line: f"• {esc(line)}")


def render_slack_thread(card: Card) -> list[str]:
    """The card's thread as Slack messages (mrkdwn text, escaped), each within MAX_THREAD_TEXT characters."""
    lines = marked(card, THREAD, lambda line: clip(line, MAX_SECTION, None))
    return split(lines, MAX_THREAD_TEXT, len, lambda n: esc(S.THREAD_MORE.format(
        n=n, s="s" if n != 1 else "", id=card.incident_id)))
