"""The emulated cluster's state: loading a scenario, and the API operations the emulator serves.

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
from sandbox.k8s_controllers import PROGRESS_DEADLINE, Controllers, Key, key_of, revision_of
from sandbox.scenario import PodState, Scenario, offset

POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "status.phase",
              "status.podIP")
EVENT_FIELDS = ("involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.fieldPath", "reason", "type", "source",
                "reportingComponent", "metadata.name", "metadata.namespace")


class Cluster(Controllers):
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
                self.replicasets[key_of(rs)] = rs
                self.rs_state[key_of(rs)] = r.pods
            live_rs = self._owned(deploy)[-1]
            deploy["metadata"]["annotations"][o.REVISION] = str(revision_of(live_rs))
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


def _canonical(value: Any) -> str:
    return json.dumps(o.normalize(value), sort_keys=True)
