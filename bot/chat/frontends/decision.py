"""After a button decision: which card to show, and the line that says who decided, when, and what came of it;
and where chat messages show a pending action's card, so its expiry can edit them.

A decision on an alert card must not shrink it to the action's own card: when the card store holds the
incident's card, the decided action is replaced inside it and the Publisher edits every platform's message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.store import CardStore, MessageRef
from bot.chat.frontends import messages
from tools.context import utc_now


def merged(updated: Card, store: CardStore | None, now: datetime | None = None) -> tuple[Card, bool]:
    """The stored incident card with the decided action(s) replaced, each stamped with when it was decided (the
    resolved card says whether the alert cleared after it), or `updated` itself; True if stored."""
    stored = store.get(updated.incident_id) if store else None
    if stored is None:
        return updated, False
    decided = {a.action_id: a if a.status == "pending" or a.decided_at else a.model_copy(update={"decided_at": now})
               for a in updated.actions if a.action_id}
    if not any(a.action_id in decided for a in stored.actions):
        return updated, False
    actions = [decided.get(a.action_id, a) if a.action_id else a for a in stored.actions]
    return stored.model_copy(update={"actions": actions}), True


def footer(outcome: str, who: str, now: datetime) -> str:
    return messages.DECISION.format(outcome=outcome, who=who, when=now)


class Decisions:
    """Shared by the Slack and Telegram frontends: publish the decided card everywhere it was posted."""

    def __init__(self, store: CardStore | None = None, publisher: Publisher | None = None,
                 now: Callable[[], datetime] | None = None):
        self.store, self.publisher, self.now = store, publisher, now or utc_now

    def apply(self, updated: Card, platform: str) -> tuple[Card, MessageRef | None]:
        """The card to show on the clicked message, and this platform's alert message the Publisher just edited
        (None when nothing was published: the clicked message is the only one to edit)."""
        card, stored = merged(updated, self.store, self.now())
        if stored and self.publisher is not None and self.store is not None:
            self.publisher.publish(card)
            return card, self.store.ref(card.incident_id, platform)
        return card, None

    def posted(self, card: Card, ref: MessageRef) -> None:
        """A chat message now shows `card`: where it is, kept for each of its pending actions, so the expiry
        sweep (bot.guard.expiry) edits it when the action expires."""
        if self.store is None:
            return
        for a in card.actions:
            if a.status == "pending" and a.action_id:
                self.store.keep_shown(a.action_id, card, ref)
