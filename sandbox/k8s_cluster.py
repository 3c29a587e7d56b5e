"""The emulated cluster's state and the controller effects a user would see.

A deployment owns one ReplicaSet per distinct pod template (revision annotation, pod-template-hash label);
only the live one has pods. Changing the template (a rollout restart, a rollback to an older template, a new
image) makes or reuses a ReplicaSet, replaces every pod and records events; scaling adds or removes pods;
deleting a pod of a ReplicaSet brings a replacement with a new name. Pods of a revision look the way the
scenario's `pods:` block says; a template the scenario does not know gives healthy pods.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sandbox import k8s_objects as o
from sandbox import k8s_patch
from sandbox.scenario import PodState, Scenario, offset

Key = tuple[str, str]
PROGRESS_DEADLINE = 600

POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "status.phase",
              "status.podIP")
EVENT_FIELDS = ("involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.fieldPath", "reason", "type", "source",
                "reportingComponent", "metadata.name", "metadata.namespace")


def _key(obj: dict[str, Any]) -> Key:
    return obj["metadata"]["namespace"], obj["metadata"]["name"]


def _revision(rs: dict[str, Any]) -> int:
    return int(rs["metadata"]["annotations"].get(o.REVISION, "0"))


class Cluster:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.deployments: dict[Key, dict[str, Any]] = {}
        self.replicasets: dict[Key, dict[str, Any]] = {}
        self.pods: dict[Key, dict[str, Any]] = {}
        self.logs: dict[Key, tuple[list[tuple[float, str]], list[tuple[float, str]]]] = {}
        self.events: list[dict[str, Any]] = []
        self.behaviour: dict[Key, dict[str, PodState]] = {}  # deployment → containers key → PodState
        self.rs_state: dict[Key, PodState] = {}
        self.rollout_started: dict[Key, float] = {}
        self.made: dict[Key, int] = {}  # pods made per ReplicaSet, for fresh names
        self.seq = 0

    # -- loading ---------------------------------------------------------------------------------

    def load(self, scenario: Scenario, t0: float) -> None:
        self.reset()
        at = lambda off: t0 + offset(off).total_seconds()  # noqa: E731
        for ns in scenario.cluster.namespaces:
            self.namespaces[ns] = {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": o.uid("ns", ns), "creationTimestamp": o.ts(t0 - 30 * 86400),
                             "labels": {"kubernetes.io/metadata.name": ns}, "resourceVersion": "1"},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
            }
        for d in scenario.cluster.deployments:
            labels = d.labels or {"app": d.name}
            templates = [o.pod_template(d.name, labels, r) for r in d.revisions]
            live = d.revisions[-1]
            deploy = {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": d.name, "namespace": d.namespace, "uid": o.uid("deploy", d.namespace, d.name),
                             "creationTimestamp": o.ts(at(d.revisions[0].created)), "generation": len(d.revisions),
                             "labels": {"app": d.name},
                             "annotations": o.normalize({o.CHANGE_CAUSE: live.change_cause})},
                "spec": {"replicas": d.replicas, "selector": {"matchLabels": labels}, "template": templates[-1],
                         "strategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                         "revisionHistoryLimit": 10, "progressDeadlineSeconds": PROGRESS_DEADLINE},
                "status": {"observedGeneration": len(d.revisions)},
            }
            key = (d.namespace, d.name)
            self.deployments[key] = deploy
            self.behaviour[key] = {o.containers_key(t): r.pods for t, r in zip(templates, d.revisions)}
            for n, (t, r) in enumerate(zip(templates, d.revisions), 1):
                rs = o.replica_set(deploy, t, n, at(r.created), r.change_cause)
                self.replicasets[_key(rs)] = rs
                self.rs_state[_key(rs)] = r.pods
            live_rs = self._owned(deploy)[-1]
            deploy["metadata"]["annotations"][o.REVISION] = str(_revision(live_rs))
            self.rollout_started[key] = at(live.created)
            live_rs["spec"]["replicas"] = d.replicas
            live_rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(d.replicas)
            for _ in range(d.replicas):
                self._make_pod(live_rs, created=at(live.created), ref=t0, fresh=False)
            for rs in self._owned(deploy):
                self._rs_status(rs)
            self._touch(deploy)
        for e in scenario.cluster.events:
            last = at(e.last_seen)
            deploy = self.deployments.get((e.namespace, e.name))
            if e.kind == "Pod" and deploy is not None:
                targets = [o.involved("Pod", p, e.namespace) for p in self._pods_of_deployment(deploy)]
            elif e.kind == "Deployment" and deploy is not None:
                targets = [o.involved("Deployment", deploy, e.namespace)]
            else:
                targets = [o.involved(e.kind, e.name, e.namespace)]
            for target in targets:
                first = last - (e.count - 1) * 30
                self._event(e.namespace, target, e.type, e.reason, e.message, first, last, count=e.count)

    # -- reads -----------------------------------------------------------------------------------

    def namespace(self, name: str) -> dict[str, Any]:
        if name not in self.namespaces:
            raise o.not_found("namespaces", name)
        return self.namespaces[name]

    def list_pods(self, ns: str, labels: str | None, fields: str | None) -> list[dict[str, Any]]:
        lm, fm = o.label_matcher(labels), o.field_matcher(fields, POD_FIELDS)
        return [p for (pns, _), p in sorted(self.pods.items())
                if pns == ns and lm(p["metadata"].get("labels", {})) and fm(p)]

    def pod(self, ns: str, name: str) -> dict[str, Any]:
        if (ns, name) not in self.pods:
            raise o.not_found("pods", name)
        return self.pods[(ns, name)]

    def list_events(self, ns: str, fields: str | None) -> list[dict[str, Any]]:
        fm = o.field_matcher(fields, EVENT_FIELDS)
        return [e for e in self.events if e["metadata"]["namespace"] == ns and fm(e)]

    def list_deployments(self, ns: str, labels: str | None) -> list[dict[str, Any]]:
        lm = o.label_matcher(labels)
        return [self.deployment(ns, n) for (dns, n), d in sorted(self.deployments.items())
                if dns == ns and lm(d["metadata"].get("labels", {}))]

    def deployment(self, ns: str, name: str) -> dict[str, Any]:
        if (ns, name) not in self.deployments:
            raise o.not_found("deployments", name, "apps")
        deploy = self.deployments[(ns, name)]
        deploy["status"] = self._deploy_status(deploy)
        return deploy

    def list_replicasets(self, ns: str, labels: str | None) -> list[dict[str, Any]]:
        lm = o.label_matcher(labels)
        return [rs for (rns, _), rs in sorted(self.replicasets.items())
                if rns == ns and lm(rs["metadata"].get("labels", {}))]

    def replicaset(self, ns: str, name: str) -> dict[str, Any]:
        if (ns, name) not in self.replicasets:
            raise o.not_found("replicasets", name, "apps")
        return self.replicasets[(ns, name)]

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
        cname = p["spec"]["containers"][0]["name"]
        if container and container != cname:
            raise o.ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
        statuses = p["status"].get("containerStatuses") or []
        cs = statuses[0] if statuses else {}
        if not cs or ("waiting" in cs.get("state", {}) and not cs.get("restartCount")):
            why = cs.get("state", {}).get("waiting", {}).get("reason", "ContainerCreating")
            raise o.ApiError(400, "BadRequest", f'container "{cname}" in pod "{name}" is waiting to start: {why}')
        current, prev = self.logs.get((ns, name), ([], []))
        if previous and not ("terminated" in cs.get("lastState", {}) and cs.get("restartCount")):
            raise o.ApiError(400, "BadRequest", f'previous terminated container "{cname}" in pod "{name}" not found')
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
        rs_name = next((r["name"] for r in p["metadata"].get("ownerReferences", []) if r["kind"] == "ReplicaSet"), None)
        rs = self.replicasets.get((ns, rs_name)) if rs_name else None
        if rs is not None:
            self._scale_rs(rs, rs["spec"]["replicas"], now, announce=False)
            self._refresh_owner(rs)
        return p

    def patch_deployment(self, ns: str, name: str, body: Any, content_type: str) -> dict[str, Any]:
        deploy = self.deployment(ns, name)
        before = {k: v for k, v in deploy.items() if k != "status"}
        after = k8s_patch.apply(before, body, content_type)
        self._validate(after, before)
        after["status"] = deploy["status"]
        if _canonical(after["spec"]) != _canonical(before["spec"]):
            after["metadata"]["generation"] = before["metadata"].get("generation", 1) + 1
        if o.template_key(after["spec"]["template"]) != o.template_key(before["spec"]["template"]):
            self.rollout_started[(ns, name)] = self.clock()
        self.deployments[(ns, name)] = after
        self._reconcile(after)
        return self.deployment(ns, name)

    def patch_scale(self, ns: str, name: str, body: Any, content_type: str) -> dict[str, Any]:
        scale = k8s_patch.apply(self.scale(ns, name), body, content_type)
        replicas = scale.get("spec", {}).get("replicas")
        self.patch_deployment(ns, name, {"spec": {"replicas": replicas}}, k8s_patch.MERGE_PATCH)
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

    def _owned(self, deploy: dict[str, Any]) -> list[dict[str, Any]]:
        uid = deploy["metadata"]["uid"]
        ns = deploy["metadata"]["namespace"]
        owned = [rs for (rns, _), rs in self.replicasets.items() if rns == ns
                 and any(r["uid"] == uid for r in rs["metadata"].get("ownerReferences", []))]
        return sorted(owned, key=_revision)

    def _pods_of(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        uid = rs["metadata"]["uid"]
        pods = [p for p in self.pods.values() if any(r["uid"] == uid for r in p["metadata"]["ownerReferences"])]
        return sorted(pods, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))

    def _pods_of_deployment(self, deploy: dict[str, Any]) -> list[dict[str, Any]]:
        return [p for rs in self._owned(deploy) for p in self._pods_of(rs)]

    def _reconcile(self, deploy: dict[str, Any]) -> None:
        now = self.clock()
        ns = deploy["metadata"]["namespace"]
        template = deploy["spec"]["template"]
        owned = self._owned(deploy)
        top = max((_revision(rs) for rs in owned), default=0)
        cause = deploy["metadata"].get("annotations", {}).get(o.CHANGE_CAUSE)
        live = next((rs for rs in owned if o.template_key(rs["spec"]["template"]) == o.template_key(template)), None)
        if live is None:
            live = o.replica_set(deploy, template, top + 1, now, cause)
            self.replicasets[_key(live)] = live
            known = self.behaviour.get(_key(deploy), {})
            self.rs_state[_key(live)] = known.get(o.containers_key(template), PodState())
        elif _revision(live) != top:
            live["metadata"]["annotations"][o.REVISION] = str(top + 1)
            if cause:
                live["metadata"]["annotations"][o.CHANGE_CAUSE] = cause
        deploy["metadata"].setdefault("annotations", {})[o.REVISION] = live["metadata"]["annotations"][o.REVISION]
        self._scale_rs(live, deploy["spec"]["replicas"], now)
        for rs in owned:
            if rs is not live and (rs["spec"]["replicas"] or self._pods_of(rs)):
                self._scale_rs(rs, 0, now)
        history = [rs for rs in self._owned(deploy) if rs is not live]
        for rs in history[: max(len(history) - deploy["spec"].get("revisionHistoryLimit", 10), 0)]:
            del self.replicasets[_key(rs)]  # like the controller: old, empty ReplicaSets beyond the limit go
        deploy["status"]["observedGeneration"] = deploy["metadata"].get("generation", 1)
        self._touch(deploy)

    def _scale_rs(self, rs: dict[str, Any], want: int, now: float, announce: bool = True) -> None:
        ns, rs_name = _key(rs)
        pods = self._pods_of(rs)
        was = rs["spec"]["replicas"]
        rs["spec"]["replicas"] = want
        rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(want)
        for _ in range(want - len(pods)):
            self._make_pod(rs, created=now, ref=now, fresh=True)
        newest_first = sorted(pods, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]),
                              reverse=True)
        ranked = sorted(newest_first, key=_ready)  # like the ReplicaSet controller: unready, then newest, go first
        for p in ranked[: max(len(pods) - want, 0)]:
            self._kill(p, now)
            self._event(ns, o.involved("ReplicaSet", rs, ns), "Normal", "SuccessfulDelete",
                        f"Deleted pod: {p['metadata']['name']}", now, now, component="replicaset-controller")
        if announce and want != was:
            deploy = self.deployments.get((ns, rs["metadata"]["ownerReferences"][0]["name"]))
            if deploy is not None:
                verb = "up" if want > was else "down"
                self._event(ns, o.involved("Deployment", deploy, ns), "Normal", "ScalingReplicaSet",
                            f"Scaled {verb} replica set {rs_name} to {want} from {was}", now, now,
                            component="deployment-controller")
        self._rs_status(rs)

    def _make_pod(self, rs: dict[str, Any], created: float, ref: float, fresh: bool) -> None:
        ns, rs_name = _key(rs)
        state = self.rs_state[(ns, rs_name)]
        while True:
            self.made[(ns, rs_name)] = n = self.made.get((ns, rs_name), 0) + 1
            name = f"{rs_name}-{o.short_hash(f'{ns}/{rs_name}/{n}', 5)}"
            if (ns, name) not in self.pods:
                break
        # a fresh pod of a healthy-looking revision starts clean; one of a crashing revision has crashed once
        restarts = (min(state.restarts, 1) if state.state != "running" else 0) if fresh else state.restarts
        p = o.pod(rs, name, state, created, ref, restarts)
        self.pods[(ns, name)] = p
        self._touch(p)
        current, previous = o.container_starts(state, created, ref)
        self.logs[(ns, name)] = ([(current + i * 0.1, s) for i, s in enumerate(state.logs)],
                                 [(previous + i * 0.1, s) for i, s in enumerate(state.previous_logs)])
        if not fresh:
            return
        c = p["spec"]["containers"][0]
        self._event(ns, o.involved("ReplicaSet", rs, ns), "Normal", "SuccessfulCreate", f"Created pod: {name}",
                    created, created, component="replicaset-controller")
        target = o.involved("Pod", p, ns)
        if state.unschedulable is not None:
            self._event(ns, target, "Warning", "FailedScheduling", state.unschedulable, created, created,
                        component="default-scheduler")
            return
        self._event(ns, target, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {p['spec']['nodeName']}",
                    created, created, component="default-scheduler")
        for reason, message in (("Pulled", f'Container image "{c["image"]}" already present on machine'),
                                ("Created", f"Created container {c['name']}"),
                                ("Started", f"Started container {c['name']}")):
            self._event(ns, target, "Normal", reason, message, created + 1, created + 1, component="kubelet")
        if state.reason == "CrashLoopBackOff":
            self._event(ns, target, "Warning", "BackOff", f"Back-off restarting failed container {c['name']} in pod "
                        f"{name}_{ns}({p['metadata']['uid']})", created + 2, created + 2, component="kubelet")

    def _kill(self, p: dict[str, Any], now: float) -> None:
        ns, name = _key(p)
        self.pods.pop((ns, name), None)
        self.logs.pop((ns, name), None)
        self._event(ns, o.involved("Pod", p, ns), "Normal", "Killing",
                    f"Stopping container {p['spec']['containers'][0]['name']}", now, now, component="kubelet")

    def _refresh_owner(self, rs: dict[str, Any]) -> None:
        ns = rs["metadata"]["namespace"]
        deploy = self.deployments.get((ns, rs["metadata"]["ownerReferences"][0]["name"]))
        if deploy is not None:
            self._touch(deploy)

    def _rs_status(self, rs: dict[str, Any]) -> None:
        pods = self._pods_of(rs)
        ready = sum(1 for p in pods if _ready(p))
        rs["status"] = o.normalize({"replicas": len(pods), "fullyLabeledReplicas": len(pods) or None,
                                    "readyReplicas": ready or None, "availableReplicas": ready or None,
                                    "observedGeneration": rs["metadata"]["generation"]}) | {"replicas": len(pods)}
        self._touch(rs)

    def _deploy_status(self, deploy: dict[str, Any]) -> dict[str, Any]:
        key = o.template_key(deploy["spec"]["template"])
        live = next((rs for rs in self._owned(deploy) if o.template_key(rs["spec"]["template"]) == key), None)
        pods = self._pods_of_deployment(deploy)
        new = self._pods_of(live) if live else []
        started = self.rollout_started.get(_key(deploy), self.clock())
        return o.deployment_status(deploy, live, [_ready(p) for p in pods], [_ready(p) for p in new], started,
                                   self.clock(), PROGRESS_DEADLINE)

    def _event(self, ns: str, target: dict[str, Any], type_: str, reason: str, message: str, first: float,
               last: float, count: int = 1, component: str = "kubelet") -> None:
        for e in self.events:
            if (e["involvedObject"] == target and e["reason"] == reason and e["message"] == message):
                e["count"] += count
                e["lastTimestamp"] = o.ts(last)
                return
        self.seq += 1
        self.events.append(o.event(ns, target, type_, reason, message, count, first, last, self.seq, component))

    def _touch(self, obj: dict[str, Any]) -> None:
        self.seq += 1
        obj["metadata"]["resourceVersion"] = str(self.seq)


def _canonical(value: Any) -> str:
    return json.dumps(o.normalize(value), sort_keys=True)


def _ready(p: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
