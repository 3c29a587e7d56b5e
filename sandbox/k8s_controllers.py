"""The deployment and ReplicaSet controllers of the emulated cluster: what they would do after a change, and
the events they would record. A new template rolls out as the real controller does it, within `maxSurge`
and `maxUnavailable` (unhealthy old pods go first), so a rollout to a revision whose pods never get ready
stalls with the old pods still there."""

from __future__ import annotations

import math
from typing import Any

from sandbox import k8s_objects as o
from sandbox.k8s_kubelet import Key, Kubelet, key_of
from sandbox.scenario_cluster import PodState

PROGRESS_DEADLINE = 600


def revision_of(rs: dict[str, Any]) -> int:
    return int(rs["metadata"]["annotations"].get(o.REVISION, "0"))


def is_ready(p: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))


def _resolve(value: Any, desired: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = desired * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def rolling_limits(deploy: dict[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against the desired replicas, as the controller rounds them."""
    desired = deploy["spec"]["replicas"]
    rolling = (deploy["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    surge = _resolve(rolling.get("maxSurge", "25%"), desired, round_up=True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
    return surge, (1 if surge == 0 and unavailable == 0 else unavailable)


class Controllers(Kubelet):
    """Mixed into the Cluster, whose state these methods change (see Cluster.reset for the fields)."""

    deployments: dict[Key, dict[str, Any]]
    replicasets: dict[Key, dict[str, Any]]
    behaviour: dict[Key, dict[str, PodState]]
    rs_state: dict[Key, PodState]
    rollout_started: dict[Key, float]
    made: dict[Key, int]

    def _owned(self, deploy: dict[str, Any]) -> list[dict[str, Any]]:
        uid = deploy["metadata"]["uid"]
        ns = deploy["metadata"]["namespace"]
        owned = [rs for (rns, _), rs in self.replicasets.items() if rns == ns
                 and any(r["uid"] == uid for r in rs["metadata"].get("ownerReferences", []))]
        return sorted(owned, key=revision_of)

    def _pods_of(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        uid = rs["metadata"]["uid"]
        pods = [p for p in self.pods.values() if any(r["uid"] == uid for r in p["metadata"].get("ownerReferences", []))]
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
        elif revision_of(live) != top:  # a rollback: the old ReplicaSet is the newest revision, its number gone
            annotations = live["metadata"]["annotations"]
            history = [h for h in annotations.get(o.REVISION_HISTORY, "").split(",") if h]
            annotations[o.REVISION_HISTORY] = ",".join([*history, annotations[o.REVISION]])
            annotations[o.REVISION] = str(top + 1)
            if cause:
                live["metadata"]["annotations"][o.CHANGE_CAUSE] = cause
        deploy["metadata"].setdefault("annotations", {})[o.REVISION] = live["metadata"]["annotations"][o.REVISION]
        old = [rs for rs in owned if rs is not live and (rs["spec"]["replicas"] or self._pods_of(rs))]
        if (deploy["spec"].get("strategy") or {}).get("type") == "Recreate":
            for rs in old:
                self._scale_rs(rs, 0, now)
            self._scale_rs(live, deploy["spec"]["replicas"], now)
        else:
            self._roll(deploy, live, old, now)
        history = [rs for rs in self._owned(deploy) if rs is not live]
        for rs in history[: max(len(history) - deploy["spec"].get("revisionHistoryLimit", 10), 0)]:
            del self.replicasets[key_of(rs)]  # like the controller: old, empty ReplicaSets beyond the limit go
        deploy["status"]["observedGeneration"] = deploy["metadata"].get("generation", 1)
        self._touch(deploy)

    def _available(self, rs: dict[str, Any]) -> int:
        return sum(1 for p in self._pods_of(rs) if is_ready(p))

    def _roll(self, deploy: dict[str, Any], live: dict[str, Any], old: list[dict[str, Any]], now: float) -> None:
        """One rolling update, step after step until nothing changes: the new ReplicaSet grows while the total
        stays within desired + maxSurge; old ones shrink (unhealthy pods first) while available pods stay at
        least desired - maxUnavailable."""
        desired = deploy["spec"]["replicas"]
        surge, unavailable = rolling_limits(deploy)
        if not old:
            self._scale_rs(live, desired, now)
            return
        replicas = lambda rs: rs["spec"]["replicas"]  # noqa: E731
        while True:
            changed = False
            total = replicas(live) + sum(map(replicas, old))
            if replicas(live) > desired:
                target = desired
            else:
                target = replicas(live) + max(min(desired + surge - total, desired - replicas(live)), 0)
            if target != replicas(live):
                self._scale_rs(live, target, now)
                changed = True
            min_available = desired - unavailable
            total = replicas(live) + sum(map(replicas, old))
            room = total - min_available - (replicas(live) - self._available(live))
            for rs in sorted(old, key=revision_of):  # cleanup: unhealthy old pods cost no availability
                cut = min(replicas(rs) - self._available(rs), room)
                if cut > 0:
                    self._scale_rs(rs, replicas(rs) - cut, now)
                    room -= cut
                    changed = True
            spare = self._available(live) + sum(map(self._available, old)) - min_available
            for rs in sorted(old, key=revision_of):
                cut = min(replicas(rs), spare)
                if cut > 0:
                    self._scale_rs(rs, replicas(rs) - cut, now)
                    spare -= cut
                    changed = True
            if not changed:
                return

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

    def _make_pod(self, rs: dict[str, Any], created: float, ref: float, fresh: bool, name: str | None = None) -> None:
        ns, rs_name = key_of(rs)
        while name is None:
            self.made[(ns, rs_name)] = n = self.made.get((ns, rs_name), 0) + 1
            candidate = f"{rs_name}-{o.short_hash(f'{ns}/{rs_name}/{n}', 5)}"
            name = None if (ns, candidate) in self.pods else candidate
        self._spawn(ns, rs, "ReplicaSet", name, rs["spec"]["template"], self.rs_state[(ns, rs_name)], created, ref,
                    fresh, announce=fresh)

    def _refresh_owner(self, rs: dict[str, Any]) -> None:
        ns = rs["metadata"]["namespace"]
        deploy = self.deployments.get((ns, rs["metadata"]["ownerReferences"][0]["name"]))
        if deploy is not None:
            self._touch(deploy)

    def _rs_status(self, rs: dict[str, Any]) -> None:
        pods = self._pods_of(rs)
        ready = sum(1 for p in pods if is_ready(p))
        refused = self.refused.get(key_of(rs)) if len(pods) < rs["spec"]["replicas"] else None
        failure = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": refused,
                    "lastTransitionTime": rs["metadata"]["creationTimestamp"]}] if refused else None
        rs["status"] = o.normalize({"replicas": len(pods), "fullyLabeledReplicas": len(pods) or None,
                                    "readyReplicas": ready or None, "availableReplicas": ready or None,
                                    "observedGeneration": rs["metadata"]["generation"],
                                    "conditions": failure}) | {"replicas": len(pods)}
        self._touch(rs)

    def _deploy_status(self, deploy: dict[str, Any]) -> dict[str, Any]:
        key = o.template_key(deploy["spec"]["template"])
        live = next((rs for rs in self._owned(deploy) if o.template_key(rs["spec"]["template"]) == key), None)
        pods = self._pods_of_deployment(deploy)
        new = self._pods_of(live) if live else []
        started = self.rollout_started.get(key_of(deploy), self.clock())
        status = o.deployment_status(deploy, live, [is_ready(p) for p in pods], [is_ready(p) for p in new], started,
                                     self.clock(), PROGRESS_DEADLINE)
        failure = [c for c in ((live or {}).get("status") or {}).get("conditions", []) if c["type"] == "ReplicaFailure"]
        status["conditions"] += failure  # the deployment controller copies its ReplicaSet's failure to create pods
        return status
