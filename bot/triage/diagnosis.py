"""The failure mode the objects' state shows, the decisive words, and what can fix it.

`diagnose(alert, results)` reads what triage read (reads.plan and its follow-ups) and decides, in code and
in this order: the node the alert names (not ready, under pressure, at its pod limit); the claim (pending,
filling up); the HPA at its maximum; a failed Job; the failing pod's containers (an init container, an image
pull, a missing ConfigMap or Secret, OOMKilled, a probe killing it, a crash loop), a Pending pod the scheduler
cannot place; a stalled rollout; then what the logs and the alert say when every object looks healthy
(an expired certificate, DNS or egress blocked by a NetworkPolicy, a dependency down or slow, throttling,
latency or errors since a release). The mode names the playbook.

Actions follow the diagnosis, never the playbook alone: a rollback only where a previous revision exists and
the failure began with the current one (and the mode is one a release causes), nothing else is proposed by
triage (a restart clears none of these modes; scaling schedules nothing and feeds no dependency). When no
action of opsbot's fixes it, `advice` says in one line what a person should do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.cards.strings import FROM_ALERT_ALONE
from bot.triage.quotes import container_line, events, pod_logs, state_of, state_text, telling
from bot.triage.reads import (
    CERTIFICATE,
    DEPENDENCY,
    NETWORK_FAILURE,
    dependency_pods,
    described,
    failing_container,
    log_lines,
)
from bot.triage.subject import Subject
from tools.base import ToolResult

RELEASE_WINDOW = timedelta(hours=1)  # a revision this much older than the alert's start did not start it
RELEASE_MODES = {"crashloopbackoff", "oomkilled", "init-container-failure", "imagepullbackoff",
                 "container-config-error", "unschedulable-pods", "failed-rollout", "probe-failure",
                 "latency-regression", "http-5xx-spike"}
IMAGE_PULL = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
CONFIG_ERROR = {"CreateContainerConfigError", "CreateContainerError"}


class Diagnosis(BaseModel):
    mode: str = Field(description="the failure mode, also the playbook's name")
    about: str = Field(description="the object, e.g. 'Pod shop/checkout-5d8f-x2 container checkout'")
    summary: str = Field(description="the decisive state, word for word")
    quotes: list[str] = Field(default_factory=list, description="the decisive source lines, word for word")
    rollback: dict[str, str] | None = Field(None, description="namespace and deployment, when a rollback fits")
    advice: str | None = None
    basis: Literal["state", "logs", "alert"] = Field("state", description="what it rests on: the objects' state, "
                                                     "a log line (then `summary` is that line), or the alert alone")

    def line(self) -> str:
        return f"{self.mode}: {self.about}: {self.summary}"


class _Reader:
    """The results, and the facts every rule asks about."""

    def __init__(self, alert: Subject, results: list[ToolResult], now: datetime):
        self.alert, self.results, self.now = alert, results, now
        theirs = dependency_pods(results)
        pods = described(results, "Pod")
        self.pods = [p for p in pods if p["name"] not in theirs and self._own(p)]  # the alert's own pods
        self.dependency = [p for p in pods if p["name"] in theirs]  # behind a Service a failing call named
        self.deployments = described(results, "Deployment")
        self.logs = log_lines(results)

    def _own(self, pod: dict[str, Any]) -> bool:
        """A pod of the workload (or the pod) the alert names; any pod when it names none (a node, a namespace)."""
        t = self.alert.target
        mine = t.workload or (t.name if t.kind == "Pod" else None)
        return not mine or pod["name"] == mine or pod["name"].startswith(f"{mine}-") or any(
            str(link).split("/", 1)[-1].removesuffix(" (gone)") == mine for link in pod.get("controlled_by") or [])

    def rollback(self, mode: str) -> dict[str, str] | None:
        """The deployment to roll back: a previous revision exists and the current one began the failure."""
        if mode not in RELEASE_MODES:
            return None
        for d in self.deployments:
            revs = sorted(d.get("revisions", []), key=lambda x: x.get("revision", 0), reverse=True)
            if len(revs) < 2 or not revs[0].get("created"):
                continue
            created = datetime.fromisoformat(revs[0]["created"].replace("Z", "+00:00"))
            start = self.alert.starts_at or self.now
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
            if created <= start + timedelta(minutes=5) and start - created <= RELEASE_WINDOW:
                return {"namespace": d["namespace"], "deployment": d["name"]}
        return None

    def make(self, mode: str, about: str, summary: str, quotes: list[str], advice: str,
             rollback_fits: bool = True, basis: Literal["state", "logs", "alert"] = "state") -> Diagnosis:
        rb = self.rollback(mode) if rollback_fits else None
        if rb:
            advice = f"roll back {rb['namespace']}/{rb['deployment']} to its previous revision, then fix forward"
        quotes = [q for q in dict.fromkeys(quotes) if q and q != summary]
        return Diagnosis(mode=mode, about=about, summary=summary, quotes=quotes[:8],
                         rollback=rb, advice=None if rb else advice, basis=basis)


def _node(r: _Reader) -> Diagnosis | None:
    for n in described(r.results, "Node"):
        about = f"Node {n['name']}"
        ready = next((c for c in n.get("conditions", []) if c.get("type") == "Ready"), None)
        if ready and ready.get("status") != "True":
            return r.make("node-not-ready", about, f"Ready {ready['status']} ({ready.get('reason')}): "
                          f"{ready.get('message')}", [],
                          f"check node {n['name']}'s kubelet and machine; cordon and drain it if it does not "
                          "come back (its pods are rescheduled only once it is gone or drained)", False)
        pressure = [c for c in n.get("conditions", []) if c.get("type") in n.get("pressure", [])]
        if pressure:
            c = pressure[0]
            return r.make("node-pressure", about, f"{c['type']} True ({c.get('reason')}): {c.get('message')}",
                          events(n, "EvictionThresholdMet", "Evicted", "FreeDiskSpaceFailed"),
                          f"free {c['type'].removesuffix('Pressure').lower()} on node {n['name']} (images, logs, "
                          f"emptyDir) or cordon and drain it", False)
        pods = n.get("pods") or {}
        if pods.get("at_limit"):
            return r.make("node-pressure", about, f"runs {pods['running']} pods, its limit is {pods['max']}", [],
                          f"node {n['name']} is at its pod limit: add nodes or raise the kubelet's maxPods", False)
    return None


def _claim(r: _Reader) -> Diagnosis | None:
    for c in described(r.results, "PersistentVolumeClaim"):
        about = f"PersistentVolumeClaim {c['namespace']}/{c['name']}"
        sc = c.get("storage_class") or {}
        if c.get("status") == "Pending":
            said = events(c, "ProvisioningFailed", "FailedBinding", "ExternalProvisioning")
            if sc and not sc.get("exists"):
                advice = (f"create StorageClass {sc['name']}, or change the claim's storageClassName to one that "
                          "exists")
            else:
                advice = "fix what the provisioner says, or create a matching PersistentVolume"
            return r.make("pvc-pending", about, "Pending" + (f": {said[0]}" if said else ""), said[1:3],
                          advice, False)
        if r.alert.target.kind == "PersistentVolumeClaim":
            expand = "its StorageClass allows expansion" if sc.get("allow_expansion") else "a bigger volume"
            return r.make("volume-filling-up", about, f"Bound, {c.get('capacity') or c.get('requested')}",
                          telling(r.logs, 3), f"free space on the volume, or grow claim {c['name']} ({expand})",
                          False)
    return None


def _hpa(r: _Reader) -> Diagnosis | None:
    for h in described(r.results, "HorizontalPodAutoscaler"):
        if h.get("current_replicas") is not None and h.get("current_replicas") >= h.get("max_replicas", 0):
            limited = [f"{c['reason']}: {c['message']}" for c in h.get("conditions", [])
                       if c.get("type") == "ScalingLimited" and c.get("status") == "True"]
            return r.make("hpa-maxed-out", f"HorizontalPodAutoscaler {h['namespace']}/{h['name']}",
                          f"{h['current_replicas']}/{h['max_replicas']} replicas (max) for {h.get('target')}; "
                          f"metrics {', '.join(h.get('current_metrics', []))}", limited,
                          f"raise maxReplicas of {h['name']} (now {h['max_replicas']}) if the nodes have room, "
                          "or find why the load grew; scaling by hand is undone by the autoscaler", False)
    return None


def _job(r: _Reader) -> Diagnosis | None:
    for j in described(r.results, "Job"):
        failed = next((c for c in j.get("conditions", []) if c.get("type") == "Failed"
                       and c.get("status") == "True"), None)
        if failed:
            pods = [p for p in r.pods if p.get("name", "").startswith(j["name"])]
            quotes = []
            for p in pods[:1]:
                for c in p.get("containers", []):
                    quotes += [f"{p['name']} {container_line(c)}",
                               *(f"{p['name']} {c['name']}: {x}" for x in telling(pod_logs(r.results, p["name"],
                                                                                             c["name"]), 5))]
            return r.make("job-failed", f"Job {j['namespace']}/{j['name']}",
                          f"{failed.get('reason')}: {failed.get('message')}", quotes,
                          f"fix what the Job's pods say, then re-run it (kubectl create job --from=cronjob/NAME, "
                          f"or delete and re-apply Job {j['name']})", False)
    return None


def _pod(r: _Reader) -> Diagnosis | None:
    for p in r.pods:
        about = f"Pod {p['namespace']}/{p['name']}"
        for c in p.get("init_containers", []):
            state = state_of(c)
            if c.get("ready") or state.get("reason") == "Completed" or state.get("reason") in IMAGE_PULL:
                continue
            if c.get("restarts") or state.get("state") in ("terminated", "running") or c.get("last_state"):
                logs = telling(pod_logs(r.results, p["name"], c["name"]))
                waits = state.get("state") == "running" and not c.get("restarts")  # a loop waiting for something
                empty = _without_endpoints(r)
                advice = (f"give Service {empty[0]} ready endpoints (its selector matches no ready pod): init "
                          f"container {c['name']} waits for it" if empty else
                          f"make what init container {c['name']} waits for reachable, or fix its command "
                          f"({' '.join(c.get('command') or []) or 'the image default'})")
                return r.make("init-container-failure", f"{about} init container {c['name']}",
                              state_text(c), [f"{p['name']} {c['name']}: {x}" for x in logs] +
                              [f"Service {s} has no ready endpoints" for s in empty[:1]], advice,
                              rollback_fits=not waits)
        for c in [*p.get("init_containers", []), *p.get("containers", [])]:
            state, last = state_of(c), c.get("last_state") or {}
            if not failing_container(c):
                continue
            where = f"{about} container {c['name']}"
            logs = [f"{p['name']} {c['name']}: {x}" for x in telling(pod_logs(r.results, p["name"], c["name"]))]
            if state.get("reason") in IMAGE_PULL:
                message = " ".join(events(p, "Failed")) + " " + (state.get("message") or "")
                denied = re.search(r"(?i)(denied|unauthorized|authorization failed|403 forbidden|401)", message)
                advice = (f"give the pod credentials for {c.get('image', '').split('/')[0]}: an imagePullSecret on "
                          "the pod or its service account" if denied else
                          f"push {c.get('image')} or correct the image name or tag")
                return r.make("imagepullbackoff", where, state_text(c) + f" (image {c.get('image')})",
                              events(p, "Failed")[:2], advice)
            if state.get("reason") in CONFIG_ERROR:
                return r.make("container-config-error", where, state_text(c), events(p, "Failed")[:2],
                              f"create what {c['name']} references (the ConfigMap, Secret or key named above), "
                              "or remove the reference; the kubelet retries by itself")
            if "OOMKilled" in (last.get("reason"), state.get("reason")):
                limit = (c.get("limits") or {}).get("memory")
                return r.make("oomkilled", where, state_text(c), logs,
                              f"raise container {c['name']}'s memory limit (now {limit or 'none'}) or fix what "
                              "grows; a restart only resets the clock")
            probes = events(p, "Unhealthy")
            if probes and any("Liveness" in x for x in probes) and c.get("restarts"):
                return r.make("probe-failure", where, state_text(c), [*probes[:2], *logs[:2]],
                              f"find why {c['name']} stops answering its liveness probe (the logs above), or "
                              "give the probe a longer timeout if the app is only slow")
            if state.get("reason") == "CrashLoopBackOff" or (last.get("exit_code") not in (None, 0)) or \
                    (state.get("state") == "terminated" and state.get("exit_code") not in (None, 0)):
                return r.make("crashloopbackoff", where, state_text(c), logs,
                              f"fix what container {c['name']}'s last lines name, in its image, command or "
                              "configuration; restarting runs the same failure again")
        scheduled = next((c for c in p.get("conditions", []) if c.get("type") == "PodScheduled"
                          and c.get("status") == "False"), None)
        if scheduled:
            message = scheduled.get("message") or ""
            unbound = [c for c in p.get("claims", []) if c.get("status") != "Bound"]
            if unbound or "PersistentVolumeClaim" in message:
                return r.make("pvc-pending", about, f"Pending: {message}", [],
                              "bind the pod's claim (see the claim's events): create its StorageClass or volume",
                              False)
            return r.make("unschedulable-pods", about, f"Pending: {message}", [], _placement(message))
        if p.get("status") in ("Evicted",) or any("Evicted" in x for x in events(p, "Evicted")):
            return r.make("node-pressure", about, f"{p.get('status')}: {' '.join(events(p, 'Evicted'))}", [],
                          f"free resources on node {p.get('node')} or drain it", False)
        probes = events(p, "Unhealthy")
        stalled = _stalled(r)
        if probes and stalled:  # never ready, so the rollout gave up: the rollout is what failed
            return r.make("failed-rollout", f"Deployment {stalled['namespace']}/{stalled['name']}",
                          f"ProgressDeadlineExceeded; its new pods fail their readiness probe: {probes[0]}",
                          probes[1:3], "fix what the new revision's readiness probe reports, then roll out again")
        if probes:
            return r.make("probe-failure", about, probes[0], probes[1:3],
                          "find why the app fails its readiness probe (its logs), or fix the probe")
    return None


def _without_endpoints(r: _Reader) -> list[str]:
    return [f"{d['namespace']}/{d['name']}" for d in described(r.results, "Service")
            if not (d.get("endpoints") or {}).get("ready")]


def _placement(message: str) -> str:
    """What a person should do about a FailedScheduling message."""
    if "Insufficient" in message:
        wanted = ", ".join(sorted(set(re.findall(r"Insufficient (\S+?)[.,]", message)))) or "resources"
        return (f"add nodes with free {wanted} (or a node pool that has it), or lower the pod's requests; "
                "scaling up only adds Pending pods")
    if "taint" in message:
        return "add a toleration for the node taint to the pod, or run it on nodes without the taint"
    if "affinity" in message or "selector" in message:
        return "fix the pod's nodeSelector or affinity, or label a node to match it"
    if "Too many pods" in message:
        return "add nodes or raise maxPods: every node is at its pod limit"
    return "make room or fix the placement rules the scheduler names"


def _stalled(r: _Reader) -> dict[str, Any] | None:
    """The deployment whose rollout exceeded its progress deadline, if any."""
    return next((d for d in r.deployments if any(c.get("reason") == "ProgressDeadlineExceeded"
                                                  for c in d.get("conditions", []))), None)


def _rollout(r: _Reader) -> Diagnosis | None:
    d = _stalled(r)
    if d is None:
        return None
    stalled = next(c for c in d["conditions"] if c.get("reason") == "ProgressDeadlineExceeded")
    return r.make("failed-rollout", f"Deployment {d['namespace']}/{d['name']}",
                  f"ProgressDeadlineExceeded: {stalled.get('message')}", [],
                  "fix the new revision's pods (their events and logs), then roll out again")


def _signals(r: _Reader) -> Diagnosis | None:
    """Every object healthy or nothing read: what the logs and the alert itself say."""
    about = _about(r)
    theirs = [f"{p['name']} {c['name']}: {x}" for p in r.dependency for c in p.get("containers", [])
              for x in telling(pod_logs(r.results, p["name"], c["name"]), 3)]
    cert = [x for x in r.logs if CERTIFICATE.search(x)]
    if cert:
        secrets = [f"{p['namespace']}/{ref['name']}" for p in r.dependency for ref in p.get("config_refs", [])
                   if ref.get("kind") == "Secret" and re.search(r"(?i)tls|cert", ref.get("name", ""))]
        where = f"Secret {secrets[0]}" if secrets else "the Secret or file that holds it"
        return r.make("certificate-expired", about, cert[0], [*cert[1:3], *theirs, *(f"serves {s}" for s in
                      secrets[:1])], f"renew the expired certificate in {where} and restart what reads it at "
                      "start-up; no restart, rollback or scale-up of this service fixes it", False, "logs")
    net = [x for x in r.logs if NETWORK_FAILURE.search(x)]
    policies = [p for p in described(r.results, "NetworkPolicy") if "NOT allowed" in p.get("verdict", "")
                or "denies all egress" in p.get("verdict", "")]
    if net and policies:
        p = policies[0]
        return r.make("networkpolicy-blocked", f"NetworkPolicy {p['namespace']}/{p['name']}",
                      p["verdict"], net[:3], f"allow egress to kube-dns (UDP and TCP 53) and the service's "
                      f"dependencies in NetworkPolicy {p['name']}", False)
    name = r.alert.name
    if name.startswith("CPUThrottling"):
        c = r.alert.labels.get("container", "")
        limits = [(x.get("limits") or {}).get("cpu") for p in r.pods for x in p.get("containers", [])
                  if x["name"] == c]
        return r.make("cpu-throttling", about, f"container {c} throttled; CPU limit {limits[0] if limits else '?'}",
                      [], f"raise or remove the CPU limit of container {c} (now "
                      f"{limits[0] if limits else 'unknown'}), or find what uses more CPU", False)
    dep = [x for x in r.logs if DEPENDENCY.search(x)]
    if dep:
        sick = [f"{p['namespace']}/{p['name']} {container_line(c)}" for p in r.dependency
                for c in [*p.get("init_containers", []), *p.get("containers", [])] if failing_container(c)]
        named = f"the dependency ({sick[0].split(' ')[0]})" if sick else "the dependency the lines above name"
        return r.make("dependency-down", about, dep[0], [*sick, *theirs, *dep[1:3]],
                      f"restore {named}; restarting or scaling this service does not help", False, "logs")
    latency = re.search(r"(?i)latency|duration|slow", f"{name} {r.alert.expr or ''}")
    errors = re.search(r"(?i)error|5\.\.|5xx|status=~?\"5", f"{name} {r.alert.expr or ''}")
    if latency or errors:
        mode = "latency-regression" if latency else "http-5xx-spike"
        return r.make(mode, about, FROM_ALERT_ALONE.format(what="latency" if latency else "errors"),
                      telling(r.logs, 3), "no release started it: find what changed (traffic, a dependency, the data)",
                      basis="alert")
    return None


def _about(r: _Reader) -> str:
    t = r.alert.target
    if t.kind and t.name:
        return f"{t.kind} {t.namespace + '/' if t.namespace else ''}{t.name}"
    if r.deployments:
        return f"Deployment {r.deployments[0]['namespace']}/{r.deployments[0]['name']}"
    return "/".join(x for x in (r.alert.namespace, r.alert.service) if x) or r.alert.name


RULES = (_node, _claim, _hpa, _job, _pod, _rollout, _signals)


def diagnose(alert: Subject, results: list[ToolResult], now: datetime | None = None) -> Diagnosis | None:
    """The first rule that recognises the state (see the module doc), or None: no failure mode is known."""
    r = _Reader(alert, results, now or datetime.now(UTC))
    for rule in RULES:
        found = rule(r)
        if found:
            return found
    return None
