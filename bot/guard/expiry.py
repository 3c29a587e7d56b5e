"""Expired actions lose their buttons when they expire, not when someone next clicks.

`sweep` (run by the triage workers' loop, beside the silences' ends) lets the gate expire what is due (each one
audited), then edits every message that shows such an action: the incident's card on every platform it was
posted to, and the chat messages that show the card of an action proposed in a conversation (the frontends
keep where they posted them). The action reads "expired at HH:MM UTC, not executed" and has no buttons.
An edit that fails (Redis or a platform down) is tried again at the next sweep.

While an action waits, its card line says when it expires; when its policy rule names whom to remind
(`approvers.remind`), the sweep posts one line in the incident card's thread `remind.before` its expiry,
mentioning them (a Slack user group or people, Telegram @handles), once however many processes sweep; and when it
expired unanswered, one line mentioning whom `approvers.escalate` names (a rule for P0/P1, say).
"""

from __future__ import annotations

import structlog

from bot.cards import strings as S
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.guard.approvals import PendingAction
from bot.guard.gate import ActionGate
from policies.schema import Mentions

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
            if action is None or r is None or action.state != "pending" or \
                    not action.expires_at - r.before <= now < action.expires_at:
                continue
            if self._say_once(action, "reminded", r, S.REMINDER):
                reminded.append(action_id)
        return reminded

    def _say_once(self, action: PendingAction, what: str, who: Mentions, line: str) -> bool:
        """`line` in the incident card's thread, mentioning `who` on each platform, once; False if not now."""
        if action.incident is None or not self.cards.refs(action.incident):
            return False
        once = f"{self.cards.prefix}action:{action.id}:{what}"
        if not self.cards.client.set(once, 1, nx=True, ex=self.gate.store.keep):
            return False
        try:
            self.publisher.reply(action.incident, lambda platform: said(line, action, who, platform))
        except Exception as e:  # a platform down: the next sweep tries again
            self.cards.client.delete(once)
            log.warning("thread_line_not_posted", what=what, action=action.id, error=f"{type(e).__name__}: {e}"[:300])
            return False
        log.info(f"approval_{what}", action=action.id, incident=action.incident)
        return True

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
        escalate = action.decision.approvers.escalate if action.decision.approvers else None
        if escalate is not None:
            self._say_once(action, "escalated", escalate, S.ESCALATION)
        log.info("action_expiry_shown", action=action_id, incident=action.incident)


def said(line: str, action: PendingAction, who: Mentions, platform: str) -> str:
    """A thread line about `action` on one platform: that platform's mentions first, then the action, its expiry."""
    mention = who.slack if platform == "slack" else who.telegram if platform == "telegram" else None
    return line.format(who=mention or "", id=action.id, summary=action.preview.summary, at=action.expires_at).strip()
