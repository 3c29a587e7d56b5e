"""ServiceAccounts: who a pod is to the cluster and to its cloud. Described with the annotations that give its
pods a cloud identity (EKS IAM roles for service accounts, GKE Workload Identity, Azure Workload Identity), its
imagePullSecrets (and whether each Secret exists) and the Secrets it lists. Annotation values are role and
account names, not secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from tools.context import ToolContext
from tools.k8s_api import NOT_READABLE, age, call, iso

# annotation → the cloud identity it grants the ServiceAccount's pods
IDENTITY = {"eks.amazonaws.com/role-arn": "AWS IAM role (IRSA)",
            "iam.gke.io/gcp-service-account": "GCP service account (Workload Identity)",
            "azure.workload.identity/client-id": "Azure managed identity (Workload Identity)"}


def workload_identity(sa: Any) -> dict[str, str]:
    """The workload-identity annotations the ServiceAccount carries, by annotation."""
    return {k: v for k, v in (sa.metadata.annotations or {}).items() if k in IDENTITY}


def _secret(ctx: ToolContext, ns: str, name: str) -> dict[str, Any]:
    try:
        call(ctx, f"Secret {ns}/{name}", "core", "read_namespaced_secret", name, ns, passthrough=(404, 403))
    except ApiException as e:
        return {"name": name, "exists": None, "note": NOT_READABLE} if e.status == 403 else \
            {"name": name, "exists": False}
    return {"name": name, "exists": True}


def describe_service_account(ctx: ToolContext, sa: Any, now: datetime) -> dict[str, Any]:
    ns = sa.metadata.namespace
    identity = workload_identity(sa)
    return {
        "created": iso(sa.metadata.creation_timestamp), "age": age(sa.metadata.creation_timestamp, now),
        "workload_identity": {k: f"{IDENTITY[k]}: {v}" for k, v in identity.items()} or None,
        "no_workload_identity": None if identity else
        f"none of the annotations {', '.join(IDENTITY)}: its pods get no cloud identity from it",
        "image_pull_secrets": [_secret(ctx, ns, r.name) for r in sa.image_pull_secrets or []],
        "secrets": [r.name for r in sa.secrets or []],
        "automount_token": sa.automount_service_account_token,
    }
