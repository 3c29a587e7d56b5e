"""A pod's workload, from its owner chain read through the door: ReplicaSet → Deployment, a Job (of a CronJob),
a StatefulSet or a DaemonSet."""

from __future__ import annotations

from bot.guard.door import Caller, Door
from bot.intake.target import Target
from tools.base import Status, ToolResult


def resolve(door: Door, caller: Caller, target: Target, made: list[ToolResult] | None = None) -> Target:
    """A pod's workload from its owner chain (ReplicaSet → Deployment, Job → CronJob, StatefulSet, DaemonSet);
    the target unchanged when it names no pod or the pod cannot be read. The read is added to `made`."""
    if target.kind != "Pod" or not target.namespace:
        return target
    r = door.run("k8s_describe", {"kind": "Pod", "name": target.name, "namespace": target.namespace}, caller)
    if made is not None:
        made.append(r)
    if r.status == Status.error and f"'{target.name}' is a deployment" in (r.error or ""):
        # a `pod` label holding the deployment's name (recording rules that aggregate by workload)
        return target.model_copy(update={"kind": "Deployment", "workload_kind": "Deployment",
                                         "workload": target.name, "container": None})
    if r.status != Status.success or not isinstance(r.data, dict):
        return target
    chain = [link.split("/", 1) for link in r.data.get("controlled_by") or [] if "/" in link]
    owners = [(kind, name.removesuffix(" (gone)")) for kind, name in chain if kind != "ReplicaSet"]
    if not owners:
        return target.model_copy(update={"workload_kind": "Pod", "workload": target.name})
    kind, name = owners[0] if owners[0][0] == "Job" else owners[-1]  # a CronJob's Job is what failed
    return target.model_copy(update={"workload_kind": kind, "workload": name})
