"""`troubleshoot SERVICE` on the sandbox: the playbook's reads go through the door, nothing is changed."""

from __future__ import annotations

from datetime import timedelta

from bot.guard.door import Caller, Door
from bot.triage.troubleshoot import troubleshoot
from knowledge.store import KnowledgeStore
from sandbox import scenario
from tools.base import Status
from tools.context import utc_now

SC = scenario.load("crashloop-missing-env")


def test_troubleshoot_a_crash_looping_service_collects_the_expected_evidence(
        door: Door, knowledge: KnowledgeStore, oncall: Caller) -> None:
    start = utc_now() - timedelta(seconds=1)
    report = troubleshoot(door, knowledge, oncall, "shop", "checkout")
    assert report.found and report.playbook is not None
    assert report.playbook.name == SC.expect.playbook
    evidence = report.evidence_text()
    for fact in SC.expect.evidence:
        assert fact in evidence
    assert all(r.status != Status.error for r in report.evidence), [r.error for r in report.evidence]
    ran = [r.action for r in door.audit.query(since=start)]
    assert ran == [r.tool for r in report.evidence]
    assert {"k8s_list", "k8s_pod_logs", "k8s_describe"} <= set(ran)
    first = report.proposals[0]
    assert first.recommended and {"tool": first.tool, "args": first.args} == SC.expect.actions[0].model_dump()
    assert door.gate.store.pending() == []  # proposed, never run


def test_troubleshoot_from_an_alert_uses_its_labels(door: Door, knowledge: KnowledgeStore, oncall: Caller) -> None:
    alert = SC.alerts[0]
    report = troubleshoot(door, knowledge, oncall, alert=alert.name, labels=alert.labels,
                          text=alert.annotations["summary"])
    assert report.playbook is not None and report.matched_by == f"alert {alert.name}"
    assert "DATABASE_URL is not set" in report.evidence_text()


def test_an_unknown_service_gets_a_clear_message(door: Door, knowledge: KnowledgeStore, oncall: Caller) -> None:
    report = troubleshoot(door, knowledge, oncall, "shop", "nosuch")
    assert not report.found and report.playbook is None
    assert report.message.startswith("no service 'nosuch' in namespace 'shop'")
    assert "checkout" in report.message  # the deployments that do exist


def test_a_healthy_service_gets_the_general_health_check(door: Door, knowledge: KnowledgeStore,
                                                         oncall: Caller) -> None:
    report = troubleshoot(door, knowledge, oncall, "payments", "payments-api")
    assert report.playbook is not None and report.playbook.name == "service-health"
    assert "general health check" in (report.matched_by or "")


def test_a_playbook_action_the_state_does_not_call_for_is_not_proposed(door: Door, knowledge: KnowledgeStore,
                                                                       oncall: Caller) -> None:
    report = troubleshoot(door, knowledge, oncall, "shop", "cart", alert="KubeNodeDiskPressure",
                          labels={"node": "worker-1"})
    assert report.playbook is not None and report.playbook.name == "node-pressure"
    assert report.proposals == [], "the playbook lists k8s_delete_pod; a healthy cart shows no reason for it"
    # no mode fits a healthy cart: the cause is not found, said as such (never the node-pressure advice)
    assert report.diagnosis is not None and report.diagnosis.mode == "cause-not-found"
    assert "cause-not-found: Deployment shop/cart: cause not found" in report.message


def test_no_namespace_no_troubleshooting(door: Door, knowledge: KnowledgeStore, oncall: Caller) -> None:
    report = troubleshoot(door, knowledge, oncall, service="checkout")
    assert not report.found and "needs a namespace" in report.message
    assert report.evidence == []


def test_knowledge_search_through_the_door(door: Door, oncall: Caller) -> None:
    result = door.run("knowledge_search", {"text": "containers OOMKilled, exit code 137", "kind": "playbooks"},
                      oncall)
    assert result.status == Status.success, result.error
    top = result.data["hits"][0]
    assert top["id"] == "oomkilled" and top["recommended"] == "k8s_rollout_restart"
    assert any(step.startswith("prom_query_range(") for step in top["diagnosis"])
    wrong = door.run("knowledge_search", {"text": "oom", "k": 50}, oncall)
    assert wrong.status == Status.error and "k: Input should be less than or equal to 10" in (wrong.error or "")
    assert [r.action for r in door.audit.query()][-2:] == ["knowledge_search", "knowledge_search"]
