"""The card's track-record line: what fixed past incidents of its kind, from verified outcomes, beside triage's own
proposals ("Past incidents: k8s_rollback fixed 7 of 8 “crashloopbackoff” incidents"); shown while it fires."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.common import source_name
from bot.cards.model import Card

KIND_CHARS = 60


def track_line(card: Card) -> str | None:
    """The line, an honest "unavailable" when the outcomes could not be read, or None (no track record, resolved)."""
    record = card.track_record
    if record is None or card.status != "firing":
        return None
    if record.action is None:
        return S.TRACK_RECORD_UNAVAILABLE
    return S.TRACK_RECORD.format(action=record.action, k=record.succeeded, n=record.total,
                                 kind=source_name(record.kind, KIND_CHARS))
