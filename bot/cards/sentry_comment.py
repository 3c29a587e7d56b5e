"""The Sentry issue comment (markdown): root cause, impact, fix suggestion, prevention, confidence, time."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.common import confidence, diagnosed
from bot.cards.model import Card

MAX_COMMENT = 8000
MAX_EVIDENCE = 12


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
    out += [f"**{h}:** {t}" for h, t in diagnosed(card)]
    out += ["", f"**{S.FAILING}:**"] + [f"> {line}" for line in card.failing.splitlines() or [""]]
    if card.evidence:
        out += ["", f"**{S.EVIDENCE}:**"] + [f"- `{e.check}` {e.text}" for e in card.evidence[:MAX_EVIDENCE]]
        if len(card.evidence) > MAX_EVIDENCE:
            out.append(f"- {S.more_lines(len(card.evidence) - MAX_EVIDENCE, card.incident_id)}")
    if card.could_not_run:
        out += ["", f"**{S.COULD_NOT_RUN}:**"] + [f"- {c}" for c in card.could_not_run]
    out += ["", f"_Updated {card.updated_at:%Y-%m-%d %H:%M:%S} UTC by opsbot; this comment is edited, not repeated._"]
    text = "\n".join(out)
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 40] + "\n\n" + S.truncated(None)
