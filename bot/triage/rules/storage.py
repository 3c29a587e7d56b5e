"""Storage: a claim that stays Pending, or a volume filling up."""

from __future__ import annotations

from bot.triage.quotes import events, telling
from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader


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
