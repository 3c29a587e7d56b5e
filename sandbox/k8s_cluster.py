"""The emulated cluster's state: loading a scenario, and the API operations the emulator serves.

A deployment owns one ReplicaSet per distinct pod template (revision annotation, pod-template-hash label);
only the live one has pods. Changing the template (a rollout restart, a rollback to an older template, a new
image) makes or reuses a ReplicaSet and rolls pods over within maxSurge/maxUnavailable; scaling adds or
removes pods; deleting a pod of a ReplicaSet brings a replacement with a new name. Pods of a revision look
the way the scenario's `pods:` block says; a template the scenario does not know gives healthy pods. Jobs,
CronJobs, StatefulSets, DaemonSets and bare pods are made by their controllers at load
(sandbox/k8s_workloads.py); manifests of other kinds are stored as the API server would (sandbox/k8s_static.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sandbox import k8s_objects as o
from sandbox import k8s_patch, k8s_pod
from sandbox.k8s_admission import Admission
from sandbox.k8s_controllers import PROGRESS_DEADLINE, Controllers, revision_of
from sandbox.k8s_kubelet import Key, Lines, key_of
from sandbox.k8s_nodes import DEFAULT_NODES, node
from sandbox.k8s_selectors import field_matcher, label_matcher
from sandbox.k8s_static import Static
from sandbox.k8s_workloads import Workloads
from sandbox.scenario import Scenario, offset
from sandbox.scenario_cluster import PodState

POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "status.phase",
              "status.podIP", "spec.serviceAccountName", "status.nominatedNodeName")
EVENT_FIELDS = ("involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.fieldPath", "involvedObject.resourceVersion",
                "reason", "type", "source", "reportingComponent", "metadata.name", "metadata.namespace")
FIELDS = {"pods": POD_FIELDS, "events": EVENT_FIELDS, "nodes": ("metadata.name", "spec.unschedulable"),
          "secrets": ("metadata.name", "metadata.namespace", "type"),
          "jobs": ("metadata.name", "metadata.namespace", "status.successful"),
          "replicasets": ("metadata.name", "metadata.namespace", "status.replicas"),
          "namespaces": ("metadata.name", "status.phase")}
META_FIELDS = ("metadata.name", "metadata.namespace")


class Cluster(Controllers, Workloads, Static, Admission):
    def __init__(self, clock: Callable[[], float] = time.time):
        self.wall = clock
        self.offset_s = 0.0  # a pinned scenario clock: the emulator's now runs from the pinned instant
        self.reset()

    def clock(self) -> float:
        return self.wall() + self.offset_s

    def reset(self) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.deployments: dict[Key, dict[str, Any]] = {}
        self.replicasets: dict[Key, dict[str, Any]] = {}
        self.pods: dict[Key, dict[str, Any]] = {}
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (plural, namespace or "", name)
        self.logs: dict[Key, dict[str, tuple[Lines, Lines]]] = {}
        self.pod_states: dict[Key, PodState] = {}  # how each pod was made to look, for its replacement
        self.events: list[dict[str, Any]] = []
        self.behaviour: dict[Key, dict[str, PodState]] = {}  # deployment → containers key → PodState
        self.rs_state: dict[Key, PodState] = {}
        self.rollout_started: dict[Key, float] = {}
        self.made: dict[Key, int] = {}  # pods made per ReplicaSet, for fresh names
        self.refused: dict[Key, str] = {}  # owner → admission's last refusal of a pod it tried to create
        self.seq = 0

    # -- loading ---------------------------------------------------------------------------------

    def load(self, scenario: Scenario, t0: float) -> None:
        """Reset to the scenario; its offsets count from t0 (the pinned clock's instant, if it has one)."""
        self.reset()
        self.offset_s = t0 - self.wall() if scenario.clock else 0.0
        at = lambda off: t0 + offset(off).total_seconds()  # noqa: E731
        for ns in scenario.cluster.namespaces:
            self.namespaces[ns] = {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": o.uid("ns", ns), "creationTimestamp": o.ts(t0 - 30 * 86400),
                             "labels": {"kubernetes.io/metadata.name": ns}, "resourceVersion": "1"},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
            }
            sa = self.objects[("serviceaccounts", ns, "default")] = {  # the ServiceAccount controller's
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": ns, "uid": o.uid("ServiceAccount", ns, "default"),
                             "creationTimestamp": o.ts(t0 - 30 * 86400)}}
            self._touch(sa)
        for i, n in enumerate(scenario.cluster.nodes or DEFAULT_NODES):
            self.nodes[n.name] = node(n, i, t0 - 30 * 86400, t0)
        self.load_objects(scenario.cluster.objects, t0)
        for d in scenario.cluster.deployments:
            self._load_deployment(d, at, t0)
        for w in scenario.cluster.workloads:
            self.load_workload(w, at(w.created), t0)
        for e in scenario.cluster.events:
            last = at(e.last_seen)
            first = last - (e.count - 1) * 30
            for target in self._event_targets(e.kind, e.name, e.namespace):
                self._event(e.namespace if e.kind not in ("Node", "PersistentVolume", "StorageClass", "Namespace")
                            else "default", target, e.type, e.reason, e.message, first, last, count=e.count,
                            component=e.component or "kubelet")

    def _load_deployment(self, d: Any, at: Callable[[str], float], t0: float) -> None:
        labels = d.labels or {"app": d.name}
        templates = [k8s_pod.pod_template(d, labels, r) for r in d.revisions]
        live = d.revisions[-1]
        deploy = {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": d.name, "namespace": d.namespace, "uid": o.uid("deploy", d.namespace, d.name),
                         "creationTimestamp": o.ts(at(d.revisions[0].created)), "generation": len(d.revisions),
                         "labels": {"app": d.name},
                         "annotations": o.normalize({o.CHANGE_CAUSE: live.change_cause})},
            "spec": {"replicas": d.replicas, "selector": {"matchLabels": labels}, "template": templates[-1],
                     "strategy": d.strategy or {"type": "RollingUpdate",
                                                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": PROGRESS_DEADLINE},
            "status": {"observedGeneration": len(d.revisions)},
        }
        key = (d.namespace, d.name)
        self.deployments[key] = deploy
        self.behaviour[key] = {o.containers_key(t): r.pods for t, r in zip(templates, d.revisions)}
        for n, (t, r) in enumerate(zip(templates, d.revisions), 1):
            rs = o.replica_set(deploy, t, n, at(r.created), r.change_cause)
            self.replicasets[key_of(rs)] = rs
            self.rs_state[key_of(rs)] = r.pods
        live_rs = self._owned(deploy)[-1]
        deploy["metadata"]["annotations"][o.REVISION] = str(revision_of(live_rs))
        self.rollout_started[key] = at(live.created)
        first = self._owned(deploy)[-2] if d.mid_rollout else live_rs  # mid-rollout: the old pods serve first
        first["spec"]["replicas"] = d.replicas
        first["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(d.replicas)
        for i in range(d.replicas):
            self._make_pod(first, created=at(d.revisions[-2 if d.mid_rollout else -1].created), ref=t0,
                           fresh=False, name=d.pod_names[i] if i < len(d.pod_names) else None)
        if d.mid_rollout:
            self._rs_status(first)
            self._roll(deploy, live_rs, [first], at(live.created))
        for rs in self._owned(deploy):
            self._rs_status(rs)
        self._touch(deploy)

    def _event_targets(self, kind: str, name: str, ns: str) -> list[dict[str, Any]]:
        """What a scenario event is about: the named object; for kind Pod also every pod of a deployment or
        workload of that name (when no pod has the name itself)."""
        if kind == "Pod":
            if (ns, name) in self.pods:
                return [o.involved("Pod", self.pods[(ns, name)], ns)]
            deploy = self.deployments.get((ns, name))
            pods = self._pods_of_deployment(deploy) if deploy is not None else self.workload_pods(ns, name)
            if pods:
                return [o.involved("Pod", p, ns) for p in pods]
        scoped = "" if kind in ("Node", "PersistentVolume", "StorageClass", "Namespace") else ns
        obj = self._find(o.PLURAL[kind], scoped, name)
        return [o.involved(kind, obj if obj is not None else name, scoped)]

    # -- reads -----------------------------------------------------------------------------------

    def _find(self, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        try:
            return self.get(plural, ns, name)
        except o.ApiError:
            return None

    def _all(self, plural: str, ns: str | None) -> list[dict[str, Any]]:
        """Every object of a resource, in one namespace (ns) or all of them (None; "" for cluster-scoped)."""
        in_ns = lambda key_ns: ns is None or key_ns == ns  # noqa: E731
        if plural == "namespaces":
            return list(self.namespaces.values())
        if plural == "nodes":
            return [self.nodes[n] for n in sorted(self.nodes)]
        if plural == "pods":
            return [p for (pns, _), p in sorted(self.pods.items()) if in_ns(pns)]
        if plural == "deployments":
            return [self.deployment(dns, n) for (dns, n) in sorted(self.deployments) if in_ns(dns)]
        if plural == "replicasets":
            return [rs for (rns, _), rs in sorted(self.replicasets.items()) if in_ns(rns)]
        if plural == "events":
            return [e for e in self.events if in_ns(e["metadata"]["namespace"])]
        if plural == "resourcequotas":
            return self.quotas(ns)
        if plural == "endpoints":
            namespaces = [ns] if ns is not None else sorted(self.namespaces)
            return [e for n in namespaces for e in self.endpoints(n)]
        return [obj for (p, ons, _), obj in sorted(self.objects.items()) if p == plural and in_ns(ons)]

    def list(self, plural: str, ns: str | None, labels: str | None, fields: str | None) -> list[dict[str, Any]]:
        _, _, namespaced = o.RESOURCES[plural]
        lm = label_matcher(labels)
        fm = field_matcher(fields, FIELDS.get(plural, META_FIELDS))
        scope = ns if namespaced else None
        found = [obj for obj in self._all(plural, scope) if lm(obj["metadata"].get("labels") or {}) and fm(obj)]
        # the API server lists in its storage's key order: by namespace, then name
        return sorted(found, key=lambda obj: (obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    def get(self, plural: str, ns: str, name: str) -> dict[str, Any]:
        group_version, _, namespaced = o.RESOURCES[plural]
        group = group_version.rpartition("/")[0]
        if plural == "deployments" and (ns, name) in self.deployments:
            return self.deployment(ns, name)
        for obj in self._all(plural, ns if namespaced else None):
            if obj["metadata"]["name"] == name:
                return obj
        raise o.not_found(plural, name, group)

    def namespace(self, name: str) -> dict[str, Any]:
        return self.get("namespaces", "", name)

    def pod(self, ns: str, name: str) -> dict[str, Any]:
        return self.get("pods", ns, name)

    def deployment(self, ns: str, name: str) -> dict[str, Any]:
        if (ns, name) not in self.deployments:
            raise o.not_found("deployments", name, "apps")
        deploy = self.deployments[(ns, name)]
        deploy["status"] = self._deploy_status(deploy)
        return deploy

    def scale(self, ns: str, name: str) -> dict[str, Any]:
        d = self.deployment(ns, name)
        selector = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: d["metadata"][k] for k in ("name", "namespace", "uid", "creationTimestamp",
                                                            "resourceVersion") if k in d["metadata"]},
                "spec": {"replicas": d["spec"]["replicas"]},
                "status": {"replicas": d["status"].get("replicas", 0), "selector": selector}}

    def pod_log(self, ns: str, name: str, container: str | None, previous: bool, tail: int | None,
                since: int | None, timestamps: bool) -> str:
        p = self.pod(ns, name)
        mains = [c["name"] for c in p["spec"]["containers"]]
        inits = [c["name"] for c in p["spec"].get("initContainers", [])]
        if container is None:
            if len(mains) > 1:
                raise o.ApiError(400, "BadRequest", f"a container name must be specified for pod {name}, choose one "
                                 f"of: [{' '.join(mains)}]" + (f" or one of the init containers: [{' '.join(inits)}]"
                                                               if inits else ""))
            container = mains[0]
        if container not in mains + inits:
            raise o.ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
        statuses = [*p["status"].get("containerStatuses", []), *p["status"].get("initContainerStatuses", [])]
        cs = next((s for s in statuses if s["name"] == container), {})
        if not cs or ("waiting" in cs.get("state", {}) and not cs.get("restartCount")):
            why = cs.get("state", {}).get("waiting", {}).get("reason", "ContainerCreating")
            raise o.ApiError(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: {why}')
        current, prev = self.logs.get((ns, name), {}).get(container, ([], []))
        if previous and not ("terminated" in cs.get("lastState", {}) and cs.get("restartCount")):
            raise o.ApiError(400, "BadRequest",
                             f'previous terminated container "{container}" in pod "{name}" not found')
        lines = prev if previous else current
        if since is not None:
            lines = [(t, s) for t, s in lines if t >= self.clock() - since]
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        return "".join(f"{o.ts_nano(t)} {s}\n" if timestamps else f"{s}\n" for t, s in lines)

    # -- writes ----------------------------------------------------------------------------------

    def delete_pod(self, ns: str, name: str) -> dict[str, Any]:
        p = json.loads(json.dumps(self.pod(ns, name)))
        now = self.clock()
        p["metadata"].update({"deletionTimestamp": o.ts(now + 30), "deletionGracePeriodSeconds": 30})
        self._kill(self.pods[(ns, name)], now)
        ref = next((r for r in p["metadata"].get("ownerReferences", []) if r.get("controller")), None)
        rs = self.replicasets.get((ns, ref["name"])) if ref and ref["kind"] == "ReplicaSet" else None
        if rs is not None:
            self._scale_rs(rs, rs["spec"]["replicas"], now, announce=False)
            self._refresh_owner(rs)
        elif ref is not None and (owner := self.objects.get((o.PLURAL[ref["kind"]], ns, ref["name"]))):
            # a StatefulSet makes the same ordinal again; a DaemonSet or a Job makes a new pod
            fresh = name if ref["kind"] == "StatefulSet" else f"{ref['name']}-{o.short_hash(f'{name}/{now}', 5)}"
            spec = {k: v for k, v in p["spec"].items() if k != "nodeName"}
            template = {"metadata": {"labels": p["metadata"].get("labels", {})}, "spec": spec}
            self._spawn(ns, owner, ref["kind"], fresh, template, self.pod_states.get((ns, name), PodState()), now,
                        now, fresh=True)
        return p

    def patch_deployment(self, ns: str, name: str, body: Any, content_type: str, manager: str = "unknown",
                         subresource: str | None = None) -> dict[str, Any]:
        deploy = self.deployment(ns, name)
        before = {k: v for k, v in deploy.items() if k != "status"}
        after = k8s_patch.apply(before, body, content_type)
        self._validate(after, before)
        o.record_write(after["metadata"], "apps/v1", manager, body, self.clock(), subresource)
        after["status"] = deploy["status"]
        if _canonical(after["spec"]) != _canonical(before["spec"]):
            after["metadata"]["generation"] = before["metadata"].get("generation", 1) + 1
        if o.template_key(after["spec"]["template"]) != o.template_key(before["spec"]["template"]):
            self.rollout_started[(ns, name)] = self.clock()
        self.deployments[(ns, name)] = after
        self._reconcile(after)
        return self.deployment(ns, name)

    def patch_scale(self, ns: str, name: str, body: Any, content_type: str,
                    manager: str = "unknown") -> dict[str, Any]:
        scale = k8s_patch.apply(self.scale(ns, name), body, content_type)
        replicas = scale.get("spec", {}).get("replicas")
        self.patch_deployment(ns, name, {"spec": {"replicas": replicas}}, k8s_patch.MERGE_PATCH, manager, "scale")
        return self.scale(ns, name)

    # -- the controller --------------------------------------------------------------------------

    def _validate(self, after: dict[str, Any], before: dict[str, Any]) -> None:
        name = before["metadata"]["name"]
        meta = after.get("metadata") or {}
        spec = after.get("spec") or {}
        problems = []
        if meta.get("name") != name or meta.get("namespace") != before["metadata"]["namespace"]:
            problems.append("metadata.name: the name and namespace cannot be changed")
        replicas = spec.get("replicas")
        if type(replicas) is not int or replicas < 0:
            problems.append(f"spec.replicas: Invalid value: {replicas!r}: must be greater than or equal to 0")
        containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
        if not containers or not all(isinstance(c, dict) and c.get("name") and c.get("image") for c in containers):
            problems.append("spec.template.spec.containers: Required value: every container needs a name and an image")
        labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
        wanted = (spec.get("selector") or {}).get("matchLabels") or {}
        if spec.get("selector") != before["spec"]["selector"]:
            problems.append("spec.selector: Invalid value: field is immutable")
        elif any(labels.get(k) != v for k, v in wanted.items()):
            problems.append("spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`")
        if problems:
            raise o.ApiError(422, "Invalid", f'Deployment.apps "{name}" is invalid: ' + "; ".join(problems),
                             {"name": name, "group": "apps", "kind": "Deployment"})


def _canonical(value: Any) -> str:
    return json.dumps(o.normalize(value), sort_keys=True)
