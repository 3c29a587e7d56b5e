"""Expired actions lose their buttons when they expire, not when someone next clicks.

`sweep` (run by the triage workers' loop, beside the silences' ends) lets the gate expire what is due (each one
audited), then edits every message that shows such an action: the incident's card on every platform it was
posted to, and the chat messages that show the card of an action proposed in a conversation (the frontends
keep where they posted them). The action reads "expired at HH:MM UTC, not executed" and has no buttons.
An edit that fails (Redis or a platform down) is tried again at the next sweep.
"""

from __future__ import annotations

import structlog

from bot.cards import strings as S
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.guard.gate import ActionGate

log = structlog.get_logger(__name__)


def expired(card: Card, action_id: str, outcome: str) -> Card:
    """`card` with its still-pending action `action_id` marked expired (a decision already shown stays)."""
    return card.model_copy(update={"actions": [
        a.model_copy(update={"status": "expired", "outcome": outcome})
        if a.action_id == action_id and a.status == "pending" else a for a in card.actions]})


class ExpirySweep:
    def __init__(self, gate: ActionGate, cards: CardStore, publisher: Publisher):
        self.gate, self.cards, self.publisher = gate, cards, publisher
        self._unshown = f"{cards.prefix}actions:expired:unshown"

    def sweep(self) -> list[str]:
        """Expire what is due and show it everywhere; the ids whose messages were edited (or had none)."""
        due = self.gate.expire_due()
        retry = [raw.decode() for raw in self.cards.client.spop(self._unshown, 100) or []]
        done = []
        for action_id in dict.fromkeys([*due, *retry]):
            try:
                self._show(action_id)
                done.append(action_id)
            except Exception as e:  # Redis or a platform failed: the action is expired; its messages later
                self.cards.client.sadd(self._unshown, action_id)
                log.warning("expiry_not_shown", action=action_id, error=f"{type(e).__name__}: {e}"[:300])
        return done

    def _show(self, action_id: str) -> None:
        action = self.gate.store.get(action_id)
        if action is None:
            return
        outcome = action.outcome or S.EXPIRED.format(at=action.expires_at)
        card_id = action.incident or f"action-{action_id}"  # its incident's card, or its own (bot.chat.conversation)
        card = self.cards.get(card_id)
        if card is not None and any(a.action_id == action_id for a in card.actions):
            self.publisher.edit(card_id, lambda c: expired(c, action_id, outcome))
        self.publisher.edit_shown(action_id, lambda c: expired(c, action_id, outcome))
        log.info("action_expiry_shown", action=action_id, incident=action.incident)
