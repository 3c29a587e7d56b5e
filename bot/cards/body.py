"""What a card shows between its header and its buttons, decided once for every renderer: the headline, what a
person should do, the resolved card's story, at most five decisive evidence lines (or, once resolved, where they
are), one line for the reads that could not run, one for the incidents seen before, the actions. Everything else
is in the card's thread (bot.cards.thread).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.cards import strings as S
from bot.cards.common import one_line
from bot.cards.decisive import Shown, decisive
from bot.cards.headline import Headline, cause_quote, headline
from bot.cards.model import Card, CardAction
from bot.cards.story import resolved_story, seen_before

FIRST_FAILURE_CHARS = 140
ACTION_CHARS = 160  # of an action's summary on the card; the whole one is in the thread


class Body(NamedTuple):
    headline: Headline | None
    advice: str | None
    note: str | None  # why there is no analysis; "no model configured" is the thread's, not news on every card
    story: list[str]
    evidence_heading: str | None  # None: no evidence section (a chat action card)
    evidence: list[Shown]
    could_not_run: str | None
    seen: str | None
    actions: list[CardAction]


def could_not_run(card: Card) -> str | None:
    """One line when a read failed (it changes how far to trust the card): how many, the first and why."""
    n = len(card.could_not_run)
    if not n:
        return None
    first = one_line(card.could_not_run[0])
    first = first if len(first) <= FIRST_FAILURE_CHARS else first[: FIRST_FAILURE_CHARS - 1] + "…"
    return S.COULD_NOT_RUN_LINE.format(n=n, s="s" if n != 1 else "", first=first,
                                       more=f" (and {n - 1} more in the thread)" if n > 1 else "")


def body(card: Card) -> Body:
    head = headline(card)
    story = resolved_story(card)
    shown, total = decisive(card, cause_quote(card, cut=False) if card.failure_mode else None)
    if card.source == "chat" and not card.evidence:
        heading = None
    elif not card.evidence:
        heading = S.NO_EVIDENCE_LINE
    elif story:  # resolved: the story replaces the evidence, which is in the thread
        heading, shown = S.EVIDENCE_IN_THREAD.format(total=len(card.evidence), id=card.incident_id), []
    else:
        heading = S.EVIDENCE_SHOWN.format(shown=len(shown), total=total, id=card.incident_id)
    told = {a.action_id for a in card.actions if story and a.status in ("executed", "failed")}
    note = card.analysis_note if card.analysis_note != S.NO_ANALYSIS_MODEL else None
    return Body(head, card.advice, note, story, heading, shown, could_not_run(card), seen_before(card),
                [a for a in card.actions if not (a.action_id and a.action_id in told)])
