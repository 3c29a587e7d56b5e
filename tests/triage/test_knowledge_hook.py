"""When an incident resolves, opsbot learns: the incident is written back and each executed action counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot import wiring
from bot.cards.model import Card, CardAction, PlaybookRef
from bot.guard.door import Door
from bot.settings import Settings
from bot.triage.knowledge_hook import KnowledgeTriage, knowledge_id
from knowledge.store import KnowledgeStore


def test_a_resolved_incident_is_written_back_with_its_outcomes(door: Door, settings: Settings,
                                                                knowledge: KnowledgeStore) -> None:
    outcomes = wiring.outcomes(settings, prefix=f"test:{uuid.uuid4().hex}:")
    learner = KnowledgeTriage(door, knowledge, outcomes)
    started = datetime.now(UTC) - timedelta(minutes=12)
    card = Card(
        incident_id="inc-42", title="KubePodCrashLooping: checkout pods are crash-looping", severity="P0",
        status="resolved", source="alertmanager", failing="checkout crash-loops", labels={"namespace": "shop",
        "service": "checkout"}, playbook=PlaybookRef(name="crashloopbackoff", title="Pods crash-loop"),
        actions=[CardAction(tool="k8s_rollback", summary="roll back shop/checkout", status="executed"),
                 CardAction(tool="k8s_rollout_restart", summary="restart shop/checkout", status="expired")],
        started_at=started, resolved_at=started + timedelta(minutes=12), updated_at=datetime.now(UTC),
    )
    learner.resolved(card)
    [stats] = outcomes.stats("crashloopbackoff")
    assert (stats.action, stats.total, stats.succeeded) == ("k8s_rollback", 1, 1), "only executed actions count"
    hits = knowledge.similar_incidents("checkout pods crash-looping after a release", k=5)
    hit = next(h for h in hits if h.id == knowledge_id(card))
    assert hit.incident is not None and hit.incident.actions == ["roll back shop/checkout (executed)"]
    assert hit.incident.time_to_resolve_s == 720
