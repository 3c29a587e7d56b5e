"""The controller effects of the emulated cluster: what the deployment, ReplicaSet and pod controllers, the
scheduler and the kubelet would do after a change, and the events they would record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox import k8s_objects as o
from sandbox.scenario import PodState

Key = tuple[str, str]
PROGRESS_DEADLINE = 600


def key_of(obj: dict[str, Any]) -> Key:
    return obj["metadata"]["namespace"], obj["metadata"]["name"]


def revision_of(rs: dict[str, Any]) -> int:
    return int(rs["metadata"]["annotations"].get(o.REVISION, "0"))


def is_ready(p: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))


class Controllers:
    """Mixed into the Cluster, whose state these methods change (see Cluster.reset for the fields)."""

    clock: Callable[[], float]
    deployments: dict[Key, dict[str, Any]]
    replicasets: dict[Key, dict[str, Any]]
    pods: dict[Key, dict[str, Any]]
    logs: dict[Key, tuple[list[tuple[float, str]], list[tuple[float, str]]]]
    events: list[dict[str, Any]]
    behaviour: dict[Key, dict[str, PodState]]
    rs_state: dict[Key, PodState]
    rollout_started: dict[Key, float]
    made: dict[Key, int]
    seq: int

    def _owned(self, deploy: dict[str, Any]) -> list[dict[str, Any]]:
        uid = deploy["metadata"]["uid"]
        ns = deploy["metadata"]["namespace"]
        owned = [rs for (rns, _), rs in self.replicasets.items() if rns == ns
                 and any(r["uid"] == uid for r in rs["metadata"].get("ownerReferences", []))]
        return sorted(owned, key=revision_of)

    def _pods_of(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        uid = rs["metadata"]["uid"]
        pods = [p for p in self.pods.values() if any(r["uid"] == uid for r in p["metadata"]["ownerReferences"])]
        return sorted(pods, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))

    def _pods_of_deployment(self, deploy: dict[str, Any]) -> list[dict[str, Any]]:
        return [p for rs in self._owned(deploy) for p in self._pods_of(rs)]

    def _reconcile(self, deploy: dict[str, Any]) -> None:
        now = self.clock()
        template = deploy["spec"]["template"]
        owned = self._owned(deploy)
        top = max((revision_of(rs) for rs in owned), default=0)
        cause = deploy["metadata"].get("annotations", {}).get(o.CHANGE_CAUSE)
        live = next((rs for rs in owned if o.template_key(rs["spec"]["template"]) == o.template_key(template)), None)
        if live is None:
            live = o.replica_set(deploy, template, top + 1, now, cause)
            self.replicasets[key_of(live)] = live
            known = self.behaviour.get(key_of(deploy), {})
            self.rs_state[key_of(live)] = known.get(o.containers_key(template), PodState())
        elif revision_of(live) != top:
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
            del self.replicasets[key_of(rs)]  # like the controller: old, empty ReplicaSets beyond the limit go
        deploy["status"]["observedGeneration"] = deploy["metadata"].get("generation", 1)
        self._touch(deploy)

    def _scale_rs(self, rs: dict[str, Any], want: int, now: float, announce: bool = True) -> None:
        ns, rs_name = key_of(rs)
        pods = self._pods_of(rs)
        was = rs["spec"]["replicas"]
        rs["spec"]["replicas"] = want
        rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(want)
        for _ in range(want - len(pods)):
            self._make_pod(rs, created=now, ref=now, fresh=True)
        newest_first = sorted(pods, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]),
                              reverse=True)
        ranked = sorted(newest_first, key=is_ready)  # like the ReplicaSet controller: unready, then newest, go first
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
        ns, rs_name = key_of(rs)
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
        ns, name = key_of(p)
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
        ready = sum(1 for p in pods if is_ready(p))
        rs["status"] = o.normalize({"replicas": len(pods), "fullyLabeledReplicas": len(pods) or None,
                                    "readyReplicas": ready or None, "availableReplicas": ready or None,
                                    "observedGeneration": rs["metadata"]["generation"]}) | {"replicas": len(pods)}
        self._touch(rs)

    def _deploy_status(self, deploy: dict[str, Any]) -> dict[str, Any]:
        key = o.template_key(deploy["spec"]["template"])
        live = next((rs for rs in self._owned(deploy) if o.template_key(rs["spec"]["template"]) == key), None)
        pods = self._pods_of_deployment(deploy)
        new = self._pods_of(live) if live else []
        started = self.rollout_started.get(key_of(deploy), self.clock())
        return o.deployment_status(deploy, live, [is_ready(p) for p in pods], [is_ready(p) for p in new], started,
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
