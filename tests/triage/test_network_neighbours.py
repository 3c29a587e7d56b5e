"""Triage follows a failing call to the neighbour that holds its cause and names it: the crash-looping pod
behind a Service without ready endpoints, a Service whose selector matches no pod or whose target port the pods
do not declare, the cluster DNS's own pod when lookups fail, the network plugin's pod when sandboxes get no
address; and, with nothing in the cluster failing, says the cause was not found there. Each case is a shipped
scenario loaded into an emulator of the module's own and read through the door, as an alert would be."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.guard.door import Door
from bot.intake.alert import Alert
from bot.intake.payloads.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.settings import Settings
from bot.triage.triage import Triage
from sandbox import k8s, scenario
from tests.support.doors import make_door


def _door(settings: Settings, private_k8s: tuple, name: str) -> Door:
    state, port = private_k8s
    loaded = scenario.load(name)
    k8s.load(state, port, loaded, time.time())
    return make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})}))


def _alert(door: Door, **labels: str) -> Alert:
    labels = {"severity": "critical", **labels}
    payload = AMPayload.model_validate(am_payload([am_alert(labels, {"summary": "failing"})]))
    return to_alert(payload.alerts[0], payload, lambda label: door.gate.engine.severity("alertmanager", label),
                    datetime.now(UTC))


def _said(settings: Settings, private_k8s: tuple, name: str, **labels: str) -> tuple[str, list[str]]:
    """The card's diagnosis line with the source line it quotes, and the actions it proposes."""
    door = _door(settings, private_k8s, name)
    card = Triage(door).card(_alert(door, **labels), f"inc-{name}")
    return " ".join(x for x in (card.failure_mode, card.diagnosis, card.diagnosis_source) if x), \
        [a.tool for a in card.actions]


def test_a_crash_looping_dependency_is_named_with_its_own_line_and_why_callers_are_refused(
        settings: Settings, private_k8s: tuple) -> None:
    line, actions = _said(settings, private_k8s, "dependency-down-redis", alertname="HighErrorRate",
                          namespace="shop", service="checkout")
    assert "dependency-down: Pod cache/redis-master-0 (CrashLoopBackOff) behind Service cache/redis-master, " \
        "which has no ready endpoints: callers get connection refused" in line
    assert "Bad file format reading the append only file" in line and actions == []


def test_a_service_whose_selector_matches_no_pod_is_the_cause_with_the_labels_that_do_exist(
        settings: Settings, private_k8s: tuple) -> None:
    line, actions = _said(settings, private_k8s, "service-selector-mismatch", alertname="HighErrorRate",
                          namespace="shop", service="checkout")
    assert "service-selector-mismatch: Service shop/payment: selector app=payment matches no pod" in line
    assert "pods of Deployment shop/payments are labelled app=payments" in line
    assert "newsletter" not in line and actions == []


def test_ready_endpoints_that_refuse_on_a_target_port_no_pod_declares(settings: Settings,
                                                                      private_k8s: tuple) -> None:
    line, actions = _said(settings, private_k8s, "service-target-port-mismatch", alertname="HighErrorRate",
                          namespace="billing", service="billing-api")
    assert "Service messaging/notifications: port 80 targets 8080, which no selected pod declares " \
        "(they declare 3000)" in line and actions == []


@pytest.mark.parametrize(("name", "namespace", "service", "quoted"), [
    ("coredns-loop-detected", "storefront", "storefront", '[FATAL] plugin/loop: Loop (127.0.0.1:49380 -> :53)'),
    ("coredns-corefile-error", "inventory", "inventory-api", "Error during parsing: Unknown directive 'forwad'"),
])
def test_failing_lookups_lead_to_the_cluster_dns_pod_and_its_own_line(
        settings: Settings, private_k8s: tuple, name: str, namespace: str, service: str, quoted: str) -> None:
    line, actions = _said(settings, private_k8s, name, alertname="HighErrorRate", namespace=namespace,
                          service=service)
    assert line.startswith("cluster-dns-failure cluster-dns-failure: Pod kube-system/coredns-"), line
    assert "of Deployment kube-system/coredns, the cluster DNS behind Service kube-system/kube-dns (0 of 2 " \
        "endpoints ready): callers' lookups fail" in line
    assert quoted in line and actions == []


def test_sandboxes_without_an_address_lead_to_the_network_plugins_pod(settings: Settings,
                                                                      private_k8s: tuple) -> None:
    line, actions = _said(settings, private_k8s, "cni-ip-exhaustion", alertname="KubeDeploymentReplicasMismatch",
                          namespace="search", deployment="search-api")
    assert "cni-ip-exhaustion: Pod kube-system/aws-node-" in line
    assert "(network plugin aws-cni on node ip-10-20-" in line
    assert "no pod IP address left to assign, so 3 pods of Deployment search/search-api stay in " \
        "ContainerCreating" in line
    assert "InsufficientFreeAddressesInSubnet" in line and "indexer" not in line and actions == []


def test_calls_to_a_host_outside_the_cluster_say_the_cause_was_not_found_there(settings: Settings,
                                                                             private_k8s: tuple) -> None:
    line, actions = _said(settings, private_k8s, "external-api-unreachable", alertname="HighErrorRate",
                          namespace="payouts", service="payout-api")
    assert "dependency-unreachable" in line and "the cause was not found in the cluster" in line
    assert "dial tcp 203.0.113.45:443: i/o timeout" in line and "fx-rates-sync" not in line and actions == []
