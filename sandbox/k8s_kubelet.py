"""Making and removing pods for every controller: the scheduler's choice, the kubelet's container states and
logs, and the events both record (Scheduled or FailedScheduling; Pulled, Created, Started; BackOff)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sandbox import k8s_objects as o
from sandbox import k8s_pod
from sandbox.k8s_nodes import host_ip
from sandbox.k8s_scheduler import requests_of, schedule
from sandbox.scenario_cluster import PodState

Key = tuple[str, str]
Lines = list[tuple[float, str]]
DONE = ("Succeeded", "Failed")
COMPONENT = {"ReplicaSet": "replicaset-controller", "Job": "job-controller",
             "StatefulSet": "statefulset-controller", "DaemonSet": "daemonset-controller"}


def key_of(obj: dict[str, Any]) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


class Kubelet:
    """Mixed into the Cluster, whose state these methods change (see Cluster.reset for the fields)."""

    clock: Callable[[], float]
    nodes: dict[str, dict[str, Any]]
    pods: dict[Key, dict[str, Any]]
    logs: dict[Key, dict[str, tuple[Lines, Lines]]]
    pod_states: dict[Key, PodState]
    events: list[dict[str, Any]]
    seq: int
    claim_phases: Callable[[str], dict[str, str | None]]  # the storage controller's: claim name -> phase
    admit: Callable[..., str | None]  # admission's refusal of a new pod (ns, name, spec, labels, created), or None
    refused: dict[Key, str]  # the owner's last refused creation
    volume_terms: Callable[[str], dict[str, list[dict[str, Any]]]]  # bound claim -> its volume's node terms

    def _used(self) -> dict[str, Counter]:
        used: dict[str, Counter] = {}
        for p in self.pods.values():
            node = p["spec"].get("nodeName")
            if node and p["status"].get("phase") not in DONE:
                used.setdefault(node, Counter()).update(requests_of(p["spec"]))
        return used

    def _place(self, spec: dict[str, Any], ns: str, state: PodState) -> tuple[str | None, str | None]:
        if state.unschedulable is not None:
            return None, state.unschedulable
        if spec.get("nodeName"):
            return spec["nodeName"], None
        return schedule(spec, list(self.nodes.values()), self._used(), self.claim_phases(ns), self.volume_terms(ns))

    def _spawn(self, ns: str, owner: dict[str, Any] | None, owner_kind: str, name: str,
               template: dict[str, Any], state: PodState, created: float, ref: float, fresh: bool,
               extra_labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
               announce: bool = True) -> dict[str, Any] | None:
        """Make pod `name` from `template` as the owner's controller would, schedule it and start it; None when
        admission refuses it (a LimitRange, a missing ServiceAccount, a ResourceQuota, a webhook): then the owner
        has a FailedCreate event. Admission sees the name a controller asks for: a StatefulSet's pod's own, else
        the owner's name and a dash (generateName: the API server adds the suffix after admission)."""
        asked = name if owner is None or owner_kind == "StatefulSet" else f"{owner['metadata']['name']}-"
        refused = self.admit(ns, asked, template.get("spec", {}), (template.get("metadata") or {}).get("labels"),
                             created) if owner is not None else None
        if refused is not None and owner is not None:
            self.refused[(ns, owner["metadata"]["name"])] = refused
            text = (f"create Pod {name} in StatefulSet {owner['metadata']['name']} failed error: {refused}"
                    if owner_kind == "StatefulSet" else f"Error creating: {refused}")
            self._event(ns, o.involved(owner_kind, owner, ns), "Warning", "FailedCreate", text, created, ref,
                        count=max(int((ref - created) // 600), 1), component=COMPONENT[owner_kind])
            return None
        node, why = self._place(template.get("spec", {}), ns, state)
        index = sorted(self.nodes).index(node) if node in self.nodes else 0
        p = k8s_pod.pod(ns, owner, owner_kind, name, template, state, created, ref, fresh, node, why,
                        host_ip(index) if node else None, extra_labels)
        if annotations:
            p["metadata"]["annotations"] = dict(annotations)
        self.pods[(ns, name)] = p
        self.pod_states[(ns, name)] = state
        self._touch(p)
        self._stamp_logs(p, state, created, ref)
        if owner is not None and announce:
            component = COMPONENT[owner_kind]
            verb = "create Pod" if owner_kind == "StatefulSet" else "Created pod:"
            message = f"{verb} {name} in StatefulSet {owner['metadata']['name']} successful" \
                if owner_kind == "StatefulSet" else f"{verb} {name}"
            self._event(ns, o.involved(owner_kind, owner, ns), "Normal", "SuccessfulCreate", message, created,
                        created, component=component)
        if fresh or announce or (node is None and state.unschedulable is None):
            self._kubelet_events(p, state, created)
        return p

    def _stamp_logs(self, p: dict[str, Any], state: PodState, created: float, ref: float) -> None:
        spec = p["spec"]
        logs: dict[str, tuple[Lines, Lines]] = {}
        for init, containers in ((True, spec.get("initContainers", [])), (False, spec["containers"])):
            for i, c in enumerate(containers):
                cs = k8s_pod.state_of(state, c["name"], i, init)
                current, previous = k8s_pod.container_starts(cs, created, ref)
                logs[c["name"]] = ([(current + j * 0.1, k8s_pod.log_text(s)) for j, s in enumerate(cs.logs)],
                                   [(previous + j * 0.1, k8s_pod.log_text(s)) for j, s in enumerate(cs.previous_logs)])
        self.logs[key_of(p)] = logs

    def _kubelet_events(self, p: dict[str, Any], state: PodState, created: float) -> None:
        ns, name = key_of(p)
        target = o.involved("Pod", p, ns)
        node = p["spec"].get("nodeName")
        if node is None:
            why = next(c.get("message", "") for c in p["status"]["conditions"] if c["type"] == "PodScheduled")
            self._event(ns, target, "Warning", "FailedScheduling", why, created, created, component="default-scheduler")
            return
        self._event(ns, target, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node}",
                    created, created, component="default-scheduler")
        statuses = [*p["status"].get("initContainerStatuses", []), *p["status"].get("containerStatuses", [])]
        for cs in statuses:
            c_target = o.involved("Pod", p, ns, cs["name"])
            waiting = cs["state"].get("waiting", {})
            if waiting.get("reason") in ("ImagePullBackOff", "ErrImagePull"):
                self._event(ns, c_target, "Warning", "Failed", waiting.get("message") or
                            f'Failed to pull image "{cs["image"]}"', created + 1, created + 1)
                continue
            if waiting.get("reason") in ("PodInitializing", "ContainerCreating") and not cs.get("restartCount"):
                continue
            for reason, message in (("Pulled", f'Container image "{cs["image"]}" already present on machine'),
                                    ("Created", f"Created container {cs['name']}"),
                                    ("Started", f"Started container {cs['name']}")):
                self._event(ns, c_target, "Normal", reason, message, created + 1, created + 1)
            if waiting.get("reason") == "CrashLoopBackOff":
                self._event(ns, c_target, "Warning", "BackOff", f"Back-off restarting failed container {cs['name']} "
                            f"in pod {name}_{ns}({p['metadata']['uid']})", created + 2, created + 2)

    def _kill(self, p: dict[str, Any], now: float) -> None:
        ns, name = key_of(p)
        self.pods.pop((ns, name), None)
        self.logs.pop((ns, name), None)
        if p["status"].get("phase") not in DONE and p["spec"].get("nodeName"):
            self._event(ns, o.involved("Pod", p, ns), "Normal", "Killing",
                        f"Stopping container {p['spec']['containers'][0]['name']}", now, now)

    def _event(self, ns: str, target: dict[str, Any], type_: str, reason: str, message: str, first: float,
               last: float, count: int = 1, component: str = "kubelet") -> None:
        for e in self.events:
            if e["involvedObject"] == target and e["reason"] == reason and e["message"] == message:
                e["count"] += count
                e["lastTimestamp"] = o.ts(last)
                return
        self.seq += 1
        self.events.append(o.event(ns, target, type_, reason, message, count, first, last, self.seq, component))

    def _touch(self, obj: dict[str, Any]) -> None:
        self.seq += 1
        obj["metadata"]["resourceVersion"] = str(self.seq)

