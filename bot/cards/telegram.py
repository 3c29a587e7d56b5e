"""Telegram: HTML parse mode (escaped) with an inline keyboard; text ≤ 4,096, callback_data ≤ 64 bytes.

callback_data carries only "ap:<action id>" / "dn:<action id>", or a control's ("c:") or a feedback mark's ("f:")
two-letter code and the incident id ("f:fa:inc-42"); everything else stays server-side.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.cards import strings as S
from bot.cards.common import (
    action_line,
    confidence,
    controls,
    facts,
    feedback_buttons,
    group_lines,
    header,
    said,
)
from bot.cards.body import ACTION_CHARS, Body, body
from bot.cards.model import Card
from bot.cards.thread import Marks, marked, split
from bot.cards.track import track_line

MAX_TEXT = 4096
MAX_CALLBACK = 64
APPROVE_PREFIX = "ap:"
DENY_PREFIX = "dn:"
THREAD_LINE = 3_000  # a thread line's text, cut before escaping, so no message of the thread cuts a tag
CONTROL_PREFIX = "c:"  # c:<code>:<incident id>
CONTROL_CODES = {"ack": "ak", "silence:1h": "s1", "silence:4h": "s4", "silence:resolved": "sr", "unsilence": "us"}
FEEDBACK_PREFIX = "f:"  # f:<code>:<incident id>
FEEDBACK_CODES = {"fb:right_cause": "rc", "fb:wrong_cause": "wc", "fb:false_alarm": "fa", "fb:not_actionable": "na"}


def size(text: str) -> int:
    """Telegram counts UTF-16 code units; an emoji is two."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    return escape(text, quote=False)


def callback(prefix: str, action_id: str) -> str | None:
    data = f"{prefix}{action_id}"
    return data if len(data.encode()) <= MAX_CALLBACK else None


def _keyboard(card: Card) -> dict[str, Any] | None:
    rows = []
    for a in card.actions:
        if a.status != "pending" or not a.action_id or card.status != "firing":
            continue
        ap, dn = callback(APPROVE_PREFIX, a.action_id), callback(DENY_PREFIX, a.action_id)
        if ap and dn:
            rows.append([{"text": f"✅ {S.APPROVE} #{a.action_id}", "callback_data": ap},
                         {"text": f"❌ {S.DENY}", "callback_data": dn}])
    row = [{"text": label, "callback_data": data} for verb, label in controls(card)
           if (data := callback(f"{CONTROL_PREFIX}{CONTROL_CODES[verb]}:", card.incident_id))]
    if row:
        rows.append(row)
    marks = [{"text": label, "callback_data": data} for verb, label in feedback_buttons(card)
             if (data := callback(f"{FEEDBACK_PREFIX}{FEEDBACK_CODES[verb]}:", card.incident_id))]
    rows += [r for r in (marks[:2], marks[2:]) if r]  # two short rows: four labels fit a phone's width
    return {"inline_keyboard": rows} if rows else None


def _cut(text: str, limit: int) -> str:
    """Cut plain text (before escaping) so its escaped form fits."""
    while size(esc(text)) > limit and text:
        text = text[: max(0, len(text) - max(1, (size(esc(text)) - limit)))]
    return text


def control_of(data: str) -> tuple[str, str] | None:
    """(verb, incident id) of a control's or a feedback button's callback data, None if it is not one."""
    for prefix, codes in ((CONTROL_PREFIX, CONTROL_CODES), (FEEDBACK_PREFIX, FEEDBACK_CODES)):
        if data.startswith(prefix):
            code, _, incident_id = data[len(prefix):].partition(":")
            verb = next((v for v, c in codes.items() if c == code), None)
            return (verb, incident_id) if verb and incident_id else None
    return None


def _header(card: Card) -> str:
    """opsbot's words in bold; the source's own name after its label, as code: escaped, never a sentence of ours."""
    words, label, name = header(card)
    return f"<b>{esc(words)}</b>" + (f" · {label} <code>{esc(name)}</code>" if name else "")


def _said(card: Card, text: str) -> str:
    """`text` (the card's `failing`, maybe cut) under its label: the source's words in a blockquote, escaped so
    nothing in them closes it; a chat action card's own line as is."""
    heading, quote = said(card)
    return f"<b>{heading}:</b>\n" + (f"<blockquote>{esc(text)}</blockquote>" if quote else esc(text))


def _compact(card: Card, b: Body, link: str | None) -> str:
    """The card when even its fixed parts pass 4,096: the header, the headline, the source's words under their
    label (cut to the room left), and every action's line (what its button does), then where the rest is."""
    cut = 2000 // max(1, len(b.actions))
    acts = [f"<b>{S.ACTIONS}:</b>\n" + "\n".join(
        f"• {esc(_cut(action_line(a, ACTION_CHARS), cut))}" for a in b.actions)] if b.actions else []
    top = [_header(card), *_headline(b, 400)]
    rest = [*acts, f"<i>{esc(S.truncated(link))}</i>"]
    room = MAX_TEXT - size("\n\n".join([*top, _said(card, ""), *rest])) - 8
    return "\n\n".join([*top, _said(card, _cut(b.failing, max(room, 0))), *rest])


def _headline(b: Body, limit: int | None = None) -> list[str]:
    """The headline in bold, the source's words in it as code (escaped)."""
    h = b.headline
    if h is None:
        return []
    quote = f"</b><code>{esc(_cut(h.quote, limit) if limit else h.quote)}</code><b>" if h.quote is not None else ""
    return [f"<b>{esc(h.before)}{quote}{esc(h.after)}</b>".replace("<b></b>", "")]


def render_telegram(card: Card) -> dict[str, Any]:
    """A sendMessage / editMessageText body (without chat_id and message_id); the thread: render_telegram_thread."""
    link = card.main_link
    b = body(card)
    parts = [_header(card), *_headline(b), esc(" · ".join(f"{k}: {v}" for k, v in facts(card)))]
    parts += [f"⚠️ {esc(n)}" for n in card.notices]
    if b.story:
        parts.append("\n".join(esc(line) for line in b.story))
    parts.append(_said(card, b.failing))
    if group := group_lines(card):
        parts.append(f"<b>{group[0]}:</b>\n" + "\n".join(esc(line) for line in group[1]))
    if b.advice:
        parts.append(f"<b>{S.TO_DO}:</b> {esc(b.advice)}")
    if card.analysis:
        a = card.analysis
        parts.append(f"<b>{S.ANALYSIS}:</b> {esc(a.summary)}\n<b>{S.ROOT_CAUSE}:</b> {esc(a.root_cause)} "
                     f"({S.CONFIDENCE.lower()} {confidence(a.confidence)})")
        parts += [f"<b>{k}:</b> {esc(v)}" for k, v in ((S.IMPACT, a.impact), (S.FIX, a.fix),
                                                       (S.PREVENTION, a.prevention)) if v]
    elif b.note:
        parts.append(f"<i>{S.NO_ANALYSIS}: {esc(b.note)}</i>")
    if b.evidence_heading:
        parts.append("\n".join([f"<b>{esc(b.evidence_heading)}</b>",
                                *(f"• <code>{esc(e.check)}</code> {esc(e.line())}" for e in b.evidence)]))
    if b.could_not_run:
        parts.append(f"⚠️ {esc(b.could_not_run)}")
    if b.seen:
        parts.append(f"<b>{S.SEEN_BEFORE}:</b> {esc(b.seen)}")
    if record := track_line(card):
        parts.append(esc(record))
    if b.actions:
        parts.append(f"<b>{S.ACTIONS}:</b>\n" + "\n".join(f"• {esc(action_line(a, ACTION_CHARS))}"
                                                           for a in b.actions))
    if card.links:
        parts.append(" · ".join(f'<a href="{escape(x.url, quote=True)}">{esc(x.title)}</a>' for x in card.links))
    text = "\n\n".join(parts)
    if size(text) > MAX_TEXT:  # the card's parts are too long (a very long alert text): the compact card
        text = _compact(card, b, link)
    # link_preview_options replaced disable_web_page_preview in Bot API 7.0
    body_: dict[str, Any] = {"text": text, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
    keyboard = _keyboard(card)
    if keyboard:
        body_["reply_markup"] = keyboard
    return body_


THREAD = Marks(inline=lambda h, line: f"<b>{esc(h)}:</b> {esc(line)}", heading=lambda h: f"<b>{esc(h)}:</b>",
               quote=lambda line: f"<blockquote>{esc(line)}</blockquote>",
               evidence=lambda read, line: f"• <code>{esc(read)}</code> {esc(line)}",
               step=lambda i, line: f"{i}. {esc(line)}", item=lambda line: f"• {esc(line)}")


def render_telegram_thread(card: Card) -> list[str]:
    """The card's thread as Telegram HTML messages (escaped), each within 4,096 UTF-16 units; a line is cut
    before it is escaped, so no message cuts a tag."""
    lines = marked(card, THREAD, lambda line: _cut(line, THREAD_LINE))
    return split(lines, MAX_TEXT, size, lambda n: esc(S.THREAD_MORE.format(n=n, s="s" if n != 1 else "",
                                                                            id=card.incident_id)))
