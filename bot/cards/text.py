"""Plain text for the console and logs: everything, no limits."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.common import (
    action_line,
    confidence,
    diagnosed,
    facts,
    group_lines,
    headline,
    one_line,
    said,
    similar_line,
)
from bot.cards.model import Card


def quoted(text: str) -> list[str]:
    """Source text as a plain-text quote: every line of it starts with '  > '."""
    return [f"  > {line}" for line in text.splitlines() or [""]]


def render_text(card: Card) -> str:
    out = [headline(card), "  " + " · ".join(f"{k}: {v}" for k, v in facts(card))]
    out += [f"  ! {n}" for n in card.notices]
    heading, quote = said(card)
    out.append(f"{heading}:")
    out += quoted(card.failing) if quote else [f"  {line}" for line in card.failing.splitlines() or [""]]
    if group := group_lines(card):
        out.append(f"{group[0]}:")
        out += [f"  {line}" for line in group[1]]
    for h, t, q in diagnosed(card):
        out += [f"{h}:", *quoted(t)] if q else [f"{h}: {one_line(t)}"]
    if card.analysis:
        a = card.analysis
        out += [f"{S.ANALYSIS}: {a.summary}", f"  {S.ROOT_CAUSE}: {a.root_cause} ({S.CONFIDENCE.lower()} "
                f"{confidence(a.confidence)})"]
        out += [f"  {k}: {v}" for k, v in ((S.IMPACT, a.impact), (S.FIX, a.fix), (S.PREVENTION, a.prevention)) if v]
    elif card.analysis_note:
        out.append(f"{S.ANALYSIS}: {card.analysis_note}")
    out.append(f"{S.EVIDENCE}:")
    out += [f"  • [{e.check}] {one_line(e.text)}" for e in card.evidence] or [f"  {S.NO_EVIDENCE}"]
    if card.could_not_run:
        out.append(f"{S.COULD_NOT_RUN}:")
        out += [f"  • {one_line(c)}" for c in card.could_not_run]
    if card.playbook:
        out.append(f"{S.PLAYBOOK}: {card.playbook.title} ({card.playbook.name})")
        out += [f"  {i}. {step}" for i, step in enumerate(card.playbook.steps, 1)]
    if card.similar:
        out.append(f"{S.SIMILAR}:")
        out += [f"  • {similar_line(s)}" for s in card.similar]
    if card.actions:
        out.append(f"{S.ACTIONS}:")
        out += [f"  • {action_line(a)}" for a in card.actions]
    if card.links:
        out.append(f"{S.LINKS}: " + "  ".join(f"{link.title} <{link.url}>" for link in card.links))
    return "\n".join(out)
