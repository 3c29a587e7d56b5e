"""The frequent reads sent without the generated API classes (tools/k8s_reads.py) send exactly the request the
generated CoreV1Api method sends, and give back the same objects, against the sandbox's cluster."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from bot.backends import Backends
from bot.settings import Settings
from tools import k8s_reads

ARGS = {"name": "checkout", "namespace": "shop"}


def _generated_request(api: CoreV1Api, method: str, *args: str, **query: Any) -> tuple[Any, ...]:
    """What the generated method serializes: its own _<method>_serialize, every optional argument unset."""
    serialize = getattr(api, f"_{method}_serialize")
    params = [p for p in inspect.signature(serialize).parameters if p != "self"]
    given = {p: None for p in params} | {"_host_index": 0} | query
    positional = [p for p in params if p in ARGS]
    return serialize(**given | dict(zip(positional, args, strict=True)))


@pytest.mark.parametrize("method", sorted(k8s_reads.READS))
@pytest.mark.parametrize("query", [{}, {"label_selector": "app=checkout", "field_selector": "status.phase=Running",
                                        "limit": 5}])
def test_each_read_sends_the_request_of_the_generated_method(settings: Settings, method: str,
                                                             query: dict[str, Any]) -> None:
    client = Backends(settings).kubernetes
    names = [p for p in ("name", "namespace") if f"{{{p}}}" in k8s_reads.READS[method][0]]
    args = [ARGS[n] for n in names]
    accepted = set(inspect.signature(getattr(CoreV1Api, method)).parameters)
    query = {k: v for k, v in query.items() if k in accepted}
    assert k8s_reads.request(client, method, *args, **query) == \
        _generated_request(CoreV1Api(client), method, *args, **query)


def test_reads_give_the_objects_the_generated_methods_give(settings: Settings) -> None:
    client = Backends(settings).kubernetes
    api = CoreV1Api(client)
    pod = api.list_namespaced_pod("shop", _request_timeout=5).items[0].metadata.name
    calls: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
        ("read_namespace", ("shop",), {}), ("list_namespace", (), {}),
        ("list_namespaced_pod", ("shop",), {"label_selector": "app=checkout"}),
        ("list_pod_for_all_namespaces", (), {}), ("read_namespaced_pod", (pod, "shop"), {}),
        ("list_namespaced_event", ("shop",), {"field_selector": f"involvedObject.name={pod}"})]
    assert {c[0] for c in calls} == set(k8s_reads.READS)
    for method, args, query in calls:
        light = k8s_reads.read(client, method, *args, _request_timeout=5, **query)
        assert type(light) is type(generated := getattr(api, method)(*args, _request_timeout=5, **query))
        assert light.to_dict() == generated.to_dict(), method


def test_a_missing_object_raises_the_api_servers_404_as_the_generated_method_does(settings: Settings) -> None:
    client = Backends(settings).kubernetes
    with pytest.raises(ApiException) as light:
        k8s_reads.read(client, "read_namespace", "nowhere", _request_timeout=5)
    with pytest.raises(ApiException) as generated:
        CoreV1Api(client).read_namespace("nowhere", _request_timeout=5)
    assert light.value.status == 404
    assert (light.value.status, light.value.reason, light.value.body) == \
        (generated.value.status, generated.value.reason, generated.value.body)


def test_other_methods_and_arguments_go_through_the_generated_class() -> None:
    assert k8s_reads.covers("core", "list_namespaced_pod", {"label_selector": "app=x"})
    assert not k8s_reads.covers("core", "list_namespaced_pod", {"watch": True})
    assert not k8s_reads.covers("core", "read_namespaced_pod_log", {})
    assert not k8s_reads.covers("apps", "list_namespaced_pod", {})
