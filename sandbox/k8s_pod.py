"""Pods as the kubelet reports them: a template from a scenario revision, and a pod built from a template,
the state the scenario gives each container, and where the scheduler put it (or why it could not)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sandbox.k8s_objects import normalize, owner, short_hash, ts, uid
from sandbox.scenario_cluster import ContainerState, Deployment, Log, LogLine, PodState, Revision

COMPLETED = ContainerState(ready=False, state="terminated", reason="Completed", exit_code=0)


def log_text(line: Log) -> str:
    return f"{line.level.upper()} {line.message}" if isinstance(line, LogLine) else line


def pod_template(d: Deployment, labels: dict[str, str], rev: Revision) -> dict[str, Any]:
    resources = dict(rev.resources)
    if rev.memory_limit:
        resources = {"limits": {"memory": rev.memory_limit, **resources.get("limits", {})},
                     "requests": {"memory": rev.memory_limit, **resources.get("requests", {})}}
    container: dict[str, Any] = {
        "name": d.container or d.name,
        "image": rev.image,
        "command": list(rev.command), "args": list(rev.args),
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in rev.env.items()],
        "resources": resources,
        "imagePullPolicy": "IfNotPresent",
    }
    extra = json.loads(json.dumps(rev.spec))
    others = []
    for c in extra.get("containers", []):  # one named like the main container adds to it (env, probes, mounts)
        if c.get("name") == container["name"]:
            container = {**container, **c, "env": [*container["env"], *c.get("env", [])]}
        else:
            others.append(c)
    spec = {"restartPolicy": "Always", "terminationGracePeriodSeconds": 30, **extra,
            "containers": [container, *others]}
    return normalize({"metadata": {"labels": dict(labels)}, "spec": spec})


def state_of(state: PodState, name: str, index: int, init: bool) -> ContainerState:
    """The state the scenario gives one container: by name, else the top-level fields for the main one."""
    if name in state.containers:
        return state.containers[name]
    if init:
        return COMPLETED
    return state if index == 0 else ContainerState()


def container_starts(state: ContainerState, created: float, ref: float) -> tuple[float, float]:
    """When the current and the previous container started: logs are stamped from these."""
    if state.last_termination or state.restarts:
        current = max(created + 3, ref - 40)
        return current, current - 2  # a crash-looping container dies within a second or two of starting
    return created + 3, created + 2


def _terminated(exit_code: int, reason: str, message: str | None, started: float) -> dict[str, Any]:
    return normalize({"exitCode": exit_code, "reason": reason, "message": message, "startedAt": ts(started),
                      "finishedAt": ts(started + 1), "containerID": f"containerd://{short_hash(str(started), 24)}"})


def _status(c: dict[str, Any], cs: ContainerState, pod_name: str, created: float, ref: float,
            restarts: int) -> dict[str, Any]:
    current, previous = container_starts(cs, created, ref)
    t = cs.last_termination
    if cs.state == "running":
        state: dict[str, Any] = {"running": {"startedAt": ts(current)}}
    elif cs.state == "waiting":
        state = {"waiting": normalize({"reason": cs.reason or "ContainerCreating", "message": cs.message})}
    else:
        code = cs.exit_code if cs.exit_code is not None else (t.exit_code if t else 0)
        state = {"terminated": _terminated(code, cs.reason or (t.reason if t else "Completed"), cs.message, current)}
    last = {"terminated": _terminated(t.exit_code, t.reason, t.message, previous)} if t and restarts else {}
    digest = hashlib.sha256(c["image"].encode()).hexdigest()
    started = cs.state != "waiting" or restarts
    return normalize({
        "name": c["name"], "image": c["image"], "imageID": f"{c['image'].split(':')[0]}@sha256:{digest}",
        "containerID": f"containerd://{short_hash(pod_name + c['name'] + str(current), 24)}" if started else None,
        "ready": cs.ready and cs.state == "running", "started": cs.state == "running", "restartCount": restarts,
        "state": state,
    }) | {"lastState": last, "ready": cs.ready and cs.state == "running",
          "restartCount": restarts}


def _default_requests(spec: dict[str, Any]) -> None:
    """As the API server defaults a pod: a resource with a limit and no request is requested at its limit."""
    for c in spec.get("initContainers", []) + spec["containers"]:
        res = c.get("resources") or {}
        if res.get("limits"):
            res["requests"] = {**res["limits"], **res.get("requests", {})}


def qos_class(spec: dict[str, Any]) -> str:
    """The API server's QoS class of a (defaulted) pod spec: only CPU and memory count."""
    def counted(c: dict[str, Any], which: str) -> dict[str, Any]:
        return {k: v for k, v in ((c.get("resources") or {}).get(which) or {}).items() if k in ("cpu", "memory")}

    containers = spec.get("initContainers", []) + spec["containers"]
    if not any(counted(c, "requests") or counted(c, "limits") for c in containers):
        return "BestEffort"
    if all(len(counted(c, "limits")) == 2 and counted(c, "requests") == counted(c, "limits") for c in containers):
        return "Guaranteed"
    return "Burstable"


def pod(ns: str, owner_obj: dict[str, Any] | None, owner_kind: str, name: str, template: dict[str, Any],
        state: PodState, created: float, ref: float, fresh: bool, node: str | None, why_pending: str | None,
        host_ip: str | None, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A pod made from `template`, looking the way `state` says at time `ref`, on `node` (None: Pending with
    the scheduler's `why_pending`). A fresh pod of a crashing revision has crashed once so far."""
    spec = json.loads(json.dumps(template.get("spec", {})))
    _default_requests(spec)
    spec.setdefault("serviceAccountName", "default")  # the ServiceAccount admission plugin's default
    labels = {**template.get("metadata", {}).get("labels", {}), **(extra_labels or {})}
    scheduled = node is not None
    if scheduled:
        spec["nodeName"] = node

    def restarts_of(cs: ContainerState) -> int:
        return (min(cs.restarts, 1) if cs.state != "running" else 0) if fresh else cs.restarts

    inits = [(c, state_of(state, c["name"], i, True)) for i, c in enumerate(spec.get("initContainers", []))]
    mains = [(c, state_of(state, c["name"], i, False)) for i, c in enumerate(spec["containers"])]
    initialized = all(cs.state == "terminated" and cs.reason in (None, "Completed") and (cs.exit_code or 0) == 0
                      for _, cs in inits)
    ready = scheduled and initialized and all(cs.ready and cs.state == "running" for _, cs in mains)
    unready = [c["name"] for c, cs in mains if not (cs.ready and cs.state == "running")]
    why = None if ready else ("ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    conditions = [normalize({"type": "PodScheduled", "status": "True" if scheduled else "False",
                             "reason": None if scheduled else "Unschedulable", "message": why_pending,
                             "lastTransitionTime": ts(created)})]
    if scheduled:
        pending_inits = [c["name"] for c, cs in inits if not (cs.state == "terminated" and (cs.exit_code or 0) == 0)]
        conditions.append(normalize({
            "type": "Initialized", "status": "True" if initialized else "False",
            "reason": None if initialized else "ContainersNotInitialized",
            "message": None if initialized else f"containers with incomplete status: [{' '.join(pending_inits)}]",
            "lastTransitionTime": ts(created + 1)}))
        for kind in ("ContainersReady", "Ready"):
            conditions.append(normalize({"type": kind, "status": "True" if ready else "False",
                                         "reason": why[0] if why else None, "message": why[1] if why else None,
                                         "lastTransitionTime": ts(created + 3)}))
    qos = qos_class(spec)
    status: dict[str, Any] = {"phase": state.phase if scheduled else "Pending", "conditions": conditions,
                              "qosClass": qos}
    if scheduled:
        octets = hashlib.sha256(name.encode()).digest()
        status.update({
            "hostIP": host_ip, "podIP": f"10.244.{octets[0]}.{octets[1] or 1}", "startTime": ts(created + 1),
            "containerStatuses": [_status(c, cs, name, created, ref, restarts_of(cs)) for c, cs in mains],
        })
        if inits:
            status["initContainerStatuses"] = [_status(c, cs, name, created, ref, restarts_of(cs)) for c, cs in inits]
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid("pod", ns, name),
                            "creationTimestamp": ts(created), "labels": labels}
    if owner_obj is not None:
        meta["generateName"] = f"{owner_obj['metadata']['name']}-"
        meta["ownerReferences"] = [owner(owner_kind, owner_obj["apiVersion"], owner_obj)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
