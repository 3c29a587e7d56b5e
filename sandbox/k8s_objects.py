"""The Kubernetes JSON the emulator serves: pods, replica sets, deployments, events, Status errors, selectors.

Pure functions over plain dicts, shaped like the real API server's answers so the official client
deserialises them unchanged (its models are strict: ints are ints, required fields are present).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.scenario import PodState, Revision

SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
NODES = ("sandbox-node-1", "sandbox-node-2", "sandbox-node-3")


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


def pod_template(name: str, labels: dict[str, str], rev: Revision) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": rev.image,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in rev.env.items()],
        "imagePullPolicy": "IfNotPresent",
    }
    if rev.memory_limit:
        container["resources"] = {"limits": {"memory": rev.memory_limit}, "requests": {"memory": rev.memory_limit}}
    return normalize({
        "metadata": {"labels": dict(labels)},
        "spec": {"containers": [container], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30},
    })


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


def _terminated(exit_code: int, reason: str, message: str | None, started: float) -> dict[str, Any]:
    return normalize({"exitCode": exit_code, "reason": reason, "message": message, "startedAt": ts(started),
                      "finishedAt": ts(started + 1), "containerID": f"containerd://{short_hash(str(started), 24)}"})


def container_starts(state: PodState, created: float, ref: float) -> tuple[float, float]:
    """When the current and the previous container started: logs are stamped from these."""
    if state.last_termination or state.restarts:
        current = max(created + 3, ref - 40)
        return current, current - 2  # a crash-looping container dies within a second or two of starting
    return created + 3, created + 2


def pod(rs: dict[str, Any], name: str, state: PodState, created: float, ref: float, restarts: int) -> dict[str, Any]:
    """A pod of the replica set `rs`, looking like `state` says, as seen at time `ref`."""
    ns = rs["metadata"]["namespace"]
    spec = json.loads(json.dumps(rs["spec"]["template"]["spec"]))
    labels = dict(rs["spec"]["template"]["metadata"]["labels"])
    c = spec["containers"][0]
    current, previous = container_starts(state, created, ref)
    scheduled = state.unschedulable is None
    node = NODES[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(NODES)]
    if scheduled:
        spec["nodeName"] = node
    cid = f"containerd://{short_hash(name + str(current), 24)}"

    if state.state == "running":
        cstate: dict[str, Any] = {"running": {"startedAt": ts(current)}}
    elif state.state == "waiting":
        cstate = {"waiting": normalize({"reason": state.reason or "ContainerCreating", "message": state.message})}
    else:
        t = state.last_termination
        cstate = {"terminated": _terminated(t.exit_code if t else 0, state.reason or (t.reason if t else "Completed"),
                                            state.message, current)}
    last: dict[str, Any] = {}
    if state.last_termination and restarts:
        t = state.last_termination
        last = {"terminated": _terminated(t.exit_code, t.reason, t.message, previous)}
    ready = "True" if state.ready and scheduled else "False"
    not_ready = None if ready == "True" else "ContainersNotReady"
    not_ready_msg = None if ready == "True" else f"containers with unready status: [{c['name']}]"
    conditions = [
        normalize({"type": "PodScheduled", "status": "True" if scheduled else "False",
                   "reason": None if scheduled else "Unschedulable", "message": state.unschedulable,
                   "lastTransitionTime": ts(created)}),
    ]
    if scheduled:
        conditions += [
            {"type": "Initialized", "status": "True", "lastTransitionTime": ts(created + 1)},
            normalize({"type": "ContainersReady", "status": ready, "reason": not_ready, "message": not_ready_msg,
                       "lastTransitionTime": ts(current)}),
            normalize({"type": "Ready", "status": ready, "reason": not_ready, "message": not_ready_msg,
                       "lastTransitionTime": ts(current)}),
        ]
    status_: dict[str, Any] = {"phase": "Pending" if not scheduled else state.phase, "conditions": conditions,
                               "qosClass": "Burstable" if c.get("resources") else "BestEffort"}
    if scheduled:
        digest = hashlib.sha256(c["image"].encode()).hexdigest()
        octets = hashlib.sha256(name.encode()).digest()
        status_.update({
            "hostIP": f"10.0.0.{NODES.index(node) + 11}", "podIP": f"10.244.{octets[0]}.{octets[1] or 1}",
            "startTime": ts(created + 1),
            "containerStatuses": [normalize({
                "name": c["name"], "image": c["image"], "imageID": f"{c['image'].split(':')[0]}@sha256:{digest}",
                "containerID": cid if state.state != "waiting" or restarts else None,
                "ready": state.ready, "started": state.state == "running", "restartCount": restarts,
                "state": cstate, "lastState": last,
            })],
        })
        if not status_["containerStatuses"][0].get("lastState"):
            status_["containerStatuses"][0]["lastState"] = {}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "generateName": f"{rs['metadata']['name']}-", "namespace": ns,
                     "uid": uid("pod", ns, name), "creationTimestamp": ts(created), "labels": labels,
                     "ownerReferences": [owner("ReplicaSet", "apps/v1", rs)]},
        "spec": spec,
        "status": status_,
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
    name = f"{involved['name']}.{short_hash(f'{seq}/{reason}', 8)}{seq:08x}"
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns, "uid": uid("event", ns, name), "creationTimestamp": ts(first),
                     "resourceVersion": str(seq)},
        "involvedObject": involved, "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": ts(first), "lastTimestamp": ts(last), "source": {"component": component},
        "reportingComponent": component, "reportingInstance": "",
    }


def involved(kind: str, obj_or_name: dict[str, Any] | str, ns: str) -> dict[str, Any]:
    api = {"Pod": "v1", "Node": "v1"}.get(kind, "apps/v1")
    if isinstance(obj_or_name, str):
        return {"kind": kind, "namespace": ns, "name": obj_or_name, "apiVersion": api}
    meta = obj_or_name["metadata"]
    return {"kind": kind, "namespace": ns, "name": meta["name"], "uid": meta["uid"], "apiVersion": api,
            **({"fieldPath": f"spec.containers{{{obj_or_name['spec']['containers'][0]['name']}}}"}
               if kind == "Pod" else {})}


# -- selectors -------------------------------------------------------------------------------------

_LABEL_TERM = re.compile(r"^\s*(!?)([A-Za-z0-9._/-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?\s*$")


def label_matcher(selector: str | None):
    """Equality-based label selector (a=b, a==b, a!=b, a, !a), comma-separated; 400 for anything else."""
    terms = []
    for part in (selector or "").split(","):
        if not part.strip():
            continue
        m = _LABEL_TERM.match(part)
        if not m or (m.group(1) and m.group(3)):
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {part.strip()!r}")
        terms.append((m.group(1) == "!", m.group(2), m.group(3), m.group(4)))

    def match(labels: dict[str, str]) -> bool:
        for negated, key, op, value in terms:
            if op is None and (key in labels) == negated:
                return False
            if op in ("=", "==") and labels.get(key) != value:
                return False
            if op == "!=" and labels.get(key) == value:
                return False
        return True

    return match


def field_matcher(selector: str | None, allowed: tuple[str, ...]):
    """Field selector terms path=value / path!=value over the paths the real API allows for the resource."""
    terms = []
    for part in (selector or "").split(","):
        if not part.strip():
            continue
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector: {part.strip()!r}")
        if m.group(1) not in allowed:
            raise ApiError(400, "BadRequest", f'field label not supported: {m.group(1)}')
        terms.append((m.group(1), m.group(2) == "!=", m.group(3)))

    def value(obj: dict[str, Any], path: str) -> str:
        for key in path.split("."):
            obj = obj.get(key, {}) if isinstance(obj, dict) else {}
        return "" if obj == {} else str(obj)

    return lambda obj: all((value(obj, p) == v) != neg for p, neg, v in terms)
