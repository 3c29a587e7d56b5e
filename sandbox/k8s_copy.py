"""A scenario's cluster copied from the emulator into a real API server (the control-plane tests' twins, and the
sandbox on the real control plane, which loads a scenario into an emulator of its own first).

`copy_cluster` reads every object the emulator holds (after it loaded a scenario) and creates it through the
real API server with the official client, status through the status subresource, owner and controller uids
mapped to the ones the API server gave. What a client cannot set stays the API server's: creationTimestamp is
the copy's time, and uids and resourceVersions are new.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from sandbox.k8s_objects import RESOURCES

BUILT_IN_NAMESPACES = {"default", "kube-public", "kube-node-lease"}  # every API server makes these

# owners before what they own (uids map forward), PVCs before the PVs that name them, quotas and limit ranges
# and admission webhooks after the pods (their admission plugins would judge the copies as new pods), Events last
ORDER = ["namespaces", "nodes", "storageclasses", "serviceaccounts", "persistentvolumeclaims", "persistentvolumes",
         "configmaps", "secrets", "services", "endpoints", "deployments", "replicasets", "statefulsets", "daemonsets",
         "cronjobs", "jobs", "pods", "resourcequotas", "limitranges", "validatingwebhookconfigurations",
         "horizontalpodautoscalers", "networkpolicies", "events"]
assert sorted(ORDER) == sorted(RESOURCES), "every kind the emulator serves is copied"
SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")
# what the controller-manager makes in every namespace (when it runs, in a sandbox on the real control plane)
MADE_BY_CONTROLLERS = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
DS_GENERATION, DS_GENERATION_LABEL = "deprecated.daemonset.template.generation", "pod-template-generation"
JOB_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def dynamic(kubeconfig: Path) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(str(kubeconfig)))


def emulator_client(kubeconfig: Path) -> httpx.Client:
    """A client of the emulator that `kubeconfig` names (plain HTTP, a bearer token)."""
    cfg = yaml.safe_load(kubeconfig.read_text())
    return httpx.Client(base_url=cfg["clusters"][0]["cluster"]["server"], timeout=10,
                        headers={"Authorization": f"Bearer {cfg['users'][0]['user']['token']}"})


def _emulator_items(kubeconfig: Path, plural: str) -> list[dict[str, Any]]:
    gv = RESOURCES[plural][0]
    with emulator_client(kubeconfig) as emulator:
        r = emulator.get(f"{'/api/v1' if gv == 'v1' else '/apis/' + gv}/{plural}")
    r.raise_for_status()
    return r.json()["items"]


def _map_uids(obj: dict[str, Any], uids: dict[str, str]) -> None:
    """References by uid (owners, an event's object, a volume's claim, a Job's controller-uid labels) to the uids
    the API server gave; names and messages keep the text they were written with."""
    meta, spec = obj["metadata"], obj.get("spec") or {}
    refs = [*meta.get("ownerReferences", []), obj.get("involvedObject") or {}, spec.get("claimRef") or {}]
    for ref in refs:
        if ref.get("uid") in uids:
            ref["uid"] = uids[ref["uid"]]
    for labels in (meta.get("labels"), (spec.get("selector") or {}).get("matchLabels"),
                   ((spec.get("template") or {}).get("metadata") or {}).get("labels")):
        for key, value in (labels or {}).items():
            labels[key] = uids.get(value, value)


def _as_created(obj: dict[str, Any], uids: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The object to create (server-set fields dropped, known uids mapped) and the status to set after."""
    obj = json.loads(json.dumps(obj))
    _map_uids(obj, uids)
    for field in SERVER_SET:
        obj["metadata"].pop(field, None)
    if obj["kind"] == "Job":  # the API server makes a Job's selector and its controller-uid labels itself
        obj["spec"].pop("selector", None)
        labels = obj["spec"]["template"].get("metadata", {}).get("labels", {})
        for key in JOB_UID_LABELS:
            labels.pop(key, None)
    if obj["kind"] == "Service":  # the API server allocates cluster IPs itself (its repair loop reports others)
        obj["spec"].pop("clusterIP", None)
        obj["spec"].pop("clusterIPs", None)
    return obj, obj.pop("status", None)


def copy_cluster(emulator_kubeconfig: Path, admin: DynamicClient, copied: list[tuple[str, str | None, str]],
                 status_annotation: str | None = None, kubelet_port: int | None = None) -> dict[str, str]:
    """Create every object of the emulator's cluster in the real one (namespaces that exist are kept), each
    appended to `copied`; returns the uids and Service cluster IPs the API server gave, each to the emulator's.
    `status_annotation`: annotate each Pod and Node with it, so that kwok leaves the status copied from the
    emulator as it is (sandbox/controlplane_cluster.py). `kubelet_port`: every Node's kubelet is on loopback at
    that port (kwok's), where the API server asks for pod logs (its preferred address type is InternalDNS)."""
    uids: dict[str, str] = {}
    generations: dict[str, str] = {}  # each copied DaemonSet's template generation, by its new uid
    for plural in ORDER:
        gv, kind, namespaced = RESOURCES[plural]
        api = admin.resources.get(api_version=gv, kind=kind)
        for item in _emulator_items(emulator_kubeconfig, plural):
            body, status = _as_created(item, uids)
            if status_annotation and kind in ("Pod", "Node"):
                body["metadata"].setdefault("annotations", {})[status_annotation] = "true"
            if status_annotation and kind == "Pod":
                # a DaemonSet's pod is current for its controller when it carries the DaemonSet's template
                # generation (the revision hash the controller computes itself): else it would replace the pod
                for ref in body["metadata"].get("ownerReferences", []):
                    if ref["uid"] in generations:
                        body["metadata"].setdefault("labels", {})[DS_GENERATION_LABEL] = generations[ref["uid"]]
            if kubelet_port and kind == "Node" and status:
                status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": kubelet_port}}
                status["addresses"] = [{"type": "InternalDNS", "address": "127.0.0.1"}, *status.get("addresses", [])]
            ns = body["metadata"].get("namespace") if namespaced else None
            try:
                made = api.create(body=body, namespace=ns)
            except ConflictError:
                if kind == "Namespace":
                    continue
                if (kind, body["metadata"]["name"]) not in MADE_BY_CONTROLLERS:
                    raise
                # the controller-manager made it first: the scenario's fields onto it, and it stays when cleared
                made = api.patch(body=body, name=body["metadata"]["name"], namespace=ns,
                                 content_type="application/merge-patch+json")
                uids[item["metadata"]["uid"]] = made.metadata.uid
                continue
            copied.append((plural, ns, made.metadata.name))
            uids[item["metadata"]["uid"]] = made.metadata.uid
            if kind == "DaemonSet":
                generations[made.metadata.uid] = (made.metadata.annotations or {}).get(DS_GENERATION, "1")
            if kind == "Service" and item["spec"].get("clusterIP"):
                uids[item["spec"]["clusterIP"]] = made.spec.clusterIP
            if status and kind != "Namespace":
                api.status.patch(body={"status": status}, name=made.metadata.name, namespace=ns,
                                 content_type="application/merge-patch+json")
    return {new: old for old, new in uids.items()}


def delete_terminating(emulator_kubeconfig: Path, admin: DynamicClient,
                       copied: list[tuple[str, str | None, str]]) -> None:
    """Delete each copy whose object the emulator holds Terminating (a scenario's `deleted`): the real API server
    then keeps it Terminating for as long as its finalizers stay (its deletionTimestamp is the copy's time)."""
    for plural in sorted({p for p, _, _ in copied}):
        gv, kind, _ = RESOURCES[plural]
        held = {(i["metadata"].get("namespace"), i["metadata"]["name"])
                for i in _emulator_items(emulator_kubeconfig, plural) if i["metadata"].get("deletionTimestamp")}
        for ns, name in sorted(held, key=str):
            if (plural, ns, name) in copied:
                admin.resources.get(api_version=gv, kind=kind).delete(name=name, namespace=ns)


def clear_events(admin: DynamicClient, copied: list[tuple[str, str | None, str]]) -> None:
    """Delete every Event in the copied namespaces, the controllers' own with the copied ones: a controller's
    FailedCreate from the last scenario must not read as the next one's (a namespace outlives its load)."""
    core = client.CoreV1Api(admin.client)
    for ns in sorted({ns for _, ns, _ in copied if ns}):
        core.delete_collection_namespaced_event(ns)


def clear_cluster(admin: DynamicClient, copied: list[tuple[str, str | None, str]]) -> None:
    """Delete the copied objects (plural, namespace, name) at once: no kubelet, garbage collector or protection
    controller is there to finish a graceful deletion or lift a finalizer. Namespaces stay for the next copy."""
    for plural, ns, name in reversed(copied):
        gv, kind, _ = RESOURCES[plural]
        if kind == "Namespace":
            continue
        api = admin.resources.get(api_version=gv, kind=kind)
        try:
            if api.get(name=name, namespace=ns).metadata.finalizers:  # e.g. pvc-protection
                api.patch(name=name, namespace=ns, body={"metadata": {"finalizers": None}},
                          content_type="application/merge-patch+json")
            api.delete(name=name, namespace=ns, grace_period_seconds=0,
                       propagation_policy="Background")  # a Job's default, orphan, is a finalizer too
        except NotFoundError:
            pass
