"""People's feedback on an incident: "right cause", "wrong cause", "false alarm", "not actionable", from its card's
buttons, the chat command `feedback INCIDENT MARK [NOTE]` or `opsbot incident feedback`.

Who may: anyone the policy names among its members, whatever the role (a viewer too: everyone who watches the
incidents may say an alert was false); a stranger, and opsbot's own identities (opsbot:…), are refused in words.
Every attempt is audited (kind `feedback`) with its incident. The latest mark goes on the card (one line among its
facts), once in its thread, into outcome learning (knowledge/outcomes.py: a false alarm's or a wrong cause's
verdicts are kept apart from the counts, a wrong cause holds its actions back for the kind) and onto the incident
in the knowledge store (now if it is stored; else when it resolves, from the card). The same mark again by the
same person changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot import messages
from bot.cards import strings as S
from bot.cards.common import source_name
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.slack import esc
from bot.cards.store import CardStore
from bot.guard.audit import AuditRecord, AuditUnavailable
from bot.guard.door import Door
from bot.guard.silencer import Outcome
from bot.guard.verify import kind_of, knowledge_id
from bot.redact import redact
from knowledge.feedback import NOTE_CHARS, WORDS, Feedback, Mark
from knowledge.outcomes import Outcomes, OutcomesUnavailable
from knowledge.store import KnowledgeStore

log = structlog.get_logger(__name__)
OWN = "opsbot:"  # opsbot's own identities (its triage, its clock): never people's word


def thread_line(card: Card, fb: Feedback) -> str:
    note = S.FEEDBACK_NOTE.format(note=source_name(fb.note, NOTE_CHARS)) if fb.note else ""
    return S.FEEDBACK_POST.format(who=fb.by, id=card.incident_id, words=fb.words, note=note)


class FeedbackDesk:
    def __init__(self, door: Door, cards: CardStore, publisher: Publisher, outcomes: Outcomes | None = None,
                 knowledge: Callable[[], KnowledgeStore] | None = None):
        """`outcomes`: where learning counts (None: nothing learned); `knowledge`: opens the knowledge store."""
        self.door, self.cards, self.publisher = door, cards, publisher
        self.outcomes, self.knowledge = outcomes, knowledge

    def mark(self, incident_id: str, identity: str, mark: Mark, note: str = "") -> Outcome:
        card = self.cards.get(incident_id)
        if card is None or card.source == "chat":
            return self._refused(incident_id, identity, mark, messages.FEEDBACK_NO_CARD.format(id=incident_id))
        if identity.startswith(OWN) or not self.door.gate.engine.roles_of(identity):
            return self._refused(incident_id, identity, mark, messages.FEEDBACK_NOT_MEMBER.format(identity=identity))
        before = card.feedback
        if before is not None and (before.mark, before.by) == (mark, identity) and not note:
            self._audit(identity, incident_id, "unchanged", WORDS[mark])
            return Outcome(ok=True, message=messages.FEEDBACK_SAME.format(id=incident_id, words=WORDS[mark]), card=card)
        fb = Feedback(mark=mark, by=identity, at=self.door.ctx.now(), note=redact(note.strip())[:NOTE_CHARS])
        edited = self.publisher.edit(incident_id, lambda c: c.model_copy(update={"feedback": fb})) or card
        self._audit(identity, incident_id, "success", WORDS[mark] + (f": {fb.note}" if fb.note else ""))
        problems = [p for p in (self._learn(edited, fb), self._store(edited, fb)) if p]
        line = thread_line(edited, fb)
        try:
            self.publisher.reply(incident_id, lambda platform: esc(line) if platform == "slack" else line)
        except Exception as e:  # a platform refusing the reply: the mark stands, the card shows it
            log.warning("feedback_thread_not_posted", incident=incident_id, error=f"{type(e).__name__}: {e}"[:300])
        told = messages.FEEDBACK_TAKEN.format(id=incident_id, words=fb.words, who=identity)
        return Outcome(ok=True, message=" ".join([told, *problems]), card=edited)

    def _learn(self, card: Card, fb: Feedback) -> str | None:
        """Outcome learning takes the mark; what went wrong, in words, or None."""
        if self.outcomes is None:
            return None
        try:
            self.outcomes.mark(knowledge_id(card), kind_of(card), [a.tool for a in card.actions], fb.mark)
        except OutcomesUnavailable as e:
            log.error("feedback_not_learned", incident=card.incident_id, error=str(e)[:300])
            return messages.FEEDBACK_NOT_LEARNED
        return None

    def _store(self, card: Card, fb: Feedback) -> str | None:
        """The stored incident takes the mark (one not stored yet takes it from the card when it resolves)."""
        if self.knowledge is None:
            return None
        try:
            self.knowledge().mark_incident(knowledge_id(card), fb)
        except Exception as e:  # Chroma unreachable or failing: the card and the counts have it; say so
            log.error("feedback_not_stored", incident=card.incident_id, error=f"{type(e).__name__}: {e}"[:300])
            return messages.FEEDBACK_NOT_STORED
        return None

    def _refused(self, incident_id: str, identity: str, mark: Mark, reason: str) -> Outcome:
        self._audit(identity, incident_id, "refused", f"{WORDS[mark]}: {reason}")
        return Outcome(ok=False, message=reason)

    def _audit(self, identity: str, incident_id: str, status: str, summary: str) -> None:
        try:
            self.door.audit.append(AuditRecord(at=self.door.ctx.now(), kind="feedback", identity=identity,
                                               action="feedback", target=incident_id, status=status,
                                               summary=summary, incident=incident_id))
        except AuditUnavailable as e:  # logged by the audit log too
            log.error("feedback_audit_failed", incident=incident_id, error=f"{type(e).__name__}: {e}")
