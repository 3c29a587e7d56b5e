"""Storage: a claim that stays Pending, a pod whose bound volume is pinned to a zone no node is in, or a volume
filling up."""

from __future__ import annotations

from bot.triage.follow.storage import CONFLICT, unplaceable
from bot.triage.quotes import events, telling
from bot.triage.results import described, ok
from bot.triage.rules.base import Diagnosis, Reader

ZONE = "topology.kubernetes.io/zone"


def claim(r: Reader) -> Diagnosis | None:
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


def volume_zone(r: Reader) -> Diagnosis | None:
    """The scheduler says "volume node affinity conflict": the pod's bound volume may only be used on nodes its
    node affinity names (a zone), and no schedulable node is there."""
    pod = next((p for p in r.pods if unplaceable(p)), None)
    if pod is None:
        return None
    claims = {c["name"]: c for c in described(r.results, "PersistentVolumeClaim") if c["namespace"] == pod["namespace"]}
    pinned = [(c, claims[c["claim"]]["volume"]) for c in pod.get("claims", []) if c["claim"] in claims
              and (claims[c["claim"]].get("volume") or {}).get("node_affinity")]
    if not pinned:
        return None
    zones = sorted({n["zone"] for d in ok(r.results, "k8s_list") if d.get("kind") == "Node"
                    for n in d.get("items", []) if n.get("zone")})
    c, pv = pinned[0]
    where = " or ".join(pv["node_affinity"])
    message = next(x.get("message") for x in pod["conditions"] if x.get("type") == "PodScheduled")
    nodes = f"the nodes are in {', '.join(zones)}" if zones else "no node matches it"
    return r.make("volume-node-affinity-conflict", f"PersistentVolume {pv['name']}",
                  f"node affinity {where}; {nodes}: {CONFLICT}",
                  [f"Pod {pod['namespace']}/{pod['name']} Pending: {message}",
                   f"PersistentVolumeClaim {pod['namespace']}/{c['claim']} is bound to PersistentVolume {pv['name']}"],
                  f"run a node in the volume's zone ({where}), e.g. a node pool there; or restore the data into a "
                  f"volume in a zone that has nodes and bind claim {c['claim']} to it; new claims: a StorageClass "
                  "with volumeBindingMode: WaitForFirstConsumer makes the volume where the pod is scheduled", False)
