"""The Sentry issue comment (markdown): the headline, root cause, impact, fix suggestion, prevention, confidence,
the decisive evidence (bot.cards.body), and time; the full evidence is `opsbot incident show`'s."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.body import body
from bot.cards.common import confidence, one_line
from bot.cards.model import Card

MAX_COMMENT = 8000


def quoted(text: str) -> list[str]:
    """Source text as a markdown blockquote, its HTML made inert: every line starts with '> ', and a fence or a
    heading inside a blockquote ends with it (CommonMark's containers), so nothing in it passes for ours."""
    return [f"> {line}" for line in inert(text).splitlines() or [""]]


def inert(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_sentry_comment(card: Card) -> str:
    a, b = card.analysis, body(card)
    out = [f"**{S.SENTRY_COMMENT_TITLE}** — {card.incident_id} ({card.severity}, {card.status})", ""]
    if b.headline:
        out += [inert(b.headline.plain()), ""]
    if a:
        out += [f"**{S.ROOT_CAUSE}:** {a.root_cause}", f"**{S.IMPACT}:** {a.impact or '—'}",
                f"**{S.FIX}:** {a.fix or '—'}", f"**{S.PREVENTION}:** {a.prevention or '—'}",
                f"**{S.CONFIDENCE}:** {confidence(a.confidence)}"]
    else:
        out += [f"**{S.ROOT_CAUSE}:** {card.analysis_note or S.SENTRY_NOT_ANALYSED}"]
    if b.advice:
        out.append(f"**{S.TO_DO}:** {one_line(b.advice)}")
    out += ["", f"**{S.FAILING}:**", *quoted(b.failing)]
    if b.evidence_heading:  # a Sentry comment has no thread: the whole evidence is `opsbot incident show`'s
        heading = S.EVIDENCE_ELSEWHERE.format(shown=len(b.evidence), total=len(card.evidence), id=card.incident_id) \
            if b.evidence else b.evidence_heading
        out += ["", f"**{inert(heading)}**"] + [f"- `{e.check}` {inert(e.line())}" for e in b.evidence]
    if b.could_not_run:
        out += ["", f"- {inert(b.could_not_run)}"]
    if b.seen:
        out += ["", f"**{S.SEEN_BEFORE}:** {inert(b.seen)}"]
    out += ["", f"_Updated {card.updated_at:%Y-%m-%d %H:%M:%S} UTC by opsbot; this comment is edited, not repeated._"]
    text = "\n".join(out)
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 40] + "\n\n" + S.truncated(None)
