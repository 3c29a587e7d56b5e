"""The Kubernetes read tools, called through the door against the sandbox's emulated cluster.

Scenario crashloop-missing-env: shop/checkout runs release 1.5.0 (revision 2), whose three pods crash-loop
because DATABASE_URL was dropped; shop/cart is healthy.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.guard.door import Caller, Door
from tools.base import Status, ToolResult


def run(door: Door, caller: Caller, tool: str, **args: Any) -> ToolResult:
    return door.run(tool, args, caller)


@pytest.fixture
def checkout_pod(door: Door, oncall: Caller) -> str:
    r = run(door, oncall, "k8s_list", namespace="shop", deployment="checkout")
    return r.data["pods"][0]["name"]


# -- k8s_list ------------------------------------------------------------------------------------


def test_crash_looping_checkout_pods_are_listed_first_with_their_reason(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_list", namespace="shop")
    assert r.status == Status.success
    assert r.invocation == "k8s_list(namespace='shop')"
    pods = r.data["pods"]
    checkout = [p for p in pods if p["name"].startswith("checkout-")]
    assert len(checkout) == 3
    assert pods[:3] == checkout, "unhealthy pods come first"
    for p in checkout:
        assert p["status"] == "CrashLoopBackOff"
        assert p["ready"] == "0/1"
        assert p["restarts"] == 9
        assert p["last_termination"]["reason"] == "Error"
        assert p["last_termination"]["exit_code"] == 1
        assert p["age"].endswith("m"), "about 25 minutes old"
        assert p["node"]
    cart = [p for p in pods if p["name"].startswith("cart-")]
    assert [p["status"] for p in cart] == ["Running", "Running"]
    assert all(p["ready"] == "1/1" for p in cart)
    assert "3 CrashLoopBackOff" in r.data["summary"]


def test_pods_of_one_deployment_and_only_the_unhealthy_ones(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_list", namespace="shop", deployment="checkout", only_unhealthy=True)
    assert r.status == Status.success
    assert r.invocation == "k8s_list(namespace='shop', deployment='checkout', only_unhealthy=True)"
    assert len(r.data["pods"]) == 3

    healthy = run(door, oncall, "k8s_list", namespace="shop", deployment="cart", only_unhealthy=True)
    assert healthy.status == Status.no_data
    assert "all 2 pods" in healthy.notice and "none is unhealthy" in healthy.notice


def test_a_label_selector_matching_nothing_says_what_was_searched(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_list", namespace="shop", selector="app=nothing-here")
    assert r.status == Status.no_data
    assert r.data is None
    assert r.notice == "no pods in namespace 'shop' with label selector 'app=nothing-here'"


def test_deployment_and_selector_together_are_refused(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_list", namespace="shop", deployment="checkout", selector="app=checkout")
    assert r.status == Status.error
    assert "either deployment or selector" in r.error


def test_an_unknown_deployment_names_the_ones_that_exist(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_list", namespace="shop", deployment="chekout")
    assert r.status == Status.error
    assert r.error == "deployment 'chekout' not found in namespace 'shop'; deployments there: cart, checkout"


# -- k8s_describe: pods -----------------------------------------------------------------------------


def test_describe_shows_why_the_container_keeps_dying(door: Door, oncall: Caller, checkout_pod: str) -> None:
    r = run(door, oncall, "k8s_describe", kind="Pod", namespace="shop", name=checkout_pod)
    assert r.status == Status.success
    assert r.invocation == f"k8s_describe(kind='Pod', name='{checkout_pod}', namespace='shop')"
    d = r.data
    assert d["status"] == "CrashLoopBackOff"
    rs, deploy = d["controlled_by"]
    assert rs.startswith("ReplicaSet/checkout-") and deploy == "Deployment/checkout"
    assert {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
            "message": "containers with unready status: [checkout]"} in d["conditions"]
    (c,) = d["containers"]
    assert c["image"] == "registry.local/shop/checkout:1.5.0"
    assert c["restarts"] == 9
    assert c["state"]["state"] == "waiting" and c["state"]["reason"] == "CrashLoopBackOff"
    assert c["last_state"]["reason"] == "Error" and c["last_state"]["exit_code"] == 1
    assert "DATABASE_URL is not set" in c["last_state"]["message"]
    assert c["env"] == ["LOG_LEVEL"], "names only; DATABASE_URL is what went missing"
    assert "info" not in json.dumps(c["env"]), "never values"
    events = d["events"]
    assert events[0]["type"] == "Warning" and events[0]["reason"] == "BackOff"
    assert events[0]["count"] == 41
    assert all(e["object"] == f"Pod/{checkout_pod}" for e in events)


def test_the_right_name_in_a_guessed_namespace_says_where_it_is(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_describe", kind="Deployment", namespace="shop", name="payments-api")
    assert r.status == Status.error
    assert r.error == ("deployment 'payments-api' not found in namespace 'shop'; it is in namespace payments; "
                       "deployments there: cart, checkout")
    r = run(door, oncall, "k8s_pod_logs", namespace="shop", pod="payments-api")
    assert r.status == Status.error and "; deployment payments-api is in namespace payments;" in r.error


def test_describing_a_deployment_name_as_a_pod_points_at_the_right_tool(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_describe", kind="Pod", namespace="shop", name="checkout")
    assert r.status == Status.error
    assert "pod 'checkout' not found in namespace 'shop'" in r.error
    assert "'checkout' is a deployment" in r.error

    r = run(door, oncall, "k8s_describe", kind="Pod", namespace="shop", name="nothing-like-this")
    assert r.status == Status.error
    assert "pods there: cart-" in r.error


# -- k8s_pod_logs -------------------------------------------------------------------------------------


def test_logs_of_a_crashing_pod_show_the_missing_variable(door: Door, oncall: Caller, checkout_pod: str) -> None:
    r = run(door, oncall, "k8s_pod_logs", namespace="shop", pod=checkout_pod)
    assert r.status == Status.success
    assert r.invocation == f"k8s_pod_logs(namespace='shop', pod='{checkout_pod}')"
    assert r.data["container"] == "checkout"
    assert "DATABASE_URL is not set" in r.data["lines"][-1]

    prev = run(door, oncall, "k8s_pod_logs", namespace="shop", pod=checkout_pod, previous=True, tail_lines=1)
    assert prev.status == Status.success
    assert prev.data["previous"] is True
    assert prev.invocation.endswith("tail_lines=1, previous=True)")
    assert len(prev.data["lines"]) == 1
    assert "DATABASE_URL is not set" in prev.data["lines"][0]


def test_logs_by_deployment_name_pick_its_newest_pod_and_say_which(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_pod_logs", namespace="shop", pod="checkout", since="24h")  # the session's age
    assert r.status == Status.success
    assert r.data["pod"].startswith("checkout-")
    assert r.notice == f"'checkout' is a Deployment; showing its newest pod {r.data['pod']} (of 3)"
    assert any("DATABASE_URL" in line for line in r.data["lines"])


def test_a_log_filter_matching_nothing_is_no_data_not_silence(door: Door, oncall: Caller, checkout_pod: str) -> None:
    r = run(door, oncall, "k8s_pod_logs", namespace="shop", pod=checkout_pod, filter="OutOfMemory")
    assert r.status == Status.no_data
    assert f"pod '{checkout_pod}' in 'shop'" in r.notice
    assert "matching 'OutOfMemory'" in r.notice

    hit = run(door, oncall, "k8s_pod_logs", namespace="shop", pod=checkout_pod, filter="database_url")
    assert hit.status == Status.success
    assert hit.data["lines"] == ["FATAL config error: required environment variable DATABASE_URL is not set"]


def test_previous_logs_of_a_pod_that_never_restarted_are_refused(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_pod_logs", namespace="shop", pod="cart", previous=True)
    assert r.status == Status.error
    assert "previous terminated container" in r.error and "not found" in r.error


@pytest.mark.parametrize(("args", "expected"), [
    ({"since": "yesterday"}, "'yesterday' is not a duration"),
    ({"tail_lines": 0}, "tail_lines"),
    ({"tail_lines": 100000}, "tail_lines"),
    ({"container": "sidecar"}, "has no container 'sidecar'; containers: checkout"),
])
def test_bad_log_arguments_are_explained(door: Door, oncall: Caller, args: dict[str, Any], expected: str) -> None:
    r = run(door, oncall, "k8s_pod_logs", namespace="shop", pod="checkout", **args)
    assert r.status == Status.error
    assert expected in r.error


# -- k8s_events ---------------------------------------------------------------------------------------


def test_events_come_warnings_first_then_newest_first(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_events", namespace="shop")
    assert r.status == Status.success
    events = r.data["events"]
    kinds = [e["type"] for e in events]
    assert kinds == sorted(kinds, key=lambda t: t != "Warning")
    assert r.data["warnings"] == 3
    assert events[0]["reason"] == "BackOff" and events[0]["count"] == 41
    normal = [e for e in events if e["type"] == "Normal"]
    assert [e["last_seen_at"] for e in normal] == sorted((e["last_seen_at"] for e in normal), reverse=True)
    assert {"Pulled", "ScalingReplicaSet"} <= {e["reason"] for e in normal}


def test_events_about_one_object_and_a_limit(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_events", namespace="shop", object_name="checkout", limit=2)
    assert r.status == Status.success
    assert len(r.data["events"]) == 2
    assert r.data["total"] == 7
    assert r.notice == "showing 2 of 7 events"
    assert all("checkout" in e["object"] for e in r.data["events"])


def test_no_events_is_said_plainly(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_events", namespace="payments")
    assert r.status == Status.no_data
    assert r.notice == "no events in namespace 'payments' (events are kept ~1h)"
    r = run(door, oncall, "k8s_events", namespace="shop", object_name="cart")
    assert r.status == Status.no_data
    assert "about 'cart'" in r.notice


# -- k8s_describe: deployments ----------------------------------------------------------------------


def test_checkout_deployment_is_stuck_on_revision_2(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_describe", kind="Deployment", namespace="shop", name="checkout")
    assert r.status == Status.success
    d = r.data
    assert d["image"] == "registry.local/shop/checkout:1.5.0"
    assert d["revision"] == 2
    assert d["healthy"] is False
    assert d["replicas"] == {"desired": 3, "current": 3, "ready": 0, "updated": 3, "available": 0,
                             "unavailable": 3}
    assert d["rollout"].startswith("stuck: deployment 'checkout' exceeded its progress deadline")
    revs = [(x["revision"], x["image"], x["change_cause"], x["live"]) for x in d["revisions"]]
    assert revs == [
        (1, "registry.local/shop/checkout:1.4.2", "release 1.4.2", False),
        (2, "registry.local/shop/checkout:1.5.0", "release 1.5.0: move config to env", True),
    ]
    assert d["revisions"][0]["age"] == "6d"


def test_a_healthy_deployment_is_rolled_out(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_describe", kind="Deployment", namespace="shop", name="cart")
    assert r.data["healthy"] is True
    assert r.data["rollout"] == "rolled out: 2 of 2 replicas updated and available"


# -- errors every tool shares -------------------------------------------------------------------------

ONE_CALL_EACH = [
    ("k8s_list", {}),
    ("k8s_describe", {"kind": "Pod", "name": "checkout-abc"}),
    ("k8s_events", {}),
    ("k8s_pod_logs", {"pod": "checkout"}),
    ("k8s_describe", {"kind": "Deployment", "name": "checkout"}),
]


@pytest.mark.parametrize(("tool", "args"), ONE_CALL_EACH)
def test_an_unknown_namespace_lists_the_real_ones(door: Door, oncall: Caller, tool: str, args: dict) -> None:
    r = door.run(tool, {"namespace": "shops", **args}, oncall)
    assert r.status == Status.error
    assert r.error == "namespace 'shops' does not exist; namespaces: kube-system, payments, shop"


@pytest.mark.parametrize(("tool", "args"), ONE_CALL_EACH)
def test_an_unreachable_api_server_is_an_error_naming_it(
    down_door: Door, oncall: Caller, dead_url: str, tool: str, args: dict
) -> None:
    r = down_door.run(tool, {"namespace": "shop", **args}, oncall)
    assert r.status == Status.error
    assert r.data is None
    assert r.error.startswith(f"could not reach kubernetes at {dead_url} for ")
    assert "connection refused" in r.error
    (record,) = down_door.audit.query()
    assert record.action == tool and record.status == "error"


@pytest.mark.parametrize(("field", "value"), [
    ("namespace", "shop; rm -rf /"),
    ("namespace", "$(id)"),
    ("namespace", "Shop"),
    ("pod", "checkout-1|cat /etc/passwd"),
    ("pod", "../etc"),
    ("container", "a`b`"),
])
def test_names_that_are_not_kubernetes_names_are_rejected_before_any_call(
    down_door: Door, oncall: Caller, field: str, value: str
) -> None:
    args = {"namespace": "shop", "pod": "checkout", field: value}
    r = down_door.run("k8s_pod_logs", args, oncall)
    assert r.status == Status.error
    assert r.error.startswith("invalid arguments for k8s_pod_logs: ")
    assert "is not a Kubernetes name" in r.error
    assert "could not reach" not in r.error, "refused before the (down) backend was asked"


def test_a_selector_with_shell_characters_is_rejected(door: Door, oncall: Caller) -> None:
    r = run(door, oncall, "k8s_list", namespace="shop", selector="app=checkout;reboot")
    assert r.status == Status.error
    assert "is not a label selector" in r.error


def test_every_call_is_audited_with_its_outcome(door: Door, oncall: Caller) -> None:
    run(door, oncall, "k8s_list", namespace="shop")
    run(door, oncall, "k8s_list", namespace="shop", selector="app=none")
    run(door, oncall, "k8s_describe", kind="Deployment", namespace="nowhere", name="checkout")
    records = door.audit.query()
    assert [(r.action, r.status) for r in records] == [
        ("k8s_list", "success"), ("k8s_list", "no_data"), ("k8s_describe", "error"),
    ]
    assert records[0].summary == "k8s_list(namespace='shop')"
    assert records[0].identity == oncall.identity
    assert records[2].target == "nowhere/Deployment/checkout"


def test_the_tools_are_described_for_the_model() -> None:
    from tools import k8s_describe, k8s_events, k8s_list, k8s_logs

    for t in [*k8s_list.TOOLS, *k8s_describe.TOOLS, *k8s_events.TOOLS, *k8s_logs.TOOLS]:
        assert t.backend == "kubernetes" and not t.mutates
        schema = t.args.model_json_schema()
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{t.name}.{name} needs a description"
