"""The `cluster:` part of the scenario format: namespaces, nodes, workloads with their pods, other objects, events.

Pod specs and manifests are written in Kubernetes' own form and checked against the official client's models
(sandbox/k8s_schema.py); how pods behave (states, restarts, logs) is the scenario's own vocabulary.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandbox import k8s_schema

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_OFFSET = r"^-?\d+(\.\d+)?[smhdw]$"
Offset = Annotated[str, Field(pattern=_OFFSET, description="offset from load, e.g. -5m")]
HISTORY = ("created", "modified", "modified_by", "deleted")  # an object's past, beside its manifest
Name = Annotated[str, Field(pattern=_DNS_LABEL.pattern, max_length=63)]
ObjectName = Annotated[str, Field(pattern=_DNS_SUBDOMAIN, max_length=253)]
Level = Literal["debug", "info", "warn", "error", "fatal"]


class Termination(Strict):
    reason: str = Field(description="e.g. Error, OOMKilled, Completed")
    exit_code: int = 1
    message: str = ""


class LogLine(Strict):
    level: Level
    message: str


Log = str | LogLine  # a plain line is printed as written; a line with a level as "LEVEL message"


class ContainerState(Strict):
    """How one container looks: its state now, its history, what it printed."""

    ready: bool = True
    state: Literal["running", "waiting", "terminated"] = "running"
    reason: str | None = Field(None, description="waiting/terminated reason, e.g. CrashLoopBackOff")
    message: str | None = None
    exit_code: int | None = Field(None, description="of a terminated current state (default: last_termination's)")
    restarts: int = Field(0, ge=0)
    last_termination: Termination | None = None
    logs: list[Log] = Field(default_factory=list, description="current container's log lines")
    previous_logs: list[Log] = Field(default_factory=list, description="previous container's log lines")
    cpu_throttled: float | None = Field(None, ge=0, le=1, description="share of CFS periods throttled (cAdvisor)")
    memory_working_set: str | int | None = Field(None, description="cAdvisor's working set, e.g. 480Mi")


class PodState(ContainerState):
    """How a pod looks: phase, scheduling, and its containers. The top-level container fields are the main
    (first) container's; `containers` gives any other container (init, sidecar) by name."""

    phase: Literal["Pending", "Running", "Succeeded", "Failed"] = "Running"
    unschedulable: str | None = Field(None, description="PodScheduled=False message for Pending pods")
    containers: dict[str, ContainerState] = Field(default_factory=dict)


class Revision(Strict):
    image: str
    env: dict[str, str] = Field(default_factory=dict)
    memory_limit: str | None = None
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    resources: dict[str, Any] = Field(default_factory=dict, description="the main container's requests/limits")
    spec: dict[str, Any] = Field(default_factory=dict, description="pod spec keys merged into the generated "
                                 "one: initContainers, more containers (sidecars), nodeSelector, tolerations…; "
                                 "a container named like the main one adds to it (env valueFrom, probes, mounts)")
    change_cause: str | None = None
    created: Offset = "-7d"
    pods: PodState = PodState()

    @field_validator("resources")
    @classmethod
    def _resources(cls, v: dict[str, Any]) -> dict[str, Any]:
        return k8s_schema.check(v, "V1ResourceRequirements", "resources")

    @field_validator("spec")
    @classmethod
    def _spec(cls, v: dict[str, Any]) -> dict[str, Any]:
        conformed = k8s_schema.check({"containers": [], **v}, "V1PodSpec", "spec")
        return conformed if "containers" in v else {k: x for k, x in conformed.items() if k != "containers"}


class Deployment(Strict):
    name: Name
    namespace: Name
    replicas: int = Field(1, ge=0, le=50)
    labels: dict[str, str] = Field(default_factory=dict, description="pod labels; app=<name> by default")
    container: Name | None = Field(None, description="the main container's name; default: the deployment's")
    pod_names: list[ObjectName] = Field(default_factory=list, description="names of the live pods at load")
    strategy: dict[str, Any] = Field(default_factory=dict, description="spec.strategy, e.g. maxSurge")
    revisions: list[Revision] = Field(min_length=1, description="oldest first; the last one is live")
    mid_rollout: bool = Field(False, description="the live revision is still rolling out: the pods start on the "
                              "revision before it, and the rolling update replaces them within maxSurge and "
                              "maxUnavailable as the controller does, so new pods that never get ready leave "
                              "old pods serving beside them (needs two revisions)")

    @model_validator(mode="after")
    def _rolling_from_something(self) -> Deployment:
        if self.mid_rollout and len(self.revisions) < 2:
            raise ValueError(f"deployment {self.name}: mid_rollout needs a revision before the live one")
        return self

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, v: dict[str, Any]) -> dict[str, Any]:
        return k8s_schema.check(v, "V1DeploymentStrategy", "strategy")


WorkloadKind = Literal["Pod", "Job", "CronJob", "StatefulSet", "DaemonSet"]
KINDS = WorkloadKind.__args__


class CronRun(Strict):
    """An earlier run of a CronJob: the Job it made at the schedule's minute at or before `at` (named by that
    minute), its pods as `pods` says."""

    at: Offset
    pods: PodState = PodState()


class Workload(Strict):
    """A bare pod, Job, CronJob, StatefulSet or DaemonSet: `spec` is the object's spec in Kubernetes' form
    (a PodSpec for a Pod); the pods its controller makes look as `pods` says."""

    kind: WorkloadKind
    name: ObjectName
    namespace: Name
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    spec: dict[str, Any]
    pods: PodState = PodState()
    pod_names: list[ObjectName] = Field(default_factory=list, description="explicit pod names, oldest first")
    created: Offset = "-1h"
    runs: list[CronRun] = Field(default_factory=list, description="CronJob: earlier runs, each a Job with its "
                                "pods (the last scheduled run is `pods`'); the history limits keep the newest")
    suspended_at: Offset | None = Field(None, description="CronJob with spec.suspend: when it was suspended "
                                        "(the update's time in metadata.managedFields)")

    @model_validator(mode="after")
    def _cron_only(self) -> Workload:
        if (self.runs or self.suspended_at) and self.kind != "CronJob":
            raise ValueError(f"{self.kind} {self.name}: runs and suspended_at are for a CronJob")
        if self.suspended_at and not self.spec.get("suspend"):
            raise ValueError(f"CronJob {self.name}: suspended_at needs spec.suspend: true")
        return self

    @model_validator(mode="before")
    @classmethod
    def _spec_checked(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("spec"), dict) or data.get("kind") not in KINDS:
            return data
        kind, name, spec = data["kind"], data.get("name"), dict(data["spec"])
        if kind == "Pod" and data.get("pod_names"):
            raise ValueError(f"pod {name}: a bare pod's name is its `name`; pod_names is for controllers")
        if kind == "CronJob":
            template = (spec.get("jobTemplate") or {}).get("spec", {}).get("template")
        else:
            template = spec.get("template")
        if kind != "Pod" and not template:
            where = "jobTemplate.spec.template" if kind == "CronJob" else "template"
            raise ValueError(f"{kind} {name}: spec needs a pod template ({where})")
        if kind in ("StatefulSet", "DaemonSet"):
            spec.setdefault("selector", {"matchLabels": data.get("labels") or {"app": name}})
        model = "V1PodSpec" if kind == "Pod" else k8s_schema.KINDS[kind][1] + "Spec"
        return {**data, "spec": k8s_schema.check(spec, model, f"{kind}/{name}.spec")}


class Taint(Strict):
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeCondition(Strict):
    type: str = Field(description="Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable")
    status: Literal["True", "False", "Unknown"]
    reason: str | None = None
    message: str | None = None


class Node(Strict):
    name: ObjectName
    labels: dict[str, str] = Field(default_factory=dict)
    capacity: dict[str, str | int] = Field(default_factory=lambda: {"cpu": "8", "memory": "32Gi", "pods": "110"})
    allocatable: dict[str, str | int] | None = Field(None, description="default: the capacity")
    taints: list[Taint] = Field(default_factory=list)
    conditions: list[NodeCondition] = Field(default_factory=list, description="default: Ready, no pressure")
    unschedulable: bool = Field(False, description="cordoned")


class Event(Strict):
    kind: str = Field("Pod", description="any kind the emulator serves, e.g. Pod, Job, Node, PersistentVolumeClaim")
    name: str = Field(description="the object's name; for kind Pod also a deployment's or workload's name, "
                      "which puts the event on each of its pods")
    namespace: Name
    type: Literal["Normal", "Warning"] = "Warning"
    reason: str
    message: str
    count: int = Field(1, ge=1)
    last_seen: Offset = "-1m"
    component: str | None = Field(None, description="the reporting component, e.g. kubelet")

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        known = {*k8s_schema.KINDS, "Deployment", "ReplicaSet", "Node", "Namespace"}
        if v not in known:
            raise ValueError(f"kind {v!r} is not one of {', '.join(sorted(known))}")
        return v


class Cluster(Strict):
    namespaces: list[Name] = Field(min_length=1)
    nodes: list[Node] = Field(default_factory=list, description="default: three 8-CPU, 32Gi nodes")
    deployments: list[Deployment] = Field(default_factory=list)
    workloads: list[Workload] = Field(default_factory=list)
    objects: list[dict[str, Any]] = Field(default_factory=list, description="manifests of other kinds; beside "
                                          "the manifest's keys, optional history: `created` and `modified` "
                                          "(offsets, e.g. -40m), `modified_by` (the field manager), and "
                                          "`deleted` (an offset: deleted then, held Terminating by its finalizers)")
    events: list[Event] = Field(default_factory=list)

    @field_validator("objects")
    @classmethod
    def _objects(cls, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        static = {k for k in k8s_schema.KINDS if k not in KINDS}
        out = []
        for i, obj in enumerate(objects):
            kind = obj.get("kind")
            if kind not in static:
                raise ValueError(f"objects[{i}]: kind {kind!r} is not one of {', '.join(sorted(static))}"
                                 + (" (write it under workloads:)" if kind in KINDS else ""))
            api_version, model, namespaced = k8s_schema.KINDS[kind]
            if obj.get("apiVersion", api_version) != api_version:
                raise ValueError(f"objects[{i}]: {kind} is served as apiVersion {api_version}")
            meta = obj.get("metadata") or {}
            if not re.match(_DNS_SUBDOMAIN, str(meta.get("name", ""))):
                raise ValueError(f"objects[{i}]: {kind} needs metadata.name, a DNS subdomain")
            if namespaced != ("namespace" in meta):
                raise ValueError(f"objects[{i}]: {kind} {meta['name']} is "
                                 + ("namespaced: give metadata.namespace" if namespaced
                                    else "cluster-scoped: drop metadata.namespace"))
            history = {k: obj[k] for k in HISTORY if k in obj}
            for k in ("created", "modified", "deleted"):
                if k in history and not re.match(_OFFSET, str(history[k])):
                    raise ValueError(f"objects[{i}].{k}: {history[k]!r} is not an offset such as -40m")
            if "modified_by" in history and not str(history["modified_by"]).strip():
                raise ValueError(f"objects[{i}].modified_by: give the field manager's name, e.g. kubectl-edit")
            if "deleted" in history and not meta.get("finalizers"):
                raise ValueError(f"objects[{i}].deleted: an object deleted without finalizers is gone at once; give "
                                 "metadata.finalizers, what holds it Terminating")
            manifest = {k: v for k, v in obj.items() if k not in HISTORY}
            out.append({**k8s_schema.check({"apiVersion": api_version, **manifest}, model, f"objects[{i}]"),
                        **history})
        return out

    @model_validator(mode="after")
    def _known_namespaces(self) -> Cluster:
        placed = [(w.name, w.namespace) for w in [*self.deployments, *self.workloads, *self.events]]
        placed += [(o["metadata"]["name"], o["metadata"]["namespace"]) for o in self.objects
                   if "namespace" in o["metadata"]]
        for name, ns in placed:
            if ns not in self.namespaces:
                raise ValueError(f"{name!r} is in namespace {ns!r}, not listed in namespaces")
        return self
