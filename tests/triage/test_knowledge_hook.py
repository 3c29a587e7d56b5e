"""When an incident resolves, opsbot learns: the incident is written back with each action's verdict, and an
execution that failed counts (one that ran counts as its verification decided, bot/guard/verify.py); never
`opsbot smoke`'s synthetic incidents, which are not shown as similar incidents either."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot import wiring
from bot.cards.model import Card, CardAction, PlaybookRef
from bot.guard.door import Door
from bot.intake.alert import Alert
from bot.intake.webhooks.synthetic import SMOKE_ALERT, smoke_labels
from bot.settings import Settings
from bot.triage.evidence import Evidence
from bot.triage.knowledge_hook import KnowledgeTriage, knowledge_id
from knowledge.incident import Incident
from knowledge.store import KnowledgeStore
from tests.support.doors import make_door


def test_a_resolved_incident_is_written_back_with_its_outcomes(door: Door, settings: Settings,
                                                                knowledge: KnowledgeStore) -> None:
    outcomes = wiring.outcomes(settings, prefix=f"test:{uuid.uuid4().hex}:")
    learner = KnowledgeTriage(door, knowledge, outcomes)
    started = datetime.now(UTC) - timedelta(minutes=12)
    card = Card(
        incident_id="inc-42", title="KubePodCrashLooping: checkout pods are crash-looping", severity="P0",
        status="resolved", source="alertmanager", failing="checkout crash-loops", labels={"namespace": "shop",
        "service": "checkout"}, playbook=PlaybookRef(name="crashloopbackoff", title="Pods crash-loop"),
        actions=[CardAction(tool="k8s_rollback", summary="roll back shop/checkout", status="executed",
                            verdict="fixed: 3/3 ready 2 min after the rollback"),
                 CardAction(tool="k8s_scale", summary="scale shop/checkout from 3 to 5", status="failed"),
                 CardAction(tool="k8s_rollout_restart", summary="restart shop/checkout", status="expired")],
        started_at=started, resolved_at=started + timedelta(minutes=12), updated_at=datetime.now(UTC),
    )
    learner.resolved(card)
    [stats] = outcomes.stats("crashloopbackoff")
    assert (stats.action, stats.total, stats.succeeded) == ("k8s_scale", 1, 0), \
        "the failed execution counts; the one that ran counted when verified, not because the incident resolved"
    hits = knowledge.similar_incidents("checkout pods crash-looping after a release", k=5)
    hit = next(h for h in hits if h.id == knowledge_id(card))
    assert hit.incident is not None and hit.incident.actions == [
        "roll back shop/checkout (fixed: 3/3 ready 2 min after the rollback)",
        "scale shop/checkout from 3 to 5 (failed)"]
    assert hit.incident.time_to_resolve_s == 720


def test_smoke_incidents_are_neither_learned_nor_shown_as_similar(door: Door, settings: Settings,
                                                                   knowledge: KnowledgeStore) -> None:
    learner = KnowledgeTriage(door, knowledge, wiring.outcomes(settings, prefix=f"test:{uuid.uuid4().hex}:"))
    run, now = uuid.uuid4().hex[:8], datetime.now(UTC)
    smoke = Card(incident_id="inc-7", title=f"{SMOKE_ALERT}: opsbot smoke test {run}", severity="INFO",
                 status="resolved", source="alertmanager", failing="smoke", labels=smoke_labels(run, "webhook"),
                 started_at=now, resolved_at=now, updated_at=now)
    learner.resolved(smoke)
    assert not [h for h in knowledge.similar_incidents(f"opsbot smoke test {run}", k=20)
                if h.id == knowledge_id(smoke)], "smoke's incident was learned"
    # one an older opsbot learned, before smoke was skipped: it stays in the store but is never shown
    knowledge.add_incident(Incident(id=f"old-smoke-{run}", title=f"{SMOKE_ALERT}: opsbot smoke test {run}",
                                    kind=SMOKE_ALERT, alert=SMOKE_ALERT, outcome="resolved", started_at=now))
    alert = Alert(source="alertmanager", name=SMOKE_ALERT, status="firing", severity="INFO",
                  labels={"alertname": SMOKE_ALERT}, fingerprint="f" * 16, annotations={
                      "summary": f"opsbot smoke test {run}"})
    assert f"old-smoke-{run}" in [h.id for h in knowledge.similar_incidents(f"{SMOKE_ALERT} opsbot smoke test {run}")]
    assert f"old-smoke-{run}" not in [s.id for s in learner.similar(alert, Evidence())]


def test_the_playbook_is_the_diagnosis_never_the_alert_names_alone(every_kind_door_settings: Settings,
                                                                   settings: Settings,
                                                                   knowledge: KnowledgeStore) -> None:
    """An alert named like unschedulable pods about a DaemonSet whose pods all run: nothing is pending, so the
    "Pods stay Pending" playbook is not attached; the cause-not-found one is, and the card proposes nothing."""
    door = make_door(every_kind_door_settings)
    hook = KnowledgeTriage(door, knowledge, wiring.outcomes(settings, prefix=f"test:{uuid.uuid4().hex}:"))
    labels = {"alertname": "KubePodNotScheduled", "namespace": "monitoring", "daemonset": "node-exporter"}
    alert = Alert(source="alertmanager", name="KubePodNotScheduled", status="firing", severity="P2", labels=labels,
                  fingerprint="e" * 16, starts_at=datetime.now(UTC))
    ev = hook.collect(alert, "inc-1")
    assert ev.diagnosis is not None and ev.diagnosis.mode == "cause-not-found"
    ref = hook.playbook(alert, ev)
    assert ref is not None and ref.name == "cause-not-found"
