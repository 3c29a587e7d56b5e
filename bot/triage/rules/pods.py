"""Pods: the failing pod's containers (an init container, an image pull, a missing ConfigMap or Secret,
OOMKilled, a probe killing it, a crash loop), a Pending pod the scheduler cannot place, an evicted pod, a pod
never ready whose rollout gave up."""

from __future__ import annotations

import re

from bot.triage.quotes import events, pod_logs, resources, state_of, state_text, telling
from bot.triage.results import described, failing_container, ok
from bot.triage.rules.base import Diagnosis, Reader
from bot.triage.rules.scheduling import placement, too_big
from bot.triage.rules.workloads import stalled

IMAGE_PULL = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
CONFIG_ERROR = {"CreateContainerConfigError", "CreateContainerError"}


def pod(r: Reader) -> Diagnosis | None:
    for p in r.pods:
        about = f"Pod {p['namespace']}/{p['name']}"
        for c in p.get("init_containers", []):
            state = state_of(c)
            if c.get("ready") or state.get("reason") == "Completed" or state.get("reason") in IMAGE_PULL:
                continue
            if c.get("restarts") or state.get("state") in ("terminated", "running") or c.get("last_state"):
                logs = telling(pod_logs(r.results, p["name"], c["name"]))
                waits = state.get("state") == "running" and not c.get("restarts")  # a loop waiting for something
                empty = without_endpoints(r)
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
                asked = [f"{p['name']} {x}" for x in [resources(c)] if x]
                return r.make("oomkilled", where, state_text(c), [*logs, *asked],
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
            asked = [f"{p['name']} {x}" for c in p.get("containers", []) if (x := resources(c))]
            nodes = [n for d in ok(r.results, "k8s_list") if d.get("kind") == "Node" for n in d.get("items", [])]
            return r.make("unschedulable-pods", about, f"Pending: {message}", asked,
                          placement(message, too_big(p, message, nodes)))
        if p.get("status") in ("Evicted",) or any("Evicted" in x for x in events(p, "Evicted")):
            return r.make("node-pressure", about, f"{p.get('status')}: {' '.join(events(p, 'Evicted'))}", [],
                          f"free resources on node {p.get('node')} or drain it", False)
        probes = events(p, "Unhealthy")
        gave_up = stalled(r)
        if probes and gave_up:  # never ready, so the rollout gave up: the rollout is what failed
            return r.make("failed-rollout", f"Deployment {gave_up['namespace']}/{gave_up['name']}",
                          f"ProgressDeadlineExceeded; its new pods fail their readiness probe: {probes[0]}",
                          probes[1:3], "fix what the new revision's readiness probe reports, then roll out again")
        if probes:
            return r.make("probe-failure", about, probes[0], probes[1:3],
                          "find why the app fails its readiness probe (its logs), or fix the probe")
    return None


def without_endpoints(r: Reader) -> list[str]:
    return [f"{d['namespace']}/{d['name']}" for d in described(r.results, "Service")
            if not (d.get("endpoints") or {}).get("ready")]
