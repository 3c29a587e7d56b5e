"""Plain text for the console and logs: the card (bot.cards.body), and its thread for `opsbot incident show`."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.body import ACTION_CHARS, body
from bot.cards.common import action_line, confidence, facts, group_lines, headline, one_line, said
from bot.cards.model import Card
from bot.cards.thread import text_lines
from bot.cards.track import track_line


def quoted(text: str) -> list[str]:
    """Source text as a plain-text quote: every line of it starts with '  > '."""
    return [f"  > {line}" for line in text.splitlines() or [""]]


def render_text(card: Card) -> str:
    b = body(card)
    out = [headline(card)]
    if b.headline:
        out.append(b.headline.plain())
    out.append("  " + " · ".join(f"{k}: {v}" for k, v in facts(card)))
    out += [f"  ! {n}" for n in card.notices]
    out += b.story
    heading, quote = said(card)
    out.append(f"{heading}:")
    out += quoted(b.failing) if quote else [f"  {line}" for line in b.failing.splitlines() or [""]]
    if group := group_lines(card):
        out.append(f"{group[0]}:")
        out += [f"  {line}" for line in group[1]]
    if b.advice:
        out.append(f"{S.TO_DO}: {one_line(b.advice)}")
    if card.analysis:
        a = card.analysis
        out += [f"{S.ANALYSIS}: {a.summary}", f"  {S.ROOT_CAUSE}: {a.root_cause} ({S.CONFIDENCE.lower()} "
                f"{confidence(a.confidence)})"]
        out += [f"  {k}: {v}" for k, v in ((S.IMPACT, a.impact), (S.FIX, a.fix), (S.PREVENTION, a.prevention)) if v]
    elif b.note:
        out.append(f"{S.NO_ANALYSIS}: {b.note}")
    if b.evidence_heading:
        out.append(b.evidence_heading + (":" if b.evidence else ""))
        out += [f"  • [{e.check}] {e.line()}" for e in b.evidence]
    if b.could_not_run:
        out.append(b.could_not_run)
    if b.seen:
        out.append(f"{S.SEEN_BEFORE}: {b.seen}")
    if record := track_line(card):
        out.append(record)
    if b.actions:
        out.append(f"{S.ACTIONS}:")
        out += [f"  • {action_line(a, ACTION_CHARS)}" for a in b.actions]
    if card.links:
        out.append(f"{S.LINKS}: " + "  ".join(f"{link.title} <{link.url}>" for link in card.links))
    return "\n".join(out)


def render_thread_text(card: Card) -> str:
    """The card's thread as plain text (empty when there is nothing beyond the card)."""
    return "\n".join(text_lines(card))
