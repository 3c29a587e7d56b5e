"""The network follow-ups find the neighbour by what the evidence names, not by a fixed name: the network
plugin's DaemonSet by the plugin a sandbox error names, in whatever namespace it runs; the cluster DNS by the
resolver address a failing lookup names, else kube-system's Service on port 53. Results have the shapes
k8s_describe, k8s_list and k8s_pod_logs return."""

from __future__ import annotations

from typing import Any

from bot.triage.reads import follow_ups
from tools.base import Status, ToolResult

DAEMONSETS = [("kube-system", "kube-proxy"), ("kube-system", "aws-node"), ("calico-system", "calico-node"),
              ("kube-system", "cilium"), ("kube-system", "cilium-envoy"), ("logging", "fluent-bit")]


def _result(tool: str, **data: Any) -> ToolResult:
    return ToolResult(tool=tool, status=Status.success, invocation=tool, data=data)


def _stuck(message: str) -> ToolResult:
    event = {"type": "Warning", "reason": "FailedCreatePodSandBox", "message": message, "count": 4}
    return _result("k8s_describe", kind="Pod", namespace="web", name="web-7c9d-x2", node="node-a",
                   status="ContainerCreating", events=[event], init_containers=[], conditions=[], containers=[
                       {"name": "web", "ready": False, "state": {"state": "waiting", "reason": "ContainerCreating"}}])


def _described(checks: list[tuple[str, dict[str, Any]]], kind: str) -> set[str]:
    return {f"{a['namespace']}/{a['name']}" for tool, a in checks if tool == "k8s_describe" and a["kind"] == kind}


def test_the_plugin_a_sandbox_error_names_leads_to_its_daemonset_wherever_it_runs() -> None:
    listed = _result("k8s_list", kind="DaemonSet", namespace=None,
                     items=[{"namespace": ns, "name": name} for ns, name in DAEMONSETS])
    calico = _stuck('failed to setup network for sandbox "3f9a": plugin type="calico" failed (add): error getting '
                    'ClusterInformation: connection is unauthorized: Unauthorized')
    assert _described(follow_ups([calico, listed]), "DaemonSet") == {"calico-system/calico-node"}
    cilium = _stuck('failed to setup network for sandbox "9b1c": plugin type="cilium-cni" failed (add): unable to '
                    'allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure  range is full')
    assert _described(follow_ups([cilium, listed]), "DaemonSet") == {"kube-system/cilium", "kube-system/cilium-envoy"}
    assert follow_ups([_stuck("failed to setup network for sandbox: add cmd: failed to assign an IP address to "
                              "container"), listed]) == []  # names no plugin: nothing to follow


def test_the_plugins_pod_on_the_stuck_pods_node_and_its_logs_are_read() -> None:
    stuck = _stuck('plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to '
                   'container')
    ds = _result("k8s_describe", kind="DaemonSet", namespace="kube-system", name="aws-node", events=[],
                 pods=[{"name": "aws-node-aaaaa", "node": "node-b"}, {"name": "aws-node-bbbbb", "node": "node-a"}])
    checks = follow_ups([stuck, ds])
    assert ("k8s_describe", {"kind": "Pod", "namespace": "kube-system", "name": "aws-node-bbbbb"}) in checks
    assert ("k8s_pod_logs", {"namespace": "kube-system", "pod": "aws-node-bbbbb", "tail_lines": 40}) in checks


def test_failing_lookups_lead_to_the_dns_service_by_the_resolver_they_name_else_port_53_in_kube_system() -> None:
    services = _result("k8s_list", kind="Service", namespace=None, items=[
        {"namespace": "kube-system", "name": "rke2-coredns-rke2-coredns", "cluster_ip": "10.43.0.10",
         "ports": ["53/UDP", "53/TCP"]},
        {"namespace": "kube-system", "name": "metrics-server", "cluster_ip": "10.43.9.1", "ports": ["443/TCP"]},
        {"namespace": "shop", "name": "cart", "cluster_ip": "10.43.7.7", "ports": ["80/TCP"]}])
    go = _result("k8s_pod_logs", namespace="shop", pod="checkout-1", container="checkout", lines=[
        "dial tcp: lookup cart.shop.svc.cluster.local on 10.43.0.10:53: server misbehaving"])
    assert _described(follow_ups([go, services]), "Service") == {"kube-system/rke2-coredns-rke2-coredns"}
    node = _result("k8s_pod_logs", namespace="shop", pod="web-1", container="web", lines=[
        "Error: getaddrinfo EAI_AGAIN cart.shop.svc.cluster.local"])
    assert _described(follow_ups([node, services]), "Service") == {"kube-system/rke2-coredns-rke2-coredns"}
    healthy = _result("k8s_pod_logs", namespace="shop", pod="web-1", container="web", lines=["GET / 200"])
    assert _described(follow_ups([healthy, services]), "Service") == set()
