"""The persistent-volume controller: a claim binds to the volume it names, to an Available volume that fits,
or to one its StorageClass provisions; otherwise it stays Pending with the controller's event
(`storageclass.storage.k8s.io "fast" not found`, or no volume and no class). A claim whose scenario gives
a status keeps it."""

from __future__ import annotations

from typing import Any

from sandbox import k8s_objects as o
from sandbox.k8s_kubelet import Kubelet
from tools.k8s_quantity import quantity

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"


class Storage(Kubelet):
    objects: dict[tuple[str, str, str], dict[str, Any]]

    def _of(self, plural: str, ns: str = "") -> list[dict[str, Any]]:
        return [obj for (p, ons, _), obj in sorted(self.objects.items()) if p == plural and (not ns or ons == ns)]

    def claim_phases(self, ns: str) -> dict[str, str | None]:
        claims = self._of("persistentvolumeclaims", ns)
        return {c["metadata"]["name"]: (c.get("status") or {}).get("phase") for c in claims}

    def volume_terms(self, ns: str) -> dict[str, list[dict[str, Any]]]:
        """Each bound claim's volume's required node affinity (nodeSelectorTerms), where it has one."""
        out = {}
        for c in self._of("persistentvolumeclaims", ns):
            pv = self.objects.get(("persistentvolumes", "", c["spec"].get("volumeName", "")))
            terms = ((((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
                "nodeSelectorTerms")
            if terms and (c.get("status") or {}).get("phase") == "Bound":
                out[c["metadata"]["name"]] = terms
        return out

    def provision_claim(self, ns: str, name: str, template: dict[str, Any], created: float) -> None:
        """A StatefulSet's claim from its volumeClaimTemplate, made once and then bound like any other."""
        if ("persistentvolumeclaims", ns, name) in self.objects:
            return
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": {"name": name, "namespace": ns, "uid": o.uid("pvc", ns, name),
                              "creationTimestamp": o.ts(created),
                              "labels": dict(template["metadata"].get("labels", {}))},
                 "spec": dict(template.get("spec") or {}), "status": {}}
        self.objects[("persistentvolumeclaims", ns, name)] = claim
        self.bind(claim, created)

    def bind(self, claim: dict[str, Any], at: float) -> None:
        if (claim.get("status") or {}).get("phase"):
            return
        spec, meta = claim["spec"], claim["metadata"]
        ns = meta["namespace"]
        classes = {sc["metadata"]["name"]: sc for sc in self._of("storageclasses")}
        if "storageClassName" not in spec:
            default = next((n for n, sc in classes.items()
                            if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"), None)
            if default:
                spec["storageClassName"] = default
        wanted_class = spec.get("storageClassName") or ""
        volume = self.objects.get(("persistentvolumes", "", spec.get("volumeName", "")))
        if volume is None and not spec.get("volumeName"):
            volume = next((pv for pv in self._of("persistentvolumes") if self._fits(pv, claim, wanted_class)), None)
        target = o.involved("PersistentVolumeClaim", claim, ns)
        if volume is None and wanted_class in classes:
            volume = self._provision(claim, classes[wanted_class], at)
        if volume is None:
            claim["status"] = {"phase": "Pending"}
            if spec.get("volumeName"):
                reason, why = "FailedBinding", f'volume "{spec["volumeName"]}" not found'
            elif wanted_class:
                reason, why = "ProvisioningFailed", f'storageclass.storage.k8s.io "{wanted_class}" not found'
            else:
                reason = "FailedBinding"
                why = "no persistent volumes available for this claim and no storage class is set"
            self._event(ns, target, "Warning", reason, why, at, at + 600, count=41,
                        component="persistentvolume-controller")
            return
        spec["volumeName"] = volume["metadata"]["name"]
        # the persistentvolume controller marks a claim it has bound: kube-scheduler counts a claim as bound only
        # with this annotation (without it: "pod has unbound immediate PersistentVolumeClaims")
        meta.setdefault("annotations", {})[BIND_COMPLETED] = "yes"
        volume["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": meta["name"],
                                      "uid": meta["uid"], "apiVersion": "v1"}
        volume["status"] = {"phase": "Bound"}
        claim["status"] = {"phase": "Bound", "accessModes": volume["spec"].get("accessModes", []),
                           "capacity": dict(volume["spec"].get("capacity", {}))}

    @staticmethod
    def _fits(pv: dict[str, Any], claim: dict[str, Any], wanted_class: str) -> bool:
        spec = pv.get("spec") or {}
        if (pv.get("status") or {}).get("phase") not in (None, "Available") or spec.get("claimRef"):
            return False
        asked = ((claim["spec"].get("resources") or {}).get("requests") or {}).get("storage", "0")
        has = (spec.get("capacity") or {}).get("storage", "0")
        modes = set(claim["spec"].get("accessModes") or [])
        return (spec.get("storageClassName") or "") == wanted_class and quantity(has) >= quantity(asked) \
            and modes <= set(spec.get("accessModes") or [])

    def _provision(self, claim: dict[str, Any], sc: dict[str, Any], at: float) -> dict[str, Any]:
        meta = claim["metadata"]
        name = f"pvc-{meta['uid']}"
        storage = ((claim["spec"].get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        pv = {"apiVersion": "v1", "kind": "PersistentVolume",
              "metadata": {"name": name, "uid": o.uid("pv", name), "creationTimestamp": o.ts(at),
                           "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"]}},
              "spec": {"capacity": {"storage": storage}, "accessModes": claim["spec"].get("accessModes", []),
                       "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                       "storageClassName": sc["metadata"]["name"], "csi": {"driver": sc["provisioner"],
                                                                            "volumeHandle": name}},
              "status": {"phase": "Available"}}
        self.objects[("persistentvolumes", "", name)] = pv
        self._event(meta["namespace"], o.involved("PersistentVolumeClaim", claim, meta["namespace"]), "Normal",
                    "ProvisioningSucceeded", f"Successfully provisioned volume {name}", at, at,
                    component=sc["provisioner"])
        return pv
