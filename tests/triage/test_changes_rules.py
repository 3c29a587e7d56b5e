"""Triage reads what changed and acts by mechanism: a rollout restart when the pods started before the Secret or
ConfigMap they read was modified, none when they started after it (the new value is what is rejected), and a
scale back to the count before the scale-up that exhausted the database's connections."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.cards import strings as S
from bot.cards.model import Card
from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from bot.triage.rules.base import Reader
from bot.triage.rules.changes import scaled_past_limit
from bot.intake.payloads.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.settings import Settings
from bot.triage.triage import Triage
from bot.triage.troubleshoot import troubleshoot
from knowledge.store import KnowledgeStore
from tests.support.doors import OPERATOR, make_door
from tools.base import Status, ToolResult


Loader = Callable[[str], Settings]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _card(private_scenario: Loader, name: str, ns: str, service: str) -> Card:
    door = make_door(private_scenario(name))
    labels = {"alertname": "HighErrorRate", "namespace": ns, "service": service, "severity": "critical"}
    payload = AMPayload.model_validate(am_payload([am_alert(labels, {"summary": f"{service} 5xx ratio above 5%"})]))
    alert: Alert = to_alert(payload.alerts[0], payload, lambda s: door.gate.engine.severity("alertmanager", s),
                            datetime.now(UTC))
    return Triage(door).card(alert, f"inc-{name}")


def test_pods_older_than_the_rotated_secret_get_a_rollout_restart(private_scenario: Loader) -> None:
    card = _card(private_scenario, "stale-secret-password-rotated", "shop", "orders")
    assert re.match(r"stale-config: Secret shop/orders-db: modified 41m ago by kubectl-patch; pods started (47h|2d) "
                    r"ago still hold the old value \(env DB_PASSWORD\)$", card.diagnosis), card.diagnosis
    (action,) = card.actions
    assert action.tool == "k8s_rollout_restart" and action.args == {"namespace": "shop", "deployment": "orders"}
    assert action.status == "pending" and "was modified after its pods started" in action.why
    changes = [e.text for e in card.evidence if e.check.startswith("k8s_changes")]
    assert any("Secret shop/orders-db: modified by kubectl-patch" in x for x in changes), changes


def test_pods_started_after_the_change_get_no_restart_and_the_card_says_why(private_scenario: Loader) -> None:
    card = _card(private_scenario, "secret-rotated-pods-restarted-still-rejected", "payments",
                 "payments-gateway")
    assert card.diagnosis.startswith("config-change-rejected: Secret payments/processor-api-key: modified 50m ago "
                                     "by kubectl-edit; pods started after it"), card.diagnosis
    assert card.actions == []
    assert "a restart would change nothing" in card.advice


def test_the_workload_scaled_before_the_connections_ran_out_is_scaled_back(private_scenario: Loader) -> None:
    card = _card(private_scenario, "connections-exhausted-worker-scaled", "shop", "api")
    assert card.diagnosis.startswith("connections-exhausted-after-scale: Deployment shop/worker: scaled up 4 → 30 "
                                     "35m ago"), card.diagnosis
    (action,) = card.actions
    # 30 → 4 is more than the policy's max_step (5): the card proposes the first step, which can be approved
    assert action.tool == "k8s_scale" and action.args == {"namespace": "shop", "deployment": "worker", "replicas": 25}
    assert action.status == "pending", action.reason
    assert S.SCALE_STEP.format(steps=6, current=30, first=25, step=5, wanted=4) in action.why, action.why


def test_an_autoscaler_scale_is_named_but_not_undone_by_hand(private_scenario: Loader) -> None:
    card = _card(private_scenario, "connections-exhausted-after-release-autoscaled", "shop", "web")
    assert "Deployment shop/web: scaled up 6 → 20" in card.diagnosis and "horizontal-pod-autoscaler" in card.diagnosis
    assert card.actions == [] and "maxReplicas" in card.advice


def test_troubleshoot_reads_the_changes_and_proposes_the_restart(private_scenario: Loader,
                                                                knowledge: KnowledgeStore) -> None:
    door = make_door(private_scenario("stale-secret-password-rotated"))
    report = troubleshoot(door, knowledge, OPERATOR, "shop", "orders")
    read = "\n".join(r.invocation for r in report.evidence)
    assert report.diagnosis is not None and report.diagnosis.mode == "stale-config", read
    (proposal,) = report.proposals
    assert proposal.tool == "k8s_rollout_restart" and proposal.args == {"namespace": "shop", "deployment": "orders"}
    assert "was modified after its pods started" in proposal.when
    assert door.gate.store.pending() == [], "troubleshoot proposes; it requests nothing"


def test_a_configmap_read_at_start_and_changed_since_gets_a_rollout_restart(private_scenario: Loader) -> None:
    card = _card(private_scenario, "stale-configmap-read-at-start", "shop", "checkout")
    assert card.diagnosis.startswith("stale-config: ConfigMap shop/checkout-config: modified 20m ago by "
                                     "kubectl-client-side-apply; pods started"), card.diagnosis
    assert "(envFrom of checkout)" in card.diagnosis
    assert [(a.tool, a.args) for a in card.actions] == [
        ("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"})]


def _alert(namespace: str, service: str) -> Alert:
    labels = {"alertname": "HighErrorRate", "namespace": namespace, "service": service, "severity": "critical"}
    return Alert(source="alertmanager", name="HighErrorRate", status="firing", severity="P0", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _changes(*rows: dict[str, object]) -> ToolResult:
    return ToolResult(tool="k8s_changes", status=Status.success, invocation="k8s_changes(namespace='shop')",
                      data={"namespace": "shop", "changes": list(rows)})


def _logs(*lines: str) -> ToolResult:
    """The alerted workload's own pod's lines (an unrelated pod's are never a cause)."""
    return ToolResult(tool="k8s_pod_logs", status=Status.success, invocation="k8s_pod_logs",
                      data={"pod": "api-5c7d9b8f6-x2x9q", "lines": list(lines)})


EXHAUSTED = 'FATAL:  sorry, too many clients already'
SCALED = {"at": (NOW - timedelta(minutes=30)).isoformat(), "age": "30m", "kind": "Deployment", "object": "shop/worker",
          "what": "scaled up 4 → 30 (replica set worker-6d9c7b5f4)", "from": 4, "to": 30}


def test_a_workload_already_scaled_back_gets_no_scale() -> None:
    d = diagnose(_alert("shop", "api"), [_changes({**SCALED, "now": 6}), _logs(EXHAUSTED)], NOW)
    assert d is not None and d.mode == "connections-exhausted-after-scale" and d.action is None
    assert "(it runs 6 now)" in d.advice


def test_a_scale_up_after_the_alert_began_or_no_exhaustion_decides_nothing() -> None:
    later = {**SCALED, "at": (NOW + timedelta(minutes=20)).isoformat(), "now": 30}
    assert scaled_past_limit(Reader(_alert("shop", "api"), [_changes(later), _logs(EXHAUSTED)], NOW)) is None
    assert scaled_past_limit(Reader(_alert("shop", "api"), [_changes({**SCALED, "now": 30}),
                                                            _logs("GET /orders 200")], NOW)) is None
