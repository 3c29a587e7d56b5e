"""The emulated cluster as kube-state-metrics and the kubelet's cAdvisor would expose it, for Prometheus.

Series names and labels are kube-state-metrics v2's (`kube_pod_container_status_waiting_reason{namespace,
pod, uid, container, reason}`, `kube_job_failed{namespace, job_name, condition}` …) with the labels a
kube-prometheus scrape adds (`job="kube-state-metrics"`, `service`), so kubernetes-mixin alert rules work on
them unchanged. cAdvisor's CPU throttling counters (`job="kubelet"`, `metrics_path="/metrics/cadvisor"`) grow
from each container's start at 10 CFS periods a second, the throttled share as the scenario says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sandbox.k8s_controllers import is_ready
from sandbox.k8s_objects import normalize
from sandbox.k8s_pod import state_of
from sandbox.scenario_cluster import ContainerState, PodState
from tools.k8s_quantity import quantity

KSM = {"job": "kube-state-metrics", "service": "kube-state-metrics"}
KUBELET = {"job": "kubelet", "service": "kubelet", "metrics_path": "/metrics/cadvisor"}
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
CFS_PERIODS_PER_S = 10
Sample = tuple[str, dict[str, str], float]


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _unit(resource: str) -> tuple[str, str]:
    unit = {"cpu": "core", "memory": "byte", "ephemeral-storage": "byte"}.get(resource, "integer")
    return re.sub(r"[^a-zA-Z0-9_]", "_", resource), unit


def _epoch(ts: str | None) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() if ts else 0.0


def _pods(cluster: Any, now: float) -> Iterator[Sample]:
    for (ns, name), p in sorted(cluster.pods.items()):
        meta, spec, status = p["metadata"], p["spec"], p["status"]
        base = {"namespace": ns, "pod": name, "uid": meta["uid"]}
        ref = next((r for r in meta.get("ownerReferences", []) if r.get("controller")), None)
        yield "kube_pod_info", {**base, "node": spec.get("nodeName", ""), "host_ip": status.get("hostIP", ""),
                                "pod_ip": status.get("podIP", ""), "created_by_kind": ref["kind"] if ref else "",
                                "created_by_name": ref["name"] if ref else ""}, 1
        yield "kube_pod_owner", {**base, "owner_kind": ref["kind"] if ref else "<none>",
                                 "owner_name": ref["name"] if ref else "<none>",
                                 "owner_is_controller": "true" if ref else "<none>"}, 1
        for phase in PHASES:
            yield "kube_pod_status_phase", {**base, "phase": phase}, float(status.get("phase") == phase)
        ready = is_ready(p)
        for cond in ("true", "false"):
            yield "kube_pod_status_ready", {**base, "condition": cond}, float(ready == (cond == "true"))
        scheduled = bool(spec.get("nodeName"))
        for cond in ("true", "false"):
            yield "kube_pod_status_scheduled", {**base, "condition": cond}, float(scheduled == (cond == "true"))
        if not scheduled:
            yield "kube_pod_status_unschedulable", base, 1
        state = cluster.pod_states.get((ns, name), PodState())
        for prefix, key in (("kube_pod_init_container", "initContainerStatuses"),
                            ("kube_pod_container", "containerStatuses")):
            for cs in status.get(key, []):
                yield from _container(prefix, base, cs)
        for i, c in enumerate(spec["containers"]):
            yield from _resources(base, c, spec.get("nodeName", ""))
            yield from _cadvisor(ns, name, c, state_of(state, c["name"], i, init=False), p, now)


def _container(prefix: str, base: dict[str, str], cs: dict[str, Any]) -> Iterator[Sample]:
    labels = {**base, "container": cs["name"]}
    st, last = cs.get("state", {}), cs.get("lastState", {})
    yield f"{prefix}_info", {**labels, "image": cs["image"], "image_id": cs.get("imageID", ""),
                             "container_id": cs.get("containerID", "")}, 1
    yield f"{prefix}_status_waiting", labels, float("waiting" in st)
    yield f"{prefix}_status_running", labels, float("running" in st)
    yield f"{prefix}_status_terminated", labels, float("terminated" in st)
    yield f"{prefix}_status_ready", labels, float(bool(cs.get("ready")))
    yield f"{prefix}_status_restarts_total", labels, float(cs.get("restartCount", 0))
    if "waiting" in st:
        yield f"{prefix}_status_waiting_reason", {**labels, "reason": st["waiting"].get("reason", "")}, 1
    if "terminated" in st:
        yield f"{prefix}_status_terminated_reason", {**labels, "reason": st["terminated"].get("reason", "")}, 1
    if "terminated" in last:
        yield f"{prefix}_status_last_terminated_reason", {**labels, "reason": last["terminated"].get("reason", "")}, 1
        yield f"{prefix}_status_last_terminated_exitcode", labels, float(last["terminated"].get("exitCode", 0))


def _resources(base: dict[str, str], c: dict[str, Any], node: str) -> Iterator[Sample]:
    res = c.get("resources") or {}
    for which in ("requests", "limits"):
        for resource, amount in sorted((res.get(which) or {}).items()):
            name, unit = _unit(resource)
            yield f"kube_pod_container_resource_{which}", {**base, "container": c["name"], "node": node,
                                                         "resource": name, "unit": unit}, float(quantity(amount))


def _cadvisor(ns: str, pod: str, c: dict[str, Any], own: ContainerState, p: dict[str, Any],
              now: float) -> Iterator[Sample]:
    cs = next((s for s in p["status"].get("containerStatuses", []) if s["name"] == c["name"]), None)
    if cs is None or "running" not in cs.get("state", {}):
        return
    labels = {"namespace": ns, "pod": pod, "container": c["name"], "image": c["image"],
              "node": p["spec"].get("nodeName", "")}
    if "cpu" in ((c.get("resources") or {}).get("limits") or {}):
        periods = int(max(now - _epoch(cs["state"]["running"].get("startedAt")), 0) * CFS_PERIODS_PER_S)
        yield "container_cpu_cfs_periods_total", labels, float(periods)
        yield "container_cpu_cfs_throttled_periods_total", labels, float(int(periods * (own.cpu_throttled or 0)))
    if own.memory_working_set is not None:
        yield "container_memory_working_set_bytes", labels, float(quantity(own.memory_working_set))


def _workloads(cluster: Any) -> Iterator[Sample]:
    for (ns, name) in sorted(cluster.deployments):
        d = cluster.deployment(ns, name)
        base, s = {"namespace": ns, "deployment": name}, d["status"]
        yield "kube_deployment_spec_replicas", base, d["spec"]["replicas"]
        for field, metric in (("replicas", "replicas"), ("availableReplicas", "replicas_available"),
                              ("unavailableReplicas", "replicas_unavailable"), ("updatedReplicas", "replicas_updated"),
                              ("readyReplicas", "replicas_ready"), ("observedGeneration", "observed_generation")):
            yield f"kube_deployment_status_{metric}", base, s.get(field, 0)
        yield "kube_deployment_metadata_generation", base, d["metadata"].get("generation", 1)
        for c in s.get("conditions", []):
            for st in ("true", "false", "unknown"):
                yield "kube_deployment_status_condition", {**base, "condition": c["type"], "status": st}, \
                    float(c["status"].lower() == st)
    for (ns, name), rs in sorted(cluster.replicasets.items()):
        base = {"namespace": ns, "replicaset": name}
        yield "kube_replicaset_spec_replicas", base, rs["spec"]["replicas"]
        yield "kube_replicaset_status_ready_replicas", base, rs["status"].get("readyReplicas", 0)
        ref = rs["metadata"]["ownerReferences"][0]
        yield "kube_replicaset_owner", {**base, "owner_kind": ref["kind"], "owner_name": ref["name"],
                                        "owner_is_controller": "true"}, 1
    for (plural, ns, name), obj in sorted(cluster.objects.items()):
        yield from {"statefulsets": _statefulset, "daemonsets": _daemonset, "jobs": _job, "cronjobs": _cronjob,
                    "persistentvolumeclaims": _claim, "persistentvolumes": _volume,
                    "horizontalpodautoscalers": _hpa}.get(plural, lambda *_: iter(()))(ns, name, obj)


def _statefulset(ns: str, name: str, sts: dict[str, Any]) -> Iterator[Sample]:
    base, s = {"namespace": ns, "statefulset": name}, sts["status"]
    yield "kube_statefulset_replicas", base, sts["spec"]["replicas"]
    for field, metric in (("replicas", "replicas"), ("readyReplicas", "replicas_ready"),
                          ("currentReplicas", "replicas_current"), ("updatedReplicas", "replicas_updated"),
                          ("availableReplicas", "replicas_available"), ("observedGeneration", "observed_generation")):
        yield f"kube_statefulset_status_{metric}", base, s.get(field, 0)
    yield "kube_statefulset_metadata_generation", base, sts["metadata"].get("generation", 1)
    yield "kube_statefulset_status_current_revision", {**base, "revision": s.get("currentRevision", "")}, 1
    yield "kube_statefulset_status_update_revision", {**base, "revision": s.get("updateRevision", "")}, 1


def _daemonset(ns: str, name: str, ds: dict[str, Any]) -> Iterator[Sample]:
    base, s = {"namespace": ns, "daemonset": name}, ds["status"]
    for field in ("desiredNumberScheduled", "currentNumberScheduled", "numberReady", "numberAvailable",
                  "numberUnavailable", "numberMisscheduled", "updatedNumberScheduled"):
        yield f"kube_daemonset_status_{_snake(field)}", base, s.get(field, 0)


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _job(ns: str, name: str, job: dict[str, Any]) -> Iterator[Sample]:
    base, s = {"namespace": ns, "job_name": name}, job["status"]
    ref = next((r for r in job["metadata"].get("ownerReferences", [])), None)
    yield "kube_job_info", base, 1
    yield "kube_job_owner", {**base, "owner_kind": ref["kind"] if ref else "<none>",
                             "owner_name": ref["name"] if ref else "<none>",
                             "owner_is_controller": "true" if ref else "<none>"}, 1
    yield "kube_job_spec_completions", base, job["spec"].get("completions", 1)
    for field in ("active", "succeeded", "failed"):
        yield f"kube_job_status_{field}", base, s.get(field, 0)
    yield "kube_job_status_start_time", base, _epoch(s.get("startTime"))
    conditions = {c["type"]: c for c in s.get("conditions", [])}
    for type_, metric in (("Failed", "kube_job_failed"), ("Complete", "kube_job_complete")):
        held = type_ in conditions and conditions[type_]["status"] == "True"
        reason = conditions[type_].get("reason", "") if type_ in conditions else ""
        for cond in ("true", "false", "unknown"):
            value = float(held == (cond == "true")) if cond != "unknown" else 0.0
            yield metric, {**base, "condition": cond, **({"reason": reason} if metric == "kube_job_failed" and
                                                           reason and cond == "true" else {})}, value


def _cronjob(ns: str, name: str, cj: dict[str, Any]) -> Iterator[Sample]:
    base, s = {"namespace": ns, "cronjob": name}, cj["status"]
    yield "kube_cronjob_info", {**base, "schedule": cj["spec"]["schedule"],
                                "concurrency_policy": cj["spec"].get("concurrencyPolicy", "Allow")}, 1
    yield "kube_cronjob_spec_suspend", base, float(bool(cj["spec"].get("suspend")))
    yield "kube_cronjob_status_active", base, len(s.get("active", []))
    if s.get("lastScheduleTime"):
        yield "kube_cronjob_status_last_schedule_time", base, _epoch(s["lastScheduleTime"])
    if s.get("lastSuccessfulTime"):
        yield "kube_cronjob_status_last_successful_time", base, _epoch(s["lastSuccessfulTime"])


def _claim(ns: str, name: str, pvc: dict[str, Any]) -> Iterator[Sample]:
    base = {"namespace": ns, "persistentvolumeclaim": name}
    phase = (pvc.get("status") or {}).get("phase", "Pending")
    for p in ("Pending", "Bound", "Lost"):
        yield "kube_persistentvolumeclaim_status_phase", {**base, "phase": p}, float(phase == p)
    yield "kube_persistentvolumeclaim_info", {**base, "storageclass": pvc["spec"].get("storageClassName", ""),
                                              "volumename": pvc["spec"].get("volumeName", "")}, 1
    asked = ((pvc["spec"].get("resources") or {}).get("requests") or {}).get("storage")
    if asked:
        yield "kube_persistentvolumeclaim_resource_requests_storage_bytes", base, float(quantity(asked))


def _volume(_: str, name: str, pv: dict[str, Any]) -> Iterator[Sample]:
    phase = (pv.get("status") or {}).get("phase", "Available")
    for p in ("Pending", "Available", "Bound", "Released", "Failed"):
        yield "kube_persistentvolume_status_phase", {"persistentvolume": name, "phase": p}, float(phase == p)
    size = (pv["spec"].get("capacity") or {}).get("storage")
    if size:
        yield "kube_persistentvolume_capacity_bytes", {"persistentvolume": name}, float(quantity(size))


def _hpa(ns: str, name: str, hpa: dict[str, Any]) -> Iterator[Sample]:
    base, s = {"namespace": ns, "horizontalpodautoscaler": name}, hpa.get("status") or {}
    yield "kube_horizontalpodautoscaler_spec_min_replicas", base, hpa["spec"].get("minReplicas", 1)
    yield "kube_horizontalpodautoscaler_spec_max_replicas", base, hpa["spec"]["maxReplicas"]
    yield "kube_horizontalpodautoscaler_status_current_replicas", base, s.get("currentReplicas", 0)
    yield "kube_horizontalpodautoscaler_status_desired_replicas", base, s.get("desiredReplicas", 0)
    for c in s.get("conditions", []):
        for st in ("true", "false", "unknown"):
            yield "kube_horizontalpodautoscaler_status_condition", {**base, "condition": c["type"], "status": st}, \
                float(c["status"].lower() == st)


def _nodes(cluster: Any) -> Iterator[Sample]:
    for name, n in sorted(cluster.nodes.items()):
        base = {"node": name}
        info = n["status"]["nodeInfo"]
        yield "kube_node_info", {**base, "kubelet_version": info["kubeletVersion"],
                                 "os_image": info["osImage"], "internal_ip": n["status"]["addresses"][0]["address"]}, 1
        for c in n["status"]["conditions"]:
            for st in ("true", "false", "unknown"):
                yield "kube_node_status_condition", {**base, "condition": c["type"], "status": st}, \
                    float(c["status"].lower() == st)
        for which in ("capacity", "allocatable"):
            for resource, amount in sorted(n["status"][which].items()):
                rname, unit = _unit(resource)
                yield f"kube_node_status_{which}", {**base, "resource": rname, "unit": unit}, float(quantity(amount))
        yield "kube_node_spec_unschedulable", base, float(bool(n["spec"].get("unschedulable")))
        for t in n["spec"].get("taints", []):
            yield "kube_node_spec_taint", {**base, "key": t["key"], "value": t.get("value", ""),
                                           "effect": t["effect"]}, 1
    for ns in sorted(cluster.namespaces):
        for p in ("Active", "Terminating"):
            yield "kube_namespace_status_phase", {"namespace": ns, "phase": p}, float(p == "Active")


def render(cluster: Any, now: float) -> str:
    """The exposition text (no timestamps: the sandbox exporter stamps the samples it passes on)."""
    families: dict[str, list[str]] = {}
    for name, labels, value in [*_pods(cluster, now), *_workloads(cluster), *_nodes(cluster)]:
        extra = KUBELET if name.startswith("container_") else KSM
        text = ",".join(f'{k}="{_esc(str(v))}"' for k, v in normalize({**labels, **extra}).items())
        families.setdefault(name, []).append(f"{name}{{{text}}} {float(value)!r}")
    out = []
    for name, lines in families.items():
        kind = "counter" if name.endswith("_total") else "gauge"
        out += [f"# TYPE {name} {kind}", *lines]
    return "\n".join(out) + "\n"
