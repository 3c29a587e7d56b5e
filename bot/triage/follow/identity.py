"""Follow-up reads for identity: a pod's SDK says it found no credentials (AWS `NoCredentialProviders`, `Unable
to locate credentials`, GCP `could not find default credentials`…), so the pod's ServiceAccount, whose
annotations give its pods their cloud identity (IRSA, GKE Workload Identity); an image pull refused, so the
ServiceAccounts of that name in every namespace (which of them hold the imagePullSecret)."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.quotes import pod_logs, state_of
from bot.triage.results import Check, describe_pod, described, log_lines, ok
from tools.base import ToolResult

# what an SDK prints when its credential chain found nothing (AWS SDKs for Go/Java/JS/Python, Google auth
# libraries, Azure Identity)
NO_CREDENTIALS = re.compile(
    r"(?i)(NoCredentialProviders|no valid providers in chain|unable to locate credentials|"
    r"could not load credentials from any providers|unable to load aws credentials from any provider|"
    r"could not find default credentials|could not automatically determine credentials|"
    r"default credentials were not found|could not load the default credentials|"
    r"application default credentials are not available|"
    r"DefaultAzureCredential failed to retrieve a token|failed to refresh cached credentials, no EC2 IMDS role)")
PULL_REFUSED = re.compile(r"(?i)(denied|unauthorized|authentication required|no basic auth credentials|403 forbidden)")


def credential_lines(results: list[ToolResult], pod: dict[str, Any]) -> list[str]:
    """The lines of the pod's containers (current or previous) that say the SDK found no credentials."""
    return [x for c in pod.get("containers", []) for x in pod_logs(results, pod["name"], c["name"])
            if NO_CREDENTIALS.search(x)]


def pull_refused(pod: dict[str, Any]) -> bool:
    """A container of the pod cannot pull its image because the registry refused the pod's credentials."""
    failed = " ".join(e.get("message") or "" for e in pod.get("events", []) if e.get("reason") == "Failed")
    return any(state_of(c).get("reason") in ("ErrImagePull", "ImagePullBackOff") for c in pod.get("containers", [])) \
        and bool(PULL_REFUSED.search(failed))


def reads(results: list[ToolResult]) -> list[Check]:
    checks: list[Check] = []
    said = any(NO_CREDENTIALS.search(x) for x in log_lines(results))
    pods = described(results, "Pod")
    if said and not pods:  # the workload runs (no unhealthy pod was read): one of its pods names its account
        checks += [describe_pod(d["namespace"], d["pods"][0]["name"]) for d in ok(results, "k8s_list")
                   if d.get("kind") == "Pod" and d.get("namespace") and d.get("pods")][:1]
    for p in pods:
        if said and (credential_lines(results, p) or not any(credential_lines(results, q) for q in pods)):
            checks.append(("k8s_describe", {"kind": "ServiceAccount", "namespace": p["namespace"],
                                            "name": p.get("service_account") or "default"}))
        if pull_refused(p):  # its own namespace's accounts whole, and the cluster's (those with pull secrets first)
            checks += [("k8s_list", {"kind": "ServiceAccount", "namespace": p["namespace"]}),
                       ("k8s_list", {"kind": "ServiceAccount"})]
    return checks
