"""After a restart (the reflex), triage and `troubleshoot` still propose the rollback that helps: to the last
release whose pod template differs, named with its image; and none, with the reason, when there is none."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.guard.door import Door
from bot.intake.alert import Alert
from bot.intake.payloads.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.settings import Settings
from bot.triage.triage import Triage
from bot.triage.troubleshoot import troubleshoot
from knowledge.store import KnowledgeStore
from tests.support.doors import OPERATOR, Clock, door_with_clock, restart_approved

GOOD = "revision 1 (registry.local/shop/checkout:1.4.2), the newest earlier revision whose pod template differs"


def _crashlooping(door: Door, namespace: str, service: str) -> Alert:
    labels = {"alertname": "KubePodCrashLooping", "namespace": namespace, "service": service, "severity": "critical"}
    payload = AMPayload.model_validate(am_payload([am_alert(labels, {"summary": "crash-looping"})]))
    return to_alert(payload.alerts[0], payload, lambda label: door.gate.engine.severity("alertmanager", label),
                    datetime.now(UTC))


def test_the_alert_card_after_a_restart_proposes_the_rollback_to_the_good_release(
        mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    restart_approved(door, clock, "shop", "checkout")
    card = Triage(door).card(_crashlooping(door, "shop", "checkout"), "inc-restarted")
    (action,) = card.actions
    assert action.tool == "k8s_rollback" and action.status == "pending", action.reason
    assert action.summary.startswith(
        f"roll back shop/checkout from revision 3 (registry.local/shop/checkout:1.5.0) to {GOOD}")
    assert f"back to {GOOD}" in action.why


def test_troubleshoot_after_a_restart_proposes_the_rollback_to_the_good_release(
        mutable_settings: Settings, knowledge: KnowledgeStore) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    restart_approved(door, clock, "shop", "checkout")
    report = troubleshoot(door, knowledge, OPERATOR, "shop", "checkout")
    (proposal,) = report.proposals
    assert proposal.tool == "k8s_rollback" and proposal.args == {"namespace": "shop", "deployment": "checkout"}
    assert f"back to {GOOD}" in proposal.when
    assert door.gate.store.pending() == []


def test_a_restarted_first_release_gets_no_rollback_and_the_reason(first_release: Settings,
                                                                  knowledge: KnowledgeStore) -> None:
    clock = Clock()
    door = door_with_clock(first_release, clock)
    restart_approved(door, clock, "ml", "feature-store-api")
    why = ("no rollback: every earlier revision of ml/feature-store-api (1) runs the same pod template as the "
           "current one (ghcr.io/acme-ml/feature-store-api:0.1.0): a rollback would change nothing")
    report = troubleshoot(door, knowledge, OPERATOR, "ml", "feature-store-api")
    assert report.diagnosis and report.diagnosis.mode == "crashloopbackoff"
    assert report.proposals == [] and why in (report.diagnosis.advice or "")
    card = Triage(door).card(_crashlooping(door, "ml", "feature-store-api"), "inc-first")
    assert card.actions == [] and why in (card.advice or "")
