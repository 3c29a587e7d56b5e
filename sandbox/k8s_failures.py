"""How a scenario's pods fail, read from the emulator that loaded it, per pod template: what kwok's stages make a
new pod of that template do on the real control plane (sandbox/controlplane_cluster.py's FAILS_AS).

A container that crash-loops fails again with its last termination's reason and exit code; one that waits
(an image it cannot pull, a config it cannot read) waits again. A Deployment's pods fail as its newest
ReplicaSet's do, so a rollout restart (a new ReplicaSet of the same template) fails again while a rollback (an
older template) runs.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.k8s_objects import REVISION

# waiting reasons a kubelet keeps until the cause is fixed (no restart counted)
WAITING = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError",
           "CreateContainerError", "RunContainerError"}
CRASH_LOOP = "CrashLoopBackOff"


def pod_failure(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{container: how it fails} for each failing container of the pod."""
    out: dict[str, dict[str, Any]] = {}
    for c in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = ((c.get("state") or {}).get("waiting") or {}).get("reason")
        if waiting == CRASH_LOOP:
            last = (c.get("lastState") or {}).get("terminated") or {}
            out[c["name"]] = {"waiting": CRASH_LOOP, "reason": last.get("reason") or "Error",
                              "exitCode": last.get("exitCode", 1)}
        elif waiting in WAITING:
            out[c["name"]] = {"waiting": waiting}
    return out


def by_template(pods: list[dict[str, Any]], replicasets: list[dict[str, Any]]) -> dict[str, str]:
    """The emulator's uid of each workload whose pods fail (ReplicaSet, StatefulSet, DaemonSet, and a Deployment
    whose newest ReplicaSet's pods fail) → how, as the FAILS_AS annotation's JSON."""
    found: dict[str, str] = {}
    for pod in pods:
        failure = pod_failure(pod)
        for ref in pod["metadata"].get("ownerReferences") or []:
            if failure and ref.get("controller") and ref["uid"] not in found:
                found[ref["uid"]] = json.dumps(failure, sort_keys=True)
    newest: dict[str, tuple[int, str]] = {}
    for rs in replicasets:
        revision = int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0)
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Deployment" and revision >= newest.get(ref["uid"], (-1, ""))[0]:
                newest[ref["uid"]] = (revision, rs["metadata"]["uid"])
    for deployment, (_, rs) in newest.items():
        if rs in found:
            found[deployment] = found[rs]
    return found
