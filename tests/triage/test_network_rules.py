"""The network and dependency rules never guess: a dependency whose pods look healthy is said not to be found
failing; lookups that fail while the cluster DNS's pods are healthy are not blamed on it; a sandbox error that
names no plugin still says the address ran out without naming a plugin's pods; and a pod's egress
NetworkPolicy reaches the card's evidence. Results have the shapes k8s_describe and k8s_pod_logs return."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from bot.triage.evidence import summarise
from tools.base import Status, ToolResult

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REFUSED = 'level=error msg="POST /checkout 500" error="dial tcp 10.96.140.22:6379: connect: connection refused"'
LOOKUP = "getaddrinfo EAI_AGAIN cart-api.shop.svc.cluster.local"


def _alert(**labels: str) -> Alert:
    labels = {"alertname": "HighErrorRate", "namespace": "shop", "service": "checkout", **labels}
    return Alert(source="alertmanager", name=labels["alertname"], status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _result(tool: str, **data: Any) -> ToolResult:
    return ToolResult(tool=tool, status=Status.success, invocation=tool, data=data)


def _pod(ns: str, name: str, ready: bool = True, **more: Any) -> ToolResult:
    state = {"state": "running"} if ready else {"state": "waiting", "reason": "CrashLoopBackOff"}
    container = {"name": name.split("-")[0], "ready": ready, "restarts": 0 if ready else 5, "state": state}
    return _result("k8s_describe", kind="Pod", namespace=ns, name=name, status="Running" if ready else
                   "CrashLoopBackOff", containers=[container], init_containers=[], events=[], conditions=[], **more)


def _service(ns: str, name: str, ready: list[str], port: int = 6379, **more: Any) -> ToolResult:
    return _result("k8s_describe", kind="Service", namespace=ns, name=name, selector={"app": name},
                   ports=[{"name": "p", "port": port, "target_port": str(port), "protocol": "TCP"}],
                   endpoints={"ready": [f"{p} (10.244.0.9)" for p in ready], "not_ready": []},
                   pods_matched=len(ready), events=[], **more)


def _logs(ns: str, pod: str, *lines: str) -> ToolResult:
    return _result("k8s_pod_logs", namespace=ns, pod=pod, container=pod.split("-")[0], lines=list(lines))


def test_calls_refused_by_a_dependency_whose_pods_look_healthy_say_it_was_not_found_failing() -> None:
    d = diagnose(_alert(), [_pod("shop", "checkout-5d8f-x2"), _logs("shop", "checkout-5d8f-x2", REFUSED),
                            _service("cache", "redis", ["redis-0"]), _pod("cache", "redis-0")], NOW)
    assert d and d.mode == "dependency-down" and d.basis == "logs" and d.summary == REFUSED
    assert ("calls Service cache/redis (whose 1 pod(s) read are running and ready): the dependency was not found "
            "failing") in d.about and d.rollback is None


def test_lookups_failing_while_the_cluster_dns_pods_are_ready_are_not_blamed_on_it() -> None:
    dns = _service("kube-system", "kube-dns", ["coredns-7db6d8ff4d-abcde"], port=53, cluster_ip="10.96.0.10")
    d = diagnose(_alert(), [_pod("shop", "checkout-5d8f-x2"), _logs("shop", "checkout-5d8f-x2", LOOKUP), dns,
                            _pod("kube-system", "coredns-7db6d8ff4d-abcde")], NOW)
    assert d is None or d.mode != "cluster-dns-failure"
    sick = diagnose(_alert(), [_pod("shop", "checkout-5d8f-x2"), _logs("shop", "checkout-5d8f-x2", LOOKUP), dns,
                               _pod("kube-system", "coredns-7db6d8ff4d-abcde", ready=False)], NOW)
    assert sick and sick.mode == "cluster-dns-failure" and "Pod kube-system/coredns-7db6d8ff4d-abcde" in sick.about


def test_a_sandbox_error_that_names_no_plugin_says_the_addresses_ran_out_without_naming_a_plugin() -> None:
    message = ('Failed create pod sandbox: rpc error: code = Unknown desc = NetworkPlugin cni failed to set up pod '
               '"search-api-7c9d-x2_search" network: add cmd: failed to assign an IP address to container')
    event = {"type": "Warning", "reason": "FailedCreatePodSandBox", "message": message, "count": 9}
    pod = _result("k8s_describe", kind="Pod", namespace="search", name="search-api-7c9d-x2", node="ip-10-0-1-2",
                  status="ContainerCreating", events=[event], init_containers=[], conditions=[],
                  containers=[{"name": "search-api", "ready": False, "restarts": 0,
                               "state": {"state": "waiting", "reason": "ContainerCreating"}}])
    d = diagnose(_alert(namespace="search", service="search-api", alertname="KubePodNotReady"), [pod], NOW)
    assert d and d.mode == "cni-ip-exhaustion" and d.summary == message
    assert d.about.startswith("the network plugin (the event names none) on node ip-10-0-1-2: no pod IP address "
                              "left to assign, so Pod search/search-api-7c9d-x2 stays in ContainerCreating")


def test_a_pods_egress_network_policy_reaches_the_evidence() -> None:
    pod = _pod("payments", "ledger-api-5f7c-2lq8x", network_policies=[
        {"name": "deny-egress", "policy_types": ["Egress"]}, {"name": "allow-ingress", "policy_types": ["Ingress"]}])
    texts = [e.text for e in summarise(pod.model_copy(update={"invocation": "k8s_describe(kind='Pod')"}))]
    assert "its egress is limited by NetworkPolicy deny-egress" in texts


def test_calls_naming_no_service_say_whether_the_services_were_read_at_all() -> None:
    call = 'error="dial tcp 203.0.113.45:443: i/o timeout"'
    unread = diagnose(_alert(), [_pod("shop", "checkout-5d8f-x2"), _logs("shop", "checkout-5d8f-x2", call)], NOW)
    assert unread and unread.mode == "dependency-unreachable" and unread.summary == call
    assert "the failing calls were not matched: the cluster's Services could not be read" in unread.about
    listed = _result("k8s_list", kind="Service", namespace=None, items=[{"name": "checkout", "namespace": "shop"}])
    read = diagnose(_alert(), [_pod("shop", "checkout-5d8f-x2"), _logs("shop", "checkout-5d8f-x2", call), listed],
                    NOW)
    assert read and "the failing calls name no Service of the cluster; the cause was not found in the cluster" \
        in read.about
