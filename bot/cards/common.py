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
    out = [("Status", S.STATUS[card.status]), ("Severity", card.severity), ("Source", card.source),
           ("Incident", f"{card.incident_id} · {seen}")]
    if card.acknowledged:
        out.append((S.ACKNOWLEDGED, f"by {card.acknowledged.by} at {card.acknowledged.at:%H:%M} UTC"))
    if s := card.silence:
        if s.ended:
            out.append((S.SILENCE, f"by {s.by}, ended {s.ended:%H:%M} UTC"
                        + (f" by {s.ended_by}" if s.ended_by and not s.ended_by.startswith("opsbot") else "")))
        else:
            until = f"until resolved (at most {s.until:%H:%M} UTC)" if s.until_resolved else \
                f"until {s.until:%Y-%m-%d %H:%M} UTC"
            out.append((S.SILENCED, f"by {s.by} {until}"))
    return out


def controls(card: Card) -> list[tuple[str, str]]:
    """The on-call buttons a firing Alertmanager card offers now: (verb, label); verbs as Silencer takes them."""
    if card.status != "firing" or card.source != "alertmanager":
        return []
    out = [] if card.acknowledged else [("ack", S.ACK)]
    if card.silence and not card.silence.ended:
        return [*out, ("unsilence", S.UNSILENCE)]
    if not card.silenceable:
        return out
    return [*out, ("silence:1h", S.SILENCE_FOR.format(d="1h")), ("silence:4h", S.SILENCE_FOR.format(d="4h")),
            ("silence:resolved", S.SILENCE_UNTIL_RESOLVED)]


def group_lines(card: Card) -> tuple[str, list[str]] | None:
    """The heading and lines of the card's group (firing first), None on a card of one alert."""
    if len(card.group) < 2:
        return None
    firing = sum(g.status == "firing" for g in card.group)
    lines = []
    for g in card.group[:S.GROUP_SHOWN]:
        state = f"firing since {g.since:%H:%M} UTC" if g.status == "firing" and g.since else g.status
        mark = S.RESOLVED_EMOJI if g.status == "resolved" else S.SEVERITY_EMOJI.get(card.severity, "⚪")
        lines.append(f"{mark} {g.name} · {g.subject or g.incident_id} · {state} ({g.incident_id})")
    if len(card.group) > S.GROUP_SHOWN:
        lines.append(S.more_lines(len(card.group) - S.GROUP_SHOWN, card.incident_id))
    return S.group_heading(firing, len(card.group) - firing), lines


def diagnosed(card: Card) -> list[tuple[str, str]]:
    """(heading, text) of the diagnosis and of what a person should do, those the card has."""
    return [(h, t) for h, t in ((S.DIAGNOSIS, card.diagnosis), (S.TO_DO, card.advice)) if t]


def said(card: Card) -> tuple[str, bool]:
    """The heading of the card's `failing` text, and whether to quote it: an alert's or Sentry's own words are
    quoted source material; a chat action card's line is opsbot's own."""
    return (S.REQUESTED, False) if card.source == "chat" else (S.FAILING, True)
