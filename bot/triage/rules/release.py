"""Whether a failure follows from what the release changed, by mechanism rather than by timing: the release's
changes to the pod template (k8s_describe's rollback plan, `released`: tools/k8s_revisions.differences from the
rollback target to the running template) against what the failure involves (its container, and the aspect a
release can break that way). A memory limit lowered five hours before the daily peak OOM-kills the pods then; a
sidecar added without a CPU request blinds the HPA from the release on; an env var the crash names, a Secret the
kubelet cannot find, an image that cannot be pulled. A release that changed nothing the failure involves is not
its cause, however close in time."""

from __future__ import annotations

import re
from typing import Any

# what a release can change that causes each mode, as the aspects tools/k8s_revisions.Change names;
# a container the release added counts for each; "named": an env var, Secret or ConfigMap the release changed counts only when the failure's words name it
MECHANISMS: dict[str, set[str]] = {
    "oomkilled": {"limits.memory"},
    "imagepullbackoff": {"image"},
    "container-config-error": {"named"},
    "crashloopbackoff": {"named"},
    "init-container-failure": {"named"},
    "probe-failure": {"probes"},
    "hpa-missing-request": {"requests.cpu"},
    "failed-rollout": {"any"},
    "workload-identity-missing": {"service_account"},
    "serviceaccount-missing": {"service_account"},
    "imagepull-secret-missing": {"service_account", "image_pull_secrets"},  # the new revision never became available: whatever it changed is the suspect
}
_NAMES = re.compile(r"\benv (\S+)|\b(?:Secret|ConfigMap) ([a-z0-9][-a-z0-9.]*)")
_CONTAINER = re.compile(r"\bcontainer (\S+)$")


def failing_container(about: str) -> str | None:
    """The container a diagnosis is about ('Pod shop/api-5d8f-x2 container api' → 'api')."""
    m = _CONTAINER.search(about)
    return m.group(1) if m else None


def _named(change: dict[str, Any], evidence: str) -> bool:
    names = [n for m in _NAMES.finditer(change["words"]) for n in m.groups() if n]
    return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", evidence) for n in names)


def caused(mode: str, released: list[dict[str, Any]], container: str | None, evidence: str) -> list[str]:
    """The release's changes that the failure follows from, in words ([] when none does)."""
    aspects = MECHANISMS.get(mode, set())
    out = []
    for c in released:
        if container and c.get("container") not in (None, container):
            continue
        mine = container is not None and c.get("container") == container
        if "any" in aspects or c["aspect"] in aspects or (aspects and mine and c["aspect"] == "added") or \
                ("named" in aspects and c["aspect"] in ("env", "volumes") and _named(c, evidence)):
            words = c["words"]
            if c.get("container") and c["container"] not in words:
                words = f"container {c['container']}: {words}"
            out.append(words)
    return out


def sentence(plan: dict[str, Any], ago: str, words: list[str], fits: bool) -> str:
    """The release named with what it changed: why a rollback undoes the cause, or why it would not."""
    shown = "; ".join(words[:3]) + ("; …" if len(words) > 3 else "")
    release = f"the release {ago} before the alert (revision {plan.get('began_revision')}, {plan.get('began_image')})"
    if fits:
        return f"{release} made the change the failure follows from: {shown}"
    return f"no rollback: {release} changed nothing the failure involves ({shown})"
