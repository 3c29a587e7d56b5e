"""A scenario's cluster copied from the emulator into a real API server (the control-plane tests' twins, and the
sandbox on the real control plane, which loads a scenario into an emulator of its own first).

`copy_cluster` reads every object the emulator holds (after it loaded a scenario) and creates it through the
real API server with the official client, status through the status subresource, owner and controller uids
mapped to the ones the API server gave, and its field managers (metadata.managedFields: who wrote which field,
and when) set by an update that carries them, as the API server lets a client do. uids and resourceVersions are
new. creationTimestamp is the API server's alone: it is the copy's time, unless the copy is given the cluster's
etcd, where it is set as a restore from an etcd snapshot would keep it (sandbox/k8s_etcd.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from sandbox import k8s_etcd, k8s_failures
from sandbox.k8s_objects import RESOURCES
from sandbox.k8s_statefulset import revision_name

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
WRITE_ATTEMPTS = 3


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


def _as_written(api: Any, made: Any, item: dict[str, Any]) -> None:
    """The emulator's field managers onto the copy, in place of the copier's: an update that changes nothing but
    managedFields leaves them as sent (the API server takes a client's managedFields as they are, and an update
    that changes no field adds no entry of its own); `[{}]` strips them when the emulator has none."""
    for attempt in range(WRITE_ATTEMPTS):  # another writer (the scheduler binding a pod) may come between
        body = api.get(name=made.metadata.name, namespace=made.metadata.namespace).to_dict()
        body["metadata"]["managedFields"] = item["metadata"].get("managedFields") or [{}]
        try:
            api.replace(body=body, name=made.metadata.name, namespace=made.metadata.namespace)
            return
        except ConflictError:
            if attempt == WRITE_ATTEMPTS - 1:
                raise


def _created(etcd_url: str | None, plural: str, ns: str | None, name: str, item: dict[str, Any]) -> None:
    if etcd_url and item["metadata"].get("creationTimestamp"):
        k8s_etcd.set_created(etcd_url, plural, ns, name, datetime.fromisoformat(item["metadata"]["creationTimestamp"]))


def copy_cluster(emulator_kubeconfig: Path, admin: DynamicClient, copied: list[tuple[str, str | None, str]],
                 status_annotation: str | None = None, kubelet_port: int | None = None,
                 etcd_url: str | None = None, failure_annotation: str | None = None) -> dict[str, str]:
    """Create every object of the emulator's cluster in the real one (namespaces that exist are kept), each
    appended to `copied`; returns the uids and Service cluster IPs the API server gave, each to the emulator's.
    `status_annotation`: annotate each Pod and Node with it, so that kwok leaves the status copied from the
    emulator as it is (sandbox/controlplane_cluster.py). `kubelet_port`: every Node's kubelet is on loopback at
    that port (kwok's), where the API server asks for pod logs (its preferred address type is InternalDNS).
    `etcd_url`: the API server's etcd, where each copy's creationTimestamp is set to the emulator's.
    `failure_annotation`: annotate the pod template of each workload whose pods fail with how they fail
    (sandbox/k8s_failures.py), so that kwok makes its new pods fail alike."""
    uids: dict[str, str] = {}
    failing = k8s_failures.by_template(_emulator_items(emulator_kubeconfig, "pods"),
                                       _emulator_items(emulator_kubeconfig, "replicasets")) \
        if failure_annotation else {}
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
            if item["metadata"]["uid"] in failing and "template" in body.get("spec", {}):
                template = body["spec"]["template"].setdefault("metadata", {})
                template.setdefault("annotations", {})[failure_annotation] = failing[item["metadata"]["uid"]]
            if kubelet_port and kind == "Node" and status:
                status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": kubelet_port}}
                status["addresses"] = [{"type": "InternalDNS", "address": "127.0.0.1"}, *status.get("addresses", [])]
            ns = body["metadata"].get("namespace") if namespaced else None
            try:
                made = api.create(body=body, namespace=ns)
            except ConflictError:
                if kind != "Namespace" and (kind, body["metadata"]["name"]) not in MADE_BY_CONTROLLERS:
                    raise
                # a namespace an earlier copy made, or what the controller-manager made first: the scenario's
                # fields onto it, and it stays when cleared
                made = api.patch(body=body, name=body["metadata"]["name"], namespace=ns,
                                 content_type="application/merge-patch+json")
                uids[item["metadata"]["uid"]] = made.metadata.uid
                _created(etcd_url, plural, ns, made.metadata.name, item)
                continue
            copied.append((plural, ns, made.metadata.name))
            uids[item["metadata"]["uid"]] = made.metadata.uid
            if kind == "DaemonSet":
                generations[made.metadata.uid] = (made.metadata.annotations or {}).get(DS_GENERATION, "1")
            if kind == "Service" and item["spec"].get("clusterIP"):
                uids[item["spec"]["clusterIP"]] = made.spec.clusterIP
            if kind == "StatefulSet" and status:
                # its pods are current for its controller when they carry the revision name it computes itself
                revision = revision_name(made.to_dict())
                for field in ("currentRevision", "updateRevision"):
                    if status.get(field):
                        uids[status[field]], status[field] = revision, revision
            if status and kind != "Namespace":
                api.status.patch(body={"status": status}, name=made.metadata.name, namespace=ns,
                                 content_type="application/merge-patch+json")
            _as_written(api, made, item)
            _created(etcd_url, plural, ns, made.metadata.name, item)
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


def clear_events(admin: DynamicClient) -> None:
    """Delete every Event in every namespace: a new scenario's history starts with its own."""
    events = admin.resources.get(api_version="v1", kind="Event")
    for ns in admin.resources.get(api_version="v1", kind="Namespace").get().items:
        name = ns.metadata.name  # (the client asks for a selector to delete a collection)
        events.delete(namespace=name, field_selector=f"metadata.namespace={name}")
