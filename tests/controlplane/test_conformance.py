"""Tool conformance: opsbot's tools give the same answer from the real API server as from the emulator, on the
same objects (tests/support/controlplane.py copies them), read at the same instant by opsbot's ServiceAccount.

What a copy cannot carry is set aside by name (SERVER_SET: the creation time a client cannot set, and what is
computed from it); every other difference is an emulator bug to fix or a known limit with its own test here
(docs/controlplane.md lists them).
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client, config

from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.controlplane.conftest import Twins
from tests.support.controlplane import BUILT_IN_NAMESPACES, OPSBOT_NS
from tests.support.doors import OPERATOR, Clock, door_with_clock
from tools.base import ToolResult

WHO = Caller(identity="cli:conformance")
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


def answer(r: ToolResult) -> dict[str, Any]:
    """What a user sees of a tool's result, less what the copy could not carry."""
    return _set_aside({"status": r.status.value, "data": r.data, "notice": r.notice, "error": r.error,
                       "invocation": r.invocation})


def doors(twins: Twins) -> tuple[Door, Door]:
    """Doors onto the emulator and the real API server that read the same clock (ages and 'ago' agree)."""
    clock = Clock()
    return door_with_clock(twins.emulated, clock), door_with_clock(twins.real, clock)


@pytest.mark.parametrize(("tool", "args"), READS, ids=[f"{t}{sorted(a.items())}" for t, a in READS])
def test_a_read_tool_answers_the_same_from_the_real_api_server(twins: Twins, tool: str, args: dict) -> None:
    emulated, real = doors(twins)
    assert answer(real.run(tool, args, WHO)) == answer(emulated.run(tool, args, WHO))


def test_a_pod_described_is_the_same_but_for_the_tolerations_the_api_server_adds(twins: Twins) -> None:
    emulated, real = doors(twins)
    for p in emulated.run("k8s_list", {"namespace": "shop"}, WHO).data["pods"]:
        args = {"kind": "Pod", "name": p["name"], "namespace": "shop"}
        want, got = answer(emulated.run("k8s_describe", args, WHO)), answer(real.run("k8s_describe", args, WHO))
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


def _deployment(settings: Settings, name: str) -> tuple[int, list[str]]:
    """A deployment's replicas and pod-template annotations, read with the official client."""
    d = client.AppsV1Api(config.new_client_from_config(str(settings.kubernetes.kubeconfig))).read_namespaced_deployment(
        name, "shop")
    return d.spec.replicas, sorted((d.spec.template.metadata.annotations or {}).items())


def _approved(door: Door, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The proposal as the operator sees it (its random action id set aside) and, once approved, what was done."""
    asked = door.run(tool, args, OPERATOR)
    action = (asked.data or {}).get("action_id")
    done = door.gate.decide(action, "slack:U0LEAD", approve=True).message if action else None
    seen = answer(asked)
    if action:
        seen["notice"] = seen["notice"].replace(action, "ID")
        seen["data"] = {k: v for k, v in seen["data"].items() if k != "action_id"}
    return seen, done


@pytest.mark.parametrize(("tool", "args"), [
    ("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 5}),
    ("k8s_scale", {"namespace": "shop", "deployment": "cart", "replicas": 0}),
    ("k8s_rollout_restart", {"namespace": "shop", "deployment": "cart"}),
    ("k8s_scale", {"namespace": "shop", "deployment": "chekout", "replicas": 2}),
])
def test_a_mutation_is_proposed_and_done_the_same_on_the_real_api_server(
        changed_twins: Twins, tool: str, args: dict[str, Any]) -> None:
    emulated, real = doors(changed_twins)
    assert _approved(real, tool, args) == _approved(emulated, tool, args)
    if args["deployment"] != "chekout":
        assert _deployment(changed_twins.real, args["deployment"]) == _deployment(changed_twins.emulated,
                                                                                 args["deployment"])
