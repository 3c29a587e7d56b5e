"""The Kubernetes JSON the emulator serves: pods, replica sets, deployments, events, Status errors, selectors.

Pure functions over plain dicts, shaped like the real API server's answers so the official client
deserialises them unchanged (its models are strict: ints are ints, required fields are present).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"  # the numbers a reused ReplicaSet had before
CHANGE_CAUSE = "kubernetes.io/change-cause"

# plural -> (group/version, kind, namespaced): every resource the emulator serves
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("v1", "Namespace", False), "nodes": ("v1", "Node", False),
    "persistentvolumes": ("v1", "PersistentVolume", False),
    "pods": ("v1", "Pod", True), "services": ("v1", "Service", True), "endpoints": ("v1", "Endpoints", True),
    "configmaps": ("v1", "ConfigMap", True), "secrets": ("v1", "Secret", True), "events": ("v1", "Event", True),
    "persistentvolumeclaims": ("v1", "PersistentVolumeClaim", True),
    "resourcequotas": ("v1", "ResourceQuota", True), "limitranges": ("v1", "LimitRange", True),
    "deployments": ("apps/v1", "Deployment", True), "replicasets": ("apps/v1", "ReplicaSet", True),
    "statefulsets": ("apps/v1", "StatefulSet", True), "daemonsets": ("apps/v1", "DaemonSet", True),
    "jobs": ("batch/v1", "Job", True), "cronjobs": ("batch/v1", "CronJob", True),
    "networkpolicies": ("networking.k8s.io/v1", "NetworkPolicy", True),
    "storageclasses": ("storage.k8s.io/v1", "StorageClass", False),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler", True),
    "serviceaccounts": ("v1", "ServiceAccount", True),
    "validatingwebhookconfigurations": ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", False),
}
PLURAL = {kind: plural for plural, (_, kind, _) in RESOURCES.items()}
API_VERSION = {kind: gv for gv, kind, _ in RESOURCES.values()}


class ApiError(Exception):
    """Answered as a Status object with this code, reason and message."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code}
    if details:
        out["details"] = details
    return out


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    full = f"{resource}.{group}" if group else resource
    details = {"name": name, "kind": resource, **({"group": group} if group else {})}
    return ApiError(404, "NotFound", f'{full} "{name}" not found', details)


def ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(stamp: str) -> float:
    """An RFC 3339 timestamp the API server wrote, as seconds since the epoch."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def ts_nano(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def short_hash(text: str, n: int) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(SAFE[b % len(SAFE)] for b in digest[:n])


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def normalize(value: Any) -> Any:
    """Drop None and empty containers recursively, so templates compare equal after a client round trip."""
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def template_key(template: dict[str, Any]) -> str:
    """Canonical text of a pod template without its pod-template-hash label: equal templates, equal keys."""
    t = normalize(template)
    labels = {k: v for k, v in t.get("metadata", {}).get("labels", {}).items() if k != HASH_LABEL}
    t = {**t, "metadata": {**t.get("metadata", {}), "labels": labels}}
    return json.dumps(normalize(t), sort_keys=True)


def template_hash(template: dict[str, Any]) -> str:
    return short_hash(template_key(template), 10)


def containers_key(template: dict[str, Any]) -> str:
    """What decides how a revision's pods behave: the containers (image, env, limits), not annotations."""
    return json.dumps(normalize(template.get("spec", {}).get("containers", [])), sort_keys=True)


def owner(kind: str, api_version: str, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def replica_set(deploy: dict[str, Any], template: dict[str, Any], revision: int, created: float,
                change_cause: str | None) -> dict[str, Any]:
    h = template_hash(template)
    meta = deploy["metadata"]
    name = f"{meta['name']}-{h}"
    labels = {**template.get("metadata", {}).get("labels", {}), HASH_LABEL: h}
    tmpl = json.loads(json.dumps(template))
    tmpl.setdefault("metadata", {})["labels"] = labels
    annotations = {REVISION: str(revision), "deployment.kubernetes.io/desired-replicas": "0"}
    if change_cause:
        annotations[CHANGE_CAUSE] = change_cause
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": meta["namespace"], "uid": uid("rs", meta["namespace"], name),
                     "creationTimestamp": ts(created), "labels": labels, "annotations": annotations,
                     "ownerReferences": [owner("Deployment", "apps/v1", deploy)], "generation": 1},
        "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": tmpl},
        "status": {"replicas": 0, "observedGeneration": 1},
    }


def deployment_status(deploy: dict[str, Any], live: dict[str, Any] | None, ready: list[bool],
                      new_ready: list[bool], rollout_started: float, now: float, deadline: int) -> dict[str, Any]:
    """Status as the deployment controller writes it: counts (zeros omitted) and Available/Progressing."""
    want = deploy["spec"]["replicas"]
    n_ready, n_new_ready = sum(ready), sum(new_ready)
    available = n_ready >= want - int(want * 0.25)  # maxUnavailable 25%, rounded down
    rs_name = live["metadata"]["name"] if live else deploy["metadata"]["name"]
    if len(new_ready) == want and n_new_ready == want and len(ready) == want:
        progressing = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
    elif now - rollout_started > deadline:
        progressing = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.')
    else:
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    since = ts(rollout_started)
    conditions = [
        {"type": "Available", "status": "True" if available else "False",
         "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
         "message": "Deployment has minimum availability." if available
         else "Deployment does not have minimum availability.",
         "lastUpdateTime": since, "lastTransitionTime": since},
        {"type": "Progressing", "status": progressing[0], "reason": progressing[1], "message": progressing[2],
         "lastUpdateTime": since, "lastTransitionTime": since},
    ]
    counts = {"replicas": len(ready), "updatedReplicas": len(new_ready), "readyReplicas": n_ready,
              "availableReplicas": n_ready, "unavailableReplicas": max(want - n_ready, 0)}
    return {"observedGeneration": deploy["status"].get("observedGeneration", 1),
            **{k: v for k, v in counts.items() if v}, "conditions": conditions}


def event(ns: str, involved: dict[str, Any], type_: str, reason: str, message: str, count: int,
          first: float, last: float, seq: int, component: str) -> dict[str, Any]:
    # as the event recorder names them (object, then the time in hex nanoseconds): the API server lists by name,
    # so one object's events come in the order they were first seen; seq keeps two at one instant apart
    name = f"{involved['name']}.{int(first * 1e9) + seq:x}"
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns, "uid": uid("event", ns, name), "creationTimestamp": ts(first),
                     "resourceVersion": str(seq)},
        "involvedObject": involved, "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": ts(first), "lastTimestamp": ts(last), "source": {"component": component},
        "reportingComponent": component, "reportingInstance": "",
    }


def involved(kind: str, obj_or_name: dict[str, Any] | str, ns: str, container: str | None = None) -> dict[str, Any]:
    """The involvedObject of an event about an object (or a name); for a pod, about one of its containers."""
    api = API_VERSION.get(kind, "v1")
    scope = {"namespace": ns} if ns else {}
    if isinstance(obj_or_name, str):
        return {"kind": kind, **scope, "name": obj_or_name, "apiVersion": api}
    meta = obj_or_name["metadata"]
    out = {"kind": kind, **scope, "name": meta["name"], "uid": meta["uid"], "apiVersion": api}
    if kind == "Pod":
        out["fieldPath"] = f"spec.containers{{{container or obj_or_name['spec']['containers'][0]['name']}}}"
    return out


def _fields(value: Any) -> dict[str, Any]:
    """The FieldsV1 set of what a write set: {"f:spec": {"f:replicas": {}}}; of a JSON patch, its paths."""
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for op in value:
            here = out
            for part in str(op.get("path", "") if isinstance(op, dict) else "").split("/")[1:]:
                here = here.setdefault(f"f:{part}", {})
        return out
    return {f"f:{k}": _fields(v) for k, v in value.items()} if isinstance(value, dict) else {}


def record_write(meta: dict[str, Any], api_version: str, manager: str, body: Any, at: float,
                 subresource: str | None = None) -> None:
    """metadata.managedFields after an Update: the manager's entry (per subresource) holds what it set, and when."""
    entry = {"manager": manager, "operation": "Update", "apiVersion": api_version, "time": ts(at),
             "fieldsType": "FieldsV1", "fieldsV1": _fields(body),
             **({"subresource": subresource} if subresource else {})}
    kept = [m for m in meta.get("managedFields") or []
            if (m.get("manager"), m.get("subresource")) != (manager, subresource)]
    meta["managedFields"] = [*kept, entry]
