"""An incident people marked before it resolved is written to knowledge with their mark: a false alarm's outcome is
"false_positive", and its document says so, so a later search by meaning finds it as one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot import wiring
from bot.cards.model import Card, PlaybookRef
from bot.guard.door import Door
from bot.guard.verify import knowledge_id
from bot.settings import Settings
from bot.triage.knowledge_hook import KnowledgeTriage
from knowledge.feedback import Feedback
from knowledge.store import KnowledgeStore


def test_a_false_alarm_is_learned_as_a_false_positive_with_its_mark(door: Door, settings: Settings,
                                                                     knowledge: KnowledgeStore) -> None:
    learner = KnowledgeTriage(door, knowledge, wiring.outcomes(settings, prefix=f"test:{uuid.uuid4().hex}:"))
    started = datetime.now(UTC) - timedelta(minutes=5)
    mark = Feedback(mark="false_alarm", by="slack:U0OPERATOR", at=started, note="synthetic load test")
    card = Card(incident_id=f"inc-{uuid.uuid4().hex[:6]}", title="HighErrorRate: cart answers 5xx", severity="P2",
                status="resolved", source="alertmanager", failing="cart 5xx over 5%",
                playbook=PlaybookRef(name="http-5xx-spike", title="5xx spike"), feedback=mark,
                started_at=started, resolved_at=started + timedelta(minutes=5), updated_at=datetime.now(UTC))
    learner.resolved(card)
    stored = knowledge.incident(knowledge_id(card))
    assert stored is not None and stored.outcome == "false_positive" and stored.feedback == mark
    hit = next(h for h in knowledge.similar_incidents("cart answers 5xx", k=10) if h.id == knowledge_id(card))
    assert "Feedback: false alarm (synthetic load test)" in hit.excerpt
