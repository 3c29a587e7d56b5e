"""What a card shows between its header and its buttons, decided once for every renderer: the headline, what a
person should do, the resolved card's story, at most five decisive evidence lines (or, once resolved, where they
are), one line for the reads that could not run, one for the incidents seen before, the actions. Everything else
is in the card's thread (bot.cards.thread).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.cards import strings as S
from bot.cards.common import ACTION_CHARS, one_line
from bot.cards.decisive import Shown, decisive, source
from bot.cards.headline import Headline, cause_quote, headline
from bot.cards.model import Card, CardAction
from bot.cards.short_action import short
from bot.cards.story import resolved_story, seen_before

__all__ = ["ACTION_CHARS", "Body", "body", "could_not_run", "failing"]

FIRST_FAILURE_CHARS = 140
FAILING_CHARS = 160  # of the alert's (or Sentry's) own words on an alert card


def failing(card: Card) -> str:
    """The source's words the card quotes: whole on a chat action card (opsbot's own), else cut."""
    text = card.failing
    if card.source == "chat" or len(text) <= FAILING_CHARS:
        return text
    return text[: FAILING_CHARS - 1] + S.IN_THREAD


class Body(NamedTuple):
    headline: Headline | None
    failing: str  # the alert's own words, cut to FAILING_CHARS (whole in the thread)
    advice: str | None
    note: str | None  # why there is no analysis; "no model configured" is the thread's, not news on every card
    story: list[str]
    evidence_heading: str | None  # None: no evidence section (a chat action card)
    evidence: list[Shown]
    could_not_run: str | None
    seen: str | None
    actions: list[CardAction]  # each with its short summary (bot.cards.short_action); whole in the thread


def could_not_run(card: Card) -> str | None:
    """One line when a read failed (it changes how far to trust the card): how many, the first and why."""
    n = len(card.could_not_run)
    if not n:
        return None
    call, sep, why = one_line(card.could_not_run[0]).partition("): ")
    first = f"{source(call + ')')}: {why}" if sep and "(" in call else one_line(card.could_not_run[0])
    first = first if len(first) <= FIRST_FAILURE_CHARS else first[: FIRST_FAILURE_CHARS - 1] + "…"
    return S.COULD_NOT_RUN_LINE.format(n=n, s="s" if n != 1 else "", first=first,
                                       more=f" (and {n - 1} more in the thread)" if n > 1 else "")


def body(card: Card) -> Body:
    head = headline(card)
    story = resolved_story(card)
    shown = decisive(card, cause_quote(card, cut=False) if card.failure_mode else None)
    if card.source == "chat" and not card.evidence:
        heading = None
    elif not card.evidence:
        heading = S.NO_EVIDENCE_LINE
    elif story or not shown:  # resolved: the story replaces the evidence; or no line is decisive beyond the headline
        heading, shown = S.EVIDENCE_IN_THREAD.format(total=len(card.evidence),
                                                     s="s" if len(card.evidence) != 1 else "", id=card.incident_id), []
    else:
        heading = S.EVIDENCE_SHOWN.format(shown=len(shown), total=len(card.evidence))
    told = {a.action_id for a in card.actions if story and a.status in ("executed", "failed")}
    note = card.analysis_note if card.analysis_note != S.NO_ANALYSIS_MODEL else None
    return Body(head, failing(card), card.advice, note, story, heading, shown, could_not_run(card), seen_before(card),
                [a.model_copy(update={"summary": short(a)}) for a in card.actions
                 if not (a.action_id and a.action_id in told)])
