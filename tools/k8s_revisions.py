"""Which revision a rollback returns to, and why: the one choice the rollback tool, its preview, `k8s_describe`
and triage all make.

A revision is worth returning to only if its pod template differs from the running one in what matters: the
pod spec (images, command, args, env and envFrom with their sources, the ConfigMaps and Secrets it mounts or
reads, init containers, resources, probes…) and the template's labels. Template annotations
(`kubectl.kubernetes.io/restartedAt`, which every `kubectl rollout restart` sets) and the pod-template-hash
label do not count: a restart makes a new revision that runs exactly what the old one ran. The target is the
newest older revision that differs and is not known to have run unhealthy; with none, the plan refuses and
says why (a rollback would change nothing, or every different revision ran unhealthy). The plan also says
what the rollback undoes (`released`: each difference from the target to the running template with its
container and aspect, e.g. `limits.memory` lowered or a container added), which triage matches against the
failure's mechanism (bot/triage/rules/release.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tools.k8s_quantity import quantity

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class Health:
    """Whether a revision ran healthy (None: not known) and the evidence, in words."""

    healthy: bool | None
    evidence: str


@dataclass(frozen=True)
class Revision:
    number: int
    replica_set: str | None
    image: str
    template: dict[str, Any]  # what matters: {"labels": …, "spec": …}, None-free, snake_case
    created: datetime | None = None
    pods: int = 0
    ready: int = 0

    def label(self) -> str:
        return f"revision {self.number} ({self.image})"

    def live_health(self) -> Health | None:
        """From the ReplicaSet's own status, when it still has pods."""
        if not self.pods:
            return None
        return Health(self.ready > 0, f"it has {self.ready}/{self.pods} ready replicas now")


History = Callable[[list[Revision]], dict[int, Health]]  # revision number → what the metrics remember


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def what_matters(template: Any) -> dict[str, Any]:
    """A V1PodTemplateSpec reduced to what decides how its pods run."""
    labels = {k: v for k, v in (template.metadata.labels or {}).items() if k != HASH_LABEL} \
        if template.metadata else {}
    return {"labels": labels, "spec": _clean(template.spec.to_dict())}


def image_of(template: Any) -> str:
    return ", ".join(c.image for c in template.spec.containers)


def revision_of(rs: Any) -> Revision:
    rev = (rs.metadata.annotations or {}).get(REVISION, "0")
    status = rs.status
    return Revision(int(rev) if rev.isdigit() else 0, rs.metadata.name, image_of(rs.spec.template),
                    what_matters(rs.spec.template), rs.metadata.creation_timestamp,
                    (status.replicas or 0) if status else 0, (status.ready_replicas or 0) if status else 0)


# -- what differs, in words (names and sources only: an env value may be a secret) ------------------------


def _source(env: dict[str, Any]) -> str:
    ref = env.get("value_from") or {}
    for key, kind in (("secret_key_ref", "Secret"), ("config_map_key_ref", "ConfigMap")):
        if key in ref:
            return f"{kind} {ref[key].get('name')} key {ref[key].get('key')}"
    if ref:
        return f"{next(iter(ref))}"
    return "a value"


def _env(cur: dict[str, Any], new: dict[str, Any]) -> list[str]:
    a = {e["name"]: e for e in cur.get("env", [])}
    b = {e["name"]: e for e in new.get("env", [])}
    out = [f"env {n} removed" for n in a if n not in b] + [f"env {n} added (from {_source(b[n])})" for n in b if n not in a]
    for n in a.keys() & b.keys():
        if a[n] != b[n]:
            was, now = _source(a[n]), _source(b[n])
            out.append(f"env {n}: {was} → {now}" if was != now else f"env {n} changed")
    refs = lambda c: sorted(str(x) for x in c.get("env_from", []))  # noqa: E731
    if refs(cur) != refs(new):
        out.append("envFrom " + " → ".join(", ".join(_ref(x) for x in c.get("env_from", [])) or "none"
                                            for c in (cur, new)))
    return sorted(out)


def _ref(env_from: dict[str, Any]) -> str:
    for key, kind in (("config_map_ref", "ConfigMap"), ("secret_ref", "Secret")):
        if key in env_from:
            return f"{kind} {env_from[key].get('name')}"
    return str(env_from)


PROBES = ("liveness_probe", "readiness_probe", "startup_probe")
ACCOUNT = ("service_account_name", "service_account", "image_pull_secrets")  # who the pods are, and pull as


@dataclass(frozen=True)
class Change:
    """One difference between two templates: the container it is in (None: the pod's), what differs (image,
    command, args, env, limits.memory, requests.cpu…, probes, added, removed, volumes, pod, labels) and the
    words `changes` gives it."""

    container: str | None
    aspect: str
    words: str


def _quantity_moved(was: Any, now: Any) -> str:
    if was is None:
        return f"set to {now} (none before)"
    if now is None:
        return f"removed (was {was})"
    try:
        verb = "lowered" if quantity(now) < quantity(was) else "raised"
    except ValueError:
        verb = "changed"
    return f"{verb} {was} → {now}"


def _resources(cur: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """(aspect, words) per request or limit that differs, e.g. ('limits.memory', 'memory limit lowered …')."""
    out = []
    for kind in ("limits", "requests"):
        a = (cur.get("resources") or {}).get(kind) or {}
        b = (new.get("resources") or {}).get(kind) or {}
        out += [(f"{kind}.{r}", f"{r} {kind[:-1]} {_quantity_moved(a.get(r), b.get(r))}")
                for r in sorted(a.keys() | b.keys()) if a.get(r) != b.get(r)]
    return out


def _container(cur: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if cur.get("image") != new.get("image"):
        out.append(("image", f"image {cur.get('image')} → {new.get('image')}"))
    for key in ("command", "args"):
        if cur.get(key) != new.get(key):
            out.append((key, f"{key} {' '.join(cur.get(key) or []) or 'the image default'} → "
                             f"{' '.join(new.get(key) or []) or 'the image default'}"))
    out += [("env", line) for line in _env(cur, new)]
    out += _resources(cur, new)
    rest = sorted(k for k in cur.keys() | new.keys()
                  if k not in ("name", "image", "command", "args", "env", "env_from", "resources")
                  and cur.get(k) != new.get(k))
    out += [("probes" if k in PROBES else k, f"{k.replace('_', ' ')} differs") for k in rest]
    return out


def _volumes(spec: dict[str, Any]) -> set[str]:
    refs = set()
    for v in spec.get("volumes", []):
        if "config_map" in v:
            refs.add(f"ConfigMap {v['config_map'].get('name')}")
        if "secret" in v:
            refs.add(f"Secret {v['secret'].get('secret_name')}")
        for p in (v.get("projected") or {}).get("sources", []):
            refs |= {f"ConfigMap {p['config_map'].get('name')}"} if "config_map" in p else set()
            refs |= {f"Secret {p['secret'].get('name')}"} if "secret" in p else set()
    return refs


def differences(current: dict[str, Any], target: dict[str, Any]) -> list[Change]:
    """What going from `current` to `target` changes, one `Change` each (templates as `what_matters` gives
    them)."""
    cur, new = current["spec"], target["spec"]
    out = []
    for kind, word in (("init_containers", "init container"), ("containers", "container")):
        a = {c["name"]: c for c in cur.get(kind, [])}
        b = {c["name"]: c for c in new.get(kind, [])}
        out += [Change(n, "removed", f"{word} {n} removed") for n in a if n not in b]
        out += [Change(n, "added", f"{word} {n} added ({b[n].get('image')})") for n in b if n not in a]
        single = kind == "containers" and len(a) == len(b) == 1
        for n in [n for n in a if n in b]:
            out += [Change(n, aspect, ("" if single else f"{word} {n}: ") + words)
                    for aspect, words in _container(a[n], b[n])]
    was, now = _volumes(cur), _volumes(new)
    out += [Change(None, "volumes", f"volume from {r} removed") for r in sorted(was - now)]
    out += [Change(None, "volumes", f"volume from {r} added") for r in sorted(now - was)]
    account = lambda s: s.get("service_account_name") or s.get("service_account") or "default"  # noqa: E731
    if account(cur) != account(new):
        out.append(Change(None, "service_account", f"serviceAccountName {account(cur)} → {account(new)}"))
    pulls = lambda s: ", ".join(p.get("name") for p in s.get("image_pull_secrets", [])) or "none"  # noqa: E731
    if pulls(cur) != pulls(new):
        out.append(Change(None, "image_pull_secrets", f"imagePullSecrets {pulls(cur)} → {pulls(new)}"))
    rest = sorted(k for k in cur.keys() | new.keys()
                  if k not in ("containers", "init_containers", "volumes", *ACCOUNT) and cur.get(k) != new.get(k))
    if cur.get("volumes") != new.get("volumes") and was == now:
        rest.append("volumes")
    out += [Change(None, "volumes" if k == "volumes" else "pod", f"pod {k.replace('_', ' ')} differs")
            for k in rest]
    if current["labels"] != target["labels"]:
        out.append(Change(None, "labels", "pod labels differ"))
    return out


def changes(current: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """What returning from `current` to `target` changes, in words (templates as `what_matters` gives them)."""
    return [c.words for c in differences(current, target)]


# -- the choice ----------------------------------------------------------------------------------------------


@dataclass
class RollbackPlan:
    """Where a rollback of one deployment goes, or why it goes nowhere."""

    deployment: str  # namespace/name
    current: Revision
    began: Revision  # the oldest revision of the run of identical templates that ends with the current one
    target: Revision | None = None
    changes: list[str] = field(default_factory=list)
    health: Health | None = None
    refused: str | None = None
    asked: bool = False  # the target is the to_revision someone asked for, not opsbot's choice

    def reason(self) -> str:
        """Why this target, in one clause: '…the newest revision whose template differs… ; it had 3/3 ready'."""
        if self.target is None:
            return self.refused or ""
        shown = "; ".join(self.changes[:4]) + ("; …" if len(self.changes) > 4 else "")
        health = self.health.evidence if self.health else "health not known"
        which = "the revision asked for" if self.asked else \
            "the newest earlier revision whose pod template differs from the current one"
        return f"{self.target.label()}, {which} ({shown}); {health}"

    def data(self) -> dict[str, Any]:
        """The plan as `k8s_describe` and triage read it."""
        began = {"began_revision": self.began.number,
                 "began_created": self.began.created.isoformat() if self.began.created else None}
        if self.target is None:
            return {"refused": self.refused, **began}
        released = [{"container": c.container, "aspect": c.aspect, "words": c.words}
                    for c in differences(self.target.template, self.current.template)]
        return {"revision": self.target.number, "image": self.target.image, "why": self.reason(),
                "changes": self.changes, "health": self.health.evidence if self.health else None,
                "began_image": self.began.image, "released": released, **began}


def plan(deployment: str, current: Revision, revisions: list[Revision], to_revision: int | None = None,
         history: History | None = None) -> RollbackPlan:
    """Choose the rollback target among `revisions` (every ReplicaSet of the deployment, any order).

    `current` is the deployment's own template at its current revision number; `history` answers, for
    revisions without pods, what metrics remember of their health (None: only the ReplicaSets' status counts).
    """
    older = sorted((r for r in revisions if r.number < current.number), key=lambda r: r.number, reverse=True)
    began = current
    for r in older:
        if r.template != current.template:
            break
        began = r
    result = RollbackPlan(deployment, current, began)
    same = f"the same pod template as the current one ({current.image})"
    if to_revision is not None:
        asked = next((r for r in older if r.number == to_revision), None)
        if asked is None:
            known = ", ".join(str(r.number) for r in sorted(revisions, key=lambda r: r.number)) or "none"
            result.refused = (f"{deployment} has no revision {to_revision} to return to; revisions: {known} "
                              f"(current {current.number})")
        elif asked.template == current.template:
            result.refused = (f"revision {to_revision} of {deployment} runs {same}, only its annotations differ "
                              "(a restart makes such a revision): a rollback to it would change nothing")
        else:
            result.target, result.health = asked, _health([asked], history).get(asked.number)
            result.asked = True
        if result.target:
            result.changes = changes(current.template, result.target.template)
        return result
    if not older:
        result.refused = f"{deployment} has no earlier revision to roll back to (it is at revision {current.number})"
        return result
    differing = [r for r in older if r.template != current.template]
    if not differing:
        result.refused = (f"every earlier revision of {deployment} ({', '.join(str(r.number) for r in older)}) "
                          f"runs {same}: a rollback would change nothing")
        return result
    health = _health(differing, history)
    unhealthy = []
    for r in differing:
        h = health.get(r.number)
        if h and h.healthy is False:
            unhealthy.append(f"{r.label()}: {h.evidence}")
            continue
        result.target, result.health = r, h
        result.changes = changes(current.template, r.template)
        return result
    result.refused = (f"no earlier revision of {deployment} that differs from the current one ran healthy: "
                      + "; ".join(unhealthy))
    return result


def _health(revisions: list[Revision], history: History | None) -> dict[int, Health]:
    out = {r.number: h for r in revisions if (h := r.live_health())}
    rest = [r for r in revisions if r.number not in out]
    if rest and history:
        out |= history(rest)
    return out


def current_revision(d: Any, revisions: list[Revision]) -> Revision:
    """The deployment's running revision: its ReplicaSet's row, with the deployment's own template."""
    rev = (d.metadata.annotations or {}).get(REVISION, "0")
    number = int(rev) if rev.isdigit() else 0
    live = next((r for r in revisions if r.number == number), None)
    return Revision(number, live.replica_set if live else None, image_of(d.spec.template), what_matters(d.spec.template),
                    live.created if live else None, live.pods if live else 0, live.ready if live else 0)
