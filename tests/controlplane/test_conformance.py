"""Tool conformance: opsbot's tools give the same answer from the real API server as from the emulator, on the
same objects (sandbox/k8s_copy.py copies them), read at the same instant by opsbot's ServiceAccount.

What a copy cannot carry is set aside by name (SERVER_SET: the creation time a client cannot set, and what is
computed from it); every other difference is an emulator bug to fix or a known limit with its own test here
(docs/controlplane.md lists them).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client, config

from bot.guard.door import Caller, Door
from bot.settings import Settings
from sandbox.k8s_copy import BUILT_IN_NAMESPACES
from sandbox.k8s_identity import OPSBOT_NS
from tests.controlplane.conftest import Twins
from tests.support.doors import OPERATOR, Clock, door_with_clock
from tools.base import ToolResult
from tools.k8s_kinds import KINDS

WHO = Caller(identity="cli:conformance")
EVERY_KIND_NAMESPACES = ("shop", "batch", "data", "monitoring")
SET_ASIDE_KINDS = {
    "Namespace": "a known limit: test_known_limit_the_emulator_has_only_the_scenarios_namespaces",
    "LimitRange": "a known limit: test_known_limit_the_api_server_defaults_a_limit_range",
    "CronJob": "whether a run is overdue counts from the CronJob's creation, which a copy cannot carry",
}
SERVER_SET = {"age", "created", "began_created"}  # from metadata.creationTimestamp, which the API server sets
# what the DefaultTolerationSeconds admission plugin gives every pod that does not tolerate these taints itself
DEFAULT_TOLERATIONS = ["node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute"]

READS: list[tuple[str, dict[str, Any]]] = [
    ("k8s_list", {"namespace": "shop"}),
    ("k8s_list", {"namespace": "shop", "deployment": "checkout"}),
    ("k8s_list", {"namespace": "shop", "deployment": "cart", "only_unhealthy": True}),
    ("k8s_list", {"namespace": "shop", "selector": "app=nothing-here"}),
    ("k8s_list", {"namespace": "shop", "deployment": "chekout"}),
    *[("k8s_list", {"kind": kind, "namespace": "shop"}) for kind in
      ("Deployment", "ReplicaSet", "Service", "Endpoints", "ConfigMap", "Secret", "Event", "StatefulSet",
       "DaemonSet", "Job", "CronJob", "PersistentVolumeClaim", "NetworkPolicy", "HorizontalPodAutoscaler")],
    *[("k8s_list", {"kind": kind}) for kind in ("Node", "PersistentVolume", "StorageClass")],
    ("k8s_describe", {"kind": "Deployment", "name": "checkout", "namespace": "shop"}),
    ("k8s_describe", {"kind": "Deployment", "name": "cart", "namespace": "shop"}),
    ("k8s_describe", {"kind": "Service", "name": "checkout", "namespace": "shop"}),
    ("k8s_describe", {"kind": "Service", "name": "cart", "namespace": "shop"}),
    ("k8s_describe", {"kind": "Deployment", "name": "gone", "namespace": "shop"}),
    ("k8s_events", {"namespace": "shop"}),
    ("k8s_events", {"namespace": "shop", "kind": "Deployment", "object_name": "checkout"}),
    ("k8s_events", {"namespace": "shop", "only_warnings": True}),
]


def _set_aside(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<set by the API server>" if k in SERVER_SET else _set_aside(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_set_aside(v) for v in value]
    return value


def answer(r: ToolResult, assigned: dict[str, str] | None = None) -> dict[str, Any]:
    """What a user sees of a tool's result, less what the copy could not carry; `assigned` maps what the real
    API server gave the copies (uids in labels, cluster IPs) back to the emulator's."""
    seen = json.dumps({"status": r.status.value, "data": r.data, "notice": r.notice, "error": r.error,
                       "invocation": r.invocation})
    for real, emulated in (assigned or {}).items():
        seen = seen.replace(real, emulated)
    return _set_aside(json.loads(seen))


def doors(twins: Twins) -> tuple[Door, Door]:
    """Doors onto the emulator and the real API server that read the same clock (ages and 'ago' agree)."""
    clock = Clock()
    return door_with_clock(twins.emulated, clock), door_with_clock(twins.real, clock)


@pytest.mark.parametrize(("tool", "args"), READS, ids=[f"{t}{sorted(a.items())}" for t, a in READS])
def test_a_read_tool_answers_the_same_from_the_real_api_server(twins: Twins, tool: str, args: dict) -> None:
    emulated, real = doors(twins)
    assert answer(real.run(tool, args, WHO), twins.assigned) == answer(emulated.run(tool, args, WHO))


def test_every_kind_is_listed_and_described_the_same_from_the_real_api_server(every_kind_twins: Twins) -> None:
    emulated, real = doors(every_kind_twins)
    differ = []
    for kind, info in KINDS.items():
        if kind in SET_ASIDE_KINDS:
            continue
        for scope in ([{"namespace": ns} for ns in EVERY_KIND_NAMESPACES] if info.namespaced else [{}]):
            calls = [("k8s_list", {"kind": kind, **scope})]
            listed = emulated.run("k8s_list", {"kind": kind, **scope}, WHO)
            for row in (listed.data or {}).get("pods" if kind == "Pod" else "items", []):
                ns = {"namespace": row.get("namespace", scope.get("namespace"))} if info.namespaced else {}
                calls.append(("k8s_describe", {"kind": kind, "name": row["name"], **ns}))
            for tool, args in calls:
                want = answer(emulated.run(tool, args, WHO))
                got = answer(real.run(tool, args, WHO), every_kind_twins.assigned)
                if kind == "Pod" and tool == "k8s_describe" and got["data"]:
                    assert got["data"]["tolerations"][-2:] == DEFAULT_TOLERATIONS
                    got["data"]["tolerations"] = got["data"]["tolerations"][:-2] or None
                if got != want:
                    differ.append((tool, args, want, got))
    assert not differ, "\n".join(f"{t} {a}:\n  emulator {w}\n  real     {g}" for t, a, w, g in differ)


def test_a_pod_described_is_the_same_but_for_the_tolerations_the_api_server_adds(twins: Twins) -> None:
    emulated, real = doors(twins)
    for p in emulated.run("k8s_list", {"namespace": "shop"}, WHO).data["pods"]:
        args = {"kind": "Pod", "name": p["name"], "namespace": "shop"}
        want = answer(emulated.run("k8s_describe", args, WHO))
        got = answer(real.run("k8s_describe", args, WHO), twins.assigned)
        assert want["data"]["tolerations"] is None, "known limit: the emulator adds no default toleration"
        assert got["data"]["tolerations"] == DEFAULT_TOLERATIONS
        got["data"]["tolerations"] = None
        assert got == want


def test_known_limit_the_emulator_has_only_the_scenarios_namespaces(twins: Twins) -> None:
    """A real cluster also has default, kube-public and kube-node-lease, and the namespace opsbot runs in."""
    emulated, real = doors(twins)
    names = [{i["name"] for i in d.run("k8s_list", {"kind": "Namespace"}, WHO).data["items"]} for d in (emulated, real)]
    assert names[0] < names[1]
    assert BUILT_IN_NAMESPACES | {OPSBOT_NS} <= names[1] - names[0]
    assert not BUILT_IN_NAMESPACES & names[0]
    unknown = [d.run("k8s_list", {"namespace": "nowhere"}, WHO).error for d in (emulated, real)]
    assert unknown[0] == f"namespace 'nowhere' does not exist; namespaces: {', '.join(sorted(names[0]))}"
    assert unknown[1] == f"namespace 'nowhere' does not exist; namespaces: {', '.join(sorted(names[1]))}"


def _api(settings: Settings) -> client.ApiClient:
    return config.new_client_from_config(str(settings.kubernetes.kubeconfig))


def _deployment(settings: Settings, name: str) -> tuple[int, list[tuple[str, str]], list[str]]:
    """A deployment's replicas, pod-template annotations and images, read with the official client."""
    d = client.AppsV1Api(_api(settings)).read_namespaced_deployment(name, "shop")
    return (d.spec.replicas, sorted((d.spec.template.metadata.annotations or {}).items()),
            [c.image for c in d.spec.template.spec.containers])


def _approved(door: Door, tool: str, args: dict[str, Any], assigned: dict[str, str] | None = None,
              ) -> tuple[dict[str, Any], str | None]:
    """The proposal as the operator sees it (its random action id set aside) and, once approved, what was done."""
    asked = door.run(tool, args, OPERATOR)
    action = (asked.data or {}).get("action_id")
    done = door.gate.decide(action, "slack:U0LEAD", approve=True).message if action else None
    seen = answer(asked, assigned)
    if action:
        seen["notice"] = seen["notice"].replace(action, "ID")
        seen["data"] = {k: v for k, v in seen["data"].items() if k != "action_id"}
    return seen, done


@pytest.mark.parametrize(("tool", "args"), [
    ("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 5}),
    ("k8s_scale", {"namespace": "shop", "deployment": "cart", "replicas": 0}),
    ("k8s_rollout_restart", {"namespace": "shop", "deployment": "cart"}),
    ("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}),
    ("k8s_scale", {"namespace": "shop", "deployment": "chekout", "replicas": 2}),
])
def test_a_mutation_is_proposed_and_done_the_same_on_the_real_api_server(
        changed_twins: Twins, tool: str, args: dict[str, Any]) -> None:
    emulated, real = doors(changed_twins)
    assert _approved(real, tool, args, changed_twins.assigned) == _approved(emulated, tool, args)
    if args["deployment"] != "chekout":
        assert _deployment(changed_twins.real, args["deployment"]) == _deployment(changed_twins.emulated,
                                                                                 args["deployment"])


def test_known_limit_a_deleted_pod_stays_terminating_without_a_kubelet(changed_twins: Twins) -> None:
    """The approval and its message are the same; then the emulator's pod is gone (its ReplicaSet makes another),
    while the real API server waits for a kubelet that is not there to confirm the pod stopped."""
    emulated, real = doors(changed_twins)
    args = {"namespace": "shop", "pod": "cart-hqqlssqsxs-hj9h2"}
    assert _approved(real, "k8s_delete_pod", args, changed_twins.assigned) == _approved(
        emulated, "k8s_delete_pod", args)
    names = [{p.metadata.name: p for p in client.CoreV1Api(_api(s)).list_namespaced_pod(
        "shop", label_selector="app=cart").items} for s in (changed_twins.emulated, changed_twins.real)]
    assert "cart-hqqlssqsxs-hj9h2" not in names[0] and len(names[0]) == 2
    assert names[1]["cart-hqqlssqsxs-hj9h2"].metadata.deletion_timestamp is not None and len(names[1]) == 2


def test_known_limit_the_api_server_defaults_a_limit_range(every_kind_twins: Twins) -> None:
    """A Container limit with only max: the API server defaults the default limit to the max and the default
    request to the default limit; the emulator keeps them unset."""
    emulated, real = doors(every_kind_twins)
    args = {"kind": "LimitRange", "name": "container-limits", "namespace": "shop"}
    want, got = answer(emulated.run("k8s_describe", args, WHO)), answer(real.run("k8s_describe", args, WHO))
    limit = {"type": "Container", "resource": "memory", "min": "16Mi", "max": "4Gi"}
    assert want["data"]["limits"] == [{**limit, "default_request": None, "default_limit": None}]
    assert got["data"]["limits"] == [{**limit, "default_request": "4Gi", "default_limit": "4Gi"}]
