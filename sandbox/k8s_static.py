"""Objects the scenario writes as manifests (Services, ConfigMaps, Secrets, claims, volumes, classes, network
policies, autoscalers): stored with the metadata and defaults the API server adds, and the Endpoints the
endpoints controller keeps for each Service from the pods it selects and their readiness."""

from __future__ import annotations

import base64
import json
from typing import Any

from sandbox import k8s_objects as o
from sandbox.k8s_controllers import is_ready
from sandbox.k8s_selectors import selects
from sandbox.k8s_storage import Storage
from sandbox.scenario import offset
from sandbox.scenario_cluster import HISTORY

ORDER = ("StorageClass", "PersistentVolume", "PersistentVolumeClaim")  # classes and volumes before claims bind


def _service_defaults(spec: dict[str, Any], ns: str, name: str) -> dict[str, Any]:
    octets = o.short_hash(f"{ns}/{name}", 2)
    ports = [{"protocol": "TCP", "targetPort": p.get("port"), **p} for p in spec.get("ports") or []]
    return {"type": "ClusterIP", "sessionAffinity": "None",
            "clusterIP": f"10.96.{ord(octets[0]) % 250}.{ord(octets[1]) % 250 + 2}", **spec, "ports": ports}


class Static(Storage):
    def load_objects(self, manifests: list[dict[str, Any]], t0: float) -> None:
        ranked = sorted(manifests, key=lambda m: ORDER.index(m["kind"]) if m["kind"] in ORDER else len(ORDER))
        for manifest in ranked:
            obj = json.loads(json.dumps(manifest))
            history = {k: obj.pop(k) for k in HISTORY if k in obj}
            kind, meta = obj["kind"], obj["metadata"]
            ns = meta.get("namespace", "")
            created = t0 + offset(history["created"]).total_seconds() if "created" in history else t0 - 86400
            meta.setdefault("creationTimestamp", o.ts(created))
            meta["uid"] = o.uid(kind, ns, meta["name"])
            if kind == "Secret":
                plain = obj.pop("stringData", None) or {}
                data = {k: base64.b64encode(v.encode()).decode() for k, v in plain.items()}
                obj["data"] = {**(obj.get("data") or {}), **data}
                obj.setdefault("type", "Opaque")
            elif kind == "Service":
                obj["spec"] = _service_defaults(obj.get("spec") or {}, ns, meta["name"])
            elif kind == "NetworkPolicy":
                spec = obj.setdefault("spec", {})
                spec.setdefault("policyTypes", ["Ingress", *(["Egress"] if "egress" in spec else [])])
            elif kind == "HorizontalPodAutoscaler":
                obj.setdefault("status", {"currentReplicas": obj["spec"].get("minReplicas", 1),
                                          "desiredReplicas": obj["spec"].get("minReplicas", 1)})
            elif kind == "PersistentVolume":
                obj.setdefault("status", {"phase": "Available"})
            elif kind == "StorageClass":
                obj.setdefault("reclaimPolicy", "Delete")
                obj.setdefault("volumeBindingMode", "Immediate")
            if "modified" in history:  # an edit since its creation: the writer's managedFields entry says when
                written = {"data": {k: "" for k in obj.get("data") or {}}} if kind in ("ConfigMap", "Secret") \
                    else {"spec": {}}
                o.record_write(meta, obj["apiVersion"], history.get("modified_by", "kubectl-edit"), written,
                               t0 + offset(history["modified"]).total_seconds())
            if "deleted" in history:  # held Terminating by its finalizers, which nobody here lifts
                meta.update({"deletionTimestamp": o.ts(t0 + offset(history["deleted"]).total_seconds()),
                             "deletionGracePeriodSeconds": 0})
            self.objects[(o.PLURAL[kind], ns, meta["name"])] = obj
            self._touch(obj)
            if kind == "PersistentVolumeClaim":
                obj.setdefault("status", {})
                self.bind(obj, t0 - 600)

    def endpoints(self, ns: str) -> list[dict[str, Any]]:
        """Given Endpoints, else one per Service with a selector, from the pods it selects."""
        given = {name: obj for (plural, ons, name), obj in self.objects.items() if plural == "endpoints" and ons == ns}
        out = dict(given)
        for (plural, ons, name), svc in sorted(self.objects.items()):
            if plural != "services" or ons != ns or name in given or not svc["spec"].get("selector"):
                continue
            out[name] = self._endpoints_of(svc)
        return [out[name] for name in sorted(out)]

    def _endpoints_of(self, svc: dict[str, Any]) -> dict[str, Any]:
        meta = svc["metadata"]
        ns = meta["namespace"]
        selector = {"matchLabels": svc["spec"]["selector"]}
        pods = [p for (pns, _), p in sorted(self.pods.items()) if pns == ns and p["status"].get("podIP")
                and selects(selector, p["metadata"].get("labels") or {})]

        def address(p: dict[str, Any]) -> dict[str, Any]:
            return {"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                  "uid": p["metadata"]["uid"]}}

        ports = [{"name": p.get("name"), "port": p["targetPort"] if isinstance(p["targetPort"], int) else p["port"],
                  "protocol": p.get("protocol", "TCP")} for p in svc["spec"].get("ports") or []]
        subset = o.normalize({"addresses": [address(p) for p in pods if is_ready(p)],
                              "notReadyAddresses": [address(p) for p in pods if not is_ready(p)],
                              "ports": [o.normalize(p) for p in ports]})
        return {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": meta["name"], "namespace": ns, "uid": o.uid("endpoints", ns, meta["name"]),
                             "creationTimestamp": meta["creationTimestamp"], "labels": meta.get("labels") or {}},
                "subsets": [subset] if subset.get("addresses") or subset.get("notReadyAddresses") else []}
