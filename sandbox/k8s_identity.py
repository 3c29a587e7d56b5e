"""opsbot's identity in a real API server: deploy/kubernetes' ServiceAccount and ClusterRole(+Binding) applied,
and a kubeconfig holding that ServiceAccount's token (RBAC then decides what opsbot may do)."""

from __future__ import annotations

from pathlib import Path

import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

from sandbox import controlplane, k8s
from sandbox.k8s_copy import dynamic

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"
OPSBOT_NS = OPSBOT_SA = "opsbot"


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
