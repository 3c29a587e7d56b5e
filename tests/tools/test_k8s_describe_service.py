"""k8s_describe of a Service says what a person debugging "connection refused" checks next: how many pods its
selector matches, and when none the workloads whose labels come closest; a target port none of its pods
declares. Shipped scenarios loaded into an emulator of the module's own, read through the door."""

from __future__ import annotations

import time
from typing import Any

from bot.guard.door import Caller
from bot.settings import Settings
from sandbox import k8s, scenario
from tests.support.doors import make_door
from tools.base import Status


def _describe(settings: Settings, private_k8s: tuple, loaded: str, oncall: Caller, **args: str) -> dict[str, Any]:
    state, port = private_k8s
    k8s.load(state, port, scenario.load(loaded), time.time())
    door = make_door(settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})}))
    r = door.run("k8s_describe", {"kind": "Service", **args}, oncall)
    assert r.status == Status.success, r.error
    return r.data


def test_a_selector_that_matches_no_pod_names_the_closest_labels(settings: Settings, private_k8s: tuple,
                                                                 oncall: Caller) -> None:
    svc = _describe(settings, private_k8s, "service-selector-mismatch", oncall, namespace="shop", name="payment")
    assert svc["selector"] == {"app": "payment"} and svc["pods_matched"] == 0
    assert svc["endpoints"]["note"] == "the selector app=payment matches no pod in shop"
    assert svc["closest"][0] == {"workload": "Deployment/payments", "labels": {"app": "payments"}, "pods": 2,
                                 "likeness": 0.93}
    assert all(c["workload"] != "Deployment/newsletter" for c in svc["closest"])
    healthy = _describe(settings, private_k8s, "service-selector-mismatch", oncall, namespace="shop", name="catalog")
    assert healthy["pods_matched"] == 2 and "closest" not in healthy and "port_gaps" not in healthy


def test_a_target_port_no_selected_pod_declares_is_said(settings: Settings, private_k8s: tuple,
                                                        oncall: Caller) -> None:
    svc = _describe(settings, private_k8s, "service-target-port-mismatch", oncall, namespace="messaging",
                    name="notifications")
    assert svc["pods_matched"] == 2 and len(svc["endpoints"]["ready"]) == 2
    assert svc["port_gaps"] == ["port 80 targets 8080, which no selected pod declares (they declare 3000)"]
