"""Telegram: HTML parse mode (escaped) with an inline keyboard; text ≤ 4,096, callback_data ≤ 64 bytes.

callback_data carries only "ap:<action id>" / "dn:<action id>"; everything else stays server-side.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.cards import strings as S
from bot.cards.common import (
    action_line,
    confidence,
    controls,
    diagnosed,
    facts,
    group_lines,
    header,
    one_line,
    said,
    similar_line,
)
from bot.cards.model import Card

MAX_TEXT = 4096
MAX_CALLBACK = 64
APPROVE_PREFIX = "ap:"
DENY_PREFIX = "dn:"
CONTROL_PREFIX = "c:"  # c:<code>:<incident id>
CONTROL_CODES = {"ack": "ak", "silence:1h": "s1", "silence:4h": "s4", "silence:resolved": "sr", "unsilence": "us"}


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
    return {"inline_keyboard": rows} if rows else None


def _cut(text: str, limit: int) -> str:
    """Cut plain text (before escaping) so its escaped form fits."""
    while size(esc(text)) > limit and text:
        text = text[: max(0, len(text) - max(1, (size(esc(text)) - limit)))]
    return text


def control_of(data: str) -> tuple[str, str] | None:
    """(verb, incident id) of a control button's callback data, None if it is not one."""
    if not data.startswith(CONTROL_PREFIX):
        return None
    code, _, incident_id = data[len(CONTROL_PREFIX):].partition(":")
    verb = next((v for v, c in CONTROL_CODES.items() if c == code), None)
    return (verb, incident_id) if verb and incident_id else None


def _header(card: Card) -> str:
    """opsbot's words in bold; the source's own name after its label, as code: escaped, never a sentence of ours."""
    words, label, name = header(card)
    return f"<b>{esc(words)}</b>" + (f" · {label} <code>{esc(name)}</code>" if name else "")


def _said(card: Card, text: str) -> str:
    """`text` (the card's `failing`, maybe cut) under its label: the source's words in a blockquote, escaped so
    nothing in them closes it; a chat action card's own line as is."""
    heading, quote = said(card)
    return f"<b>{heading}:</b>\n" + (f"<blockquote>{esc(text)}</blockquote>" if quote else esc(text))


def _diagnosis(card: Card, limit: int | None = None) -> list[str]:
    cut = (lambda t: _cut(t, limit)) if limit else (lambda t: t)
    return [f"<b>{h}:</b>\n<blockquote>{esc(cut(t))}</blockquote>" if q else f"<b>{h}:</b> {esc(cut(t))}"
            for h, t, q in diagnosed(card)]


def _compact(card: Card, link: str | None) -> str:
    """The card when even its fixed parts pass 4,096: the header, the source's words under their label (cut to the
    room left), the diagnosis, and every action's line (what its button does), then where the rest is."""
    acts = [f"<b>{S.ACTIONS}:</b>\n" + "\n".join(
        f"• {esc(_cut(action_line(a), 2000 // len(card.actions)))}" for a in card.actions)] if card.actions else []
    rest = [*_diagnosis(card, 400), *acts, f"<i>{esc(S.truncated(link))}</i>"]
    room = MAX_TEXT - size("\n\n".join([_header(card), _said(card, ""), *rest])) - 8
    return "\n\n".join([_header(card), _said(card, _cut(card.failing, max(room, 0))), *rest])


def render_telegram(card: Card) -> dict[str, Any]:
    """A sendMessage / editMessageText body (without chat_id and message_id)."""
    link = card.main_link
    head = [_header(card), esc(" · ".join(f"{k}: {v}" for k, v in facts(card)))]
    head += [f"⚠️ {esc(n)}" for n in card.notices]
    head.append(_said(card, card.failing))
    if group := group_lines(card):
        head.append(f"<b>{group[0]}:</b>\n" + "\n".join(esc(line) for line in group[1]))
    head += _diagnosis(card)
    if card.analysis:
        a = card.analysis
        head.append(f"<b>{S.ANALYSIS}:</b> {esc(a.summary)}\n<b>{S.ROOT_CAUSE}:</b> {esc(a.root_cause)} "
                    f"({S.CONFIDENCE.lower()} {confidence(a.confidence)})")
        head += [f"<b>{k}:</b> {esc(v)}" for k, v in ((S.IMPACT, a.impact), (S.FIX, a.fix),
                                                      (S.PREVENTION, a.prevention)) if v]
    elif card.analysis_note:
        head.append(f"<i>{S.ANALYSIS}: {esc(card.analysis_note)}</i>")

    tail = []
    if card.could_not_run:
        tail.append(f"<b>{S.COULD_NOT_RUN}:</b>\n" + "\n".join(f"• {esc(one_line(c))}" for c in card.could_not_run))
    if card.playbook:
        p = card.playbook
        tail.append(f"<b>{S.PLAYBOOK}:</b> {esc(p.title)}\n" + "\n".join(
            f"{i}. {esc(s)}" for i, s in enumerate(p.steps, 1)))
    if card.similar:
        tail.append(f"<b>{S.SIMILAR}:</b>\n" + "\n".join(f"• {esc(similar_line(s))}" for s in card.similar))
    if card.actions:
        tail.append(f"<b>{S.ACTIONS}:</b>\n" + "\n".join(f"• {esc(action_line(a))}" for a in card.actions))
    if card.links:
        tail.append(" · ".join(f'<a href="{escape(x.url, quote=True)}">{esc(x.title)}</a>' for x in card.links))

    lines = [f"• <code>{esc(e.check)}</code> {esc(one_line(e.text))}" for e in card.evidence] or \
        [f"<i>{S.NO_EVIDENCE}</i>"]
    fixed = "\n\n".join([*head, f"<b>{S.EVIDENCE}:</b>", *tail])
    reserve = size(esc(S.more_lines(len(lines), card.incident_id))) + 8
    budget = MAX_TEXT - size(fixed) - reserve
    shown: list[str] = []
    for line in lines:
        if size(line) + 1 > budget:
            break
        shown.append(line)
        budget -= size(line) + 1
    if len(shown) < len(lines):
        shown.append(f"<i>{esc(S.more_lines(len(lines) - len(shown), card.incident_id))}</i>")
    text = "\n\n".join([*head, f"<b>{S.EVIDENCE}:</b>\n" + "\n".join(shown), *tail])
    if size(text) > MAX_TEXT:  # the fixed parts alone are too long: the compact card, its quote cut
        text = _compact(card, link)
    # link_preview_options replaced disable_web_page_preview in Bot API 7.0
    body: dict[str, Any] = {"text": text, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
    keyboard = _keyboard(card)
    if keyboard:
        body["reply_markup"] = keyboard
    return body
