"""Expired actions lose their buttons when they expire, not when someone next clicks.

`sweep` (run by the triage workers' loop, beside the silences' ends) lets the gate expire what is due (each one
audited), then edits every message that shows such an action: the incident's card on every platform it was
posted to, and the chat messages that show the card of an action proposed in a conversation (the frontends
keep where they posted them). The action reads "expired at HH:MM UTC, not executed" and has no buttons.
An edit that fails (Redis or a platform down) is tried again at the next sweep.

While an action waits, its card line says when it expires; when its policy rule names whom to remind
(`approvers.remind`), the sweep posts one line in the incident card's thread `remind.before` its expiry,
mentioning them (a Slack user group or people, Telegram @handles), once however many processes sweep.
"""

from __future__ import annotations

import structlog

from bot.cards import strings as S
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.guard.approvals import PendingAction
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
        """Remind whom the policy names, expire what is due and show it everywhere; the ids whose messages were
        edited (or had none)."""
        self.remind()
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

    def remind(self) -> list[str]:
        """Post the reminder of every pending action that is within its `remind.before` of expiring, once; the ids
        reminded now."""
        now, reminded = self.gate.ctx.now(), []
        for action_id in self.gate.store.pending():
            action = self.gate.store.get(action_id)
            r = action.decision.approvers.remind if action and action.decision.approvers else None
            if action is None or r is None or action.incident is None or action.state != "pending" or \
                    not action.expires_at - r.before <= now < action.expires_at or not self.cards.refs(action.incident):
                continue
            once = f"{self.cards.prefix}action:{action_id}:reminded"
            if not self.cards.client.set(once, 1, nx=True, ex=self.gate.store.keep):
                continue
            try:
                self.publisher.reply(action.incident, lambda platform, a=action: reminder(a, platform))
            except Exception as e:  # a platform down: the next sweep tries again
                self.cards.client.delete(once)
                log.warning("reminder_not_posted", action=action_id, error=f"{type(e).__name__}: {e}"[:300])
                continue
            log.info("approval_reminded", action=action_id, incident=action.incident)
            reminded.append(action_id)
        return reminded

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


def reminder(action: PendingAction, platform: str) -> str:
    """The reminder line on one platform: its mentions (the policy's for that platform), the action, its expiry."""
    r = action.decision.approvers.remind if action.decision.approvers else None
    who = (r.slack if platform == "slack" else r.telegram if platform == "telegram" else None) if r else None
    return S.REMINDER.format(who=who or "", id=action.id, summary=action.preview.summary,
                             at=action.expires_at).strip()
