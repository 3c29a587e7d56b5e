"""The Job, CronJob, StatefulSet and DaemonSet controllers, and bare pods, as a user sees their effects.

- A Job whose pods fail makes a new pod per attempt (restartPolicy Never) or restarts one (OnFailure) until
  `backoffLimit` is passed, then fails with BackoffLimitExceeded; one whose pods succeed completes.
- A CronJob made its Job at the last time its schedule matched before the load.
- A StatefulSet's pods are name-0, name-1, … made in order, each only once the one before is Running and
  Ready (OrderedReady), each with its claims from volumeClaimTemplates.
- A DaemonSet has one pod per node whose selector and taints it fits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox import k8s_objects as o
from sandbox.k8s_controllers import is_ready
from sandbox.k8s_kubelet import Kubelet, key_of
from sandbox.k8s_scheduler import node_affinity_ok, tolerates
from sandbox.scenario import offset
from sandbox.scenario_cluster import Workload
from tools.k8s_cron import Schedule

BACKOFF_S = 10  # the Job controller's first retry delay, doubled per failure


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class Workloads(Kubelet):
    """Mixed into the Cluster: `objects` holds these kinds by (plural, namespace, name)."""

    objects: dict[tuple[str, str, str], dict[str, Any]]
    provision_claim: Callable[[str, str, dict[str, Any], float], None]  # the storage controller's

    def _meta(self, kind: str, w: Workload, created: float, name: str | None = None) -> dict[str, Any]:
        name = name or w.name
        return o.normalize({"name": name, "namespace": w.namespace, "uid": o.uid(kind, w.namespace, name),
                            "creationTimestamp": o.ts(created), "labels": dict(w.labels) or {"app": w.name},
                            "annotations": dict(w.annotations), "generation": 1})

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[(o.PLURAL[obj["kind"]], *key_of(obj))] = obj
        self._touch(obj)
        return obj

    def load_workload(self, w: Workload, created: float, t0: float) -> None:
        {"Pod": self._bare_pod, "Job": self._job, "CronJob": self._cronjob, "StatefulSet": self._statefulset,
         "DaemonSet": self._daemonset}[w.kind](w, created, t0)

    # -- pods, Jobs, CronJobs ---------------------------------------------------------------------

    def _bare_pod(self, w: Workload, created: float, t0: float) -> None:
        meta = self._meta("pod", w, created)
        template = {"metadata": {"labels": meta.get("labels", {})}, "spec": _copy(w.spec)}
        self._spawn(w.namespace, None, "Pod", w.name, template, w.pods, created, t0, fresh=False,
                    annotations=w.annotations or None, announce=True)

    def _job(self, w: Workload, created: float, t0: float, owner: dict[str, Any] | None = None,
             name: str | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
        spec = _copy(spec if spec is not None else w.spec)
        meta = self._meta("job", w, created, name)
        if owner is not None:
            meta["ownerReferences"] = [o.owner("CronJob", "batch/v1", owner)]
            meta["labels"] = {**(spec.get("template", {}).get("metadata", {}).get("labels") or {})}
        job_uid = meta["uid"]
        selector = {"batch.kubernetes.io/controller-uid": job_uid}
        pod_labels = {**(spec["template"].get("metadata", {}).get("labels") or {}), **selector,
                      "batch.kubernetes.io/job-name": meta["name"], "controller-uid": job_uid,
                      "job-name": meta["name"]}
        spec["template"] = {**spec["template"], "metadata": {**spec["template"].get("metadata", {}),
                                                             "labels": pod_labels}}
        spec["template"]["spec"].setdefault("restartPolicy", "Never")
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        spec["selector"] = {"matchLabels": selector}
        job = self._store({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec,
                           "status": {}})
        self._run_job(job, w, created, t0)
        return job

    def _job_pod_name(self, job: dict[str, Any], n: int, w: Workload) -> str:
        if len(w.pod_names) > n:
            return w.pod_names[n]
        return f"{job['metadata']['name']}-{o.short_hash(job['metadata']['uid'] + str(n), 5)}"

    def _run_job(self, job: dict[str, Any], w: Workload, created: float, t0: float) -> None:
        ns, spec, state = w.namespace, job["spec"], w.pods
        limit = spec["backoffLimit"]
        failing = state.phase == "Failed" or (state.state == "terminated" and (state.exit_code or 1) != 0
                                              and state.phase != "Succeeded")
        status: dict[str, Any] = {"startTime": o.ts(created)}
        never = spec["template"]["spec"]["restartPolicy"] == "Never"
        first = self._job_pod_name(job, 0, w)
        labels = (spec["template"].get("metadata") or {}).get("labels")
        if self.admit(ns, first, spec["template"].get("spec", {}), labels, created) is not None:  # no pod: FailedCreate
            self._spawn(ns, job, "Job", first, spec["template"], state, created, t0, fresh=False)
            job["status"] = o.normalize(status)
            return
        if failing and never:
            at = created
            for n in range(limit + 1):
                self._spawn(ns, job, "Job", self._job_pod_name(job, n, w), spec["template"],
                            state.model_copy(update={"phase": "Failed"}), at, t0, fresh=False)
                at += BACKOFF_S * 2 ** n
            status.update({"failed": limit + 1, "conditions": self._ended("Failed", "BackoffLimitExceeded",
                           "Job has reached the specified backoff limit", at)})
            self._event(ns, o.involved("Job", job, ns), "Warning", "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit", at, at, component="job-controller")
        elif failing:  # OnFailure: one pod, its container restarted past the limit
            self._spawn(ns, job, "Job", self._job_pod_name(job, 0, w), spec["template"],
                        state.model_copy(update={"restarts": max(state.restarts, limit)}), created, t0, fresh=False)
            status.update({"failed": 1, "conditions": self._ended(
                "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", t0 - 30)})
            self._event(ns, o.involved("Job", job, ns), "Warning", "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit", t0 - 30, t0 - 30, component="job-controller")
        elif state.phase == "Succeeded":
            for n in range(spec["completions"]):
                self._spawn(ns, job, "Job", self._job_pod_name(job, n, w), spec["template"],
                            state.model_copy(update={"state": "terminated", "ready": False}), created, t0, fresh=False)
            done = created + 30
            status.update({"succeeded": spec["completions"], "completionTime": o.ts(done), "conditions": self._ended(
                "Complete", "CompletionsReached", "Reached expected number of succeeded pods", done)})
            self._event(ns, o.involved("Job", job, ns), "Normal", "Completed", "Job completed", done, done,
                        component="job-controller")
        else:
            made = [self._spawn(ns, job, "Job", self._job_pod_name(job, n, w), spec["template"], state, created, t0,
                                fresh=False) for n in range(spec["parallelism"])]
            pods = [p for p in made if p is not None]
            status.update({"active": len(pods), "ready": sum(1 for p in pods if is_ready(p))})
        job["status"] = o.normalize(status)

    @staticmethod
    def _ended(type_: str, reason: str, message: str, at: float) -> list[dict[str, Any]]:
        """A finished Job's conditions as the job controller writes them since Kubernetes 1.31: the interim
        condition first (FailureTarget, SuccessCriteriaMet), then Failed or Complete; the API server refuses
        Failed or Complete without it."""
        interim = {"Failed": "FailureTarget", "Complete": "SuccessCriteriaMet"}[type_]
        return [o.normalize({"type": t, "status": "True", "reason": reason, "message": message,
                             "lastProbeTime": o.ts(at), "lastTransitionTime": o.ts(at)}) for t in (interim, type_)]

    def _cronjob(self, w: Workload, created: float, t0: float) -> None:
        spec = _copy(w.spec)
        meta = self._meta("cronjob", w, created)
        if w.suspended_at:  # the update that set spec.suspend, as the API server records its manager and time
            meta["managedFields"] = [{"manager": "kubectl-patch", "operation": "Update", "apiVersion": "batch/v1",
                                      "time": o.ts(t0 + offset(w.suspended_at).total_seconds()),
                                      "fieldsType": "FieldsV1",
                                      "fieldsV1": {"f:spec": {"f:suspend": {}}}}]
        cron = self._store({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                            "spec": {"suspend": False, "concurrencyPolicy": "Allow",
                                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1, **spec},
                            "status": {}})
        try:
            schedule = Schedule(spec["schedule"], spec.get("timeZone"))
            fired = schedule.previous(datetime.fromtimestamp(t0, UTC))
        except ValueError as e:
            raise o.ApiError(422, "Invalid", f'CronJob.batch "{w.name}" is invalid: spec.schedule: {e}') from None
        runs = [(self._fired(schedule, t0 + offset(r.at).total_seconds()),
                 w.model_copy(update={"pods": r.pods, "pod_names": []})) for r in w.runs]
        last = fired.timestamp() if fired else None
        if last is not None and last >= created and not spec.get("suspend") and all(at < last for at, _ in runs):
            runs.append((last, w))
        jobs = [self._job(run, at, t0, owner=cron, name=f"{w.name}-{int(at // 60)}",  # named by its minute
                          spec=spec["jobTemplate"]["spec"]) for at, run in sorted(runs, key=lambda r: r[0])]
        status: dict[str, Any] = {}
        if jobs:
            status["lastScheduleTime"] = jobs[-1]["status"]["startTime"]
        done = [j["status"]["completionTime"] for j in jobs if j["status"].get("succeeded")]
        if done:
            status["lastSuccessfulTime"] = max(done)
        status["active"] = [{"kind": "Job", "namespace": w.namespace, "name": j["metadata"]["name"],
                             "uid": j["metadata"]["uid"], "apiVersion": "batch/v1"}
                            for j in jobs if j["status"].get("active")]
        cron["status"] = o.normalize(status)
        for j in jobs:
            at = datetime.fromisoformat(j["status"]["startTime"].replace("Z", "+00:00")).timestamp()
            self._event(w.namespace, o.involved("CronJob", cron, w.namespace), "Normal", "SuccessfulCreate",
                        f"Created job {j['metadata']['name']}", at, at, component="cronjob-controller")
        self._prune(cron, jobs)

    @staticmethod
    def _fired(schedule: Schedule, at: float) -> float:
        """An earlier run's time: the schedule's minute at or before `at` (the controller runs nothing between)."""
        fired = schedule.previous(datetime.fromtimestamp(at, UTC))
        return fired.timestamp() if fired else at

    def _prune(self, cron: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
        """The controller keeps the newest successfulJobsHistoryLimit succeeded and failedJobsHistoryLimit failed
        Jobs; older ones go, with their pods."""
        spec = cron["spec"]
        for failed, limit in ((False, spec["successfulJobsHistoryLimit"]), (True, spec["failedJobsHistoryLimit"])):
            finished = [j for j in jobs if bool(j["status"].get("failed")) == failed and not j["status"].get("active")]
            for j in finished[: max(len(finished) - limit, 0)]:
                ns, name = key_of(j)
                del self.objects[("jobs", ns, name)]
                for (pns, pname), p in list(self.pods.items()):
                    owners = {r["uid"] for r in p["metadata"].get("ownerReferences", [])}
                    if pns == ns and j["metadata"]["uid"] in owners:
                        self.pods.pop((pns, pname))
                        self.logs.pop((pns, pname), None)

    # -- StatefulSets and DaemonSets --------------------------------------------------------------

    def _statefulset(self, w: Workload, created: float, t0: float) -> None:
        spec = _copy(w.spec)
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        meta = self._meta("statefulset", w, created)
        sts = self._store({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec,
                           "status": {}})
        revision = f"{w.name}-{o.short_hash(json.dumps(spec['template'], sort_keys=True), 10)}"
        claims = spec.get("volumeClaimTemplates") or []
        pods = []
        for i in range(spec["replicas"]):
            name = f"{w.name}-{i}"
            template = _copy(spec["template"])
            pod_spec = template.setdefault("spec", {})
            for claim in claims:
                claim_name = f"{claim['metadata']['name']}-{name}"
                self.provision_claim(w.namespace, claim_name, claim, created)
                pod_spec.setdefault("volumes", []).append(
                    {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}})
            labels = {"statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": str(i),
                      "controller-revision-hash": revision}
            p = self._spawn(w.namespace, sts, "StatefulSet", name, template, w.pods, created, t0, fresh=False,
                            extra_labels=labels)
            if p is None:
                break  # refused by admission: the controller retries this ordinal
            pods.append(p)
            if spec["podManagementPolicy"] == "OrderedReady" and not is_ready(p):
                break  # the next ordinal waits for this one to be Running and Ready
        ready = sum(1 for p in pods if is_ready(p))
        sts["status"] = o.normalize({"observedGeneration": 1, "replicas": len(pods), "readyReplicas": ready,
                                     "currentReplicas": len(pods), "updatedReplicas": len(pods),
                                     "availableReplicas": ready, "currentRevision": revision,
                                     "updateRevision": revision, "collisionCount": 0}) | {"replicas": len(pods)}

    def _daemonset(self, w: Workload, created: float, t0: float) -> None:
        spec = _copy(w.spec)
        meta = self._meta("daemonset", w, created)
        ds = self._store({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta, "spec": spec, "status": {}})
        pods = []
        for n, node in enumerate(sorted(self.nodes)):
            template = _copy(spec["template"])
            pod_spec = template.setdefault("spec", {})
            if not self._daemon_fits(pod_spec, self.nodes[node]):
                continue
            pod_spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                        "values": [node]}]}]}}}
            name = w.pod_names[n] if len(w.pod_names) > n else f"{w.name}-{o.short_hash(meta['uid'] + node, 5)}"
            p = self._spawn(w.namespace, ds, "DaemonSet", name, template, w.pods, created, t0, fresh=False)
            pods += [p] if p is not None else []
        scheduled = [p for p in pods if p["spec"].get("nodeName")]
        ready = sum(1 for p in pods if is_ready(p))
        ds["status"] = {"currentNumberScheduled": len(scheduled), "desiredNumberScheduled": len(pods),
                        "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
                        "numberUnavailable": len(pods) - ready, "updatedNumberScheduled": len(pods),
                        "observedGeneration": 1}
        if not ready:
            del ds["status"]["numberAvailable"]
        if ready == len(pods):
            del ds["status"]["numberUnavailable"]

    @staticmethod
    def _daemon_fits(pod_spec: dict[str, Any], node: dict[str, Any]) -> bool:
        """The DaemonSet controller's own check: node selector and taints (resources are the scheduler's)."""
        taints = [t for t in node.get("spec", {}).get("taints") or [] if t["effect"] in ("NoSchedule", "NoExecute")]
        return (node_affinity_ok(pod_spec, node) and
                all(tolerates(pod_spec.get("tolerations") or [], t) for t in taints))

    # -- what pods of a workload are, for scenario events --------------------------------------------

    def workload_pods(self, ns: str, name: str) -> list[dict[str, Any]]:
        """The pods a bare pod, Job, CronJob, StatefulSet or DaemonSet of this name owns (through its Jobs)."""
        owners = {obj["metadata"]["uid"] for (plural, ons, oname), obj in self.objects.items()
                  if ons == ns and oname == name and plural in ("jobs", "statefulsets", "daemonsets", "cronjobs")}
        owners |= {obj["metadata"]["uid"] for (plural, ons, _), obj in self.objects.items()
                   if plural == "jobs" and ons == ns and any(r["uid"] in owners
                                                              for r in obj["metadata"].get("ownerReferences", []))}
        return [p for (pns, _), p in sorted(self.pods.items()) if pns == ns
                and any(r["uid"] in owners for r in p["metadata"].get("ownerReferences", []))]

