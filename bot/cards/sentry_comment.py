"""The Sentry issue comment (markdown): root cause, impact, fix suggestion, prevention, confidence, time."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.common import confidence, diagnosed, one_line
from bot.cards.model import Card

MAX_COMMENT = 8000
MAX_EVIDENCE = 12


def quoted(text: str) -> list[str]:
    """Source text as a markdown blockquote, its HTML made inert: every line starts with '> ', and a fence or a
    heading inside a blockquote ends with it (CommonMark's containers), so nothing in it passes for ours."""
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return [f"> {line}" for line in safe.splitlines() or [""]]


def render_sentry_comment(card: Card) -> str:
    a = card.analysis
    out = [f"**{S.SENTRY_COMMENT_TITLE}** — {card.incident_id} ({card.severity}, {card.status})", ""]
    if a:
        out += [f"**{S.ROOT_CAUSE}:** {a.root_cause}", f"**{S.IMPACT}:** {a.impact or '—'}",
                f"**{S.FIX}:** {a.fix or '—'}", f"**{S.PREVENTION}:** {a.prevention or '—'}",
                f"**{S.CONFIDENCE}:** {confidence(a.confidence)}"]
    else:
        note = card.analysis_note or S.SENTRY_NOT_ANALYSED
        out += [f"**{S.ROOT_CAUSE}:** {note}"]
        if card.playbook:
            out.append(f"**{S.FIX}:** see playbook *{card.playbook.title}*")
    for h, t, q in diagnosed(card):
        out += ["", f"**{h}:**", *quoted(t), ""] if q else [f"**{h}:** {one_line(t)}"]
    out += ["", f"**{S.FAILING}:**", *quoted(card.failing)]
    if card.evidence:
        out += ["", f"**{S.EVIDENCE}:**"] + [f"- `{e.check}` {one_line(e.text)}" for e in card.evidence[:MAX_EVIDENCE]]
        if len(card.evidence) > MAX_EVIDENCE:
            out.append(f"- {S.more_lines(len(card.evidence) - MAX_EVIDENCE, card.incident_id)}")
    if card.could_not_run:
        out += ["", f"**{S.COULD_NOT_RUN}:**"] + [f"- {one_line(c)}" for c in card.could_not_run]
    out += ["", f"_Updated {card.updated_at:%Y-%m-%d %H:%M:%S} UTC by opsbot; this comment is edited, not repeated._"]
    text = "\n".join(out)
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 40] + "\n\n" + S.truncated(None)
