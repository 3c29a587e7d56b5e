"""The read tools' most frequent Kubernetes reads, sent without the generated API classes.

Importing `kubernetes.client.CoreV1Api` costs about 0.4 s of CPU (every endpoint's validated method and every
model any endpoint names), more than the rest of a `k8s_list`. These reads send the very request its method
would (same path, query, Accept header and auth, checked in tests/tools/test_k8s_reads.py) through the same
ApiClient, and deserialize the answer into the same model, which loads only the models that answer uses.
Any other method, or an argument not listed here, goes through the generated class as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

# method of CoreV1Api: (its path, the model of a 200 answer); positional arguments fill {name} then {namespace}
READS: dict[str, tuple[str, str]] = {
    "read_namespace": ("/api/v1/namespaces/{name}", "V1Namespace"),
    "list_namespace": ("/api/v1/namespaces", "V1NamespaceList"),
    "read_namespaced_pod": ("/api/v1/namespaces/{namespace}/pods/{name}", "V1Pod"),
    "list_namespaced_pod": ("/api/v1/namespaces/{namespace}/pods", "V1PodList"),
    "list_pod_for_all_namespaces": ("/api/v1/pods", "V1PodList"),
    "list_namespaced_event": ("/api/v1/namespaces/{namespace}/events", "CoreV1EventList"),
}
QUERY = {"field_selector": "fieldSelector", "label_selector": "labelSelector", "limit": "limit"}  # generated order
ACCEPT = "application/json"  # what the generated methods pick from the types they accept


def covers(api: str, method: str, kwargs: dict[str, Any]) -> bool:
    return api == "core" and method in READS and kwargs.keys() <= QUERY.keys()


def request(client: ApiClient, method: str, *args: str, **kwargs: Any) -> tuple[Any, ...]:
    """The (method, url, headers, body, post params) the generated method serializes for these arguments."""
    path, _ = READS[method]
    names = [n for n in ("name", "namespace") if f"{{{n}}}" in path]
    if len(args) != len(names):
        raise TypeError(f"{method} takes {', '.join(names) or 'no positional arguments'}, got {args!r}")
    return client.param_serialize(
        method="GET", resource_path=path, path_params=dict(zip(names, args, strict=True)),
        query_params=[(QUERY[k], kwargs[k]) for k in QUERY if kwargs.get(k) is not None],
        header_params={"Accept": ACCEPT}, post_params=[], files={}, auth_settings=["BearerToken"],
        collection_formats={})


def read(client: ApiClient, method: str, *args: str, _request_timeout: float, **kwargs: Any) -> Any:
    """The model the generated method returns; a non-2xx answer raises its ApiException, as there."""
    answer = client.call_api(*request(client, method, *args, **kwargs), _request_timeout=_request_timeout)
    answer.read()
    return client.response_deserialize(answer, {"200": READS[method][1], "401": None}).data
