"""Two lines a card tells in opsbot's words: what happened before (the earlier incidents like this one, what fixed
them, how often) and, once resolved, what happened this time (how long, who acknowledged, what was executed and
approved by whom, whether the alert cleared after it, where the timeline is)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from bot.cards import strings as S
from bot.cards.common import source_name
from bot.cards.model import Card, SimilarIncident
from bot.cards.short_action import short

FIX_CHARS = 70


def span(delta: timedelta) -> str:
    """A duration as a person says it: '40 s', '14 min', '3 h', '12 days'."""
    s = max(0, int(delta.total_seconds()))
    if s < 120:
        return f"{s} s"
    if s < 2 * 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h" if s < 2 * 86400 else f"{s // 86400} days"


def like_this(card: Card) -> list[SimilarIncident]:
    """The similar incidents of the card's own kind (its playbook, else its failure mode), closest first."""
    kind = card.playbook.name if card.playbook else card.failure_mode
    return [s for s in card.similar if kind and s.kind == kind]


def seen_before(card: Card) -> str | None:
    """'3 earlier incidents like this (closest inc-5 “…”); roll back shop/checkout fixed 3 of 3; last 12 days
    ago', or None when knowledge holds none of this kind."""
    like = like_this(card)
    if not like:
        return None
    n = len(like)
    closest = f"{like[0].id} “{source_name(like[0].title, 60)}”"
    parts = [S.SEEN_LIKE.format(n=n, s="s" if n != 1 else "", closest=closest)]
    fixes = Counter(f for s in like for f in dict.fromkeys(s.fixes))
    if fixes:
        fix, k = fixes.most_common(1)[0]
        parts.append(S.SEEN_FIXED.format(fix=source_name(fix, FIX_CHARS), k=k, n=n))
    else:
        parts.append(S.SEEN_NO_FIX)
    began = [s.started_at for s in like if s.started_at]
    if began:
        parts.append(S.SEEN_LAST.format(ago=span(card.updated_at - max(began))))
    return "; ".join(parts)


def _at(when: datetime | None) -> str:
    return f" at {when:%H:%M} UTC" if when else ""


def resolved_story(card: Card) -> list[str]:
    """The resolved card's story, one fact a line; empty on a card that is not resolved."""
    if card.status != "resolved":
        return []
    head = S.RESOLVED_AFTER.format(duration=span(card.resolved_at - card.started_at)) \
        if card.resolved_at and card.started_at else S.STATUS["resolved"].capitalize()
    ack = card.acknowledged
    head += "; " + (S.ACKED_BY.format(who=ack.by, at=ack.at) if ack else S.NOT_ACKED)
    out = [head]
    done = [a for a in card.actions if a.status in ("executed", "failed")]
    for a in done:
        line = S.ACTED.format(id=a.action_id or "-", summary=short(a), status=a.status, at=_at(a.decided_at),
                              approved=S.APPROVED_BY.format(who=", ".join(a.decided_by)) if a.decided_by else "")
        if a.verdict:  # what checking it found (bot.guard.verify): fixed, not fixed, worse
            line += f"; {a.verdict}"
        elif a.status == "executed" and a.decided_at and card.resolved_at:
            cleared = card.resolved_at - a.decided_at
            line += "; " + (S.CLEARED_AFTER.format(ago=span(cleared)) if cleared.total_seconds() >= 0
                            else S.CLEARED_BEFORE)
        out.append(line)
    if not done:
        out.append(S.NO_ACTION)
    out.append(S.TIMELINE.format(id=card.incident_id))
    return out
