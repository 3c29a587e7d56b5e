"""Pieces every renderer shares: the header line, action lines, confidence words."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.model import Card, CardAction


def emoji(card: Card) -> str:
    return S.RESOLVED_EMOJI if card.status == "resolved" else S.SEVERITY_EMOJI.get(card.severity, "⚪")


def colour(card: Card) -> str:
    return S.RESOLVED_COLOUR if card.status == "resolved" else S.SEVERITY_COLOUR.get(card.severity, "#9b9b9b")


def headline(card: Card) -> str:
    return f"{emoji(card)} {card.severity} {S.STATUS[card.status]}: {card.title}"


def confidence(value: float) -> str:
    word = "high" if value >= 0.75 else "medium" if value >= 0.4 else "low"
    return f"{word} ({value:.0%})"


def action_line(a: CardAction) -> str:
    ref = f"#{a.action_id} " if a.action_id else ""
    state = {"pending": "waiting for approval", "denied": "denied by policy", "executed": "executed",
             "failed": "failed", "approved": "approved", "expired": "expired", "error": "could not be proposed"}
    line = f"{ref}{a.summary} — {state[a.status]}"
    if a.reason:
        line += f" ({a.reason})"
    if a.decided_by:
        line += f"; decided by {', '.join(a.decided_by)}"
    if a.outcome:
        line += f"; {a.outcome}"
    return line


def facts(card: Card) -> list[tuple[str, str]]:
    seen = f"{card.count} alert{'s' if card.count != 1 else ''}"
    return [("Status", S.STATUS[card.status]), ("Severity", card.severity), ("Source", card.source),
            ("Incident", f"{card.incident_id} · {seen}")]


def diagnosed(card: Card) -> list[tuple[str, str]]:
    """(heading, text) of the diagnosis and of what a person should do, those the card has."""
    return [(h, t) for h, t in ((S.DIAGNOSIS, card.diagnosis), (S.TO_DO, card.advice)) if t]


def said(card: Card) -> tuple[str, bool]:
    """The heading of the card's `failing` text, and whether to quote it: an alert's or Sentry's own words are
    quoted source material; a chat action card's line is opsbot's own."""
    return (S.REQUESTED, False) if card.source == "chat" else (S.FAILING, True)
