"""Identity: a pod whose SDK finds no cloud credentials because its ServiceAccount carries no workload-identity
annotation (EKS IAM roles for service accounts, GKE Workload Identity, Azure Workload Identity); a pod whose
image pull is refused because its ServiceAccount lacks the imagePullSecret the same-named ServiceAccount of
another namespace has."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.follow.identity import NO_CREDENTIALS, credential_lines, pull_refused
from bot.triage.quotes import events
from bot.triage.results import described, ok
from bot.triage.rules.base import Diagnosis, Reader

# the cloud an SDK's words point at → the annotation that gives a ServiceAccount's pods an identity there
CLOUDS = ((r"(?i)(NoCredentialProviders|EC2 IMDS|\baws\b|aws-sdk|botocore|Unable to locate credentials)",
           "eks.amazonaws.com/role-arn", "IAM role"),
          ("(?i)(google|gcp|default credentials|determine credentials)", "iam.gke.io/gcp-service-account",
           "Google service account"),
          ("(?i)(azure|DefaultAzureCredential)", "azure.workload.identity/client-id", "managed identity"))


def _account(r: Reader, p: dict[str, Any]) -> dict[str, Any] | None:
    name = p.get("service_account") or "default"
    return next((a for a in described(r.results, "ServiceAccount")
                 if a["namespace"] == p["namespace"] and a["name"] == name), None)


def _workload(p: dict[str, Any]) -> str:
    """'Deployment ns/name' of the pod, as the rollback asks: the release of its workload may have changed the
    ServiceAccount it runs as."""
    owner = next((x for x in p.get("controlled_by") or [] if x.startswith("Deployment/")), "")
    return f"Deployment {p['namespace']}/{owner.split('/', 1)[-1].removesuffix(' (gone)')}"


def _cloud(line: str) -> tuple[str, str]:
    return next(((annotation, what) for pattern, annotation, what in CLOUDS if re.search(pattern, line)),
                (CLOUDS[0][1], CLOUDS[0][2]))


def missing_identity(r: Reader) -> Diagnosis | None:
    """The SDK found no credentials and the pod's ServiceAccount gives it no cloud identity."""
    for p in r.pods:
        lines = credential_lines(r.results, p) or [x for x in r.logs if NO_CREDENTIALS.search(x)]
        account = _account(r, p) if lines else None
        if account is None or account.get("workload_identity"):
            continue  # annotated: the role's trust or permissions are another failure, not this one
        annotation, what = _cloud(lines[0])
        who = f"ServiceAccount {account['namespace']}/{account['name']}"
        owner = next((x for x in p.get("controlled_by") or [] if not x.startswith("ReplicaSet/")), f"Pod/{p['name']}")
        return r.make("workload-identity-missing", who,
                      f"no {annotation} annotation, so the pods of {owner} that run as it get no {what}: "
                      f"{lines[0]}", [f"Pod {p['namespace']}/{p['name']} runs as {who}", *lines[1:3]],
                      f"annotate {who} with {annotation} (the {what} its pods should use), or point the "
                      f"workload's serviceAccountName at the ServiceAccount that has it; then restart the pods: "
                      "the identity is injected when a pod starts", workload=_workload(p))
    return None


def pull_secret(r: Reader) -> Diagnosis | None:
    """The registry refused the pull; the pod's ServiceAccount has no imagePullSecrets while the ServiceAccount
    of the same name in another namespace has."""
    accounts = [(d.get("namespace") or row.get("namespace"), row) for d in ok(r.results, "k8s_list")
                if d.get("kind") == "ServiceAccount" for row in d.get("items", [])]
    for p in r.pods:
        if not pull_refused(p) or p.get("image_pull_secrets"):
            continue
        name = p.get("service_account") or "default"
        mine = next((row for ns, row in accounts if ns == p["namespace"] and row["name"] == name), None)
        sibling = next(((ns, row) for ns, row in accounts if ns != p["namespace"] and row["name"] == name
                        and row.get("image_pull_secrets")), None)
        if mine is None or mine.get("image_pull_secrets") or sibling is None:
            continue
        secrets = ", ".join(sibling[1]["image_pull_secrets"])
        who = f"ServiceAccount {p['namespace']}/{name}"
        refused = events(p, "Failed")
        return r.make("imagepull-secret-missing", who,
                      f"no imagePullSecrets, while ServiceAccount {sibling[0]}/{name} has {secrets}: the registry "
                      f"refuses the pull of Pod {p['namespace']}/{p['name']}", refused[:2],
                      f"create the pull Secret ({secrets}) in namespace {p['namespace']} and add it to {who}'s "
                      "imagePullSecrets (or to the pod spec); the kubelet retries the pull by itself",
                      workload=_workload(p))
    return None
