"""The real control plane for tests: the emulator's objects copied into it, deploy/'s RBAC applied, opsbot's token.

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

from sandbox import controlplane, k8s
from sandbox.k8s_objects import RESOURCES

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy" / "kubernetes"
OPSBOT_NS = OPSBOT_SA = "opsbot"
BUILT_IN_NAMESPACES = {"default", "kube-public", "kube-node-lease"}  # every API server makes these

# owners before what they own (uids map forward), PVCs before the PVs that name them, quotas and limit ranges
# after the pods (their admission plugins would judge the copies as new pods), Events last
ORDER = ["namespaces", "nodes", "storageclasses", "serviceaccounts", "persistentvolumeclaims", "persistentvolumes",
         "configmaps", "secrets", "services", "endpoints", "deployments", "replicasets", "statefulsets", "daemonsets",
         "cronjobs", "jobs", "pods", "resourcequotas", "limitranges", "horizontalpodautoscalers", "networkpolicies",
         "events"]
assert sorted(ORDER) == sorted(RESOURCES), "every kind the emulator serves is copied"
SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")
JOB_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def dynamic(kubeconfig: Path) -> DynamicClient:
    return DynamicClient(config.new_client_from_config(str(kubeconfig)))


def _emulator_items(kubeconfig: Path, plural: str) -> list[dict[str, Any]]:
    cfg = yaml.safe_load(kubeconfig.read_text())
    server, token = cfg["clusters"][0]["cluster"]["server"], cfg["users"][0]["user"]["token"]
    gv = RESOURCES[plural][0]
    r = httpx.get(f"{server}{'/api/v1' if gv == 'v1' else '/apis/' + gv}/{plural}",
                  headers={"Authorization": f"Bearer {token}"}, timeout=10)
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


def copy_cluster(emulator_kubeconfig: Path, admin: DynamicClient,
                 copied: list[tuple[str, str | None, str]]) -> dict[str, str]:
    """Create every object of the emulator's cluster in the real one (namespaces that exist are kept), each
    appended to `copied`; returns the uids and Service cluster IPs the API server gave, each to the emulator's."""
    uids: dict[str, str] = {}
    for plural in ORDER:
        gv, kind, namespaced = RESOURCES[plural]
        api = admin.resources.get(api_version=gv, kind=kind)
        for item in _emulator_items(emulator_kubeconfig, plural):
            body, status = _as_created(item, uids)
            ns = body["metadata"].get("namespace") if namespaced else None
            try:
                made = api.create(body=body, namespace=ns)
            except ConflictError:
                if kind != "Namespace":
                    raise
                continue
            copied.append((plural, ns, made.metadata.name))
            uids[item["metadata"]["uid"]] = made.metadata.uid
            if kind == "Service" and item["spec"].get("clusterIP"):
                uids[item["spec"]["clusterIP"]] = made.spec.clusterIP
            if status and kind != "Namespace":
                api.status.patch(body={"status": status}, name=made.metadata.name, namespace=ns,
                                 content_type="application/merge-patch+json")
    return {new: old for old, new in uids.items()}


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


def apply(admin: DynamicClient, path: Path, namespace: str | None = None) -> None:
    """Create every object of a manifest file (as `kubectl create -n NAMESPACE -f`)."""
    for doc in yaml.safe_load_all(path.read_text()):
        if doc:
            api = admin.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            api.create(body=doc, namespace=doc["metadata"].get("namespace", namespace) if api.namespaced else None)


def opsbot_kubeconfig(cp: controlplane.ControlPlane, path: Path) -> Path:
    """deploy/kubernetes' ServiceAccount and ClusterRole(+Binding) applied; a kubeconfig with that SA's token."""
    admin = dynamic(cp.admin_kubeconfig)
    admin.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": OPSBOT_NS}})
    apply(admin, DEPLOY / "base" / "serviceaccount.yaml", OPSBOT_NS)
    apply(admin, DEPLOY / "base" / "rbac.yaml")
    core = client.CoreV1Api(config.new_client_from_config(str(cp.admin_kubeconfig)))
    token = core.create_namespaced_service_account_token(
        OPSBOT_SA, OPSBOT_NS, {"spec": {"expirationSeconds": 3600 * 6}}).status.token
    k8s.write_kubeconfig(path, cp.url, token, certificate_authority=cp.ca_file)
    return path
