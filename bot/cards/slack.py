"""Slack Block Kit: severity colour and emoji, sections, Approve/Deny buttons carrying our action id.

Limits (docs.slack.dev/reference/block-kit): 50 blocks per message, 3,000 characters in a section's text,
150 in a header, 75 in a button's text, 10 elements in a context block, and about 12,000 characters of text
across all blocks (msg_blocks_too_long). We cut, with a notice and a link, never fail: evidence lines that
do not fit are counted in a last line.
"""

from __future__ import annotations

from typing import Any

from bot.cards import strings as S
from bot.cards.common import (
    action_line,
    colour,
    confidence,
    controls,
    diagnosed,
    facts,
    group_lines,
    header,
    headline,
    one_line,
    said,
    similar_line,
    source_name,
)
from bot.cards.model import Card

MAX_BLOCKS = 50
MAX_TEXT = 11_000  # all the text of a message's blocks: Slack refuses about 12,000 (msg_blocks_too_long)
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_ACTIONS = 10
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


def _evidence_blocks(card: Card, link: str | None, room: int, budget: int) -> list[Block]:
    """Evidence lines packed into sections of at most 3,000 characters (a long line cut on its own), in at
    most `room` blocks and `budget` characters; what does not fit is counted in a last line with the link."""
    lines = [f"• `{esc(e.check)}` {esc(one_line(e.text))}" for e in card.evidence] or [f"_{S.NO_EVIDENCE}_"]
    blocks: list[Block] = []
    chunk, used, shown = f"*{S.EVIDENCE}*", 0, 0
    for line in lines:
        line = clip(line, MAX_SECTION - 200, link)
        if used + len(chunk) + 1 + len(line) > budget or (len(blocks) + 2 > room and
                                                           len(chunk) + 1 + len(line) > MAX_SECTION):
            break
        if len(chunk) + 1 + len(line) > MAX_SECTION:
            blocks.append(section(chunk, link))
            used += len(chunk)
            chunk = line
        else:
            chunk += "\n" + line
        shown += 1
    blocks.append(section(chunk, link))
    if shown < len(lines):
        blocks.append(context(esc(S.more_lines(len(lines) - shown, card.incident_id))))
    return blocks


def _action_blocks(card: Card) -> list[Block]:
    blocks: list[Block] = [section(f"*{S.ACTIONS}*")] if card.actions else []
    for a in card.actions[:MAX_ACTIONS]:
        blocks.append(section(esc(action_line(a))))
        if a.status == "pending" and a.action_id and card.status == "firing":
            blocks.append({"type": "actions", "block_id": f"act:{a.action_id}", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": f"{S.APPROVE} #{a.action_id}"[:75]},
                 "style": "primary", "action_id": APPROVE_ID, "value": a.action_id},
                {"type": "button", "text": {"type": "plain_text", "text": S.DENY},
                 "style": "danger", "action_id": DENY_ID, "value": a.action_id},
            ]})
    if len(card.actions) > MAX_ACTIONS:
        blocks.append(context(f"… {len(card.actions) - MAX_ACTIONS} more proposed actions: `opsbot action list`"))
    if buttons := controls(card):
        blocks.append({"type": "actions", "block_id": f"ctl:{card.incident_id}", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": label},
             "action_id": CONTROL_PREFIX + verb.replace(":", "_"), "value": f"{verb}|{card.incident_id}"}
            for verb, label in buttons]})
    return blocks


def quoted(text: str) -> str:
    """Source text as a Slack mrkdwn block quote: escaped, every line starting with '>' and a ``` fence broken
    (a zero-width space between its backticks), so nothing in it ends the quote or passes for opsbot's words."""
    safe = esc(text).replace("```", "`\u200b`\u200b`")
    return "\n".join(f">{line}" for line in safe.splitlines() or [""])


def _said(card: Card, link: str | None, limit: int = MAX_SECTION) -> Block:
    """The alert's (or Sentry's) own words under their label, quoted; a chat action card's line as is."""
    heading, quote = said(card)
    return section(clip(f"*{heading}*\n" + (quoted(card.failing) if quote else esc(card.failing)), limit, link),
                   link)


def _diagnosis(card: Card, link: str | None, limit: int = MAX_SECTION) -> list[Block]:
    return [section(clip(f"*{h}*\n" + (quoted(t) if q else esc(t)), limit, link), link)
            for h, t, q in diagnosed(card)]


def _header(card: Card) -> str:
    """The header block (plain text, at most 150 characters): opsbot's words, then the source's name in quote
    marks, the name cut rather than its closing mark."""
    words, label, name = header(card)
    if not name:
        return words[:MAX_HEADER]
    words = words[: MAX_HEADER - 30]
    room = MAX_HEADER - len(f"{words} · {label} “”")
    return f"{words} · {label} “{source_name(name, room)}”"


def render_slack(card: Card) -> dict[str, Any]:
    """A chat.postMessage / chat.update body (without channel and ts)."""
    link = card.main_link
    head: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": _header(card), "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{esc(v)}"} for k, v in facts(card)]},
    ]
    head += [section(f":warning: {esc(n)}") for n in card.notices[:3]]
    head.append(_said(card, link))
    if group := group_lines(card):
        head.append(section(f"*{group[0]}*\n" + "\n".join(esc(line) for line in group[1]), link))
    head += _diagnosis(card, link)
    if card.analysis:
        a = card.analysis
        text = (f"*{S.ANALYSIS}*: {esc(a.summary)}\n*{S.ROOT_CAUSE}*: {esc(a.root_cause)} "
                f"({S.CONFIDENCE.lower()} {confidence(a.confidence)})")
        text += "".join(f"\n*{k}*: {esc(v)}" for k, v in ((S.IMPACT, a.impact), (S.FIX, a.fix),
                                                          (S.PREVENTION, a.prevention)) if v)
        head.append(section(text, link))
    elif card.analysis_note:
        head.append(context(f"{S.ANALYSIS}: {esc(card.analysis_note)}"))

    tail: list[Block] = []
    if card.could_not_run:
        tail.append(section(f"*{S.COULD_NOT_RUN}*\n" + "\n".join(f"• {esc(one_line(c))}" for c in card.could_not_run),
                            link))
    if card.playbook:
        p = card.playbook
        title = f"<{p.url}|{esc(p.title)}>" if p.url else esc(p.title)
        tail.append(section(f"*{S.PLAYBOOK}*: {title}\n" + "\n".join(
            f"{i}. {esc(s)}" for i, s in enumerate(p.steps, 1)), link))
    if card.similar:
        tail.append(section(f"*{S.SIMILAR}*\n" + "\n".join(
            f"• {esc(similar_line(s))}" for s in card.similar), link))
    tail += _action_blocks(card)
    if card.links:
        tail.append(context("  ·  ".join(f"<{x.url}|{esc(x.title)}>" for x in card.links[:8])))

    if text_size(head) + text_size(tail) > MAX_TEXT - 1000:  # the card's own parts alone are too long
        head = [*head[:2], _said(card, link, 1500), *_diagnosis(card, link, 600), context(esc(S.truncated(link)))]
        tail = [b for b in tail if b.get("type") == "actions" or b in _action_blocks(card)][:MAX_BLOCKS - 6]
    budget = MAX_TEXT - text_size(head) - text_size(tail) - 200
    evidence = _evidence_blocks(card, link, MAX_BLOCKS - len(head) - len(tail), budget)
    blocks = (head + evidence + tail)[:MAX_BLOCKS]
    return {"text": clip(esc(headline(card)), MAX_SECTION, None),
            "attachments": [{"color": colour(card), "blocks": blocks}]}
